"""Project installs: the lock a production install needs, its command, what it writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from msdfix.ecosystems.base import NEVER_WRITES, WRITES_IN_PLACE, Ecosystem
from msdfix.ecosystems.node.managers import BUN, NPM, NPM_CLEAN_INSTALL, NPM_INSTALL, PNPM, YARN
from msdfix.ecosystems.node.npm_config import NpmSettings, npm_production_args
from msdfix.ecosystems.node.pnpm_lock import pnpm_frozen, pnpm_lock_version
from msdfix.ecosystems.node.yarn import yarnrc_settings
from msdfix.files import decimal
from msdfix.model.context import Unreadable


@dataclass(frozen=True)
class ProjectInstall:
    """How one program installs a project's dependencies from its manifests."""

    subcommands: tuple[str, ...]  # install subcommands ("": the bare program)
    ecosystem: Ecosystem  # the manifests the install reads
    locks: tuple[str, ...]  # lock files, the usual one first
    production: str  # the flag that leaves the dev dependencies out


# Project installs by program (split-stages installs the production dependencies with them).
PROJECT_INSTALLS: dict[str, ProjectInstall] = {
    "npm": ProjectInstall(("ci", "install", "i"), NPM, ("package-lock.json",), "--omit=dev"),
    "yarn": ProjectInstall(("", "install"), YARN, ("yarn.lock",), "--production"),
    "pnpm": ProjectInstall(("install", "i"), PNPM, ("pnpm-lock.yaml",), "--prod"),
    "bun": ProjectInstall(("install", "i"), BUN, ("bun.lock", "bun.lockb"), "--production"),
}
# Flags that keep (DEV) or leave out (PROD) the dev dependencies, for any of the programs.
DEV_FLAGS = frozenset({"--include=dev", "--production=false", "--prod=false", "--dev", "-D"})
PROD_FLAGS = frozenset(
    {"--omit=dev", "--production", "--only=production", "--only=prod", "--prod", "-P"}
)


# Words of a global install that only sets up a package manager (npm i -g pnpm).
GLOBAL_TOOLS = frozenset({"npm", "yarn", "pnpm", "bun", "corepack"})


def lock_problem(
    program: str,
    read: Callable[[str], str | None],
    exists: Callable[[str], bool],
    package: dict[str, object],
) -> str | None:
    """Why the project's lock file cannot drive a production install (None: it can).

    ``read`` and ``exists`` look up files in the project directory; ``read`` may raise
    Unreadable for a file msdfix cannot read (a 1.1 MiB package-lock.json was called "no
    package-lock.json"), which is the problem then.
    """
    locks = PROJECT_INSTALLS[program].locks
    try:
        raw = read(locks[0])
    except Unreadable as exc:
        return str(exc)
    text = raw or ""
    if raw == "" and program in ("npm", "yarn"):
        return f"{locks[0]} is empty"
    if program == "npm":
        return None if text or exists("npm-shrinkwrap.json") else "no package-lock.json"
    if program == "yarn":
        return _yarn_lock_problem(text, read, package)
    if not text and not any(exists(lock) for lock in locks[1:]):
        return f"no {locks[0]}"
    if program == "pnpm" and pnpm_lock_version(text) is None:
        return "pnpm-lock.yaml unreadable"
    return None


def _yarn_lock_problem(
    text: str, read: Callable[[str], str | None], package: dict[str, object]
) -> str | None:
    if not text:
        return "no yarn.lock"
    if text.lstrip().startswith("# yarn lockfile v1") or "# yarn lockfile v1" in text[:300]:
        return None
    declared = str(package.get("packageManager") or "")
    major = re.match(r"yarn@(\d+)", declared)
    if "__metadata:" not in text or major is None or decimal(major.group(1)) < 4:
        return "yarn Berry without packageManager yarn@4+ (workspaces focus is a plugin before 4)"
    try:
        rc = read(".yarnrc.yml") or ""
    except Unreadable as exc:
        return f"{exc}, so yarn's linker is unknown"
    settings = yarnrc_settings(rc)
    if settings is None:
        return ".yarnrc.yml does not read as YAML, so yarn's linker is unknown"
    if settings.get("nodeLinker") != "node-modules":
        return "yarn Plug'n'Play (no node_modules to copy)"
    return None


