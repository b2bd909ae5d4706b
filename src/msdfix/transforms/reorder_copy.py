"""reorder-copy: copy dependency manifests and install before copying the rest of the sources.

What it does
    When a stage copies its whole source tree (``COPY . .``, ``COPY . /app``, ``ADD . ...``,
    ``COPY src/ ...``) before a dependency install (``npm ci``, ``yarn``, ``pnpm install``,
    ``pip install -r``, ``poetry install --no-root``, ``uv sync --no-install-project``,
    ``pipenv install``, ``go mod download``, ``bundle install``, ``composer install``,
    ``dotnet restore``), it inserts a COPY of just the manifests and lock files that exist in the
    build context (honouring ``.dockerignore``), keeps the install after it and moves the full
    COPY to right after the install. Commands of the install RUN that need the sources (``npm
    run build``) move into a new RUN after the full COPY. ``composer install`` gets
    ``--no-scripts --no-autoloader`` and a ``composer dump-autoload`` after the full COPY. When
    there is no install step but a build (``go build``, ``cargo build``, ``mvn package``,
    ``gradle build``), the offline fetch (``go mod download``, ``cargo fetch``, ``mvn
    dependency:go-offline``, ``gradle dependencies``) is added after the manifest COPY.
Why
    Docker reuses a layer only while everything copied before it is unchanged. With the whole
    source copied first, every source edit reruns the dependency install; with the manifests
    first, the install layer stays cached until a manifest changes.
Example
    ``COPY . .`` / ``RUN npm ci`` becomes
    ``COPY package.json package-lock.json ./`` / ``RUN npm ci`` / ``COPY . .``.
Fix safety
    Safe when the build context shows the install reads only the manifests. Unsafe (applied with
    ``--unsafe-fixes``): npm lifecycle scripts (preinstall/install/postinstall/prepare) that may
    read sources, Composer install scripts, an added ``mvn dependency:go-offline`` in the final
    stage, Gradle (build scripts may read other files), and every ecosystem except
    ``pip install -r`` when there is no build context (manifests are then copied by glob).
    Left unchanged, with the reason: workspaces and monorepos, local path dependencies (``file:``,
    ``-e .``, ``path =``, ``replace => ./``), installs of the project itself (``pip install .``,
    ``poetry install`` without ``--no-root``), install outputs such as ``node_modules`` present in
    the context and not in ``.dockerignore``, and any instruction between the COPY and the
    install that reads or writes the copied tree.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Fix
from msdfix.knowledge import manifests as kb
from msdfix.knowledge.package_managers import MANAGERS
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values, unquote
from msdfix.transforms.base import Transform, register

UNKNOWN = "/<workdir>"  # root of paths relative to a workdir we cannot know
PRAGMA_RE = re.compile(r"#\s*msdfix:\s*ignore(?:\[([^\]]*)\])?\s*$", re.IGNORECASE)
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.@+*?\[\]/-]+$")
KEEP_FLAGS = {"chown", "chmod", "link"}
SYSTEM = set(
    "apt-get apt apk dnf yum microdnf aptitude useradd adduser addgroup groupadd usermod echo true "
    "set update-ca-certificates locale-gen ldconfig corepack sleep export".split()
)
PATH_TOOLS = set("rm mkdir chmod chown chgrp ln touch source . curl wget".split())
PIP_VALUE_OPTS = set(
    "-i --index-url --extra-index-url --trusted-host --platform --python-version --implementation "
    "--abi --only-binary --no-binary --progress-bar --cache-dir --log --timeout --retries "
    "--upgrade-strategy --config-settings --global-option --install-option --report --python -p "
    "--index-strategy --keyring-provider".split()
)
PIP_PATH_OPTS = set("-t --target --prefix --root --src -f --find-links".split())
VALUE_OPTS = set(
    "--omit --include --loglevel --registry --cache --network-timeout --mutex --only --with "
    "--without -E --extras --jobs -j --retry --path --group --categories --python --extra "
    "--no-install-package --runtime -r --configuration".split()
)
VERSION_ARGS = {"--version", "-v", "-V", "version", "-version"}
DIR_OPTS = set(
    "--prefix --cwd -C --dir --directory --working-dir -d --manifest-path --gemfile -f --file "
    "--project -pl --projects --project-dir -p".split()
)
MANAGER_ECO = {m: e for e in kb.ECOSYSTEMS for m in e.managers}


class _Skip(Exception):
    """Leave this COPY alone; ``reason`` (when set) is shown to the user."""

    def __init__(self, reason: str = "", at: Instruction | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at


@dataclass
class _Source:
    """A COPY/ADD of a whole source tree: context dir ``src`` lands at ``dest`` (absolute)."""

    ins: Instruction
    src: str
    dest: str
    flags: str
    dollar: bool
    relative: bool = False


@dataclass
class _Use:
    """One command of the anchor RUN that reads dependency manifests."""

    eco: kb.Ecosystem
    command: Command
    args: list[str]
    project: str  # context dir of the project
    dest: str  # absolute dir where the project lands
    files: list[str] = field(default_factory=list)  # explicit manifests (pip -r files)
    build: bool = False  # a build command: needs an added fetch


@dataclass
class _Plan:
    manifests: list[tuple[str, str]] = field(default_factory=list)  # (context path, dest dir)
    unsafe: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _manager(program: str) -> str | None:
    return next((m.id for m in MANAGERS if program in m.programs), None)


def _ignored_here(doc: Document, ins: Instruction, transform: str) -> bool:
    for comment in doc.dockerfile.comments_above(ins):
        match = PRAGMA_RE.search(comment)
        if match and (
            match.group(1) is None or transform in {i.strip() for i in match.group(1).split(",")}
        ):
            return True
    return False


def _keyword(like: str, word: str) -> str:
    """``word`` in the letter case of the keyword ``like``."""
    if like.islower():
        return word.lower()
    if like.isupper():
        return word.upper()
    return word.capitalize()


def _workdirs(doc: Document, stage: Stage) -> dict[int, str]:
    """Workdir before each instruction of ``stage`` (paths under UNKNOWN when not knowable)."""
    chain = []
    current: Stage | None = stage
    while current is not None:
        chain.append(current)
        current = current.parent
    workdir = UNKNOWN
    seen: dict[int, str] = {}
    unknowns = 0
    for st in reversed(chain):
        for ins in st.instructions:
            seen[id(ins)] = workdir
            if ins.cmd == "workdir":
                value = unquote(expand(ins.args, doc.model.stage_scope(st, ins)), ins.escape)
                if "$" in value or not value:
                    unknowns += 1
                    workdir = f"{UNKNOWN}{unknowns}"
                else:
                    workdir = _join(workdir, value)
    return seen


def _source(doc: Document, stage: Stage, ins: Instruction, workdir: str) -> _Source | None:
    """The whole-tree COPY/ADD ``ins``, or None when it is something else."""
    if ins.cmd not in ("copy", "add") or ins.heredocs or ins.flag("from") is not None:
        return None
    if any(f.name not in KEEP_FLAGS for f in ins.flags):
        return None
    try:
        _, values, _ = instruction_values(ins)
    except Exception:
        return None
    if len(values) != 2:
        return None
    scope = doc.model.stage_scope(stage, ins)
    src, dest = (unquote(expand(v, scope), ins.escape) for v in values)
    if "$" in src or "$" in dest or "://" in src or src.startswith("git@"):
        return None
    src = posixpath.normpath(src).lstrip("/") or "."
    if src.startswith(".."):
        return None
    if src != ".":
        root = doc.context.root
        if (
            not doc.context.present
            or root is None
            or doc.context.is_ignored(src)
            or not (root / src).is_dir()
        ):
            return None
    flags = "".join(" " + doc.text[f.start : f.end] for f in ins.flags)
    return _Source(
        ins, src, _join(workdir, dest), flags, "$" in ins.logical, not dest.startswith("/")
    )


@register
class ReorderCopy(Transform):
    id = "reorder-copy"
    title = "Copy dependency manifests and install before copying the sources"
    order = 20

    def check(self, doc: Document) -> Iterable[Fix]:
        if doc.is_windows:
            return
        for stage in doc.model.stages:
            workdirs = _workdirs(doc, stage)
            for index, ins in enumerate(stage.instructions):
                source = _source(doc, stage, ins, workdirs[id(ins)])
                if source is None:
                    continue
                try:
                    fix = self._fix(doc, stage, index, source, workdirs)
                except _Skip as skip:
                    if skip.reason:
                        yield doc.fix(self.id, skip.at or ins, skip.reason, [])
                    continue
                if fix is not None:
                    yield fix
                    if fix.edits:
                        break

    def _fix(
        self, doc: Document, stage: Stage, index: int, source: _Source, workdirs: dict[int, str]
    ) -> Fix | None:
        copy = source.ins
        later = stage.instructions[index + 1 :]
        anchor, uses, script, blocker = _find_anchor(doc, stage, source, later, workdirs)
        if anchor is None or script is None:
            return None
        where = f"`{copy.logical.strip()}` (line {copy.start_line})"
        if blocker is not None:
            raise _Skip(
                f"{where} comes before the dependency install, but line {blocker.start_line} "
                f"uses the copied files in between",
                anchor,
            )
        if _ignored_here(doc, anchor, self.id):
            return None
        between = later[: later.index(anchor)]
        for ins in between:
            _check_between(source, ins)
        build = all(u.build for u in uses)
        if build:
            uses = uses[:1]
            if _has_fetch(doc, stage, copy, uses[0]):
                return None
        else:
            uses = [u for u in uses if not u.build]
        plan = _Plan()
        for use in uses:
            _manifests(doc, stage, source, use, plan, anchor)
        if not plan.manifests or any(p.rstrip("/") == source.src for p, _ in plan.manifests):
            return None
        workdir = workdirs[id(anchor)]
        scope = {k: v for k, v in doc.model.stage_scope(stage, anchor).items() if v is not None}
        lines = _copy_lines(doc, source, plan, workdir)
        eco_names = "/".join(dict.fromkeys(u.eco.id for u in uses))
        files = ", ".join(
            dict.fromkeys(
                posixpath.basename(p.rstrip("/")) + ("/" if p.endswith("/") else "")
                for p, _ in plan.manifests
            )
        )
        block = doc.text[copy.comment_start : copy.end]
        if not block.endswith("\n"):
            block += doc.newline
        nl = doc.newline
        edits: list[Edit] = []
        adjacent = not between and not doc.text[copy.end : anchor.comment_start].strip()
        if build:
            use = uses[0]
            fetch = _fetch_text(use, workdir)
            new = lines + f"{anchor.keyword} {fetch}{nl}"
            if adjacent:
                edits.append(Edit(copy.comment_start, copy.comment_start, new))
            else:
                edits += [
                    Edit(copy.comment_start, copy.end, ""),
                    Edit(anchor.comment_start, anchor.comment_start, new + block),
                ]
            message = (
                f"copy {files} and run `{fetch}` before {where}, so the dependency layer "
                "stays cached"
            )
        else:
            after, split_edits = _after_install(doc, anchor, script, uses, workdir, source, scope)
            if adjacent:
                edits.append(Edit(copy.comment_start, copy.end, lines))
            else:
                edits += [
                    Edit(copy.comment_start, copy.end, ""),
                    Edit(anchor.comment_start, anchor.comment_start, lines),
                ]
            edits += split_edits
            end = anchor.end
            prefix = "" if doc.text[end - 1 : end] == "\n" else nl
            edits.append(Edit(end, end, prefix + block + after))
            message = (
                f"install {eco_names} dependencies from {files} before {where}, so source "
                "edits keep the install layer cached"
            )
        if plan.notes:
            message += "; " + "; ".join(plan.notes)
        applicability = Applicability.SAFE
        if plan.unsafe:
            applicability = Applicability.UNSAFE
            message += " (unsafe: " + "; ".join(plan.unsafe) + ")"
        return doc.fix(self.id, anchor, message, edits, applicability)


def _find_anchor(
    doc: Document, stage: Stage, source: _Source, later: list[Instruction], workdirs: dict[int, str]
) -> tuple[Instruction | None, list[_Use], RunScript | None, Instruction | None]:
    """The first RUN after the copy that installs (or builds) from the copied tree."""
    blocker: Instruction | None = None
    selfish: str | None = None
    for ins in later:
        if ins.cmd != "run":
            if ins.cmd in ("copy", "add") and _touches(doc, stage, source, ins, workdirs[id(ins)]):
                blocker = blocker or ins
            continue
        script = run_script(ins, doc.text)
        if script is None:
            blocker = blocker or ins
            continue
        scope = {k: v for k, v in doc.model.stage_scope(stage, ins).items() if v is not None}
        uses: list[_Use] = []
        readers = False
        for command in script.commands:
            kind = _classify(command, source, workdirs[id(ins)], scope)
            if isinstance(kind, _Use):
                uses.append(kind)
            elif kind != "harmless":
                readers = True
                if kind == "self" and selfish is None and blocker is None:
                    selfish = (
                        f"`{' '.join(command.argv)}` (line {ins.start_line}) installs the "
                        "project itself"
                    )
        if uses:
            return ins, uses, script, blocker
        if readers:
            blocker = blocker or ins
    if selfish and not _installs_before(doc, stage, source.ins):
        raise _Skip(
            f"{selfish}, which needs the sources: copy and install the dependencies first by hand"
        )
    return None, [], None, None


def _installs_before(doc: Document, stage: Stage, copy: Instruction) -> bool:
    """True when a RUN before ``copy`` already runs a language package manager."""
    for ins in stage.instructions:
        if ins is copy:
            break
        script = run_script(ins, doc.text) if ins.cmd == "run" else None
        for command in script.commands if script else []:
            if MANAGER_ECO.get(str(_manager(program_args(command)[0]))) is not None:
                return True
    return False


def _touches(doc: Document, stage: Stage, source: _Source, ins: Instruction, workdir: str) -> bool:
    """True when a COPY/ADD between writes into (or over) the copied tree."""
    try:
        _, values, _ = instruction_values(ins)
    except Exception:
        return True
    if not values:
        return True
    dest = unquote(expand(values[-1], doc.model.stage_scope(stage, ins)), ins.escape)
    if "$" in dest:
        return True
    target = _join(workdir, dest)
    return within(target, source.dest) or within(source.dest, target)


def _cwd(command: Command, workdir: str, scope: dict[str, str]) -> str | None:
    if command.cwd is None:
        return workdir
    cwd = expand(command.cwd, scope)
    if "$" in cwd or cwd.startswith(("~", "-")):
        return None
    return _join(workdir, cwd)


def _classify(command: Command, source: _Source, workdir: str, scope: dict[str, str]) -> _Use | str:
    """'harmless', 'reader', or a _Use for commands that read dependency manifests."""
    program, args = program_args(command)
    if not program or program == "cd":
        return "harmless"
    for redirect in command.redirects:
        target = re.sub(r"^[0-9&]*>+\|?\s*", "", redirect.strip())
        if redirect.lstrip("0123456789").startswith("<") or target.startswith("&"):
            continue
        if not _outside(expand(target, scope), source):
            return "reader"
    if args and all(a in VERSION_ARGS for a in args):
        return "harmless"
    if program in SYSTEM:
        return "harmless"
    if program in PATH_TOOLS:
        if program == "curl":
            return (
                "reader"
                if any(a.startswith(("-o", "-O", "--output", "--remote")) for a in args)
                else "harmless"
            )
        if program == "wget":
            return (
                "harmless"
                if any(a in ("-qO-", "-O-") for a in args) or "-O -" in " ".join(args)
                else "reader"
            )
        paths = [a for a in args if not a.startswith("-")]
        if program in ("chown", "chgrp", "chmod") and paths:
            paths = paths[1:]
        return "harmless" if all(_outside(expand(p, scope), source) for p in paths) else "reader"
    manager = _manager(program)
    if manager is None:
        return "reader"
    cwd = _cwd(command, workdir, scope)
    if cwd is None:
        return "reader"
    return _classify_tool(manager, program, args, command, source, cwd)


def _outside(path: str, source: _Source) -> bool:
    """True for an absolute path that is neither inside nor above the copied tree."""
    if not path.startswith("/") or "$" in path:
        return False
    clean = posixpath.normpath(re.split(r"[*?\[]", path)[0] or "/")
    return not (within(clean, source.dest) or within(source.dest, clean))


def _project(source: _Source, cwd: str) -> str | None:
    if not within(cwd, source.dest):
        return None
    rel = posixpath.relpath(cwd, source.dest)
    return posixpath.normpath(posixpath.join(source.src, rel))


def _classify_tool(
    manager: str, program: str, args: list[str], command: Command, source: _Source, cwd: str
) -> _Use | str:
    eco = MANAGER_ECO.get(manager)
    positional = [a for a in args if not a.startswith("-")]
    sub = positional[0] if positional else ""
    if manager == "uv" and sub == "pip":
        return _classify_pip(kb.PIP, args[args.index("pip") + 1 :], command, source, cwd)
    if manager == "pip":
        return _classify_pip(kb.PIP, args, command, source, cwd)
    if eco is None:
        return "harmless" if manager in ("apt", "apk", "dnf", "yum", "gem") else "reader"
    if any(a in DIR_OPTS or a.split("=")[0] in DIR_OPTS for a in args) and manager not in (
        "nuget",
    ):
        if not (
            manager in ("npm", "yarn", "yarn-berry")
            and ("-g" in args or "--global" in args or sub == "global")
        ):
            return "reader"
    project = _project(source, cwd)
    global_ = "-g" in args or "--global" in args or sub == "global"
    if manager in ("npm", "yarn", "yarn-berry", "pnpm"):
        if global_ or sub in ("config", "cache", "set", "--version"):
            return "harmless"
        if manager == "npm" and sub == "prune":
            return "harmless" if project is not None else "reader"
        if sub in kb.INSTALL_SUBCOMMANDS[manager] and _positional(args) == ([sub] if sub else []):
            return _Use(eco, command, args, project, cwd) if project is not None else "harmless"
        return "reader"
    if manager in ("poetry", "pipenv", "bundler", "composer"):
        if sub in ("config", "--version", "self") or (manager == "composer" and sub == "global"):
            return "harmless"
        if sub in kb.INSTALL_SUBCOMMANDS[manager] and _positional(args) == [sub]:
            return _Use(eco, command, args, project, cwd) if project is not None else "harmless"
        return "reader"
    if manager == "uv":
        if sub == "sync" and any(
            a in ("--no-install-project", "--no-install-workspace", "--only-deps") for a in args
        ):
            return _Use(eco, command, args, project, cwd) if project is not None else "harmless"
        if sub in ("tool", "python", "venv", "cache"):
            return "harmless"
        return "self" if sub == "sync" and project is not None else "reader"
    if manager == "go":
        if positional[:2] in (["mod", "download"], ["mod", "verify"]) or sub == "env":
            if sub == "env":
                return "harmless"
            return _Use(eco, command, args, project, cwd) if project is not None else "harmless"
        if sub == "install" and positional[1:] and all("@" in p for p in positional[1:]):
            return "harmless"
        if sub in eco.build_subcommands and project is not None:
            return _Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "cargo":
        if sub == "install" and "--path" not in args and positional[1:]:
            return "harmless"
        if sub == "fetch" and project is not None:
            return _Use(eco, command, args, project, cwd)
        if sub in eco.build_subcommands and project is not None:
            return _Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "maven":
        if any(p.startswith("dependency:") for p in positional) and all(
            p.startswith("dependency:") for p in positional
        ):
            return _Use(eco, command, args, project, cwd) if project is not None else "reader"
        if any(p in eco.build_subcommands for p in positional) and project is not None:
            return _Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "gradle":
        if positional == ["dependencies"] and project is not None:
            return _Use(eco, command, args, project, cwd)
        if (
            any(p.split(":")[-1] in eco.build_subcommands for p in positional)
            and project is not None
        ):
            return _Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "nuget":
        if sub == "tool" and global_:
            return "harmless"
        if sub == "restore" and project is not None and len(positional) <= 2:
            target = positional[1] if len(positional) == 2 else None
            if target is not None and (target.startswith("/") or ".." in target or "$" in target):
                return "reader"
            return _Use(eco, command, args, project, cwd)
        return "reader"
    return "reader"


def _positional(args: list[str]) -> list[str]:
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in VALUE_OPTS:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def _classify_pip(
    eco: kb.Ecosystem, args: list[str], command: Command, source: _Source, cwd: str
) -> _Use | str:
    if not args or args[0] not in ("install", "sync"):
        return (
            "harmless"
            if args and args[0] in ("config", "cache", "list", "freeze", "--version")
            else "reader"
        )
    files: list[str] = []
    local = False
    i = 1
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        name, eq, inline = arg.partition("=")
        if arg in ("-r", "--requirement", "-c", "--constraint") or (
            eq and name in ("--requirement", "--constraint")
        ):
            files.append(inline if eq else value)
            i += 1 if eq else 2
            continue
        if re.match(r"^-[rc][^-]", arg):
            files.append(arg[2:])
        elif arg in ("-e", "--editable"):
            local = local or (_local(value) and not _outside(value, source))
            i += 1
        elif name in PIP_PATH_OPTS:
            path = inline if eq else value
            local = local or (
                _local(path)
                and not (path.startswith("/") and not within(_join(cwd, path), source.dest))
            )
            i += 0 if eq else 1
        elif arg in PIP_VALUE_OPTS:
            i += 1
        elif not arg.startswith("-") and not (args[0] == "sync" and arg.endswith((".txt", ".in"))):
            local = local or (_local(arg) and not _outside(arg, source))
        elif args[0] == "sync" and not arg.startswith("-"):
            files.append(arg)
        i += 1
    if local:
        return "self" if within(cwd, source.dest) else "reader"
    paths = [_join(cwd, f) for f in files if "$" not in f]
    if len(paths) != len(files):
        return "reader"
    inside = [p for p in paths if within(p, source.dest)]
    if not inside:
        return "harmless"
    project = _project(source, cwd)
    use = _Use(eco, command, args, project or source.src, cwd)
    use.files = [
        posixpath.normpath(posixpath.join(source.src, posixpath.relpath(p, source.dest)))
        for p in inside
    ]
    return use


def _local(arg: str) -> bool:
    """True for a pip argument naming a local path rather than a package."""
    if "://" in arg and not arg.startswith("file:"):
        return False
    return (
        arg.startswith((".", "/", "~", "file:"))
        or arg.endswith((".whl", ".tar.gz", ".zip"))
        or ("/" in arg and "@" not in arg)
    )


def _check_between(source: _Source, ins: Instruction) -> None:
    """Raise _Skip when the full COPY cannot move past ``ins``."""
    line = f"line {ins.start_line}"
    if ins.cmd == "workdir" and source.relative:
        raise _Skip(
            f"the COPY at line {source.ins.start_line} has a relative destination and WORKDIR "
            f"changes at {line}"
        )
    if ins.cmd in ("env", "arg") and source.dollar:
        raise _Skip(
            f"the COPY at line {source.ins.start_line} uses variables that {ins.keyword} at "
            f"{line} may change"
        )
    if ins.cmd == "volume":
        raise _Skip(f"VOLUME at {line} comes between the COPY and the install")


def _has_fetch(doc: Document, stage: Stage, copy: Instruction, use: _Use) -> bool:
    """True when a RUN before the full COPY already fetches this ecosystem's dependencies."""
    for ins in stage.instructions:
        if ins is copy:
            return False
        script = run_script(ins, doc.text) if ins.cmd == "run" else None
        for command in script.commands if script else []:
            program, args = program_args(command)
            manager = _manager(program)
            if manager not in use.eco.managers:
                continue
            found = {
                "go": args[:2] == ["mod", "download"],
                "cargo": "fetch" in args,
                "gradle": "dependencies" in args,
                "maven": any(a.startswith("dependency:") for a in args),
            }.get(str(manager), True)
            if found:
                return True
    return False


