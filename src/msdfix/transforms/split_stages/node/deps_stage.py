"""How the prod-deps stage is written: its inputs, the replayed setup, the copied node_modules."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable

from msdfix.ecosystems.node.config_paths import NPM_CONFIG_FILE_ENV, YARN_CONFIG_FILE_ENV
from msdfix.ecosystems.node.installs import GLOBAL_TOOLS, PROJECT_INSTALLS
from msdfix.ecosystems.node.yarn import (
    NODE_LINKER_SETTING,
    berry_global_cache_off,
    plug_n_play,
    yarn_berry,
    yarnrc_settings,
)
from msdfix.model.paths import within
from msdfix.model.users import is_root
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import (
    Analysis,
    Call,
    Plan,
    chunk,
    context_dir,
    copy_line,
    copy_paths_line,
    dedupe,
    keyword,
    whole_copy,
    workdir_line,
)
from msdfix.transforms.split_stages.node.app_files import (
    build_outputs,
    context_entries,
    served_dir,
    top,
)
from msdfix.transforms.split_stages.node.global_installs import is_global_install
from msdfix.transforms.split_stages.node.production_install import prod_command
from msdfix.transforms.split_stages.node.removals import deletes, removal_commands, verb
from msdfix.transforms.split_stages.runtime_image import platform_flag

DEPS, APP_FILES = "prod-deps", "app-files"


def modules_first(a: Analysis, plan: Plan, app: str, installs: list[Call]) -> None:
    """Copy the build's node_modules on its own, before the rest of the app (from an app-files
    stage without it), when the install runs after the sources are copied: the whole app in
    one COPY re-copied every dependency on each source edit (built for real: an npm
    workspace's warm rebuild went from 10 s to 15.5 s). Not after a manifests-only COPY, where
    the app-files stage costs more than it saves (a yarn workspace: 0.8 s -> 1.4 s whole,
    about 4 s with the stage). Only when the install surely creates node_modules (a COPY of a
    missing path fails)."""
    rel = context_dir(a, app, a.stage.instructions[-1]) if a.ctx.present else None
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    keys = ("dependencies", "optionalDependencies", "devDependencies", "workspaces")
    if (
        package is None
        or rel is None
        or not any(package.get(k) for k in keys)
        or {c.cwd for c in installs} != {app}
        or app not in plan.copies
        or not _same_user(a, installs[-1])
        or uses_plug_n_play(a, rel, package)
        or whole_copy(a, app, installs[0].ins) is None  # manifests first: node_modules stays
    ):
        return
    doc, nl = a.doc, a.doc.newline
    modules = resolve("node_modules", app)
    plan.stages.append(
        f"{keyword(doc, 'FROM')} {BUILD_ALIAS} {keyword(doc, 'AS')} {APP_FILES}{nl}"
        f"{keyword(doc, 'RUN')} rm -rf {shlex.quote(modules)}{nl}"
    )
    plan.copies = [modules, *dedupe(plan.copies)]
    plan.sources[app] = APP_FILES
    plan.stable.add(modules)
    plan.notes.append(f"{modules} is copied on its own, before the rest of {app}")


def without_modules(a: Analysis, plan: Plan, modules: str, above: list[str]) -> None:
    """Copy the directories that hold node_modules from an app-files stage without it: copied
    from the build, they brought node_modules a second time, in a layer every source edit
    rebuilds (built for real: warm rebuild 3.3 s -> 5.2 s)."""
    doc, nl = a.doc, a.doc.newline
    plan.stages.append(
        f"{keyword(doc, 'FROM')} {BUILD_ALIAS} {keyword(doc, 'AS')} {APP_FILES}{nl}"
        f"{keyword(doc, 'RUN')} rm -rf {shlex.quote(modules)}{nl}"
    )
    for path in above:
        plan.sources[path] = APP_FILES


def pnp_cache_outside(a: Analysis, rel: str | None) -> str | None:
    """Why the runtime may lack the packages of a yarn Plug'n'Play app: they load from yarn's
    cache at run time, which yarn 4 keeps in ``~/.yarn/berry/cache``, outside the copied app,
    unless ``.yarnrc.yml`` sets ``enableGlobalCache: false`` (built for real: "Required package
    missing from disk"). None without a readable context or Plug'n'Play."""
    if rel is None:
        return None
    package = frontend.package_json(a.ctx, rel)
    if package is None or not uses_plug_n_play(a, rel, package):
        return None
    rc = a.ctx.read_text(posixpath.join(rel, ".yarnrc.yml") if rel else ".yarnrc.yml")
    settings = yarnrc_settings(rc) or {}
    scope = a.model.fixed_scope(a.stage)
    env = {k: v for k, v in scope.items() if k == "YARN_ENABLE_GLOBAL_CACHE"}
    elsewhere = any(v in scope for v in ("YARN_CACHE_FOLDER", *YARN_CONFIG_FILE_ENV)) or any(
        _YARN_CACHE_SETTING.search(r.logical) for r in a.stage.of("run")
    )
    if berry_global_cache_off(rc or "", env) and "cacheFolder" not in settings and not elsewhere:
        return None
    return (
        "yarn Plug'n'Play loads packages from its cache at run time, which may be outside the "
        "copied app (yarn 4's ~/.yarn/berry/cache, a cacheFolder, YARN_CACHE_FOLDER or "
        "YARN_RC_FILENAME, or a RUN naming them) unless .yarnrc.yml sets enableGlobalCache: "
        "false"
    )


# A RUN naming yarn Berry's cache settings (``yarn config set cacheFolder``, a home
# .yarnrc.yml it writes) or its configuration file's name may move the cache out of the
# copied app: not known (built: ENV YARN_CACHE_FOLDER=/yc over enableGlobalCache: 0, and
# YARN_RC_FILENAME naming a file without it, left the runtime without the zips).
_YARN_CACHE_SETTING = re.compile(r"cache[-_]?folder|global[-_]?cache|rc[-_]?filename", re.I)


def uses_plug_n_play(a: Analysis, rel: str, package: dict[str, object]) -> bool:
    """Yarn Berry with the Plug'n'Play linker: it creates no node_modules. The stage's ARG
    and ENV ``YARN_NODE_LINKER`` override .yarnrc.yml; a RUN naming it or the setting
    (``yarn config set nodeLinker pnp``), not known."""
    rc = a.ctx.read_text(posixpath.join(rel, ".yarnrc.yml") if rel else ".yarnrc.yml")
    env = {k: v for k, v in a.model.fixed_scope(a.stage).items() if k == "YARN_NODE_LINKER"}
    if any(NODE_LINKER_SETTING.search(r.logical) for r in a.stage.of("run")):
        env["YARN_NODE_LINKER"] = None
    return yarn_berry(a.ctx, rel, package) and plug_n_play(rc, env)


def add_deps_stage(a: Analysis, plan: Plan, app: str, install: Call) -> None:
    """Add the prod-deps stage; the runtime takes its node_modules and the app without them."""
    doc, nl = a.doc, a.doc.newline
    rel = context_dir(a, app, a.stage.instructions[-1]) or ""
    inputs = _deps_inputs(a, app, rel, install)
    platform = platform_flag(a.stage.platform)
    flag = f"--platform={platform} " if platform else ""
    lines = [f"{keyword(doc, 'FROM')} {flag}{a.stage.image.raw} {keyword(doc, 'AS')} {DEPS}{nl}"]
    replayed = replayed_setup(a, install)
    assert not isinstance(replayed, str)  # deps_stage_blocker declined it
    lines += [chunk(a, ins) for ins in replayed]
    lines.append(workdir_line(doc, app) + nl)
    # The manifests come from the build stage (as the context gave them): BuildKit caches the
    # copy by content, so source edits keep this stage cached, and the install never runs
    # concurrently with the build's (package caches shared by cache mounts need not allow it).
    files = [p for p, is_dir in inputs if not is_dir]
    if files:
        lines.append(copy_paths_line(doc, BUILD_ALIAS, files, "./") + nl)
    for path, is_dir in inputs:
        if is_dir:
            dest = f"./{posixpath.basename(path)}"
            lines.append(copy_line(doc, BUILD_ALIAS, path, dest, None) + nl)
    lines.append(f"{keyword(doc, 'RUN')} {prod_command(a, install)}{nl}")
    plan.stages.append("".join(lines))
    modules = resolve("node_modules", app)
    outputs = build_outputs(a, app, rel)
    plan.copies = [p for p in plan.copies if p != app]
    plan.sources[modules] = DEPS
    served = served_dir(a, app, rel)
    if served is not None:
        entries = [resolve("package.json", app), resolve(served, app)]
        plan.notes.append(
            f"static site: only {served}, package.json and the production dependencies "
            "(the server) ship"
        )
    elif outputs is not None:
        entries = sorted({top(dest, app) for dest in context_entries(a, app)} | outputs)
        entries = [e for e in entries if e != modules]
    else:
        if not _same_user(a, install):
            plan.copies = dedupe([app, *plan.copies])
            plan.sources.pop(modules)
            plan.stages.pop()
            plan.notes.append(
                "dev dependencies kept (the build output is unknown and node_modules belongs "
                "to another user than the build's last USER)"
            )
            return
        plan.stages.append(
            f"{keyword(doc, 'FROM')} {BUILD_ALIAS} {keyword(doc, 'AS')} {APP_FILES}{nl}"
            f"{keyword(doc, 'RUN')} rm -rf {shlex.quote(modules)}{nl}"
        )
        entries = [app]
        plan.sources[app] = APP_FILES
    plan.copies = [modules, *dedupe([*entries, *plan.copies])]
    plan.stable.add(modules)
    plan.notes.append(
        f"production dependencies installed from the manifests in a {DEPS} stage "
        f"(`{prod_command(a, install)}`)"
    )


BUILD_ALIAS = "\x00build\x00"  # replaced by the build stage's alias when rendering


def _deps_inputs(a: Analysis, app: str, rel: str, install: Call) -> list[tuple[str, bool]]:
    """(image path, is a folder) of each manifest the deps stage copies from the build stage:
    package.json, and the lock and configuration files the build's install read."""
    inputs = []
    for name in PROJECT_INSTALLS[install.program].ecosystem.manifests:
        path = posixpath.join(rel, name.rstrip("/")) if rel else name.rstrip("/")
        if a.ctx.exists(path) or name.endswith("/") and a.ctx.holds(path):
            target = resolve(name.rstrip("/"), app)
            if name == "package.json" or _copied_before(a, target, install, name.endswith("/")):
                inputs.append((target, name.endswith("/")))
    return inputs


def deleted_input(a: Analysis, app: str, rel: str, install: Call) -> str | None:
    """A RUN after the install that deletes a manifest the deps stage would copy from the
    build stage (``rm -rf src *.json`` after the build): built for real, the deps stage's
    ``COPY --from=build /app/package-lock.json`` failed ("not found"). None: none."""
    inputs = [t for t, _ in _deps_inputs(a, app, rel, install)]
    later = [r for r in a.stage.of("run") if r.start > install.ins.start]
    for ins, program, _, paths, _ in removal_commands(a, later):
        for path in paths:
            gone = next((t for t in inputs if deletes(path, t)), None)
            if gone is not None:
                named = "" if gone == path else f" ({gone})"
                return (
                    f"RUN at line {ins.start_line} {verb(program)} {path}, which a deps "
                    f"stage would copy{named}"
                )
    return None


def _copied_before(a: Analysis, path: str, install: Call, folder: bool) -> bool:
    """A COPY before the install put a context file on (a folder: in) ``path``: a
    configuration file the full COPY brings only after it (``.npmrc`` with
    ``ignore-scripts=true``) was not read by the build's install, so the deps stage must not
    read it either. Lock files too: after ``COPY package.json ./`` the install resolved
    without one (yarn 1's ``--frozen-lockfile`` then writes none), and a lock that ``COPY .
    .`` brings later may be stale: the deps stage's frozen install failed on it ("Your
    lockfile needs to be updated") and npm's installed what it pins, not what the build got."""
    return any(
        copy.ins.start < install.ins.start and copy.lands(a.ctx, path)[1 if folder else 0]
        for copy in a.copies
    )


def replayed_setup(a: Analysis, install: Call) -> list[Instruction] | str:
    """What the deps stage replays from the build stage before its install: ARG, ENV and
    SHELL; RUNs that set up the package manager or only set its configuration (``npm config
    set legacy-peer-deps true`` writes the ~/.npmrc the install reads); and every RUN that
    comes before the stage's first COPY or ADD (it read nothing copied, so it replays as
    written: ~/.npmrc written by echo, git config), with the WORKDIRs before it. A reason
    (str) when a RUN after a COPY may change what the install reads and cannot be replayed."""
    out: list[Instruction] = []
    copied = other = False
    scope = a.scope(install.ins)
    files = {n.lower() for n in NPM_CONFIG_FILE_ENV + YARN_CONFIG_FILE_ENV}  # npm: any case
    config = next((v for v in scope if v.lower() in files), None)
    if config is not None:  # npm reads that file: the stage has only the manifests
        return f"{config} names a configuration file the install reads"
    for copy in a.copies:
        if copy.ins.start < install.ins.start and not within(copy.dest, install.cwd):
            return (  # COPY npmrc /root/.npmrc: configuration the stage would not have
                f"COPY at line {copy.ins.start_line} puts files outside {install.cwd} that the "
                "install may read"
            )
    for ins in a.stage.instructions:
        if ins.start >= install.ins.start:
            break
        copied = copied or ins.cmd in ("copy", "add")
        if ins.cmd in ("arg", "env", "shell") or _tool_setup(a, ins) or _sets_config(a, ins):
            out.append(ins)
        elif ins.cmd == "run" and not copied:
            out.append(ins)
            other = True
        elif ins.cmd == "run":
            return (
                f"RUN at line {ins.start_line} may change what the install reads, and comes "
                "after files are copied"
            )
        elif ins.cmd == "workdir" and not copied:
            out.append(ins)
    return out if other else [i for i in out if i.cmd != "workdir"]


def _only_calls(a: Analysis, ins: Instruction, what: Callable[[Call], bool]) -> bool:
    """A RUN whose every command is a build-tool call ``what`` accepts."""
    if ins.cmd != "run":
        return False
    calls = [c for c in a.calls if c.ins is ins]
    script = run_script(ins, a.doc.text)
    return (
        bool(calls)
        and script is not None
        and len(calls) == len(script.commands)
        and all(what(c) for c in calls)
    )


def _sets_config(a: Analysis, ins: Instruction) -> bool:
    """A RUN that only sets the package managers' configuration (``npm config set ...``,
    ``yarn config set ...``, ``npm set ...``)."""
    return _only_calls(
        a, ins, lambda c: c.program in ("npm", "yarn", "pnpm") and c.sub in ("config", "set")
    )


def _tool_setup(a: Analysis, ins: Instruction) -> bool:
    """A RUN that only installs the package manager itself (npm i -g pnpm, corepack enable)."""
    tools = GLOBAL_TOOLS | {"enable", "prepare"}
    return _only_calls(
        a,
        ins,
        lambda c: (
            is_global_install(c)
            and bool({x.rsplit("@", 1)[0] if x[1:].count("@") else x for x in c.args} & tools)
        ),
    )


def _same_user(a: Analysis, install: Call) -> bool:
    """The build stage ends as the user that installed node_modules (it can delete them)."""
    users = a.stage.of("user")
    before = [u.args.strip() for u in users if u.start < install.ins.start]
    installer = before[-1] if before else "root"
    last = users[-1].args.strip() if users else "root"
    return installer == last or is_root(installer) and is_root(last)
