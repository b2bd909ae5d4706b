"""split-stages for Node: the app on the slim image, production dependencies from a deps stage.

The deps/build/production pattern: a ``prod-deps`` stage on the build image installs the
production dependencies from the manifests alone (package.json, the lock file, .npmrc, ...), so
a source edit never re-runs it; the runtime copies its ``node_modules`` and the app's files from
the build stage, without the build's ``node_modules`` (which holds the dev dependencies). When
the build deletes ``node_modules`` itself, the runtime gets the app as the build left it, and
no dependencies come back. A static site served by a static file server (``serve``,
``http-server``, ``sirv``) ships the served directory, package.json and the production
dependencies (the server) only.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.images import NODE_NEEDS_FULL, no_slim_reason, slim_variant
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
from msdfix.ecosystems.node.installs import (
    DEV_FLAGS,
    GLOBAL_TOOLS,
    PROD_FLAGS,
    PROJECT_INSTALLS,
    lock_problem,
    production_install,
)
from msdfix.ecosystems.node.local_packages import (
    local_dependency,
    local_package_names,
    locked_local,
    patched_dependencies,
)
from msdfix.ecosystems.node.npm_config import npm_installs_dev, npm_production_args, npmrc_settings
from msdfix.ecosystems.node.npm_lock import dev_flagged_peer
from msdfix.ecosystems.node.project_layout import (
    LAYOUT_ENV,
    LAYOUT_FLAGS,
    modules_elsewhere,
    project_cache,
)
from msdfix.ecosystems.node.scripts import (
    lifecycle_hooks,
    other_package,
    runner_program,
    script_bodies,
    script_name,
)
from msdfix.ecosystems.node.yarn import (
    NODE_LINKER_SETTING,
    berry_global_cache_off,
    plug_n_play,
    yarn_berry,
    yarnrc_settings,
)
from msdfix.files import decimal
from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.image import respell
from msdfix.model.paths import within
from msdfix.model.program_calls import COMMON, called_tool, source_text
from msdfix.model.users import effective_user, is_root
from msdfix.shell.classify import program_args, start_install
from msdfix.shell.commands import Command, parse_commands
from msdfix.shell.entry import context_script, entry_command
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import resolve, written_words
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import (
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    chunk,
    context_dir,
    context_paths,
    copy_line,
    copy_paths_line,
    dedupe,
    keyword,
    move_to_runtime,
    trailing_copies,
    whole_copy,
    workdir_line,
)
from msdfix.transforms.split_stages.home_writes import home_writer
from msdfix.transforms.split_stages.runtime_image import platform_flag

DEPS, APP_FILES = "prod-deps", "app-files"
GLOBAL_DIRS = ["/usr/local/lib/node_modules", "/usr/local/bin"]  # npm install -g
# `yarn global add` as root: packages here, their programs linked from /usr/local/bin.
YARN_GLOBAL_DIR = "/usr/local/share/.config/yarn/global"


def _global(call: Call) -> bool:
    return (
        "-g" in call.args
        or "--global" in call.args
        or call.sub == "global"
        or call.program == "corepack"
    )


def _yarn_globals(a: Analysis) -> list[Call]:
    return [c for c in a.calls if c.program == "yarn" and c.sub == "global"]


def _global_dirs(a: Analysis) -> list[str]:
    """Where the build's global installs put packages and programs: npm's prefix, and yarn's
    global folder when ``yarn global add`` runs (its links in /usr/local/bin point there)."""
    return [*GLOBAL_DIRS, *([YARN_GLOBAL_DIR] if _yarn_globals(a) else [])]


def _yarn_global_elsewhere(a: Analysis) -> str | None:
    """Why a ``yarn global`` install may write outside the copied global dirs (None: it does
    not): a non-root user's folder is in its home, a flag or a variable moves it."""
    for call in _yarn_globals(a):
        user = effective_user(a.stage, call.ins)
        moved = any(w.startswith(("--prefix", "--global-folder")) for w in call.args)
        env = a.scope()
        if (
            (user is not None and not is_root(user))
            or moved
            or any(k in env for k in ("YARN_GLOBAL_FOLDER", "YARN_PREFIX", "PREFIX"))
        ):
            return (
                f"`yarn global` at line {call.ins.start_line} installs outside "
                f"{YARN_GLOBAL_DIR} (another user, --prefix or --global-folder)"
            )
    return None


def _npm_global_elsewhere(a: Analysis) -> str | None:
    """Why an ``npm install -g`` may install outside the node image's prefix /usr/local,
    which the runtime copies (None: it does not): ``--prefix``, or npm's prefix set by
    ``npm_config_prefix`` (any case) or ``PREFIX`` in its variables (built: with ``ENV
    NPM_CONFIG_PREFIX=/opt/npm-global`` pm2 went there, and the split's ``pm2-runtime``
    started node on a file of that name: "Cannot find module '/app/pm2-runtime'")."""
    for call in a.calls:
        if call.program != "npm" or not _global(call):
            continue
        env = a.build_env(call)
        names = env.partition("\n")[0].split()
        if (
            any(w.startswith("--prefix") for w in call.args)
            or re.search(r"(?i)\bnpm_config_prefix\b", env)
            or "PREFIX" in names
            or re.search(r"(?<![\w-])PREFIX=", env)
        ):
            return (
                f"`npm install -g` at line {call.ins.start_line} may install under another "
                "prefix (--prefix, npm_config_prefix or PREFIX), which the runtime does not "
                "copy: the programs it installs may be missing there"
            )
    return None


def _installs(a: Analysis) -> list[Call]:
    return [
        c
        for c in a.calls
        if c.program in PROJECT_INSTALLS
        and c.sub in PROJECT_INSTALLS[c.program].subcommands
        and not _global(c)
    ]


def plan_node(a: Analysis) -> Plan:
    plan = _plan(a)
    plan.unsafe = plan.unsafe or _entry_outside(a, plan)
    return plan


# node options whose value is the next word (not the script).
_NODE_VALUE_OPTIONS = frozenset(
    "-r --require --import --loader --experimental-loader --env-file --conditions -C "
    "--input-type --title".split()
)


def _node_script(args: list[str]) -> str | None:
    """The script file of node's arguments (the first word that is not an option)."""
    return next(iter(positionals(args, _NODE_VALUE_OPTIONS)), None)