# ---------------------------------------------------------------- manifests and hazards


def _manifests(
    doc: Document, stage: Stage, source: _Source, use: _Use, plan: _Plan, anchor: Instruction
) -> None:
    """Add the manifests of ``use`` to ``plan`` or raise _Skip with the reason."""
    ctx = doc.context
    eco = use.eco
    project = use.project
    where = f"`{' '.join(use.command.argv)}`"

    def rel(name: str) -> str:
        return posixpath.normpath(posixpath.join(project, name))

    def dest_of(path: str) -> str:
        inner = posixpath.relpath(posixpath.dirname(path.rstrip("/")) or ".", source.src)
        return _join(source.dest, inner)

    if not ctx.present:
        if eco is kb.PIP:
            for path in use.files:
                folder = posixpath.dirname(path)
                entry = folder + "/" if folder and folder != "." and folder != source.src else path
                _add(plan, entry, dest_of(entry))
            plan.notes.append(
                "no build context: assumed the requirements files name no local paths or other "
                "files"
            )
            return
        if not eco.guess or (eco is kb.GO and within(source.dest, "/go/src")):
            raise _Skip(f"{where} needs the build context to find its manifests", anchor)
        for pattern in eco.guess:
            entry = rel(pattern)
            _add(plan, entry, dest_of(entry))
        plan.unsafe.append(
            f"no build context: could not check {eco.id} manifests for scripts, local paths "
            f"or workspaces, nor .dockerignore for install outputs"
        )
        _two_phase_note(eco, use, plan)
        return
    for out in eco.outputs:
        if ctx.exists(rel(out)):
            raise _Skip(
                f"{where}: {rel(out)} is in the build context and not in .dockerignore, so the "
                "full "
                f"COPY after the install would overwrite what it installed",
                anchor,
            )
    check = HAZARDS.get(eco.id)
    if eco is kb.PIP:
        files = _requirements(doc, use.files, anchor, where)
        for path in files:
            _add(plan, path, dest_of(path))
        return
    if eco is kb.DOTNET:
        found = [
            f
            for f in ctx.files
            if _in_project(f, project) and f.endswith((".csproj", ".fsproj", ".vbproj"))
        ]
        found += [rel(n) for n in eco.manifests if "*" not in n and ctx.exists(rel(n))]
        found += [
            f
            for f in ctx.files
            if _in_project(f, project)
            and f.endswith(".sln")
            and posixpath.dirname(f) == (project if project != "." else "")
        ]
        if not any(f.endswith("proj") for f in found):
            raise _Skip(f"{where}: no project file under {project}/ in the build context", anchor)
        for path in [f for f in found if not ctx.is_ignored(f)]:
            _add(plan, path, dest_of(path))
        for path in found:
            if path.endswith("proj") and ctx.exists(posixpath.join(posixpath.dirname(path), "obj")):
                raise _Skip(
                    f"{where}: obj/ of {path} is in the build context and not in .dockerignore",
                    anchor,
                )
        return
    names = list(eco.manifests)
    if (
        eco is kb.MAVEN
        and use.command.name not in ("mvnw",)
        and not use.command.argv[0].endswith("mvnw")
    ):
        names = ["pom.xml"]
    present = [n for n in names if ctx.exists(rel(n.rstrip("/")))]
    key = {
        "npm": "package.json",
        "yarn": "package.json",
        "pnpm": "package.json",
        "poetry": "pyproject.toml",
        "uv": "pyproject.toml",
        "pipenv": "Pipfile",
        "go": "go.mod",
        "maven": "pom.xml",
        "cargo": "Cargo.toml",
        "bundler": "Gemfile",
        "composer": "composer.json",
    }.get(eco.id)
    if (
        key
        and key not in present
        or (eco is kb.GRADLE and not any(n.startswith(("build.", "settings.")) for n in present))
    ):
        raise _Skip(f"{where}: {rel(key or 'build.gradle')} is not in the build context", anchor)
    if check is not None:
        check(doc, use, plan, anchor, where, stage)
    for name in present:
        entry = rel(name.rstrip("/")) + ("/" if name.endswith("/") else "")
        _add(plan, entry, dest_of(entry))
    _two_phase_note(eco, use, plan)


