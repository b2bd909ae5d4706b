"""Frontend stages for ``split-stages``: a JavaScript app built next to a backend, and nginx.

Several apps in one file: the RUNs that install and build a frontend (npm/yarn/pnpm in one
directory) move to a ``frontend`` stage on a Node image that copies only that directory; its
output is copied into the build stage where the RUNs were (before ``go build``, which may
``//go:embed`` it). A static frontend served by a Node static server may instead be served by
nginx (an unsafe alternative: the server and the port change).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from msdfix.ecosystems.images import NODE_NATIVE
from msdfix.ecosystems.node.dependencies import BUILTIN_MODULES, read_dependencies
from msdfix.ecosystems.node.frontend import (
    FRONTEND_PACKAGES,
    NGINX_HTML,
    NGINX_PORT,
    NGINX_RUNTIME,
    NODE_IMAGE_PACKAGES,
    frontend_node,
)
from msdfix.ecosystems.node.installs import PROJECT_INSTALLS
from msdfix.ecosystems.node.local_packages import local_dependencies, local_spec_path
from msdfix.ecosystems.node.yarn import yarn_parent_config
from msdfix.ecosystems.registry import MONOREPO_MARKERS, workspace_root_above
from msdfix.fixes import Edit, apply_edits
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.model.program_calls import source_text
from msdfix.model.users import is_root
from msdfix.shell.classify import program_args
from msdfix.shell.commands import parse_commands
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import (
    FRONTEND,
    HARMLESS,
    MOVE,
    OS_MANAGERS,
    Analysis,
    Call,
    Decline,
    Plan,
    alias_edits,
    chunk,
    context_dir,
    copy_line,
    dedupe,
    final_user,
    go_served,
    go_text,
    keyword,
    os_packages,
    runtime_alias,
    whole_copy,
    workdir_line,
)
from msdfix.transforms.split_stages.runtime_image import platform_flag


@dataclass
class Frontend:
    runs: list[Instruction]  # RUNs that install and build it (moved to its own stage)
    dir: str  # image path of the frontend app (its package.json)
    rel: str  # the same directory in the build context
    out: str  # image path of the build output
    image: str
    unsafe: str | None = None
    note: str = ""
    subsets: list[Instruction] = field(default_factory=list)  # manifest COPYs into ``dir``


def _global(call: Call) -> bool:
    return "-g" in call.args or "--global" in call.args or call.sub == "global"


def plan_frontend(a: Analysis) -> Frontend | None:
    """A frontend built next to the backend, planned as its own stage (None: there is none).

    Updates the analysis: the frontend's calls, scripts and OS toolchain packages are no longer
    the backend's, and its sources are not copied to the runtime.
    """
    node = a.eco == "node"
    runs = _node_frontend_runs(a) if node else a.frontend_runs
    if not runs:
        return None
    try:
        front = _frontend_plan(a, runs)
    except Decline:
        if node:
            return None  # one Node app after all: the single-app split applies
        raise
    a.calls = [c for c in a.calls if c.ins not in runs]
    a.scripts = [c for c in a.scripts if c.ins not in runs]
    if not node:
        a.packages = [p for p in a.packages if p not in FRONTEND_PACKAGES]
        a.skip_rel = front.rel
    return front


def _node_frontend_runs(a: Analysis) -> list[Instruction]:
    """RUNs of a Node stage that only install/build an app in another directory than the CMD's."""
    cwds: dict[int, set[str]] = {}
    for call in a.calls:
        cwds.setdefault(id(call.ins), set()).add("-g" if _global(call) else call.cwd)
    backend = a.final_dir
    if not any(c.cwd == backend and c.sub in ("ci", "install", "i") for c in a.calls):
        return []
    unknown = {id(i) for i, _ in a.unknown}
    runs, dirs = [], set()
    for ins in a.stage.of("run"):
        found = cwds.get(id(ins), set())
        if not found or backend in found or "-g" in found:
            continue
        if len(found) > 1 or id(ins) in unknown or id(ins) in a.setup_ids:
            return []
        runs.append(ins)
        dirs |= found
    return runs if len(dirs) == 1 else []


