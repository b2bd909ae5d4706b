"""Why a prod-deps stage would not reproduce the build's production node_modules (declines)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from msdfix.ecosystems.node.config_paths import (
    NPM_CONFIG_FILE_ENV,
    YARN_CONFIG_FILE_ENV,
    local_package_config,
    node_options_files,
    path_settings,
)
from msdfix.ecosystems.node.dependencies import (
    BUILTIN_MODULES,
    dependency_config,
    read_dependencies,
)
from msdfix.ecosystems.node.installs import PROJECT_INSTALLS, lock_problem
from msdfix.ecosystems.node.local_packages import locked_local
from msdfix.ecosystems.node.project_layout import project_cache
from msdfix.ecosystems.node.scripts import lifecycle_hooks
from msdfix.model.paths import within
from msdfix.model.users import is_root
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.shell.script import run_script
from msdfix.transforms.build_paths import resolve, written_words
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import Analysis, Call, context_dir, run_option
from msdfix.transforms.split_stages.node.app_files import served_dir
from msdfix.transforms.split_stages.node.app_imports import (
    GENERATES_INTO_MODULES,
    imported,
    package_name,
)
from msdfix.transforms.split_stages.node.deps_stage import (
    deleted_input,
    replayed_setup,
    uses_plug_n_play,
)
from msdfix.transforms.split_stages.node.global_installs import is_global_install
from msdfix.transforms.split_stages.node.production_install import legacy_peer_gap, npm_dev_back
from msdfix.transforms.split_stages.node.start_commands import (
    START_PROGRAMS,
    local_specifier,
    preloaded,
    runs_package,
    script_writes_modules,
)

# Packages a compiler's output requires although no source names them.
COMPILER_HELPERS = (
    "tslib", "@swc/helpers", "@babel/runtime", "@babel/runtime-corejs3", "core-js",
    "regenerator-runtime",
)  # fmt: skip


def _manifest_from_elsewhere(a: Analysis, app: str, rel: str, install: Call) -> str | None:
    """A manifest of the install (``.npmrc``, a lock file) that a COPY puts in the app from
    another context folder than package.json's (``COPY .npmrc apps/web/package.json ./``):
    what this module reads from ``rel`` is not what the install reads (None: none)."""
    names = PROJECT_INSTALLS[install.program].ecosystem.manifests
    for copy in a.copies:
        for source, dest in copy.context_files(a.ctx):
            for name in names:
                target = resolve(name.rstrip("/"), app)
                inside = dest == target or name.endswith("/") and within(dest, target)
                expected = posixpath.join(rel, name.rstrip("/")) if rel else name.rstrip("/")
                if inside and not within(posixpath.normpath(source), expected):
                    return (
                        f"{dest} comes from {source}, not from {rel or '.'} with package.json: "
                        "a deps stage would install without it"
                    )
    return None


def _tree_setting(a: Analysis, app: str, rel: str, install: Call) -> str | None:
    """A variable or option of the install naming a path of the app (a CA file, an offline
    mirror, or a download cache the context holds: ``YARN_CACHE_FOLDER=/app/ycache`` for
    ``yarn install --offline``): a deps stage has the manifests only."""
    held = project_cache(a.ctx, rel, install.program, install.args, app)
    zero_installs = posixpath.normpath(posixpath.join(rel, ".yarn/cache"))  # Berry's own rules
    if held is not None and held != zero_installs:  # .npmrc cache=/app/npm-cache, --cache x
        return f"the install's package cache {held} is in the app's files"
    scope = a.doc.model.stage_scope(a.stage, install.ins)
    for name, value, cache in path_settings(dict(scope), install.args):
        path = posixpath.normpath(posixpath.join(install.cwd, value))
        if "$" in value or value.startswith(("~", "http:", "https:")) or not within(path, app):
            continue
        held = posixpath.normpath(posixpath.join(rel, posixpath.relpath(path, app)))
        if not cache or a.ctx.holds(held) or a.ctx.exists(held):
            return f"{name}{value} names the app's files"
    return None


def deps_stage_blocker(a: Analysis, app: str, installs: list[Call]) -> str | None:
    """Why production dependencies cannot come from a deps stage (None: they can)."""
    if not a.ctx.present:
        return "no build context to read package.json"
    if {c.cwd for c in installs} != {app} or len({c.program for c in installs}) != 1:
        return "dependencies are installed in several directories or by several tools"
    install = installs[-1]
    if any(f.name == "mount" and "type=cache" not in (f.value or "") for f in install.ins.flags):
        return f"the install at line {install.ins.start_line} mounts files or secrets"
    other = run_option(install.ins)
    if other is not None:
        return (
            f"the install at line {install.ins.start_line} runs with {other}, which the deps "
            "stage's install would not have"
        )
    if any(not is_root(u.args.strip()) for u in a.stage.of("user") if u.start < install.ins.start):
        return "the dependencies are installed by a non-root user"
    setup = next((c for c in a.calls if c.ins is install.ins and is_global_install(c)), None)
    if setup is not None:  # npm i -g pnpm && pnpm install: the stage's RUN has only the install
        return (
            f"`{' '.join(setup.command.argv)}` sets up a tool in the install's RUN (line "
            f"{install.ins.start_line}), which a deps stage would not have"
        )
    replayed = replayed_setup(a, install)
    if isinstance(replayed, str):
        return replayed
    fixed = a.doc.model.fixed_scope(a.stage, install.ins)
    chosen = next(
        (v for v in ("NODE_OPTIONS", *NPM_CONFIG_FILE_ENV, *YARN_CONFIG_FILE_ENV) if v in fixed),
        None,
    )
    if chosen is not None and fixed[chosen] is None:  # ARG NODE_OPTIONS=--max-old-space-size=...
        return (
            f"{chosen} comes from a build argument, which may make the install load a file "
            "a deps stage lacks (--require ./tracing.js)"
        )
    loads = node_options_files(
        a.doc.model.stage_scope(a.stage, install.ins).get("NODE_OPTIONS") or ""
    )
    if loads:
        return f"NODE_OPTIONS makes the install load {loads[0]}, which a deps stage lacks"
    rel = context_dir(a, app, a.stage.instructions[-1])
    if rel is None:
        return f"{app} is not copied whole from one context directory"
    host = posixpath.join(rel, "node_modules") if rel else "node_modules"
    if a.ctx.exists(host):  # (a folder the context walk skips: exists, not holds)
        return (
            f"the build context holds {host}, which the COPY of {app} brings into the "
            "build's node_modules (a separate install would not have those files)"
        )
    package = frontend.package_json(a.ctx, rel)
    if package is None:
        return "package.json unreadable"
    elsewhere = _manifest_from_elsewhere(a, app, rel, install)
    if elsewhere:
        return elsewhere
    if package.get("workspaces"):
        return "package.json declares workspaces (their manifests are needed)"
    if not any(package.get(k) for k in ("dependencies", "optionalDependencies", "devDependencies")):
        return "package.json lists no dependencies (an install creates no node_modules to copy)"
    hooks = lifecycle_hooks(package, a.ctx, rel)
    if hooks:
        return f"the install runs {hooks[0]}, which may need the sources"
    blocker = lock_problem(
        install.program,
        lambda name: a.ctx.read_known(posixpath.join(rel, name)),
        lambda name: a.ctx.exists(posixpath.join(rel, name)),
        package,
    )
    if blocker:
        return blocker
    if uses_plug_n_play(a, rel, package):  # the environment's linker (.yarnrc.yml's: lock_problem)
        return (
            "yarn's linker is or may be Plug'n'Play by YARN_NODE_LINKER or a RUN naming it: "
            "a deps stage may make no node_modules to copy"
        )
    legacy = legacy_peer_gap(a, rel, install)
    if legacy:
        return legacy
    dev_back = npm_dev_back(a, install) if install.program == "npm" else None
    if dev_back:
        return dev_back
    local = local_specifier(a.ctx, rel, package)
    if local:
        return f"package.json names {local}, which the install reads from the sources"
    locked = locked_local(a.ctx, rel, PROJECT_INSTALLS[install.program].ecosystem)
    if locked:
        return f"{locked}, which the install reads from the sources"
    config = local_package_config(a.ctx, rel, app) or _tree_setting(a, app, rel, install)
    if config:
        return f"{config}, which the install reads from the sources"
    if a.packages:
        return (
            f"the build installs {' '.join(a.packages[:3])}, which a separate install of the "
            "production dependencies may need"
        )
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    generated = next((n for n in GENERATES_INTO_MODULES if n in deps), None)
    if generated:
        return f"{generated} generates code into node_modules, which a separate install lacks"
    deleted = deleted_input(a, app, rel, install)
    if deleted:
        return deleted
    found = read_dependencies(a.ctx, rel)
    manifests = PROJECT_INSTALLS[install.program].ecosystem.manifests
    read = dependency_config(a.ctx, rel, found, manifests)
    if read:
        return f"the install may read {read}, which a deps stage would not have"
    production = (found.hoisted if found and found.hoisted is not None else None) or set(
        package.get("dependencies") or {}
    )
    helper = next(
        (h for h in COMPILER_HELPERS if found and h in found.names and h not in production), None
    )
    if helper is not None:  # tsc importHelpers, SWC externalHelpers, babel transform-runtime
        return (
            f"the build's compiler may make the built code require {helper}, which only the "
            "dev dependencies install"
        )
    after = a.calls[a.calls.index(install) + 1 :] if install in a.calls else []
    for call in after:
        script = frontend.script_of([call.program, *call.args], package)
        if script and ("node_modules" in script or script_writes_modules(script, package)):
            return f"the script at line {call.ins.start_line} writes into node_modules"
    changed = _changes_modules(a, app, install)
    if changed:
        return changed
    changer = next((c for c in after if runs_package(c, package)), None)
    if changer is not None:
        return (
            f"RUN at line {changer.ins.start_line} runs `{changer.program} "
            f"{' '.join(changer.args[:2])}`, which may change node_modules"
        )
    dev = set(package.get("devDependencies") or {}) - set(package.get("dependencies") or {})
    production = set(package.get("dependencies") or {})
    starts = a.start  # _plan worked them out from this package.json (the same context_dir)
    for argv in starts:
        for word in argv:
            name = package_name(word)
            if word in dev or posixpath.basename(word) in dev or name in dev:
                return f"the start command uses dev dependency {name if name in dev else word}"
        program = posixpath.basename(argv[0]) if argv else ""
        linked = found.production_bins if found else frozenset()
        if dev and program and "/" not in argv[0] and program not in START_PROGRAMS | production:
            if program not in linked:  # a production package's program (sirv-cli's sirv)
                return f"the start command runs `{program}`, which may come from a dev dependency"
    absent = _absent_after_prune(a, rel, package)
    for name in (package_name(m) for argv in starts for m in preloaded(argv)):
        why = absent(name)  # node -r source-map-support/register: a dev tool's dependency
        if why is not None:
            return f"the start command preloads {name}, {why}"
    if served_dir(a, app, rel) is None:  # a served site's sources are bundled
        return imported(a, app, dev, absent, starts, package.get("main"))
    return None


def _changes_modules(a: Analysis, app: str, install: Call) -> str | None:
    """A command after the install that creates or changes a path inside node_modules
    (``mkdir -p node_modules/.cache && chmod 777 ...``, ``ln -s ../lib node_modules/lib``):
    a deps stage replays the install alone, so its node_modules would lack that change
    (built: the app's write into node_modules/.cache failed with ENOENT)."""
    modules = posixpath.join(app, "node_modules")
    for ins in a.stage.of("run"):
        if ins.start < install.ins.start:
            continue
        script = run_script(ins, a.doc.text)
        commands = script.commands if script else []
        if ins is install.ins:
            commands = commands[commands.index(install.command) + 1 :]
        for command in commands:
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            for path in _changed_paths(command, cwd):
                if within(path, modules):
                    return (
                        f"RUN at line {ins.start_line} changes {path}, which a separate "
                        "install of the dependencies would not have"
                    )
    return None


def _changed_paths(command: Command, cwd: str) -> list[str]:
    """Absolute paths a file command creates or changes: what it writes (``written_words``;
    a one-path ``ln`` makes its link in the working directory) and the paths chmod, chown
    and chgrp change."""
    program, args = program_args(command)
    paths = [x for x in args if not x.startswith("-")]
    words = written_words(command)
    if program == "ln" and len(paths) == 1:
        words = [w for w in words if w != paths[0]] + [posixpath.basename(paths[0])]
    elif program in ("chmod", "chown", "chgrp"):
        words += paths[1:]  # after the mode or owner
    return [resolve(w, cwd) for w in words if w and "$" not in w]


def _absent_after_prune(
    a: Analysis, rel: str, package: dict[str, Any]
) -> Callable[[str], str | None]:
    """For a package name the app imports: why a production-only install may not bring it
    (None: it does). A name package.json does not declare is there only when something
    brings it: the npm lock tells whether that is a production package or a dev one's."""
    name = package.get("name")  # a name that is not a string names nothing (`"name": []`)
    declared = ({name} if isinstance(name, str) else set()) | BUILTIN_MODULES
    for key in ("dependencies", "optionalDependencies", "peerDependencies"):
        table = package.get(key)
        declared |= set(table) if isinstance(table, dict) else set()
    deps = read_dependencies(a.ctx, rel)
    hoisted = deps.hoisted if deps is not None else None
    locked = deps.locked if deps is not None else frozenset()

    def absent(name: str) -> str | None:
        if name in declared or name.startswith(("#", "node:")):
            return None
        if hoisted is None:
            return "which package.json does not declare (a dev dependency may bring it)"
        if name in hoisted:
            return None
        if name not in locked:  # the original's import fails too, or is optional
            return "which neither package.json nor the lock names"
        return "which only a dev dependency brings"

    return absent