def _entry_outside(a: Analysis, plan: Plan) -> str | None:
    """The script a ``node`` start command runs when the runtime does not copy it: a build
    step wrote it elsewhere (``pnpm deploy /prod/api``, ``esbuild --outfile=/srv/x.js``), or
    the build's output is not where msdfix looked (``"start": "node build/index.js"`` after
    ``tsc -b tsconfig.build.json``). A package.json script runs in the package's folder."""
    own = [list(argv) for argv in (a.entry.commands if a.entry else [])]
    scripts = _package_scripts(a, own)
    runs: list[tuple[list[str], str | None]] = [(argv, a.final_dir) for argv in own]
    runs += [(argv, folder) for argv, folder in scripts if (argv, folder) not in runs]
    listed = {tuple(argv) for argv, _ in runs}
    runs += [(w, None) for w in (a.start or []) if tuple(w) not in listed]
    for argv, folder in runs:
        if not argv or posixpath.basename(argv[0]) != "node" or {"-e", "--eval", "-p"} & set(argv):
            continue
        script = _node_script(argv[1:])
        if script is None or "$" in script or (folder is None and not script.startswith("/")):
            continue
        path = resolve(script, folder or a.final_dir)
        if path == resolve(".", folder or a.final_dir):
            continue  # node .: package.json's main, which msdfix does not follow
        copied = [*plan.copies, *plan.moves.values()]
        paths = [path] + [path + ext for ext in (".js", ".cjs", ".mjs", ".json")]  # node server
        if not any(within(p, c) for p in paths for c in copied) and not path.startswith("/usr/"):
            return f"the start command runs {path}, which the runtime would not have"
    return None


def _package_scripts(a: Analysis, own: list[list[str]]) -> list[tuple[list[str], str]]:
    """The commands of the package.json scripts the entry command runs (``npm start``, with
    their hooks and the scripts they run in turn), each with the app folder they run in;
    none from a script that changes folder (``cd``)."""
    installs = _installs(a)
    if not installs or not a.ctx.present:
        return []
    app = installs[0].cwd
    rel = _package_dir(a, app)
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if package is None:
        return []
    found: list[tuple[list[str], str]] = []
    todo = [argv for argv in own if argv and argv[0] in PROJECT_INSTALLS]
    seen = 0
    while todo and seen < 40:
        argv, seen = todo.pop(), seen + 1
        for body in script_bodies(argv, package):
            commands = [c.argv for c in parse_commands(body) if c.argv]
            if any(c[0] == "cd" for c in commands):
                continue
            for command in commands:
                if command[0] in PROJECT_INSTALLS:
                    todo.append(command)
                else:
                    found.append((command, app))
    return found


def _plan(a: Analysis) -> Plan:
    installs = _installs(a)
    if not installs:
        raise NotABuild
    tag = a.stage.image.tag
    runtime_tag = slim_variant("node", tag)
    if runtime_tag is None:
        raise Decline(no_slim_reason(a.stage.image.raw, tag))
    built = any(c.sub == "run" or c.program == "yarn" and c.sub == "build" for c in a.calls)
    if runtime_tag == tag and not built:
        raise NotABuild
    app = installs[0].cwd
    files = context_paths(a, None)
    may_run_globals = any(_global(c) and c.program != "corepack" for c in a.calls)
    globals_ = _global_dirs(a) if may_run_globals and _entry_may_run_globals(a) else []
    plan = Plan(
        respell(a.stage.image, a.stage.image.full_name, runtime_tag),
        dedupe([app, *files.paths, *globals_]),
        same_family=True,
    )
    rel = _package_dir(a, app) if a.ctx.present else None
    moved = _modules_moved(a, rel, installs)
    if moved is not None:
        raise Decline(
            f"{moved} puts the installed packages outside {app}/node_modules, which the "
            "runtime would copy"
        )
    a.start = _start_commands(
        a, (frontend.package_json(a.ctx, rel) if rel is not None else None) or {}
    )
    plan.local_bins = _local_bins(a, app, rel)
    plan.unsafe = (
        _needs_full_image(a, app, plan.runtime)
        or _home_writer(a, rel)
        or _writes_outside(a, app)
        or (_yarn_global_elsewhere(a) or _npm_global_elsewhere(a) if globals_ else None)
        or _corepack_tools(a)
        or _config_left_behind(a)
        or _pnp_cache_outside(a, rel)
    )
    deleted = _deletes_node_modules(a, app, installs)
    if deleted is not None:
        plan.notes.append(
            f"the build deletes {app}/node_modules"
            + (
                " and installs again in the same RUN: the runtime gets the ones it installs"
                if deleted
                else ": the runtime gets none (no dependencies come back)"
            )
        )
        return plan
    if all(_production_only(a, c) for c in installs):
        plan.notes.append("the build installs production dependencies only: the app is copied")
        rel = context_dir(a, app, a.stage.instructions[-1])
        outputs = _outputs(a, app, rel) if rel is not None and a.ctx.present else None
        tail = trailing_copies(a) if outputs is None else []
        if tail:  # the app directory whole, without the files copied after the install
            plan.copies = dedupe([app, *context_paths(a, None, tail).paths, *globals_])
            move_to_runtime(plan, tail)
        # node_modules first, so source edits keep it cached; only when the install surely
        # creates it: without production dependencies it may create none, and a COPY of a
        # missing path fails the build (the app directory is copied whole instead).
        deps = read_dependencies(a.ctx, rel) if outputs is not None and rel is not None else None
        package = frontend.package_json(a.ctx, rel) if rel is not None else None
        hooks = (
            lifecycle_hooks(package, a.ctx, rel)
            if package is not None and rel is not None
            else None
        )
        if (  # an install hook may write next to package.json (node-gyp's build/)
            outputs is not None
            and deps
            and deps.production
            and {c.cwd for c in installs} == {app}
            and package is not None
            and not hooks
            and not _writes_new_lock(a, rel, installs)
        ):
            modules = resolve("node_modules", app)
            entries = {_top(dest, app) for dest in _context_entries(a, app)} | outputs
            rest = [p for p in plan.copies if p != app]
            above = [p for p in rest if within(modules, p)]
            if above:  # COPY . . at /app, the app in /app/apps/api: /app holds node_modules
                _without_modules(a, plan, modules, above)
                entries = {e for e in entries if not any(within(e, p) for p in above)}
            plan.copies = [modules, *dedupe([*sorted(entries - {modules}), *rest])]
            plan.stable.add(modules)
        return plan
    reason = _deps_stage_blocker(a, app, installs)
    if reason is not None:
        plan.notes.append(f"dev dependencies kept ({reason})")
        _modules_first(a, plan, app, installs)
        return plan
    _deps_stage(a, plan, app, installs[-1])
    return plan


def _writes_new_lock(a: Analysis, rel: str | None, installs: list[Call]) -> bool:
    """Whether an install may write a lock file the context does not hold (npm install
    writes package-lock.json next to package.json, yarn yarn.lock, ...): the app's context
    entries would leave it out (built: npm 10's 509-byte package-lock.json was in the
    original's /usr/src/app and not in the runtime's), so the app directory is copied whole."""
    if rel is None:
        return True
    for call in installs:
        project = PROJECT_INSTALLS.get(call.program)
        locks = project.locks if project is not None else ()
        if call.program == "npm":  # npm-shrinkwrap.json takes the lock's place
            locks = (*locks, "npm-shrinkwrap.json")
        if not any(a.ctx.exists(posixpath.join(rel, name)) for name in locks):
            return True
    return False