def _frontend_plan(a: Analysis, runs: list[Instruction]) -> Frontend:
    calls = [c for c in a.calls if c.ins in runs]
    local = [c for c in calls if not _global(c) and c.program != "corepack"]
    dirs = {c.cwd for c in local}
    if not dirs:
        first = calls[0] if calls else None
        where = f"RUN at line {first.ins.start_line} runs `{first.program}`" if first else "npm"
        raise Decline(f"{where} only for global tools, not to build a frontend")
    if len(dirs) != 1:
        raise Decline("the frontend build runs in several directories")
    shipped = next((c for c in calls if _global(c) and _shipped(c)), None)
    if shipped is not None and a.eco != "node":
        raise Decline(
            f"RUN at line {shipped.ins.start_line} installs yarn globally, which the node "
            "images ship already (/usr/local/bin/yarn): `npm install -g yarn` fails there "
            "with EEXIST"
        )
    app = dirs.pop()
    if not a.ctx.present:
        raise Decline("no build context: cannot tell where the frontend build writes")
    last = runs[-1]
    if any(not is_root(u.args.strip()) for u in a.stage.of("user") if u.start < last.start):
        raise Decline("the frontend build runs as a non-root user")
    rel = context_dir(a, app, last)
    if rel is None:
        raise Decline(f"the frontend directory {app} is not copied whole from the build context")
    if rel == "" and a.eco != "node":
        raise Decline("the frontend shares the build context's root with the backend")
    package = frontend.package_json(a.ctx, rel)
    if package is None:
        manifest = posixpath.join(rel, "package.json") if rel else "package.json"
        if a.ctx.on_disk(manifest):  # unknown, not absent: the reason says which
            raise Decline(f"{manifest} could not be read (too large, malformed or not a file)")
        raise Decline(f"no package.json in the frontend directory {rel or '.'}")
    if not any(_installs(c) for c in local):
        raise Decline(
            f"the frontend in {app} is built without an install of its own: its packages "
            "come from another install, which its own stage would not have"
        )
    above = next(
        (
            c
            for c in a.calls
            if c.ins not in runs and _installs(c) and not _global(c) and within(app, c.cwd)
        ),
        None,
    )
    borrowed = _borrowed(a, rel, package, local, above) if above is not None else None
    if above is not None and borrowed is not None:
        raise Decline(
            f"the frontend in {app} lies below the install at line {above.ins.start_line} "
            f"({above.cwd}), and {borrowed}: its own stage would not have it"
        )
    node_markers = tuple(m for m in MONOREPO_MARKERS if m != "go.work")
    root = workspace_root_above(a.ctx, rel, node_markers) if rel else None
    if root is not None:  # npm/yarn/pnpm in the member install the root's workspace
        raise Decline(
            f"the frontend in {app} lies in the workspace of {root}, whose install brings its "
            "dependencies"
        )
    yarn = any(c.program in ("yarn", "yarnpkg") for c in local)
    above_rc = yarn_parent_config(a.ctx, rel) if yarn and rel else None
    if above_rc is not None:  # built for real: engines check without the parent .yarnrc
        raise Decline(
            f"yarn reads {above_rc} above the frontend directory {rel}, which its own stage "
            "would not have"
        )
    outside = _local_outside(package, rel) or _reads_outside(a, rel)
    if outside is not None:  # tailwind's content: ["../backend/templates/**/*.html"]
        raise Decline(
            f"{outside} names a path outside the frontend directory, which its own stage "
            "would not have"
        )
    outs = set()
    scripts = []
    for call in local:
        argv = [call.program, *call.args]
        if call.program in frontend.RUNNERS and frontend.is_build(argv, package):
            script = frontend.script_of(argv, package)
            scripts.append(f"`{' '.join(argv)}` runs `{script}`")
            script = frontend.build_script(argv, package)
            env = a.build_env(call)
            outs.add(frontend.output_dir(a.ctx, rel, script, package, env=env) if script else None)
    if not outs:
        raise Decline(f"the frontend in {app} is installed but not built")
    out = outs.pop() if len(outs) == 1 else None
    embeds = [posixpath.relpath(e, rel) for e in _go_embeds(a) if within(e, rel) and e != rel]
    served = [posixpath.relpath(d, app) for d in go_served(a) if within(d, app) and d != app]
    if out is None and a.eco == "go" and len(set(embeds + served)) == 1:
        out = (embeds + served)[0]  # the Go code embeds or serves the directory the build writes
    if out is None:
        read = ", ".join(go_served(a)) or "none"
        raise Decline(
            f"cannot tell where the frontend build in {app} writes its output: "
            f"{'; '.join(scripts)} (no known bundler or config names one), and no "
            f"//go:embed or http.Dir/os.DirFS/Static(...) of the server names a directory "
            f"in {app} (served: {read})"
        )
    stray = [d for d in served if not within(d, out) and not within(out, d)]
    if stray:
        raise Decline(
            f"the server reads {resolve(stray[0], app)}, which the frontend build "
            f"(writing {resolve(out, app)}) does not write"
        )
    found = whole_copy(a, app, last)
    subsets = [
        c.ins
        for c in a.copies
        if found
        and c.ins.start < found[0].ins.start
        and within(c.dest, app)
        and all(within(posixpath.normpath(x).lstrip("/"), rel) for x in c.sources)
    ]
    if a.eco == "node":
        note = f"the frontend in {app} is built in its own stage"
        return Frontend(runs, app, rel, resolve(out, app), a.stage.image.raw, None, note, subsets)
    if not {"nodejs", "npm"} & set(a.packages):
        raise Decline("cannot tell which Node.js the frontend build uses")
    image, release = frontend_node(a.stage.image.tag, a.eco)
    deps = read_dependencies(a.ctx, rel)
    if deps is not None and deps.locked & NODE_NATIVE:
        image = image.replace("-slim", "")  # native modules need the full image's compilers
    major = re.sub(r"\D.*", "", image.split(":")[1])
    note = f"the frontend in {app} is built in its own stage on {image} (Node.js {major}, "
    unsafe = None
    if release is None:
        note += "a guess: the build image's release is unknown)"
        unsafe = f"the Node.js major of the frontend build is a guess ({image})"
    else:
        note += f"as {release}'s nodejs package; nodejs/npm are no longer installed)"
    return Frontend(runs, app, rel, resolve(out, app), image, unsafe, note, subsets)


