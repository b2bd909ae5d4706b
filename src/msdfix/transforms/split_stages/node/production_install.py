"""Whether an install is production-only, its production command, and lock/config it leaves."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.node.installs import (
    DEV_FLAGS,
    PROD_FLAGS,
    PROJECT_INSTALLS,
    production_install,
)
from msdfix.ecosystems.node.npm_config import npm_installs_dev, npm_production_args, npmrc_settings
from msdfix.ecosystems.node.npm_lock import dev_flagged_peer
from msdfix.ecosystems.node.project_layout import LAYOUT_ENV, LAYOUT_FLAGS, modules_elsewhere
from msdfix.files import decimal
from msdfix.model.context import Unreadable
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import Analysis, Call, Decline


def writes_new_lock(a: Analysis, rel: str | None, installs: list[Call]) -> bool:
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


def modules_moved(a: Analysis, rel: str | None, installs: list[Call]) -> str | None:
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


def production_only(a: Analysis, call: Call) -> bool:
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


def config_left_behind(a: Analysis) -> str | None:
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


def legacy_peer_gap(a: Analysis, rel: str, install: Call) -> str | None:
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


def prod_command(a: Analysis, call: Call) -> str:
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


def npm_dev_back(a: Analysis, install: Call) -> str | None:
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