def _modules_moved(a: Analysis, rel: str | None, installs: list[Call]) -> str | None:
    """A flag, variable or project setting that makes the install put packages outside
    ``node_modules`` (pnpm's ``virtual-store-dir``, yarn's ``--modules-folder``): built for
    real, the split's runtime got node_modules links into a virtual store it lacked
    (MODULE_NOT_FOUND). None: none."""
    for call in installs:
        flag = next((x for x in call.args if x.partition("=")[0] in LAYOUT_FLAGS), None)
        if flag is not None:
            return f"`{call.program} {flag}`"
        scope = a.model.stage_scope(a.stage, call.ins)
        names = (*scope, *call.command.assignments)
        env = next((k for k in names if k.lower() in LAYOUT_ENV), None)
        if env is not None:
            return f"${env}"
    try:
        return modules_elsewhere(a.ctx, rel) if rel is not None else None
    except Unreadable as exc:  # unread is not "sets none"
        raise Decline(f"{exc}, so where the install puts the packages is unknown") from None


def no_deleted_copies(a: Analysis, plan: Plan) -> None:
    """Decline when a RUN deletes a path the runtime copies by name from the build stage
    (``rm -rf src`` after the build; ``COPY requirements.txt /tmp/`` then ``rm -rf
    /tmp/*``): the build stage no longer holds it, so the COPY would fail. Every ecosystem."""
    named = [p for p in plan.copies if p not in plan.sources]
    for ins, program, _, paths, _ in _removals(a, a.stage.of("run")):
        for path in paths:
            gone = next((c for c in named if _deletes(path, c)), None)
            if gone is not None:
                raise Decline(
                    f"RUN at line {ins.start_line} {_verb(program)} {path}, which the runtime "
                    f"stage would copy ({gone})"
                )


def _verb(program: str) -> str:
    """What a removal does to the paths it names: ``mv`` moves them, rm deletes them."""
    return "moves" if program == "mv" else "deletes"


def _deletes(pattern: str, copied: str) -> bool:
    """True when removing ``pattern`` (a path, or a shell glob such as ``/tmp/*``) removes
    ``copied`` or a directory above it."""
    if not any(ch in pattern for ch in "*?["):
        return within(copied, pattern)
    parts, names = pattern.strip("/").split("/"), copied.strip("/").split("/")
    return len(names) >= len(parts) and all(
        fnmatchcase(n, p) for n, p in zip(names, parts, strict=False)
    )


def _removals(
    a: Analysis, runs: Iterable[Instruction]
) -> Iterator[tuple[Instruction, str, list[str], list[str], int]]:
    """(RUN, rm, rimraf or mv, its arguments, the absolute paths it takes away, where the
    command starts in the RUN's script) for every removal: mv takes its sources away (built:
    ``pip install --target /deps`` then ``mv /deps /app/deps``, the split's ``COPY --from=build
    /deps`` failed, "not found")."""
    for ins in runs:
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            if program not in ("rm", "rimraf", "mv"):
                continue
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            named = _mv_sources(args) if program == "mv" else [x for x in args if x[:1] != "-"]
            yield ins, program, args, [resolve(x.rstrip("/"), cwd) for x in named], command.start


def _mv_sources(args: list[str]) -> list[str]:
    """The operands ``mv`` moves: all of them with ``-t DIR`` (``--target-directory``), else
    all but the last (the destination)."""
    operands: list[str] = []
    target, skip, options = False, False, True
    for arg in args:
        if skip:
            skip = False
        elif options and arg == "--":
            options = False
        elif options and arg.startswith("-") and arg != "-":
            if arg.startswith(("-t", "--target-directory")):
                target = True
            skip = arg in ("-t", "--target-directory", "-S", "--suffix")
        else:
            operands.append(arg)
    return operands if target else operands[:-1]


WRITERS = frozenset({"cp", "mv", "mkdir", "rsync", "ln", "tee", "install"})


def _writes_outside(a: Analysis, app: str) -> str | None:
    """A package.json script the build runs that writes an absolute path outside the app."""
    rel = _package_dir(a, app) if a.ctx.present else None
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if package is None:
        return None
    for call in a.calls:
        named = script_name([call.program, *call.args])
        variable = next((w for w in call.args if "$" in w), None) if named else None
        if variable is not None:  # npm run ${BUILD_SCRIPT}, npm run build -- $FLAGS
            return (
                f"the script `{named}` at line {call.ins.start_line} runs with `{variable}`, "
                "which a build argument may set: what it writes, and where, is unknown"
            )
        script = frontend.script_of([call.program, *call.args], package)
        for command in parse_commands(script) if script else []:
            program, args = program_args(command)
            outside = [x for x in args if x.startswith("/") and not within(x, app)]
            if program in WRITERS and outside:
                return (
                    f"the {call.program} script at line {call.ins.start_line} writes {outside[-1]}"
                )
    return None


def _home_writer(a: Analysis, rel: str | None) -> str | None:
    """A production dependency whose install script may write outside node_modules."""
    deps = read_dependencies(a.ctx, rel) if rel is not None else None
    return home_writer(a.ctx, rel, deps) if deps is not None and rel is not None else None


def _needs_full_image(a: Analysis, app: str, runtime: str) -> str | None:
    """Why the app may need the build image's system libraries or programs (None: it does not)."""
    rel = _package_dir(a, app) if a.ctx.present else None
    deps = read_dependencies(a.ctx, rel) if rel is not None else None
    unknown = deps.unknown if deps is not None else _no_package(a, rel)
    if deps is None or unknown is not None:
        return (
            f"{unknown}: msdfix cannot rule out packages that need "
            f"libraries or programs {runtime} lacks"
        )
    local = local_package_names(a.ctx, rel) if rel is not None else set()
    if local is None:
        return (
            "more local packages (workspace members, path dependencies) than msdfix reads: "
            f"it cannot rule out packages that need libraries or programs {runtime} lacks"
        )
    needs = sorted((deps.names | local) & NODE_NEEDS_FULL)
    if needs:
        return f"{needs[0]} needs libraries or programs that {runtime} lacks"
    return None


def _no_package(a: Analysis, rel: str | None) -> str:
    """Why the project's package.json was not read: not in the context, or there and
    unreadable (nested too deep, too large, not JSON: it had read as not found)."""
    path = posixpath.join(rel, "package.json") if rel else "package.json"
    if rel is not None and a.ctx.exists(path):
        return "package.json could not be read"
    return "package.json not found in the build context"