def _go_embeds(a: Analysis) -> list[str]:
    """Context paths named by ``//go:embed`` directives (glob suffixes dropped)."""
    if a.eco != "go":
        return []
    found = []
    for rel in a.ctx.glob("*.go"):
        for line in re.findall(r"^//go:embed\s+(.+)$", go_text(a, rel), re.M):
            for pattern in line.split():
                pattern = pattern.strip('"`').removeprefix("all:")
                pattern = re.split(r"[*?\[]", pattern)[0].rstrip("/")
                if pattern:
                    found.append(
                        posixpath.normpath(posixpath.join(posixpath.dirname(rel), pattern))
                    )
    return found


def apply_frontend(a: Analysis, plan: Plan, front: Frontend) -> None:
    """Move the frontend RUNs to a stage of their own; its output goes into the build stage."""
    doc, nl, text = a.doc, a.doc.newline, a.doc.text
    last = front.runs[-1]
    for ins in front.runs[:-1]:
        plan.build_edits.append(Edit(ins.comment_start, ins.end, ""))
    copy = copy_line(doc, FRONTEND, front.out, front.out, None)
    plan.build_edits.append(Edit(last.comment_start, last.end, copy + nl))
    if a.eco != "node":
        for ins in a.stage.of("run"):
            if _frontend_toolchain_only(a, ins):
                plan.build_edits.append(Edit(ins.comment_start, ins.end, ""))
    platform = platform_flag(a.stage.platform)
    flag = f"--platform={platform} " if platform else ""
    lines = [f"{keyword(doc, 'FROM')} {flag}{front.image} {keyword(doc, 'AS')} {FRONTEND}{nl}"]
    for ins in a.stage.instructions:
        if ins.start < last.start and ins.cmd in ("arg", "env"):
            lines.append(chunk(a, ins))
    found = whole_copy(a, front.dir, last)
    whole = found[0].ins if found else None
    cwd = "/"
    for ins in a.stage.instructions:  # manifests, whole directory, RUNs: the original order
        if ins not in front.runs and ins not in front.subsets and ins is not whole:
            continue
        if a.dirs[id(ins)] != cwd:
            cwd = a.dirs[id(ins)]
            lines.append(workdir_line(doc, cwd) + nl)
        if ins is whole:
            lines.append(copy_line(doc, None, front.rel or ".", front.dir, None) + nl)
        else:
            lines.append(chunk(a, ins))
    for ins in front.subsets:
        plan.build_edits.append(Edit(ins.comment_start, ins.end, ""))
    at = a.stage.from_.comment_start
    if re.search(r"^#\s*(syntax|escape|check)\s*=", text[at : a.stage.from_.start], re.M | re.I):
        at = a.stage.from_.start
    plan.head = "".join(lines) + nl
    plan.head_at = at
    rel_out = posixpath.join(front.rel, posixpath.relpath(front.out, front.dir))
    embedded = any(within(rel_out, e) or within(e, rel_out) for e in _go_embeds(a))
    if embedded:
        plan.notes.append(f"{front.note}; its output {front.out} is embedded by //go:embed")
    else:
        if a.eco != "node":
            plan.copies = dedupe([*plan.copies, front.out])
        plan.notes.append(f"{front.note}; its output {front.out} is copied to the runtime")
    plan.unsafe = plan.unsafe or front.unsafe