def production_install(
    program: str,
    args: list[str],
    node_major: int | None,
    yarn_lock: str,
    env: Mapping[str, str] | None = None,
    files: Sequence[NpmSettings] = (),
) -> str:
    """The install command ``program args`` with the dev dependencies left out.

    ``node_major`` is the image's Node major (npm before 16 spells it ``--production``);
    ``yarn_lock`` the text of the context's yarn.lock (a Berry lock needs workspaces focus);
    ``env`` and ``files`` npm's variables and .npmrc settings (``npm_production_args``).
    """
    if program == "npm":  # every setting on dev dependencies out, then npm's own flag
        return " ".join([program, *npm_production_args(args, node_major, env or {}, files)])
    args = [x for x in args if x not in DEV_FLAGS and not x.startswith("--include=")]
    if args and set(args) & PROD_FLAGS:
        pass
    elif program == "yarn" and "__metadata:" in yarn_lock:
        return "yarn workspaces focus --all --production"
    elif program == "yarn":
        args = ["install", *args[1:]] if args and args[0] == "install" else ["install", *args]
        args.append("--production")
    else:
        args.append(PROJECT_INSTALLS[program].production)
    return " ".join([program, *args])


# (program, first word) of commands that install the project's packages into node_modules.
INSTALL_COMMANDS = frozenset(
    {
        ("yarn", ""), ("yarn", "install"), ("yarn", "add"),
        ("npm", "ci"), ("npm", "install"), ("npm", "i"), ("npm", "add"),
        ("pnpm", "install"), ("pnpm", "i"), ("pnpm", "add"), ("bun", "install"),
    }
)  # fmt: skip
# yarn 1's and pnpm's installs that never write the lock: yarn's --frozen-lockfile ("fail if
# an update is needed") and --pure-lockfile ("don't generate a lockfile"), pnpm's
# --frozen-lockfile ("fails if an update is needed").
_YARN_FROZEN = frozenset({"--frozen-lockfile", "--pure-lockfile"})


def manifest_writes(
    program: str, words: list[str], args: list[str], classic_yarn: bool
) -> str | None:
    """How a Node install writes the manifests it reads (``base.NEVER_WRITES`` or
    ``base.WRITES_IN_PLACE``); None when it may replace them by a rename, or is unknown.
    ``npm ci`` "will never write to package.json or any of the package-locks"; ``npm
    install`` rewrites package-lock.json in place (a real build passed with it on a read-write
    bind mount, and failed with EROFS on a read-only one); yarn 1 writes yarn.lock in place
    when it is stale (read-write mount: built, "Saved lockfile"); pnpm renames a temporary
    file over pnpm-lock.yaml (EBUSY on a mount), so only its frozen install may read it from
    one. bun's ``--frozen-lockfile`` ("Disallow changes to lockfile") built with bun.lockb on
    a read-only mount; its plain install renames a new lockfile over a stale one ("EBUSY:
    Failed to replace old lockfile with new lockfile on disk"). ``words``: the arguments that
    are no options or their values (``install``); ``classic_yarn``: the yarn that runs is
    surely yarn 1."""
    command = words[0] if words else ""
    if program == "npm" and command in NPM_CLEAN_INSTALL:
        return NEVER_WRITES
    if program == "npm" and command in NPM_INSTALL and len(words) == 1:
        return WRITES_IN_PLACE
    if program == "pnpm" and command in ("install", "i") and len(words) == 1:
        return NEVER_WRITES if pnpm_frozen(args) else None
    if program in ("yarn", "yarnpkg") and classic_yarn and words in ([], ["install"]):
        return NEVER_WRITES if _YARN_FROZEN & set(args) else WRITES_IN_PLACE
    if program == "bun" and command in ("install", "i") and len(words) == 1:
        return NEVER_WRITES if "--frozen-lockfile" in args else None
    return None


def berry_manifest_writes(words: list[str], args: list[str]) -> str | None:
    """How yarn 2+'s install writes the manifests it reads: ``--immutable`` ("abort with an
    error exit code if the lockfile was to be modified") leaves yarn.lock as it is, and yarn
    writes a manifest it normalises in place (a real build of yarn 4.5's ``install
    --immutable`` passed with package.json, yarn.lock, .yarnrc.yml and .yarn/releases on
    read-write bind mounts), so ``base.WRITES_IN_PLACE``; None for other commands."""
    return WRITES_IN_PLACE if words in ([], ["install"]) and "--immutable" in args else None