def _local_bins(a: Analysis, app: str, rel: str | None) -> frozenset[str]:
    """The programs the npm lock of the app's package.json links into node_modules/.bin for
    production packages (kept by every runtime), where the start runs in the app's folder:
    npx runs such a local program without the package cache (built: ``npx semver`` and
    ``npx node-which``, whose package is which, answered offline on the split)."""
    if rel is None or a.final_dir != app:
        return frozenset()
    deps = read_dependencies(a.ctx, rel)
    return deps.production_bins if deps else frozenset()


def _package_dir(a: Analysis, app: str) -> str | None:
    """The context directory of the package.json the build copies into ``app``."""
    rel = context_dir(a, app, a.stage.instructions[-1])
    if rel is not None:
        return rel
    target = resolve("package.json", app)
    for copy in reversed(a.copies):
        for source, dest in copy.context_files(a.ctx):
            if dest == target:
                return posixpath.dirname(source)
    return None


def _production_only(a: Analysis, call: Call) -> bool:
    """The install leaves out dev dependencies (flag, or NODE_ENV=production without
    ``--include=dev``, npm's variables and .npmrc files read as npm reads them):
    node_modules is already what the runtime needs."""
    env = {**a.scope(call.ins), **call.command.assignments}
    if call.program == "npm":
        files = _npm_files(a, call)
        return not isinstance(files, str) and not npm_installs_dev(call.args, env, files)
    args = set(call.args)
    if args & DEV_FLAGS or any(x.startswith("--include=") for x in args):
        return False
    return bool(args & PROD_FLAGS) or env.get("NODE_ENV") == "production"


# npm's settings that decide the dev dependencies, as ``npm config set`` names them.
_NPM_DEV_KEYS = frozenset({"omit", "include", "only", "also", "production", "dev"})


def _npm_files(a: Analysis, call: Call) -> list[dict[str, list[str]]] | str:
    """The .npmrc settings an npm install reads below its command line and variables,
    highest first (npm 10's @npmcli/config): the project's ``.npmrc`` in its directory, the
    user's (``$HOME/.npmrc`` or NPM_CONFIG_USERCONFIG) and the global one
    (``/usr/local/etc/npmrc``, the node image's prefix, or NPM_CONFIG_GLOBALCONFIG), each
    where a COPY before the install put a context file. A reason (str) when one cannot be
    read, or a RUN before it sets a dev-deciding setting with ``npm config set``."""
    env = {k.lower(): v for k, v in {**a.scope(call.ins), **call.command.assignments}.items()}
    home = env.get("home", "/root")
    targets = [
        resolve(".npmrc", call.cwd),
        env.get("npm_config_userconfig", posixpath.join(home, ".npmrc")),
        env.get("npm_config_globalconfig", "/usr/local/etc/npmrc"),
    ]
    found: dict[str, str] = {}
    for copy in (c for c in a.copies if c.ins.start < call.ins.start):
        for source, dest in copy.context_files(a.ctx):
            if dest in targets:
                found[dest] = source  # a later COPY replaces the file
    files = []
    for target in (t for t in targets if t in found):
        try:
            files.append(npmrc_settings(a.ctx.read_known(found[target]) or ""))
        except Unreadable as exc:
            return f"{exc}, so which dependencies npm installs is unknown"
    for other in a.calls:
        keys = [x.split("=")[0] for x in other.args if x.split("=")[0] in _NPM_DEV_KEYS]
        if other.ins.start < call.ins.start and other.program == "npm" and keys:
            if other.sub in ("config", "set"):
                return (
                    f"RUN at line {other.ins.start_line} sets npm's {keys[0]}, so which "
                    "dependencies npm installs is unknown"
                )
    return files


def _corepack_tools(a: Analysis) -> str | None:
    """Why the runtime may lack the package manager the start command runs: ``corepack
    enable``/``prepare`` put its shims in the build image and downloaded the version
    package.json pins; the runtime has neither (None: no corepack, or the entry runs node)."""
    calls = [c for c in a.calls if c.program == "corepack"]
    if not calls or not _entry_may_run_globals(a):
        return None
    return (
        f"corepack at line {calls[0].ins.start_line} provides the package manager the start "
        "command may run; the runtime has neither its shims nor the version it downloaded"
    )


def _config_left_behind(a: Analysis) -> str | None:
    """Why the start command may read configuration the runtime lacks: ``npm config set``
    (``npm set``, ``yarn config set``, ``pnpm config set``) writes the user's file in HOME
    (``~/.npmrc``, ``~/.yarnrc``) or the global one, neither of which the runtime copies, and
    npm, npx, yarn and pnpm read it when the entry runs them (built: ``npm config set
    loglevel silent`` as root and as a useradd -m user, then ``CMD ["npm", "start"]``: the
    split printed npm's "> app@1.0.0 start" lines, the original did not; ``npm set
    progress=false`` and ``npm config set fund false``, install settings, still reach the
    scripts npm runs as npm_config_progress and npm_config_fund, which only the original's
    start script had). Not where the entry only runs node, nor ``--location=project``."""
    commands = [argv for argv in (a.entry.commands if a.entry else []) if argv]
    if commands and all(posixpath.basename(argv[0]) == "node" for argv in commands):
        return None
    for call in a.calls:
        words = positionals(call.args, frozenset())
        if call.program not in ("npm", "yarn", "pnpm") or call.sub not in ("config", "set"):
            continue
        if call.sub == "config" and words[1:2] != ["set"] or "--location=project" in call.args:
            continue
        return (
            f"RUN at line {call.ins.start_line} sets {call.program}'s configuration in a "
            "file of the user's home or the global folder, which the runtime does not copy "
            f"and the start command's {call.program} may read"
        )
    return None


def _entry_may_run_globals(a: Analysis) -> bool:
    """False when the entry command only runs node (the slim image has it) on no file of the
    global installs, NODE_PATH does not name the global folder and the app's sources run no
    globally installed program by name; npm, npx and yarn run package.json scripts, which may
    call a globally installed tool (pm2-runtime)."""
    commands = [argv for argv in (a.entry.commands if a.entry else []) if argv]
    if not commands or any(posixpath.basename(argv[0]) != "node" for argv in commands):
        return True
    return _entry_names_globals(a, commands) or _loads_globals(a) or _sources_run_globals(a)


def _entry_names_globals(a: Analysis, commands: list[list[str]]) -> bool:
    """A word of the node entry names a path in the global installs' folders (``node
    /usr/local/lib/node_modules/pm2/bin/pm2-runtime``, ``node -r /usr/local/lib/...``): node
    loads it from there."""
    folders = _global_dirs(a)
    words = [w for argv in commands for w in argv[1:]]
    return any(
        within(posixpath.normpath(w.split("=", 1)[-1]), f)
        for w in words
        if w.split("=", 1)[-1].startswith("/")
        for f in folders
    )


def _loads_globals(a: Analysis) -> bool:
    """NODE_PATH names npm's global folder: node resolves ``require('x')`` from the global
    installs too (a variable in it may name any folder)."""
    value = a.scope().get("NODE_PATH") or ""
    return "$" in value or any(
        within(posixpath.normpath(part), GLOBAL_DIRS[0]) for part in value.split(":") if part
    )