def _frontend_toolchain_only(a: Analysis, ins: Instruction) -> bool:
    """True for a RUN that only installs OS packages of the frontend toolchain (nodejs, npm)."""
    script = run_script(ins, a.doc.text)
    if script is None or not script.commands:
        return False
    packages: list[str] = []
    for command in script.commands:
        program, args = program_args(command)
        if program in OS_MANAGERS:
            packages += os_packages(program, args)
        elif program not in HARMLESS:
            return False
    return bool(packages) and set(packages) <= FRONTEND_PACKAGES


NGINX_CONFIG = frozenset({"cmd", "entrypoint", "expose", "workdir", "user", "env", "shell"})


def nginx_runtime(a: Analysis, alias: str) -> tuple[list[Edit], str] | None:
    """Edits and message of the unsafe alternative for a static frontend: nginx serving it."""
    if a.entry is None or len(a.entry.commands) != 1 or not a.ctx.present:
        return None
    if any(a.stage.of(k) for k in ("entrypoint", "healthcheck", "volume", "stopsignal", "shell")):
        return None
    if not is_root(final_user(a)):
        return None
    rel = context_dir(a, a.final_dir, a.stage.instructions[-1])
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if rel is None or package is None:
        return None
    served = frontend.static_server(a.entry.commands[0], a.ctx, rel, package)
    outs = set()
    for call in a.calls:
        argv = [call.program, *call.args]
        if call.cwd == a.final_dir and frontend.is_build(argv, package):
            script = frontend.build_script(argv, package)
            env = a.build_env(call)
            outs.add(frontend.output_dir(a.ctx, rel, script, package, env=env) if script else None)
    if served is None or outs != {served[0]}:
        return None
    out = resolve(served[0], a.final_dir)
    doc, nl, text = a.doc, a.doc.newline, a.doc.text
    edits: list[Edit] = []
    edits += alias_edits(doc, a.stage)
    kept = []
    for ins in a.stage.instructions:
        if ins.cmd in MOVE:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            if ins.cmd in ("label", "maintainer"):
                kept.append(chunk(a, ins))
    build = apply_edits(text, edits).rstrip(" \t")
    lead = (
        "" if build.endswith((nl + nl, "\n\n")) else nl if build.endswith(("\n", "\r")) else nl + nl
    )
    runtime = (
        f"{lead}{keyword(doc, 'FROM')} {NGINX_RUNTIME} {keyword(doc, 'AS')} {runtime_alias(a.stage)}{nl}"
        + copy_line(doc, alias, out, NGINX_HTML, None)
        + nl
        + "".join(kept)
        + f"{keyword(doc, 'EXPOSE')} {NGINX_PORT}{nl}"
    )
    edits.append(Edit(len(text), len(text), runtime))
    ports = sorted({p for i in a.stage.of("expose") for p in i.args.split()})
    was = f"from {', '.join(ports)} " if ports else ""
    spa = any(f in served[1].split() for f in ("-s", "--single"))
    message = (
        f"serve the static build output {out} with nginx on {NGINX_RUNTIME} "
        f"(runtime stage without Node.js): the port changes {was}to {NGINX_PORT} and the "
        f"server changes from `{served[1]}` to nginx; CMD, EXPOSE, WORKDIR and ENV of the "
        "final image change"
        + ("; nginx's default config has no single-page fallback to index.html" if spa else "")
        + " (unsafe: different server and port)"
    )
    return edits, message