def _two_phase_note(eco: kb.Ecosystem, use: _Use, plan: _Plan) -> None:
    if eco is kb.COMPOSER:
        plan.notes.append(
            "`composer install` skips scripts and the autoloader; `composer dump-autoload` runs "
            "after the full COPY"
        )


def _in_project(path: str, project: str) -> bool:
    return project == "." or within(path, project)


def _add(plan: _Plan, path: str, dest: str) -> None:
    if path not in [p for p, _ in plan.manifests]:
        plan.manifests.append((path, dest))


def _requirements(doc: Document, files: list[str], anchor: Instruction, where: str) -> list[str]:
    """The requirement files and the ones they include, or _Skip for local paths."""
    ctx = doc.context
    todo = list(files)
    found: list[str] = []
    while todo:
        path = todo.pop(0)
        if path in found:
            continue
        text = ctx.read_text(path) if ctx.exists(path) else None
        if text is None:
            raise _Skip(f"{where}: {path} is not in the build context", anchor)
        found.append(path)
        for raw in text.splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith("#"):
                continue
            match = re.match(r"^(-r|--requirement|-c|--constraint)[\s=]*(\S+)", line)
            if match:
                todo.append(
                    posixpath.normpath(posixpath.join(posixpath.dirname(path), match.group(2)))
                )
                continue
            option = re.match(r"^(-e|--editable|-f|--find-links)[\s=]*(\S+)", line)
            value = option.group(2) if option else line
            if (option or not line.startswith("-")) and (
                _local(value.split(";")[0].strip()) or " @ file:" in line
            ):
                raise _Skip(
                    f"{where}: {path} installs a local path ({line}), which needs the sources",
                    anchor,
                )
    return found