def _global_programs(a: Analysis) -> tuple[str, ...]:
    """The programs the build's global installs are named for (``npm install -g
    db-migrate@0.11`` -> db-migrate; a package's program usually takes its unscoped name)."""
    names: list[str] = []
    for call in a.calls:
        if _global(call) and call.program != "corepack":
            for word in positionals(call.args, frozenset())[1:]:  # after install/add
                name = word.rsplit("/", 1)[-1].split("@", 1)[0] if "/" in word else word
                names.append(name.split("@", 1)[0])
    return tuple(dict.fromkeys(n for n in names if n and n not in ("global", "add")))


def _sources_run_globals(a: Analysis) -> bool:
    """Whether the app's own sources may run a globally installed program by name
    (``execSync('db-migrate up')``): the runtime needs the global installs then. Without a
    build context (or a source msdfix cannot read) they may."""
    if not a.ctx.present:
        return True
    try:
        return called_tool(a.ctx, _global_programs(a)) is not None
    except Unreadable:
        return True


def _deletes_node_modules(a: Analysis, app: str, installs: list[Call]) -> bool | None:
    """Whether the RUN of the last install removes the app's node_modules, or a RUN after it
    does: None when none does, True when that RUN installs again after the removal
    (``rm -rf node_modules && npm ci --omit=dev``), False when none comes back. A moved
    node_modules (``mv``) is not read as deleted: it lives on elsewhere."""
    last = installs[-1].ins
    target = resolve("node_modules", app)
    runs = [i for i in a.stage.of("run") if i.start > last.start or i is last]
    for ins, program, args, paths, at in _removals(a, runs):
        if program == "mv" or (
            program == "rm" and not any(x.startswith("-") and "r" in x for x in args)
        ):
            continue
        if target in paths:
            if any(c.ins.start > ins.start for c in installs):
                return None
            return any(c.ins is ins and c.command.start > at for c in installs)
    return None


@dataclass
class _Install:
    manager: str
    rel: str  # the app directory in the build context
    inputs: list[str]  # manifest files and directories that exist there


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


def _deps_stage_blocker(a: Analysis, app: str, installs: list[Call]) -> str | None:
    """Why production dependencies cannot come from a deps stage (None: they can)."""
    if not a.ctx.present:
        return "no build context to read package.json"
    if {c.cwd for c in installs} != {app} or len({c.program for c in installs}) != 1:
        return "dependencies are installed in several directories or by several tools"
    install = installs[-1]
    if any(f.name == "mount" and "type=cache" not in (f.value or "") for f in install.ins.flags):
        return f"the install at line {install.ins.start_line} mounts files or secrets"
    if any(not is_root(u.args.strip()) for u in a.stage.of("user") if u.start < install.ins.start):
        return "the dependencies are installed by a non-root user"
    setup = next((c for c in a.calls if c.ins is install.ins and _global(c)), None)
    if setup is not None:  # npm i -g pnpm && pnpm install: the stage's RUN has only the install
        return (
            f"`{' '.join(setup.command.argv)}` sets up a tool in the install's RUN (line "
            f"{install.ins.start_line}), which a deps stage would not have"
        )
    replayed = _replayed(a, install)
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
    if _plug_n_play(a, rel, package):  # the environment's linker (.yarnrc.yml's: lock_problem)
        return (
            "yarn's linker is or may be Plug'n'Play by YARN_NODE_LINKER or a RUN naming it: "
            "a deps stage may make no node_modules to copy"
        )
    legacy = _legacy_peer_gap(a, rel, install)
    if legacy:
        return legacy
    dev_back = _npm_dev_back(a, install) if install.program == "npm" else None
    if dev_back:
        return dev_back
    local = _local_specifier(a.ctx, rel, package)
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
    deleted = _deleted_input(a, app, rel, install)
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
        if script and ("node_modules" in script or _script_writes_modules(script, package)):
            return f"the script at line {call.ins.start_line} writes into node_modules"
    changed = _changes_modules(a, app, install)
    if changed:
        return changed
    changer = next((c for c in after if _runs_package(c, package)), None)
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
            name = _package_name(word)
            if word in dev or posixpath.basename(word) in dev or name in dev:
                return f"the start command uses dev dependency {name if name in dev else word}"
        program = posixpath.basename(argv[0]) if argv else ""
        linked = found.production_bins if found else frozenset()
        if dev and program and "/" not in argv[0] and program not in START_PROGRAMS | production:
            if program not in linked:  # a production package's program (sirv-cli's sirv)
                return f"the start command runs `{program}`, which may come from a dev dependency"
    absent = _absent_after_prune(a, rel, package)
    for name in (_package_name(m) for argv in starts for m in preloaded(argv)):
        why = absent(name)  # node -r source-map-support/register: a dev tool's dependency
        if why is not None:
            return f"the start command preloads {name}, {why}"
    if _served(a, app, rel) is None:  # a served site's sources are bundled
        return _imported(a, app, dev, absent, starts, package.get("main"))
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


def _legacy_peer_gap(a: Analysis, rel: str, install: Call) -> str | None:
    """Why ``npm ci --omit=dev`` may drop a package the app loads when npm's legacy-peer-deps
    is on (the project's .npmrc, an npm_config_ variable, a flag or ``npm config set`` in a
    RUN): the lock then flags dev a peer that only a dev dependency satisfies."""
    if install.program != "npm":
        return None
    try:
        npmrc = a.ctx.read_known(posixpath.join(rel, ".npmrc") if rel else ".npmrc") or ""
    except Unreadable as exc:  # unread is not "legacy-peer-deps off"
        return f"{exc}, so whether it sets legacy-peer-deps is unknown"
    runs = (a.doc.text[i.start : i.end] for i in a.stage.instructions if i.cmd == "run")
    names = {k.lower() for k in a.model.stage_scope(a.stage, install.ins)}
    if not (
        # (``[^\S\n]``: ``^\s*`` ran over every blank line after each one, quadratic in them)
        re.search(r"(?m)^[^\S\n]*legacy-peer-deps\s*=\s*[\"']?true", npmrc)
        or "npm_config_legacy_peer_deps" in names
        or any("legacy-peer-deps" in text for text in runs)
    ):
        return None
    locks = [
        posixpath.join(rel, n) if rel else n for n in ("npm-shrinkwrap.json", "package-lock.json")
    ]
    lock = next((a.ctx.read_json(p) for p in locks if a.ctx.exists(p)), None)
    gap = dev_flagged_peer(lock)
    if gap is None:
        return None
    return f"with legacy-peer-deps the lock flags {gap}, dev: a production-only install drops it"


# node's options whose value is a module it loads before the program.
PRELOAD_FLAGS = ("-r", "--require", "--import", "--loader", "--experimental-loader")