def _shipped(call: Call) -> bool:
    """A global install of a package the node images ship outside npm (``npm i -g yarn@1``)."""
    names = [re.sub(r"(?<=.)@.*", "", a) for a in call.args if not a.startswith("-")]
    return call.sub in ("install", "i", "add") and bool(NODE_IMAGE_PACKAGES & set(names))


def _installs(call: Call) -> bool:
    """``call`` installs its project's packages (``npm ci``, ``yarn``, ``pnpm install``)."""
    install = PROJECT_INSTALLS.get("yarn" if call.program == "yarnpkg" else call.program)
    sub = call.args[0] if call.args and not call.args[0].startswith("-") else ""
    return install is not None and (call.sub in install.subcommands or sub in install.subcommands)


_SOURCE_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte")
# A bare module specifier a source imports (``import x from "ms"``, ``require('ms/x')``).
_BARE_IMPORT = re.compile(
    r"""(?:\brequire[ \t]*\([ \t]*|\bimport[ \t]*\([ \t]*|\bfrom[ \t]+|^[ \t]*import[ \t]+)"""
    r"""["']([^"'./\n#][^"'\n]*)["']""",
    re.MULTILINE,
)
MAX_FRONTEND_SOURCES = 2000


def _declared(package: dict[str, object]) -> set[str]:
    """Every package a package.json names, and its own name."""
    names = {str(package.get("name") or "")}
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        table = package.get(key)
        names |= set(table) if isinstance(table, dict) else set()
    return names


