"""Where npm and yarn global installs land and whether the runtime runs their programs."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.node.installs import PROJECT_INSTALLS
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.model.program_calls import called_tool
from msdfix.model.users import effective_user, is_root
from msdfix.transforms.split_stages.build_stage import Analysis, Call

GLOBAL_DIRS = ["/usr/local/lib/node_modules", "/usr/local/bin"]  # npm install -g
# `yarn global add` as root: packages here, their programs linked from /usr/local/bin.
YARN_GLOBAL_DIR = "/usr/local/share/.config/yarn/global"


def is_global_install(call: Call) -> bool:
    return (
        "-g" in call.args
        or "--global" in call.args
        or call.sub == "global"
        or call.program == "corepack"
    )


def _yarn_globals(a: Analysis) -> list[Call]:
    return [c for c in a.calls if c.program == "yarn" and c.sub == "global"]


def global_dirs(a: Analysis) -> list[str]:
    """Where the build's global installs put packages and programs: npm's prefix, and yarn's
    global folder when ``yarn global add`` runs (its links in /usr/local/bin point there)."""
    return [*GLOBAL_DIRS, *([YARN_GLOBAL_DIR] if _yarn_globals(a) else [])]


def yarn_global_elsewhere(a: Analysis) -> str | None:
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


def npm_global_elsewhere(a: Analysis) -> str | None:
    """Why an ``npm install -g`` may install outside the node image's prefix /usr/local,
    which the runtime copies (None: it does not): ``--prefix``, or npm's prefix set by
    ``npm_config_prefix`` (any case) or ``PREFIX`` in its variables (built: with ``ENV
    NPM_CONFIG_PREFIX=/opt/npm-global`` pm2 went there, and the split's ``pm2-runtime``
    started node on a file of that name: "Cannot find module '/app/pm2-runtime'")."""
    for call in a.calls:
        if call.program != "npm" or not is_global_install(call):
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


def project_installs(a: Analysis) -> list[Call]:
    return [
        c
        for c in a.calls
        if c.program in PROJECT_INSTALLS
        and c.sub in PROJECT_INSTALLS[c.program].subcommands
        and not is_global_install(c)
    ]


def corepack_tools(a: Analysis) -> str | None:
    """Why the runtime may lack the package manager the start command runs: ``corepack
    enable``/``prepare`` put its shims in the build image and downloaded the version
    package.json pins; the runtime has neither (None: no corepack, or the entry runs node)."""
    calls = [c for c in a.calls if c.program == "corepack"]
    if not calls or not entry_may_run_globals(a):
        return None
    return (
        f"corepack at line {calls[0].ins.start_line} provides the package manager the start "
        "command may run; the runtime has neither its shims nor the version it downloaded"
    )


def entry_may_run_globals(a: Analysis) -> bool:
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
    folders = global_dirs(a)
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
        if is_global_install(call) and call.program != "corepack":
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