def preloaded(argv: list[str]) -> list[str]:
    """The packages ``node`` loads by name before the program (``-r dotenv/config``,
    ``--import=tsx``); paths (``./tracing.js``) are sources, not packages."""
    if not argv or posixpath.basename(argv[0]) not in ("node", "nodejs"):
        return []
    found = []
    for i, word in enumerate(argv[1:], 1):
        flag, eq, value = word.partition("=")
        if flag not in PRELOAD_FLAGS:
            continue
        value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if value and not value.startswith((".", "/", "file:", "data:", "node:")):
            found.append(value)
    return found


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

    def absent(name: str) -> str | None:
        if name in declared or name.startswith(("#", "node:")):
            return None
        if hoisted is None:
            return "which package.json does not declare (a dev dependency may bring it)"
        return None if name in hoisted else "which only a dev dependency brings"

    return absent


# Packages whose client code is generated into node_modules by a build step (prisma generate).
GENERATES_INTO_MODULES = ("@prisma/client", "prisma", "@graphql-codegen/cli", "typechain")
SOURCE_FILE = re.compile(r"\.(?:[cm]?js|jsx|ts|tsx|mts|cts)$")
# Tests and type declarations: never loaded by the running app.
_TESTS = (
    r"(?:^|/)(?:tests?|__tests__|__mocks__|spec|e2e|cypress)/|\.(?:test|spec|stories|d)\."
    r"[cm]?[jt]sx?$"
)
TESTS = re.compile(_TESTS)
# Tests, tool configuration, build scripts: not loaded by the running app unless it says so.
NOT_RUNTIME = re.compile(
    _TESTS + r"|(?:^|/)scripts/|(?:^|/)[^/]*\.config\.[cm]?[jt]s$|(?:^|/)\.[^/]+$"
    r"|(?:^|/)(?:build|gulpfile|gruntfile|rollup|esbuild|webpack|babel|jest|karma)\b[^/]*$"
)
# require()/import() of a computed path: it may load any copied file.
COMPUTED_IMPORT = re.compile(r"\b(?:require|import)[ \t]*\([ \t]*(?:[^\s\"'`)]|`[^`\n]*\$\{)")
IMPORT = re.compile(
    # [ \t], not \s: from every line start \s* ran over all the blank lines below (quadratic)
    # require.resolve / import.meta.resolve find a package's files by name: they throw too
    r"""(?:\brequire(?:\.resolve)?[ \t]*\([ \t]*|\bimport(?:\.meta\.resolve)?[ \t]*\([ \t]*"""
    r"""|\bfrom[ \t]+|^[ \t]*import[ \t]+)["']([^"'./\n][^"'\n]*)["']""",
    re.MULTILINE,
)
# A path into node_modules loaded by path: code a build step generated there.
# A package's files named by path: ``'/node_modules/bootstrap/dist'``, ``'node_modules',
# 'htmx.org'`` (path.join's words).
MODULES_FILE = re.compile(r"""node_modules["'`]?(?:[ \t]*,[ \t]*["'`]|/)(@?[\w.-]+(?:/[\w.-]+)?)""")
MODULES_PATH = re.compile(r"""["'`]((?:\.{1,2}/)+node_modules/[^"'`\n]*)["'`]""")
MAX_IMPORT_SCAN = 2000


def _local_specifier(ctx: BuildContext, rel: str, package: dict[str, object]) -> str | None:
    """A dependency installed from the app's own files (a path, a tarball, ``file:``, a
    patch), or patched dependencies (pnpm, bun): the manifests alone do not install it."""
    patched = patched_dependencies(ctx, rel, package)
    if patched is not None:
        return f"patched dependencies ({patched}: patch files)"
    local = local_dependency(package)
    return f"{local[0]}@{local[1]}" if local else None


def _runs_package(call: Call, package: dict[str, object]) -> bool:
    """``npx X``, ``npm exec``, ``yarn dlx``, ``yarn X`` where no script is named X: a
    package's program, which may write node_modules; ``npm rebuild bcrypt`` builds one (after
    ``npm ci --ignore-scripts``)."""
    if call.program == "npx" or call.sub in ("exec", "x", "dlx", "rebuild", "rb"):
        return True
    return runner_program([call.program, *call.args], package) is not None


# Programs of a package.json script that write into node_modules (patch-package patches
# dependencies in place; node-gyp and npm rebuild build their addons).
MODULE_WRITERS = frozenset({"patch-package", "node-gyp", "node-pre-gyp", "prebuild-install"})


def _script_writes_modules(script: str, package: dict[str, object]) -> str | None:
    """The program of a package.json script that writes into node_modules, if any, also
    where a runner starts it (``npx patch-package``, ``yarn patch-package``)."""
    for command in parse_commands(script):
        program, args = _package_program(*program_args(command), package)
        if (
            program in MODULE_WRITERS
            or program in ("npm", "pnpm", "yarn")
            and args[:1]
            in (
                ["rebuild"],
                ["rb"],
            )
        ):
            return program
    return None


def _package_program(
    program: str, args: list[str], package: dict[str, object]
) -> tuple[str, list[str]]:
    """The dependency program a runner call starts (``npx X``, ``npm exec X``, ``yarn dlx X``,
    ``yarn X`` where no script is named X) with its arguments; else the call itself."""
    words = [program, *args]
    if program == "npx" or program in PROJECT_INSTALLS and args[:1] in (["exec"], ["x"], ["dlx"]):
        rest = args if program == "npx" else args[1:]
        words = [w for w in rest if not w.startswith("-")][:1] + rest[1:]
    else:
        words = runner_program(words, package) or words
    return (words[0], words[1:]) if words else (program, args)


# Programs a start command runs that no dev dependency provides.
START_PROGRAMS = frozenset(
    """node npm npx yarn pnpm corepack sh bash exec env cd echo printf set export true false test
    [ sleep cat mkdir rm cp mv ln touch chmod chown wait exit trap ulimit umask tini dumb-init
    su-exec gosu""".split()
)


def _start_commands(a: Analysis, package: dict[str, object]) -> list[list[str]]:
    """The entry command's commands (its scripts' too), package.json scripts it runs expanded
    with their pre/post hooks (nested ones too)."""
    words: list[list[str]] = []
    todo = [list(argv) for argv in (a.entry.commands if a.entry else [])]
    command = entry_command(a.stage)
    for script in command.scripts if command else []:  # ENTRYPOINT ["docker-entrypoint.sh"]
        text = context_script(a.ctx, script) or ""
        todo += [c.argv for c in parse_commands(text) if c.argv]
    options = a.scope().get("NODE_OPTIONS")  # preloads into every node process: -r dotenv/config
    if options:
        todo.append(["node", *options.split()])
    seen = 0
    while todo and seen < 40:
        argv, seen = todo.pop(), seen + 1
        if argv and argv[0] in PROJECT_INSTALLS and other_package(argv):
            words.append(argv)  # another package's script (--prefix, --filter): not read
            continue
        if argv and argv[0] in PROJECT_INSTALLS:
            for body in script_bodies(argv, package):  # npm runs prestart before start
                todo += [c.argv for c in parse_commands(body) if c.argv]
            program = runner_program(argv, package)  # yarn sequelize db:migrate
            if program:
                todo.append(program)
            if not start_install(argv):  # a script's `npm ci` installs at start: kept
                continue
        words.append(argv[1:] if argv and argv[0] == "npx" else argv)
    return [w for w in words if w]