def _node(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    ctx = doc.context
    base = use.project
    package = ctx.read_json(posixpath.join(base, "package.json"))
    if not isinstance(package, dict):
        raise _Skip(f"{where}: package.json could not be read", anchor)
    if package.get("workspaces"):
        raise _Skip(
            f"{where}: package.json declares workspaces (monorepo): every member's manifest would "
            "have to come first",
            anchor,
        )
    for marker in kb.MONOREPO_MARKERS:
        text = (
            ctx.read_text(posixpath.join(base, marker))
            if ctx.exists(posixpath.join(base, marker))
            else None
        )
        if text is not None and (marker != "pnpm-workspace.yaml" or "packages" in text):
            raise _Skip(
                f"{where}: {marker} marks a monorepo: every member's manifest would have to come "
                "first",
                anchor,
            )
    for section in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        deps = package.get(section)
        for name, spec in deps.items() if isinstance(deps, dict) else []:
            if isinstance(spec, str) and spec.startswith(
                ("file:", "link:", "workspace:", "portal:", "./", "../", "/")
            ):
                raise _Skip(
                    f"{where}: dependency {name} is a local path ({spec}), which needs the sources",
                    anchor,
                )
    pnpm = package.get("pnpm")
    if isinstance(pnpm, dict) and pnpm.get("patchedDependencies"):
        raise _Skip(f"{where}: pnpm.patchedDependencies needs the patch files", anchor)
    scripts = package.get("scripts")
    hooks = [s for s in kb.NPM_LIFECYCLE if isinstance(scripts, dict) and s in scripts]
    ignore = "--ignore-scripts" in use.args or "--mode=skip-build" in use.args
    if hooks and not ignore:
        plan.unsafe.append(
            f"package.json has {', '.join(hooks)} script(s) that may read the sources"
        )


def _python(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    ctx = doc.context
    name = "Pipfile" if use.eco is kb.PIPENV else "pyproject.toml"
    text = ctx.read_text(posixpath.join(use.project, name)) or ""
    if (
        re.search(r"\bpath\s*=", text)
        or re.search(r"^\s*\[tool\.uv\.workspace\]", text, re.M)
        or re.search(r"workspace\s*=\s*true", text)
    ):
        raise _Skip(
            f"{where}: {name} has a local path dependency or workspace, which needs the sources",
            anchor,
        )
    if use.eco is kb.POETRY and "--no-root" not in use.args and "--only-root" not in use.args:
        if not re.search(r"^\s*package-mode\s*=\s*false", text, re.M):
            raise _Skip(
                f"{where} installs the project itself, which needs the sources (use `--no-root` "
                "for the dependencies)",
                anchor,
            )


def _go(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    ctx = doc.context
    text = ctx.read_text(posixpath.join(use.project, "go.mod")) or ""
    if re.search(r"=>\s*(\.{1,2}/|/|\.\s*$|\.\.\s*$)", text, re.M):
        raise _Skip(
            f"{where}: go.mod replaces a module with a local path, which needs the sources", anchor
        )
    if ctx.exists(posixpath.join(use.project, "go.work")) or ctx.exists("go.work"):
        raise _Skip(
            f"{where}: go.work marks a workspace: every module's go.mod would have to come first",
            anchor,
        )
    if use.build and ctx.exists(posixpath.join(use.project, "vendor/modules.txt")):
        raise _Skip("", anchor)


def _maven(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = doc.context.read_text(posixpath.join(use.project, "pom.xml")) or ""
    if "<modules>" in text:
        raise _Skip(
            f"{where}: pom.xml is a multi-module build: every module's pom.xml would have to come "
            "first",
            anchor,
        )
    if re.search(r"<relativePath>\s*[^<\s]", text) or (
        "<parent>" in text and doc.context.exists(posixpath.join(use.project, "../pom.xml"))
    ):
        raise _Skip(f"{where}: pom.xml has a local parent pom", anchor)
    if use.build and doc.model.final is stage:
        plan.unsafe.append(
            "the added `dependency:go-offline` may download plugins into the final image's ~/.m2"
        )


def _gradle(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    for name in ("settings.gradle", "settings.gradle.kts"):
        text = doc.context.read_text(posixpath.join(use.project, name)) or ""
        if re.search(r"^\s*include", text, re.M):
            raise _Skip(
                f"{where}: {name} includes subprojects: every build file would have to come first",
                anchor,
            )
    plan.unsafe.append("Gradle build scripts may read other files while configuring")


def _cargo(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = doc.context.read_text(posixpath.join(use.project, "Cargo.toml")) or ""
    if re.search(r"\bpath\s*=", text) or "[workspace]" in text:
        raise _Skip(
            f"{where}: Cargo.toml has a path dependency, explicit target paths or a workspace",
            anchor,
        )
    if re.search(r"^\s*\[(lib|\[bin\])", text, re.M):
        raise _Skip(
            f"{where}: Cargo.toml declares its targets, so `cargo fetch` cannot run without the "
            "sources",
            anchor,
        )


def _bundler(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = doc.context.read_text(posixpath.join(use.project, "Gemfile")) or ""
    if re.search(r"^\s*(gemspec|eval_gemfile)\b", text, re.M) or re.search(
        r"(\bpath:|:path\s*=>)", text
    ):
        raise _Skip(
            f"{where}: the Gemfile uses a gemspec or local path gems, which need the sources",
            anchor,
        )


def _composer(
    doc: Document, use: _Use, plan: _Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    data = doc.context.read_json(posixpath.join(use.project, "composer.json"))
    if not isinstance(data, dict):
        raise _Skip(f"{where}: composer.json could not be read", anchor)
    repos = data.get("repositories")
    repo_list = (
        list(repos.values())
        if isinstance(repos, dict)
        else repos
        if isinstance(repos, list)
        else []
    )
    if any(isinstance(r, dict) and r.get("type") == "path" for r in repo_list):
        raise _Skip(
            f"{where}: composer.json has a path repository, which needs the sources", anchor
        )
    scripts = data.get("scripts")
    hooks = [s for s in kb.COMPOSER_INSTALL_SCRIPTS if isinstance(scripts, dict) and s in scripts]
    if hooks and "--no-scripts" not in use.args:
        plan.unsafe.append(
            f"composer.json has {', '.join(hooks)} script(s), which `--no-scripts` skips"
        )


HAZARDS = {
    "npm": _node,
    "yarn": _node,
    "pnpm": _node,
    "poetry": _python,
    "uv": _python,
    "pipenv": _python,
    "go": _go,
    "maven": _maven,
    "gradle": _gradle,
    "cargo": _cargo,
    "bundler": _bundler,
    "composer": _composer,
}


# ---------------------------------------------------------------- text


def _dest_text(path: str, workdir: str) -> str:
    if path == workdir:
        return "./"
    if within(path, workdir):
        return posixpath.relpath(path, workdir) + "/"
    if path.startswith(UNKNOWN):
        raise _Skip()
    return path.rstrip("/") + "/"


def _copy_lines(doc: Document, source: _Source, plan: _Plan, workdir: str) -> str:
    """COPY instructions for the manifests, grouped by destination directory."""
    keyword = _keyword(source.ins.keyword, "COPY")
    groups: dict[str, list[str]] = {}
    lines = []
    for path, dest in plan.manifests:
        if not SAFE_NAME.match(path):
            raise _Skip(f"manifest path {path!r} would need quoting")
        if path.endswith("/"):
            inner = _join(dest, posixpath.basename(path.rstrip("/")))
            lines.append(f"{keyword}{source.flags} {path} {_dest_text(inner, workdir)}")
        else:
            groups.setdefault(dest, []).append(path)
    ordered = sorted(groups.items(), key=lambda item: item[0].count("/"))
    lines = [
        f"{keyword}{source.flags} {' '.join(paths)} {_dest_text(dest, workdir)}"
        for dest, paths in ordered
    ] + lines
    return "".join(line + doc.newline for line in lines)


def _cd(use: _Use, workdir: str) -> str:
    if use.dest == workdir:
        return ""
    target = posixpath.relpath(use.dest, workdir) if within(use.dest, workdir) else use.dest
    if target.startswith(UNKNOWN) or not SAFE_NAME.match(target):
        raise _Skip()
    return f"cd {target} && "


def _fetch_text(use: _Use, workdir: str) -> str:
    assert use.eco.fetch is not None
    program = use.command.words[0].value if use.command.words else ""
    fetch = use.eco.fetch.format(prog=program)
    if use.eco is kb.MAVEN:
        args = use.args
        for i, arg in enumerate(args):
            if arg in ("-s", "--settings") and i + 1 < len(args):
                raise _Skip(
                    f"`{' '.join(use.command.argv)}` uses a settings file; not adding a fetch step"
                )
    return _cd(use, workdir) + fetch


def _after_install(
    doc: Document,
    anchor: Instruction,
    script: RunScript,
    uses: list[_Use],
    workdir: str,
    source: _Source,
    scope: dict[str, str],
) -> tuple[str, list[Edit]]:
    """Text to insert after the full COPY (follow-ups, split-off commands), and edits of the RUN."""
    nl = doc.newline
    edits: list[Edit] = []
    after = ""
    commands = script.commands
    positions = [commands.index(u.command) for u in uses]
    last = max(positions)
    readers = []
    for i, command in enumerate(commands):
        if i not in positions and _classify(command, source, workdir, scope) != "harmless":
            readers.append(i)
    early = [i for i in readers if i < last]
    if early:
        raise _Skip(
            f"`{' '.join(commands[early[0]].argv)}` runs before the install in line "
            f"{anchor.start_line} "
            f"and may need the sources",
            anchor,
        )
    flags = "".join(doc.text[f.start : f.end] + " " for f in anchor.flags)
    for use in uses:
        if use.eco is kb.COMPOSER:
            edits += _composer_edits(script, use)
            after += (
                f"{anchor.keyword} {flags}{_cd(use, workdir)}{_composer_followup(script, use)}{nl}"
            )
    if readers:
        first = readers[0]
        split = commands[first]
        prev = commands[first - 1]
        if (
            not script.editable
            or script.heredoc_start is not None
            or split.op_before != "&&"
            or split.nested
            or prev.nested
            or prev.redirects
            or any(c.nested for c in commands[last:first])
        ):
            raise _Skip(
                f"`{' '.join(split.argv)}` in the install RUN (line {anchor.start_line}) needs "
                "the sources "
                f"and cannot be split off",
                anchor,
            )
        start = script.physical(prev.end - 1) + 1
        end = anchor.end
        while end > start and doc.text[end - 1] in "\r\n":
            end -= 1
        tail = doc.text[script.physical(split.start) : end]
        cd = ""
        if split.cwd is not None:
            if not SAFE_NAME.match(split.cwd):
                raise _Skip(
                    f"the install RUN (line {anchor.start_line}) changes directory in a way that "
                    "cannot be split",
                    anchor,
                )
            cd = f"cd {split.cwd} && "
        edits.append(Edit(start, end, ""))
        after += f"{anchor.keyword} {flags}{cd}{tail}{nl}"
    return after, edits


def _composer_edits(script: RunScript, use: _Use) -> list[Edit]:
    words = use.command.words
    install = next((w for w in words[1:] if w.value == "install"), None)
    if install is None or not script.editable:
        raise _Skip("composer install cannot be edited")
    missing = [f for f in ("--no-scripts", "--no-autoloader") if f not in use.args]
    if not missing:
        return []
    end = script.physical(install.end - 1) + 1
    return [Edit(end, end, " " + " ".join(missing))]


def _composer_followup(script: RunScript, use: _Use) -> str:
    command = use.command
    program = script.text[command.start : command.words[0].end]
    flags = list(
        dict.fromkeys(
            kb.COMPOSER_AUTOLOAD_FLAGS[a] for a in use.args if a in kb.COMPOSER_AUTOLOAD_FLAGS
        )
    )
    return " ".join([program, "dump-autoload", *flags])