def _borrowed(
    a: Analysis, rel: str, package: dict[str, object], calls: list[Call], above: Call
) -> str | None:
    """What the frontend's build takes from the install of a folder above it, which node,
    bundlers and npm's PATH all search: a package its sources import that its package.json
    does not declare, or a program its build scripts start that only the package.json above
    declares (built for real: esbuild "Could not resolve "ms"" in the frontend stage). None:
    nothing found."""
    declared = _declared(package)
    prefix = f"{rel}/" if rel else ""
    sources = [
        f
        for f in (a.ctx.glob(f"{prefix}*") if a.ctx.present else [])
        if f.endswith(_SOURCE_SUFFIXES) and "node_modules/" not in f"/{f}"
    ]
    if len(sources) > MAX_FRONTEND_SOURCES:
        return f"its {len(sources)} sources are too many to check for imports"
    for path in sources:
        try:
            text = source_text(a.ctx, path)
        except Unreadable as exc:  # unread is not "imports nothing undeclared"
            return f"{exc}, so what it imports is unknown"
        for spec in _BARE_IMPORT.findall(text):
            parts = spec.split("/")
            name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
            if name not in declared and name not in BUILTIN_MODULES and ":" not in name:
                return f"{path} imports {name}, which its package.json does not declare"
    above_rel = context_dir(a, above.cwd, above.ins)
    outer = frontend.package_json(a.ctx, above_rel) if above_rel is not None else None
    theirs = _declared(outer) - declared if outer is not None else set()
    for call in calls:
        script = frontend.script_of([call.program, *call.args], package) or ""
        for command in parse_commands(script) if script else []:
            program, _ = program_args(command)
            if program in theirs:
                return (
                    f"its build runs {program}, which only {above_rel or '.'}/package.json declares"
                )
    return None


def _local_outside(package: dict[str, object], rel: str) -> str | None:
    """The frontend's package.json when it names a local dependency outside the frontend
    directory (``"shared-utils": "file:../shared"``, ``workspace:*``): built for real, the
    frontend stage's install lacked it and esbuild could not resolve "shared-utils"."""
    for name, spec in local_dependencies(package):
        path = local_spec_path(spec)
        target = posixpath.normpath(posixpath.join(rel, path)) if path is not None else ".."
        outside = target == ".." or target.startswith(("../", "/"))
        if outside or rel and not within(target, rel):
            return f"{rel or '.'}/package.json ({name}@{spec})"
    return None


# A quoted relative path that leaves the directory: ``"../backend/templates/**/*.html"``, or
# the parent alone: vite's ``envDir: '..'``, ``path.resolve(__dirname, '..')``.
_PARENT_PATH = re.compile(r"""["'`]\.\.(?:/|["'`])""")


def _reads_outside(a: Analysis, rel: str) -> str | None:
    """A file at the top of the frontend directory (tailwind, vite, tsconfig, postcss, ...)
    that names a path above it, or None."""
    prefix = f"{rel}/" if rel else ""
    for path in a.ctx.glob(f"{prefix}*") if a.ctx.present and rel else []:
        name = path[len(prefix) :]
        if not name.endswith(_CONFIG_SUFFIXES) or "node_modules/" in f"/{name}":
            continue
        try:
            text = source_text(a.ctx, path)
        except Unreadable as exc:  # unread is not "names no path outside"
            raise Decline(
                f"{exc}, so whether it names a path outside the frontend directory is unknown"
            ) from None
        if "/" not in name:  # configuration at the top: any ../ path leaves the directory
            if _PARENT_PATH.search(text):
                return path
            continue
        # a source below it: a relative import that climbs above the frontend directory
        # (``import { fmt } from "../../shared/format.js"`` in src/main.js)
        for spec in _RELATIVE_SPEC.findall(text) + _parent_words(text):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            if not within(target, rel):
                return path
    return None


_RELATIVE_SPEC = re.compile(r"""["'`]((?:\.\./)+[^"'`\s]*)""")
# Parents as separate words of a path call: ``path.join(__dirname, '..', '..')``.
_PARENT_WORDS = re.compile(r"""(?:["'`]\.\.["'`]\s*,?\s*)+""")


def _parent_words(text: str) -> list[str]:
    """Each run of quoted ``'..'`` words in ``text`` as the relative path it climbs
    (``'..', '..'`` is ``../..``)."""
    return ["/".join([".."] * run.group().count("..")) for run in _PARENT_WORDS.finditer(text)]


_CONFIG_SUFFIXES = (
    ".js",
    ".cjs",
    ".mjs",
    ".ts",
    ".mts",
    ".json",
    ".jsx",
    ".tsx",
    ".vue",
    ".svelte",
    ".css",
)