def _package_name(word: str) -> str:
    """``dotenv/config`` -> ``dotenv``; ``@scope/pkg/sub`` -> ``@scope/pkg``."""
    parts = word.split("/")
    return "/".join(parts[:2]) if word.startswith("@") else parts[0]


def _imported(
    a: Analysis,
    app: str,
    dev: set[str],
    absent: Callable[[str], str | None],
    starts: list[list[str]],
    main: object,
) -> str | None:
    """Why a copied source the app may load needs what a separate production install lacks:
    it imports a dev dependency, or loads code a build step generated in node_modules.

    Tests, tool configuration and build scripts are skipped, unless the start command runs
    them (``node scripts/server.js``), the program it runs loads them (``next start`` loads
    ``next.config.js``), or a loaded file requires them by path (``./app.config``)."""
    files = {
        dest: rel
        for copy in a.copies
        for rel, dest in copy.context_files(a.ctx)
        if within(dest, app) and "node_modules/" not in rel
    }
    programs = {posixpath.basename(argv[0]) for argv in starts}
    named = [*(w for argv in starts for w in argv[1:]), *([main] if isinstance(main, str) else [])]
    todo = [
        dest
        for dest, rel in files.items()
        if SOURCE_FILE.search(rel) and (not NOT_RUNTIME.search(rel) or _loaded_by(rel, programs))
    ]
    todo += [d for d in (_module(resolve(w, a.final_dir), files) for w in named) if d]
    todo = list(dict.fromkeys(todo))
    linked = _linked_dev_dependency(a, files, dev)
    if linked:
        return linked
    seen = set(todo)
    computed = False  # a computed require() seen: every source was queued
    for dest in todo:  # grows while it runs: the files the scanned ones require
        if len(seen) > MAX_IMPORT_SCAN:
            return f"the app has over {MAX_IMPORT_SCAN} sources, too many to check for dev dependencies"
        rel = files[dest]
        try:
            text = source_text(a.ctx, rel)
        except Unreadable as exc:  # unread is not "imports none"
            return f"{exc}, so whether it imports a dev dependency is unknown"
        generated = MODULES_PATH.search(text)  # require('./node_modules/.generated')
        if generated:
            return f"{rel} loads {generated.group(1)}, which a separate install would not create"
        for match in IMPORT.finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            if text.startswith("import type", line_start):
                continue
            name = _package_name(match.group(1))
            if name in dev and not name.startswith("@types/"):
                return f"{rel} imports dev dependency {name}"
            why = absent(name) if name not in dev else None
            if why is not None:
                return f"{rel} imports {name}, {why}"
        for match in MODULES_FILE.finditer(text) if "node_modules" in text else ():
            if _package_name(match.group(1)) in dev:  # express.static('node_modules/bootstrap')
                return f"{rel} reads files of dev dependency {_package_name(match.group(1))}"
        for match in NAMED.finditer(text):  # pino({transport: {target: 'pino-pretty'}})
            if match.group(1) in dev and not match.group(1).startswith("@types/"):
                return f"{rel} names dev dependency {match.group(1)}, which a library may load"
        found_files = [
            _module(resolve(m.group(1), posixpath.dirname(dest)), files)
            for m in RELATIVE_IMPORT.finditer(text)
        ]
        if not computed and COMPUTED_IMPORT.search(text):  # require(path.join(cwd, 'x.js'))
            computed = True  # may load any file: all of them, once
            found_files += [
                d for d, r in files.items() if SOURCE_FILE.search(r) and not TESTS.search(r)
            ]
        for found in found_files:
            if found and found not in seen:
                seen.add(found)
                todo.append(found)
    return None


def _linked_dev_dependency(a: Analysis, files: dict[str, str], dev: set[str]) -> str | None:
    """A copied symlink into a dev dependency's files (``public/vendor/bootstrap ->
    ../../node_modules/bootstrap/dist``): COPY keeps the link, and a production install
    leaves it pointing nowhere (the page's CSS answered 404)."""
    for dest, rel in files.items():
        target = a.ctx.link_target(rel)
        if target is None:
            continue
        path = posixpath.normpath(posixpath.join(posixpath.dirname(dest), target))
        if "node_modules/" in path + "/":
            name = _package_name(path.split("node_modules/", 1)[1])
            if name in dev:
                return f"{rel} links to {target}, files of dev dependency {name}"
    return None


def _loaded_by(rel: str, programs: set[str]) -> bool:
    """True for ``X.config.js`` when the start command runs X (next, nuxt, vite, astro)."""
    name = posixpath.basename(rel)
    return name.split(".config.")[0] in programs if ".config." in name else False


def _module(path: str, files: dict[str, str]) -> str | None:
    """The copied source file a ``require(path)`` loads: the path itself, with an extension,
    or its folder's index file (Node's resolution)."""
    for candidate in (path, *(path + ext for ext in MODULE_SUFFIXES)):
        if candidate in files and SOURCE_FILE.search(candidate):
            return candidate
    return None


MODULE_SUFFIXES = tuple(
    f"{stem}.{ext}" for stem in ("", "/index") for ext in "js cjs mjs ts tsx jsx mts cts".split()
)
# A string that is exactly a package name: libraries load plugins and transports by name.
NAMED = re.compile(r"""["'`](@?[\w.-]+(?:/[\w.-]+)?)["'`]""")
RELATIVE_IMPORT = re.compile(
    r"""(?:\brequire[ \t]*\([ \t]*|\bimport[ \t]*\([ \t]*|\bfrom[ \t]+|^[ \t]*import[ \t]+)"""
    r"""["'](\.{1,2}/[^"'\n]*)["']""",
    re.MULTILINE,
)


def _prod_command(a: Analysis, call: Call) -> str:
    """The original install command with production-only flags."""
    major = re.match(r"\d+", a.stage.image.tag or "")
    files = _npm_files(a, call) if call.program == "npm" else []
    return production_install(
        call.program,
        call.args,
        decimal(major.group(0)) if major else None,
        a.ctx.read_text("yarn.lock") or "",
        a.scope(call.ins),  # what the deps stage replays (not the command's assignments)
        [] if isinstance(files, str) else files,
    )


def _npm_dev_back(a: Analysis, install: Call) -> str | None:
    """Why the deps stage's ``npm ci --omit=dev`` may still install the dev dependencies:
    a configuration msdfix cannot read, or one the command line cannot override (a
    deprecated ``also=dev``/``dev=true`` in an .npmrc)."""
    files = _npm_files(a, install)
    if isinstance(files, str):
        return files
    env = a.scope(install.ins)  # the deps stage's install runs without the assignments
    major = re.match(r"\d+", a.stage.image.tag or "")
    args = npm_production_args(install.args, decimal(major.group(0)) if major else None, env, files)
    if npm_installs_dev(args, env, files):
        return "npm's configuration brings the dev dependencies back whatever the command says"
    return None


def _modules_first(a: Analysis, plan: Plan, app: str, installs: list[Call]) -> None:
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
        or _plug_n_play(a, rel, package)
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


def _without_modules(a: Analysis, plan: Plan, modules: str, above: list[str]) -> None:
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


def _pnp_cache_outside(a: Analysis, rel: str | None) -> str | None:
    """Why the runtime may lack the packages of a yarn Plug'n'Play app: they load from yarn's
    cache at run time, which yarn 4 keeps in ``~/.yarn/berry/cache``, outside the copied app,
    unless ``.yarnrc.yml`` sets ``enableGlobalCache: false`` (built for real: "Required package
    missing from disk"). None without a readable context or Plug'n'Play."""
    if rel is None:
        return None
    package = frontend.package_json(a.ctx, rel)
    if package is None or not _plug_n_play(a, rel, package):
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


def _plug_n_play(a: Analysis, rel: str, package: dict[str, object]) -> bool:
    """Yarn Berry with the Plug'n'Play linker: it creates no node_modules. The stage's ARG
    and ENV ``YARN_NODE_LINKER`` override .yarnrc.yml; a RUN naming it or the setting
    (``yarn config set nodeLinker pnp``), not known."""
    rc = a.ctx.read_text(posixpath.join(rel, ".yarnrc.yml") if rel else ".yarnrc.yml")
    env = {k: v for k, v in a.model.fixed_scope(a.stage).items() if k == "YARN_NODE_LINKER"}
    if any(NODE_LINKER_SETTING.search(r.logical) for r in a.stage.of("run")):
        env["YARN_NODE_LINKER"] = None
    return yarn_berry(a.ctx, rel, package) and plug_n_play(rc, env)


def _deps_stage(a: Analysis, plan: Plan, app: str, install: Call) -> None:
    """Add the prod-deps stage; the runtime takes its node_modules and the app without them."""
    doc, nl = a.doc, a.doc.newline
    rel = context_dir(a, app, a.stage.instructions[-1]) or ""
    inputs = _deps_inputs(a, app, rel, install)
    platform = platform_flag(a.stage.platform)
    flag = f"--platform={platform} " if platform else ""
    lines = [f"{keyword(doc, 'FROM')} {flag}{a.stage.image.raw} {keyword(doc, 'AS')} {DEPS}{nl}"]
    replayed = _replayed(a, install)
    assert not isinstance(replayed, str)  # _deps_stage_blocker declined it
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
    lines.append(f"{keyword(doc, 'RUN')} {_prod_command(a, install)}{nl}")
    plan.stages.append("".join(lines))
    modules = resolve("node_modules", app)
    outputs = _outputs(a, app, rel)
    plan.copies = [p for p in plan.copies if p != app]
    plan.sources[modules] = DEPS
    served = _served(a, app, rel)
    if served is not None:
        entries = [resolve("package.json", app), resolve(served, app)]
        plan.notes.append(
            f"static site: only {served}, package.json and the production dependencies "
            "(the server) ship"
        )
    elif outputs is not None:
        entries = sorted({_top(dest, app) for dest in _context_entries(a, app)} | outputs)
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
        f"(`{_prod_command(a, install)}`)"
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


def _deleted_input(a: Analysis, app: str, rel: str, install: Call) -> str | None:
    """A RUN after the install that deletes a manifest the deps stage would copy from the
    build stage (``rm -rf src *.json`` after the build): built for real, the deps stage's
    ``COPY --from=build /app/package-lock.json`` failed ("not found"). None: none."""
    inputs = [t for t, _ in _deps_inputs(a, app, rel, install)]
    later = [r for r in a.stage.of("run") if r.start > install.ins.start]
    for ins, program, _, paths, _ in _removals(a, later):
        for path in paths:
            gone = next((t for t in inputs if _deletes(path, t)), None)
            if gone is not None:
                named = "" if gone == path else f" ({gone})"
                return (
                    f"RUN at line {ins.start_line} {_verb(program)} {path}, which a deps "
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


def _replayed(a: Analysis, install: Call) -> list[Instruction] | str:
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
            _global(c)
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


def _context_entries(a: Analysis, app: str) -> list[str]:
    """Image paths of the context files copied into the app, without Dockerfiles, docs, VCS."""
    return [  # a folder's .gitkeep or README keeps the folder (the app may write into it)
        dest
        for copy in a.copies
        for rel, dest in [
            *copy.context_files(a.ctx),
            *((d, d) for d in copy.bare_dirs(a.ctx)),
            *copy.repositories(a.ctx),
        ]
        if within(dest, app)
        and not (
            _top(dest, app) == dest
            and any(p.fullmatch(posixpath.basename(rel)) for p in COMMON)
            and not a.reads_doc(posixpath.basename(rel))
        )
    ]


def _top(path: str, base: str) -> str:
    rest = posixpath.relpath(path, base)
    return resolve(rest.split("/")[0], base)


def _outputs(a: Analysis, app: str, rel: str) -> set[str] | None:
    """Top-level paths in ``app`` the build scripts write (None: cannot tell)."""
    package = frontend.package_json(a.ctx, rel)
    found: set[str] = set()
    for call in a.calls:
        if call in _installs(a) or _global(call) or call.cwd != app:
            continue
        argv = [call.program, *call.args]
        script = frontend.build_script(argv, package) if package else None
        env = a.build_env(call)
        written = (
            frontend.output_paths(a.ctx, rel, script, package, env=env)
            if script and package
            else None
        )
        if written is None:
            return None
        paths, gone = written
        entries = {_top(dest, app) for dest in _context_entries(a, app)}
        if any(within(entry, resolve(g, app)) for g in gone for entry in entries):
            return None  # "build": "tsc && rm -rf src": a COPY of /app/src would fail
        found |= {resolve(path.split("/")[0], app) for path in paths}
    return found


def _served(a: Analysis, app: str, rel: str) -> str | None:
    """The directory the entry command serves with a static file server, or None."""
    if a.entry is None or len(a.entry.commands) != 1 or a.final_dir != app:
        return None
    package = frontend.package_json(a.ctx, rel)
    served = frontend.static_server(a.entry.commands[0], a.ctx, rel, package)
    return served[0] if served else None
