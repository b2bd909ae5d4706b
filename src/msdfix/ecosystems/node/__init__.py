"""Node.js: npm, yarn (v1 and berry), pnpm and bun, their caches and manifests, the Node major a
frontend stage needs, and what a project's package.json and lock files say.

Caches: npm (``~/.npm``, ``npm_config_cache``), yarn v1 (``/usr/local/share/.cache/yarn`` for
root, ``YARN_CACHE_FOLDER``), yarn berry (``~/.yarn/berry/cache``), pnpm
(``~/.local/share/pnpm/store``, or ``$PNPM_HOME/store``), bun (``~/.bun/install/cache``,
``BUN_INSTALL_CACHE_DIR``; on Linux bun hard-links packages from it into node_modules and
copies them when the cache is on another file system, as a cache mount is).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from msdfix.ecosystems.base import (
    NEVER_WRITES,
    WRITES_IN_PLACE,
    CacheDir,
    Ecosystem,
    PackageManager,
    positionals,
)
from msdfix.ecosystems.go import golang_release
from msdfix.ecosystems.os import alpine_version, debian_codename
from msdfix.files import YamlError, decimal, load_yaml
from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.paths import within

# npm's spellings of ``npm install`` (its command aliases) and of ``npm ci``.
NPM_INSTALL = frozenset("install i in ins inst insta instal isnt isnta isntal isntall add".split())
NPM_CLEAN_INSTALL = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean"})

# npm's string-typed settings take the next word as their value (``npm --loglevel warn
# start`` runs start): those used before a command, from npm's config docs.
NPM_VALUE_OPTIONS = (
    "--prefix", "-C", "--workspace", "-w", "--loglevel", "--userconfig", "--globalconfig",
    "--cache", "--registry", "--scope", "--tag", "--include", "--omit", "--script-shell",
    "--node-options",
)  # fmt: skip

# the .npmrc line that makes npm and pnpm read only their cache (``offline`` alone is true)
NPMRC_OFFLINE = r"(?m)^[^\S\n]*offline[^\S\n]*(?:=|$)"

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "npm",
        ("npm",),
        (*sorted(NPM_INSTALL | NPM_CLEAN_INSTALL), "update"),
        (
            CacheDir(
                "~/.npm",
                (
                    ("npm_config_cache", ""),
                    ("NPM_CONFIG_CACHE", ""),
                ),
            ),
        ),
        clean_commands=(("npm", "cache", "clean"),),
        # an install (or npx) at container start reads the cache the image carries
        runtime_users=(
            ("npm", "install"),
            ("npm", "i"),
            ("npm", "ci"),
            ("npm", "exec"),
            ("npx",),
        ),  # fmt: skip
        offline_flags=("--offline",),
        # npm reads every setting from npm_config_<name>, in either case
        offline_env=(("npm_config_offline", "true"), ("NPM_CONFIG_OFFLINE", "true")),
        prefer_cache_flags=("--prefer-offline",),
        prefer_cache_env=(
            ("npm_config_prefer_offline", "true"),
            ("NPM_CONFIG_PREFER_OFFLINE", "true"),
        ),
        # @npmcli/config: "--cache-min=9999 (or bigger) is an alias for --prefer-offline"
        prefer_cache_min=("--cache-min",),
        prefer_cache_min_env=("npm_config_cache_min", "NPM_CONFIG_CACHE_MIN"),
        locked_subcommands=tuple(sorted(NPM_CLEAN_INSTALL)),
        value_options=NPM_VALUE_OPTIONS,
        cache_options=("--cache",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        tidy_subcommands=("prune",),
        config_files=(".npmrc", "npmrc"),
        # npm's ini reads a line at a time, and a key without "=" is true (`offline` alone);
        # within one line, so blank lines cost linear time (`^\s*` took hours on 500,000)
        # (``prefer-offline`` resolves versions from the cache: see ``prefer_cache_flags``)
        config_keys=r"(?m)^[^\S\n]*(?:cache(?:[-_]min)?|(?:prefer[-_])?offline)[^\S\n]*(?:=|$)",
        config_env=("NPM_CONFIG_USERCONFIG", "NPM_CONFIG_GLOBALCONFIG", "npm_config_userconfig"),
        offline_config_keys=NPMRC_OFFLINE,
    ),
    PackageManager(
        "yarn",
        ("yarn",),
        ("", "install", "add", "upgrade", "global"),
        (  # yarn 1 caches in $XDG_CACHE_HOME/yarn when it is set (yarn cache dir)
            CacheDir(
                "/usr/local/share/.cache/yarn",
                (("YARN_CACHE_FOLDER", ""), ("XDG_CACHE_HOME", "/yarn")),
                locked=True,
            ),
        ),
        clean_commands=(("yarn", "cache", "clean"),),
        runtime_users=(("yarn", "install"), ("yarn", "add")),
        offline_flags=("--offline",),
        # yarn 1 resolves a range to the newest version in its cache; --frozen-lockfile pins
        # nothing where there is no yarn.lock (yarn exits 0 without one)
        prefer_cache_flags=("--prefer-offline",),
        value_options=("--cwd",),
        cache_options=("--cache-folder",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".yarnrc",),
        config_keys=r"cache-folder|prefer-offline",
    ),
    PackageManager(
        "yarn-berry",
        ("yarn",),
        ("", "install", "add", "up", "dlx"),
        (  # the global folder is $XDG_DATA_HOME/yarn/berry when that is set
            CacheDir(
                "~/.yarn/berry/cache",
                (("YARN_GLOBAL_FOLDER", "/cache"), ("XDG_DATA_HOME", "/yarn/berry/cache")),
            ),
        ),
        clean_commands=(("yarn", "cache", "clean"),),
        # enableNetwork false makes yarn fetch from its cache alone (built, yarn 4.5.0: with
        # the first install's cache on an emptied mount, a later install under
        # YARN_ENABLE_NETWORK=0 failed, the original installed is-number 7.0.0);
        # enableOfflineMode only prefers the cache (built the same: it fetched what was missing)
        offline_env=(("YARN_ENABLE_NETWORK", "0"), ("YARN_ENABLE_NETWORK", "false")),
        offline_config_keys=r"enableNetwork[\s\"':]+(?:false|0)\b",
        value_options=("--cwd",),
        inert_subcommands=("config", "cache", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".yarnrc.yml",),
        config_keys=r"cacheFolder|globalFolder|enableGlobalCache|enableNetwork",
        config_env=("YARN_RC_FILENAME",),
    ),
    PackageManager(
        "pnpm",
        ("pnpm",),
        ("install", "i", "add", "fetch", "update", "up"),
        (  # the store keeps what install scripts build (side-effects-cache, on by default)
            CacheDir(
                "~/.local/share/pnpm/store",
                (  # store-dir, else <pnpm home>/store: $PNPM_HOME, $XDG_DATA_HOME/pnpm, ~/...
                    ("npm_config_store_dir", ""),
                    ("PNPM_STORE_DIR", ""),
                    ("PNPM_HOME", "/store"),
                    ("XDG_DATA_HOME", "/pnpm/store"),
                ),
                builds="scripts",
            ),
        ),
        clean_commands=(("pnpm", "store", "prune"),),
        clean_keeps_used=True,
        # package-import-method "auto" hard-links the store's files into node_modules: a plain
        # install's copied lock made a real rewrite 20,980 bytes larger (eighteenth round)
        links_cache=True,
        runtime_users=(("pnpm", "install"), ("pnpm", "i"), ("pnpm", "dlx"), ("pnpx",)),
        # pnpm reads .npmrc and npm_config_* as npm does (built, pnpm 8.15.9: with the first
        # install's store on an emptied mount, a later install after `echo offline=true >>
        # /root/.npmrc` or `ENV npm_config_offline=true` failed, ERR_PNPM_NO_OFFLINE_TARBALL)
        offline_flags=("--offline",),
        offline_env=(("npm_config_offline", "true"), ("NPM_CONFIG_OFFLINE", "true")),
        offline_config_keys=NPMRC_OFFLINE,
        value_options=("-C", "--dir", "--filter", "-F"),
        cache_options=("--store-dir",),
        # ``pnpm store prune|status|path|add`` manage the store, not the project's files
        inert_subcommands=("config", "cache", "store", "set", "--version"),
        global_markers=("-g", "--global", "global"),
        config_files=(".npmrc", "npmrc"),
        config_keys=r"(?m)store-dir|cache-dir|" + NPMRC_OFFLINE.removeprefix("(?m)"),
        config_env=("NPM_CONFIG_USERCONFIG", "npm_config_userconfig"),
    ),
    PackageManager(
        "bun",
        ("bun",),
        ("install", "i", "add", "update"),
        (CacheDir("~/.bun/install/cache", (("BUN_INSTALL_CACHE_DIR", ""),)),),
        clean_commands=(("bun", "pm", "cache", "rm"),),
        # bun's Linux backend is "hardlink": node_modules and the cache share their files (a
        # real install layer was 4.26 MB with the cache in it and without)
        links_cache=True,
        runtime_users=(("bunx",), ("bun", "x")),  # auto-installs into the cache at start
        # bun keeps the registry's manifests in its cache: --offline installs from it alone,
        # --prefer-offline resolves from it "even with expired data" (read: bun's own tests)
        offline_flags=("--offline",),
        prefer_cache_flags=("--prefer-offline",),
        value_options=("--cwd",),
        cache_options=("--cache-dir",),
        inert_subcommands=("pm", "upgrade", "--version"),
        global_markers=("-g", "--global"),
        link_option="--backend",
        config_files=("bunfig.toml",),
        config_keys=r"cache",
    ),
)


NPM = Ecosystem(
    "npm",
    ("npm",),
    ("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"),
    guess=("package*.json", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
YARN = Ecosystem(
    "yarn",
    ("yarn", "yarn-berry"),
    # .yarnclean: yarn 1 deletes the files it names from node_modules on every install
    ("package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", ".yarnclean", ".yarn/"),
    guess=("package.json", "yarn.lock*", ".yarnrc*", ".npmrc*"),
    outputs=("node_modules", ".pnp.cjs", ".pnp.loader.mjs"),
    key="package.json",
    checks="node",
    # .yarn/releases/yarn-4.5.0.cjs is 2.75 MB: copied twice, a real image grew by 2,747,188
    # bytes with the global cache on a cache mount (a one-package app)
    uncached=(".yarn/",),
)
PNPM = Ecosystem(
    "pnpm",
    ("pnpm",),
    ("package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".pnpmfile.cjs"),
    guess=("package.json", "pnpm-lock.yaml*", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
BUN = Ecosystem(
    "bun",
    ("bun",),
    ("package.json", "bun.lock", "bun.lockb", "bunfig.toml", ".npmrc"),
    guess=("package.json", "bun.lock*", "bunfig.toml*", ".npmrc*"),
    outputs=("node_modules",),
    key="package.json",
    checks="node",
)
MANIFESTS: tuple[Ecosystem, ...] = (
    NPM,
    YARN,
    PNPM,
    BUN,
)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "npm": ("ci", "install", "i", "install-clean", "ic"),
    "yarn": ("", "install"),
    "yarn-berry": ("", "install"),
    "pnpm": ("install", "i", "fetch"),
    "bun": ("install", "i"),
}


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
# npm's settings that decide whether dev dependencies are installed (``buildOmitList`` in
# @npmcli/config's definitions.js, npm 7 to 10): True where the option takes a value, False
# where it is a boolean (``--no-production``, ``--production false``).
_NPM_DEV_SETTINGS = {
    "omit": True, "include": True, "only": True, "also": True, "production": False, "dev": False,
}  # fmt: skip


# npm's settings msdfix reads from a command line (the dev-deciding ones and
# legacy-peer-deps), by the same rule.
_NPM_OPTIONS = {**_NPM_DEV_SETTINGS, "legacy-peer-deps": False}
# One npm configuration source: setting -> its values (a list setting may hold several).
NpmSettings = Mapping[str, list[str]]


@dataclass(frozen=True)
class NpmOption:
    """One setting on an npm command line: its name, its value (``true``/``false`` for a
    boolean) and the words it takes, ``args[start:end]``."""

    key: str
    value: str
    start: int
    end: int


def npm_options(args: list[str]) -> list[NpmOption]:
    """The settings of ``_NPM_OPTIONS`` that ``args`` give, as npm's option parser (nopt)
    reads them: ``--key=value``, ``--key value``, ``--no-key``, a boolean's ``true``/``false``
    after it; a list setting given twice gives two options. The one reader of npm's command
    line: what the install does and the production command's edits both come from it."""
    found: list[NpmOption] = []
    i = 0
    while i < len(args):
        start, arg = i, args[i]
        i += 1
        if not arg.startswith("--"):
            continue
        key, eq, value = arg[2:].partition("=")
        negated = not eq and key.startswith("no-") and key[3:] in _NPM_OPTIONS
        key = key[3:] if negated else key
        if key not in _NPM_OPTIONS:
            continue
        if negated:
            value = "false"
        elif not eq and _NPM_OPTIONS[key]:
            value = args[i] if i < len(args) and not args[i].startswith("-") else ""
            i += 1 if value else 0
        elif not eq:
            value = "true"
            if i < len(args) and args[i] in ("true", "false"):
                value, i = args[i], i + 1
        found.append(NpmOption(key, value, start, i))
    return found


def _npm_settings(args: list[str]) -> dict[str, list[str]]:
    """The settings ``args`` give (``npm_options``), each with its values in order."""
    found: dict[str, list[str]] = {}
    for option in npm_options(args):
        found.setdefault(option.key, []).append(option.value)
    return found


def npmrc_settings(text: str) -> dict[str, list[str]]:
    """The settings of an npmrc file, as npm's ini parser reads them: ``key=value`` (the
    last one wins), ``key[]=value`` adding to a list, a bare ``key`` meaning true, quotes
    around a value removed, ``;``/``#`` lines and ``[section]`` headers skipped."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in ";#[":
            continue
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip() if eq else "true"
        if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key.endswith("[]"):
            found.setdefault(key[:-2], []).append(value)
        else:
            found[key] = [value]
    return found


def _npm_env(env: Mapping[str, str]) -> dict[str, list[str]]:
    """The settings ``npm_config_*`` variables give (any case; ``_`` read as ``-``; an empty
    value is skipped, as @npmcli/config's loadEnv skips it)."""
    return {
        key[11:].lower().replace("_", "-"): [value]
        for key, value in env.items()
        if key.lower().startswith("npm_config_") and value != ""
    }


def npm_setting(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> Callable[[str], list[str] | None]:
    """npm's value of a setting: the command line over ``npm_config_*`` variables over the
    configuration ``files`` (the project's .npmrc, the user's, the global one, in that
    order), each replacing the lower ones whole (npm 10's @npmcli/config); None: unset."""
    layers = [_npm_settings(args), _npm_env(env), *files]

    def setting(key: str) -> list[str] | None:
        return next((layer[key] for layer in layers if key in layer), None)

    return setting


def npm_installs_dev(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> bool:
    """Whether ``npm install``/``npm ci`` with ``args`` installs the dev dependencies, as npm
    7 to 10 work it out: @npmcli/config walks its layers from the defaults up (the .npmrc
    ``files``, given highest first, then ``npm_config_*`` variables, then the command line),
    each layer's object inheriting the lower ones', and runs ``buildOmitList`` on each layer
    that sets one of the settings: ``omit`` defaulting to dev only where NODE_ENV is
    production, ``--production``/``--only=prod`` adding dev to it, ``production=false``,
    ``also=dev`` and ``dev`` adding dev to ``include`` (pushed onto the list a layer
    inherits, so it stays for the layers above that set no ``include`` of their own), and
    ``include`` winning over ``omit``. Checked with npm 10.8.2: ``--also=dev``, ``--include
    dev``, ``--no-production``, ``--omit=optional`` under NODE_ENV=production install them;
    so do ``include=dev`` or ``production=false`` in the project's .npmrc whatever
    ``--omit=dev``, ``--production`` or ``--include=prod`` alone say; ``--include=prod``
    overrides an .npmrc's ``include=dev``, ``--production --include=prod`` its
    ``production=false``, nothing its ``also=dev``."""
    default: dict[str, Any] = {
        "omit": ["dev"] if env.get("NODE_ENV") == "production" else [],
        "include": [],
    }
    layers = [default, *map(_omit_layer, reversed(files)), _omit_layer(_npm_env(env))]
    layers.append(_omit_layer(_npm_settings(args)))
    for i, own in enumerate(layers):
        if i == 0 or own:
            _build_omit_list(layers[: i + 1])
    omit = next(layer["omit"] for layer in reversed(layers) if "omit" in layer)
    return "dev" not in omit


def _omit_layer(settings: Mapping[str, list[str]]) -> dict[str, Any]:
    """One configuration layer's own dev-deciding settings, typed as npm types them: lists
    for omit/include, booleans for production/dev, a string for only/also."""
    own: dict[str, Any] = {}
    for key, values in settings.items():
        if key in ("omit", "include"):
            own[key] = [v for v in values if v]
        elif key in ("production", "dev"):
            own[key] = npm_true(values[-1])
        elif key in ("only", "also"):
            own[key] = values[-1]
    return own


def _build_omit_list(chain: list[dict[str, Any]]) -> None:
    """@npmcli/config's ``buildOmitList`` on the top layer of ``chain`` (each layer's object
    inherits from the ones below): it pushes onto the omit and include lists it finds, the
    inherited ones too, then sets the top layer's own."""

    def get(key: str) -> Any:
        return next((layer[key] for layer in reversed(chain) if key in layer), None)

    include, omit = get("include"), get("omit")  # the very lists, as JavaScript shares them
    if re.fullmatch(r"prod(uction)?", get("only") or "") or get("production"):
        omit.append("dev")
    elif get("production") is False:
        include.append("dev")
    if (get("also") or "").startswith("dev") or get("dev"):
        include.append("dev")
    chain[-1]["omit"] = [t for t in dict.fromkeys(omit) if t not in include]
    chain[-1]["include"] = list(dict.fromkeys(include))


def npm_legacy_peer_deps(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> bool:
    """Whether npm runs with legacy-peer-deps (peer dependencies not installed): the command
    line's ``--legacy-peer-deps`` (``=false``, ``--no-legacy-peer-deps``), then
    ``npm_config_legacy_peer_deps``, then the .npmrc files, as ``npm_setting`` layers them."""
    value = npm_setting(args, env, files)("legacy-peer-deps")
    return value is not None and npm_true(value[-1])


def npm_true(value: str) -> bool:
    """A boolean setting's value as npm's nopt reads it: a number is true unless 0 (a blank
    is 0), ``false`` and ``null`` (in that case) are false, any other text true (built with
    npm 10.8.2: ``npm_config_legacy_peer_deps=1`` kept a lock with a peer out of range, as
    ``true`` did)."""
    try:
        return bool(value.strip()) and float(value.strip()) != 0
    except ValueError:
        return value not in ("false", "null")


def _without_dev_settings(args: list[str]) -> list[str]:
    """``args`` without the settings that may bring the dev dependencies back, and their
    values (``--omit`` stays: ``--omit=optional`` and the ``--omit=dev`` added make a list)."""
    dropped = {
        i
        for option in npm_options(args)
        if option.key in _NPM_DEV_SETTINGS and option.key != "omit"
        for i in range(option.start, option.end)
    }
    return [arg for i, arg in enumerate(args) if i not in dropped]


def npm_production_args(
    args: list[str],
    node_major: int | None,
    env: Mapping[str, str],
    files: Sequence[NpmSettings] = (),
) -> list[str]:
    """``args`` of ``npm ci``/``npm install`` with the dev dependencies left out: every
    command-line setting that may bring them back dropped, npm's own flag added
    (``--production`` before npm 7, the image's Node before 16), then, where the variables
    or .npmrc files still bring them back, ``--include=prod`` (an .npmrc's ``include=dev``)
    and ``--production`` with it (its ``production=false``). A deprecated ``also``/``dev``
    there still brings them back: check ``npm_installs_dev``."""
    args = _without_dev_settings(args)
    if npm_installs_dev(args, {}):
        args.append("--omit=dev" if node_major is None or node_major >= 16 else "--production")
    include = npm_setting([], env, files)("include") or []
    if npm_installs_dev(args, env, files):
        args += [f"--include={v}" for v in include if v not in ("dev", "")] or ["--include=prod"]
    if npm_installs_dev(args, env, files):
        args.append("--production")
    return args


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
    if program == "pnpm" and _pnpm_lock_version(text) is None:
        return "pnpm-lock.yaml unreadable"
    return None


def yarn_berry(ctx: BuildContext, base: str, package: object) -> bool:
    """Yarn 2 or later runs in ``base``: a ``.yarnrc.yml`` there, or ``packageManager: yarn@2+``."""
    manager = package.get("packageManager") if isinstance(package, dict) else None
    major = re.match(r"yarn@(\d+)", manager) if isinstance(manager, str) else None
    rc = posixpath.join(base, ".yarnrc.yml") if base else ".yarnrc.yml"
    return ctx.exists(rc) or (major is not None and decimal(major.group(1)) >= 2)


# A yarn 1 lock entry's first line: its patterns, ``"@a/b@^1.0.0", "@a/b@~1.0.2":`` or
# ``ms@2.1.3:``; a dependency line under ``dependencies:``: ``    "@a/b" "^1.0.0"``.
_CLASSIC_KEYS = re.compile(r"^(?![\s#])(.+):[^\S\n]*$")
_CLASSIC_DEP = re.compile(r'^[ ]{4}"?([^"\s]+)"?[ ]+"?([^"\n]*?)"?[ ]*$')


def _classic_entries(lock: str) -> tuple[dict[str, int], list[list[str]]]:
    """A yarn 1 lock's patterns (each to its entry's index) and each entry's dependency
    patterns (``dependencies`` and ``optionalDependencies``)."""
    owner: dict[str, int] = {}
    deps: list[list[str]] = []
    for line in lock.splitlines():
        key = _CLASSIC_KEYS.match(line)
        if key:
            deps.append([])
            for pattern in key.group(1).split(","):
                owner[pattern.strip().strip('"')] = len(deps) - 1
            continue
        dep = _CLASSIC_DEP.match(line)
        if dep and deps:
            deps[-1].append(f"{dep.group(1)}@{dep.group(2)}")
    return owner, deps


def yarn_classic_stale(lock: str, package: object) -> str | None:
    """Why yarn 1's install that is not frozen saves a new yarn.lock ("Saved lockfile"), or
    None when the lock is in step: a ``name@range`` package.json (dependencies,
    devDependencies, optionalDependencies) or a locked entry asks for has no entry (yarn
    resolves and adds it), or an entry or an entry's pattern none of them reaches (yarn
    drops it). All built with yarn 1.22: the lock rewritten in place. None too for a lock
    that is not yarn 1's and for projects with workspaces (their entries follow other
    rules), and ``link:``, empty and ``*`` ranges (locked under another pattern, or not at
    all) end the search. With resolutions only package.json's own patterns are looked up."""
    if "# yarn lockfile v1" not in lock[:300] or not isinstance(package, dict):
        return None
    if package.get("workspaces"):
        return None
    owner, deps = _classic_entries(lock)
    todo: list[str] = []
    for field in ("dependencies", "devDependencies", "optionalDependencies"):
        declared = package.get(field)
        for name, spec in declared.items() if isinstance(declared, dict) else ():
            if not isinstance(spec, str) or spec.strip() in ("", "*") or spec.startswith("link:"):
                return None
            todo.append(f"{name}@{spec}")
    if package.get("resolutions"):
        # resolutions lock nested patterns under other rules; package.json's own patterns
        # are still locked as written (built: a dependency added, yarn saved 1,379 bytes
        # over the context's 1,131)
        missing = [pattern for pattern in todo if pattern not in owner]
        return f"it locks no {missing[0]}" if missing else None
    seen: set[int] = set()
    asked: set[str] = set()
    while todo:
        pattern = todo.pop()
        if pattern not in owner:
            return f"it locks no {pattern}"
        asked.add(pattern)
        if owner[pattern] not in seen:
            seen.add(owner[pattern])
            todo.extend(deps[owner[pattern]])
    if len(seen) < len(deps):
        return f"it locks {len(deps) - len(seen)} package(s) nothing asks for"
    # yarn keeps the lock only when every pattern it holds is asked for (a reached entry's
    # ``ms@^2.1.1, ms@^2.1.3`` with ms@^2.1.1 no longer asked: yarn dropped it, built)
    if len(asked) < len(owner):
        return f"it locks {len(owner) - len(asked)} pattern(s) nothing asks for"
    return None


def yarn_classic_pins(lock: str, package: object) -> bool:
    """yarn 1's lock holds an entry, with its version and integrity, for every pattern
    package.json and the reached entries ask for, and nothing else: yarn installs each
    locked version whatever its cache holds (built: ``--frozen-lockfile --prefer-offline``
    over a lock of is-number 6.0.0 for ``>=6.0.0`` with 7.0.0 cached, and of 7.0.0 with 6.0.0
    cached, installed the lock's). False where ``yarn_classic_stale`` cannot tell: no yarn
    1 lock, workspaces, resolutions, ``*``, ``link:`` or empty ranges; and for a local
    folder or file (``file:``, a path): yarn reads its dependencies from its package.json,
    and ``--frozen-lockfile`` resolved one its lock entry lacked without failing (built: the
    mounted rewrite took the cache's is-number 6.0.0, the original 7.0.0)."""
    if "# yarn lockfile v1" not in lock[:300] or not isinstance(package, dict):
        return False
    if package.get("workspaces") or package.get("resolutions") or "@file:" in lock:
        return False
    for field in ("dependencies", "devDependencies", "optionalDependencies"):
        declared = package.get(field)
        if declared is not None and not isinstance(declared, dict):
            return False
        for spec in (declared or {}).values():
            if not isinstance(spec, str) or spec.strip() in ("", "*"):
                return False
            if spec.startswith(("link:", "file:", ".", "/", "~")):
                return False
    return yarn_classic_stale(lock, package) is None


_PNPM_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


# The lockfileVersion each pnpm major writes, and rewrites a lock of another version as
# (built with pnpm 7.33.7, 8.15.9 and 9.15.9, each over the three's locks of one project:
# each kept only its own lock's bytes; pnpm 9 wrote 9.0 over 5.4 and 6.0, pnpm 8 6.0 over
# 5.4 and 9.0, pnpm 7 5.4 over 9.0 and another 6.0; pnpm 10 wrote 9.0 as 9 did).
_PNPM_LOCK_FORMATS = {7: "5.4", 8: "6.0", 9: "9.0", 10: "9.0"}
# A RUN that puts a pnpm in the image: ``pnpm@SPEC`` (npm i -g, corepack prepare/use, pnpm
# add -g), or an install of ``pnpm`` with no version (the registry's latest: unknown).
_PNPM_SET = re.compile(
    r"""\bpnpm@([^\s'";&|]+)"""
    r"""|\b(?:npm|yarn|pnpm|corepack)\b[^\n;&|]*[ \t](?:add|i|install|prepare|use)\b"""
    r"""[^\n;&|]*[ \t]pnpm(?![\w@./-])"""
)


def pnpm_lock_format(runs: Sequence[str], package: object) -> str | None:
    """The lockfileVersion the pnpm that runs writes (None: not known): the last pnpm a RUN
    before the install (``runs``) puts in the image (``npm i -g pnpm@8``, ``corepack
    prepare pnpm@9.1.0 --activate``), else package.json's ``packageManager: pnpm@X``, which
    corepack runs. A pnpm installed without a version, a tag or a variable is not known."""
    spec: str | None = None
    for text in runs:
        for match in _PNPM_SET.finditer(text):
            spec = match.group(1) or ""
    if spec is None and isinstance(package, dict):
        pin = package.get("packageManager")
        if isinstance(pin, str) and pin.startswith("pnpm@"):
            spec = pin[5:]
    major = re.match(r"(?:latest-|[~^=v]?)(\d+)(?:[.+-]|$)", spec or "")
    return _PNPM_LOCK_FORMATS.get(decimal(major.group(1))) if major else None


# .npmrc keys pnpm records in the lock's ``settings:`` block (pnpm 8 to 10); a lock whose
# block holds another value is rewritten by an install that is not frozen.
_PNPM_LOCK_SETTINGS = (
    "auto-install-peers", "exclude-links-from-lockfile", "peers-suffix-max-length",
    "inject-workspace-packages", "dedupe-peer-dependents",
)  # fmt: skip


def pnpm_settings_stale(
    lock: str, npmrc: str | None, env: Mapping[str, str], runs: Sequence[str]
) -> str | None:
    """A lock ``settings:`` key that the project's .npmrc or an ``npm_config_*`` variable
    sets to another value (or that the lock does not hold), which a pnpm install that is not
    frozen writes into the lock (built, pnpm 8.15.9: with ``auto-install-peers=false`` in
    .npmrc over a lock of ``autoInstallPeers: true`` it wrote false, and the reordered
    install's image kept the context's lock), or that an earlier RUN names (``pnpm config
    set``, not read). None when every set key agrees."""
    named = next((k for k in _PNPM_LOCK_SETTINGS for r in runs if k in r), None)
    if named is not None:
        return f"a RUN before it names {named}, which msdfix does not compare with the lock"
    block = re.search(r"(?m)^settings:\n((?:[ \t]+\S.*\n?)*)", lock)
    held = dict(re.findall(r"(?m)^[ \t]+(\w+):[ \t]*['\"]?([^'\"\s]*)", block[1])) if block else {}
    values = {k: v[-1] for k, v in npmrc_settings(npmrc or "").items() if v}
    for key in _PNPM_LOCK_SETTINGS:
        variable = "npm_config_" + key.replace("-", "_")
        value = env.get(variable, env.get(variable.upper(), values.get(key)))
        camel = re.sub(r"-(\w)", lambda m: m[1].upper(), key)
        if value is not None and held.get(camel) != value.strip().lower():
            return f"{key} is set to {value} where the lock's settings hold {held.get(camel)}"
    return None


def pnpm_lock_stale(lock: str, package: object, writes: str | None) -> str | None:
    """Why pnpm's install that is not frozen writes a new pnpm-lock.yaml, or None when in
    step: a lockfileVersion other than ``writes``, the one the pnpm that runs writes
    (``pnpm_lock_format``; None: not known), or the root importer's specifiers (lockfile 5:
    its ``specifiers:``; 6 and 9: each dependency's ``specifier:``, under ``importers: .:``
    where there is one) are not package.json's dependencies, devDependencies and
    optionalDependencies (built with pnpm 8.15.9: ms changed from 2.1.2 to 2.1.3 after the
    lock, pnpm wrote 2.1.3 in it, and a moved install's image kept the context's lock), or
    either sets overrides, or the lock has catalogs (built with pnpm 10.34.9: a catalog's
    ms changed in pnpm-workspace.yaml, pnpm wrote it into the lock, the moved install's
    image kept the old one) or dependenciesMeta (pnpm 9.15.9 wrote package.json's into the
    importer), which msdfix does not compare. A lock with other importers (a
    workspace) or one msdfix cannot read this way counts as stale."""
    if not isinstance(package, dict):
        return None
    if writes is None:
        return "msdfix does not know which pnpm runs, and each major rewrites another's lock"
    try:
        data = load_yaml(lock)
    except YamlError as exc:
        return f"pnpm ignores a lock it cannot read as YAML and writes a new one ({exc})"
    version = _pnpm_lock_version(data)
    if version != writes:
        return f"the pnpm that runs writes lockfileVersion {writes} over its {version or 'none'}"
    wanted: dict[str, object] = {}
    for field in _PNPM_FIELDS:
        declared = package.get(field)
        wanted.update(declared if isinstance(declared, dict) else {})
    locked = _pnpm_root_specifiers(data)
    if locked is None:
        return "msdfix does not read its importers"
    if locked != wanted:
        return "its specifiers are not package.json's"
    settings = package.get("pnpm")
    overrides = settings.get("overrides") if isinstance(settings, dict) else None
    if overrides or package.get("resolutions") or "overrides" in data:
        return "overrides, which msdfix does not compare"
    if "catalogs" in data:
        return "catalogs, which msdfix does not compare"
    if package.get("dependenciesMeta") or _holds_key(data, "dependenciesMeta"):
        return "dependenciesMeta, which msdfix does not compare"
    return None


def _pnpm_lock_version(lock: object) -> str | None:
    """A pnpm-lock.yaml's ``lockfileVersion`` as written (``5.4``, ``9.0``), given its text
    or its parsed document; None when there is none or the YAML does not read."""
    if isinstance(lock, str):
        try:
            lock = load_yaml(lock)
        except YamlError:
            return None
    version = lock.get("lockfileVersion") if isinstance(lock, dict) else None
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        return None
    return str(version)


def _pnpm_root_specifiers(lock: dict[str, Any]) -> dict[str, str] | None:
    """The root importer's specifiers of a parsed pnpm-lock.yaml (None: not read): lockfile
    5's ``specifiers:``, else each dependency's ``specifier:`` (6 and 9), under ``importers:
    .:`` where there is one."""
    root: object = lock
    if "importers" in lock:
        importers = lock["importers"]
        if not isinstance(importers, dict) or set(importers) != {"."}:
            return None
        root = importers["."]
    if not isinstance(root, dict):
        return None
    if "specifiers" in root:  # lockfile 5
        return _strings(root["specifiers"] or {})
    found: dict[str, object] = {}
    for field in _PNPM_FIELDS:
        entries = root.get(field) or {}
        if not isinstance(entries, dict):
            return None
        for name, entry in entries.items():
            found[name] = entry.get("specifier") if isinstance(entry, dict) else None
    return _strings(found)


def _strings(data: object) -> dict[str, str] | None:
    """``data`` when it maps strings to strings (None otherwise)."""
    if not isinstance(data, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return data


def _holds_key(data: object, key: str) -> bool:
    """True when a mapping below the top of a parsed YAML document has ``key``."""
    stack = list(data.values()) if isinstance(data, dict) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def npm_lock_unlocked(packages: dict[str, Any], peers: bool = True) -> str | None:
    """A dependency a package-lock.json's ``packages`` map asks for and holds no entry for
    (None: each resolves): the root's dependencies, devDependencies and optionalDependencies
    and each entry's dependencies, looked up as Node resolves them (``node_modules/<name>``
    beside the entry, then in each folder above). npm install adds the missing entry and
    rewrites the lock (built with npm 10: node_modules/ms taken out of a lock, 1,122 bytes
    in the context, 1,387 in the image). With ``peers`` (npm 7 and later install them,
    unless legacy-peer-deps), the peerDependencies not marked optional too (a lock written
    with --legacy-peer-deps: npm 10 added ajv, 589 bytes became 2,918)."""
    for path, entry in packages.items():
        if not isinstance(entry, dict) or entry.get("link"):
            continue
        for name in _npm_asked(entry, not path, peers):
            if _npm_target(packages, path, name) is None:
                return name
    return None


def npm_lock_invalid(
    packages: dict[str, Any], package: dict[str, Any], peers: bool = True
) -> str | None:
    """The first dependency (``the NAME entry that PATH asks for``) of a package-lock.json whose locked entry's
    version does not satisfy the range that asks for it (None: each does, or is not read
    here): npm install resolves such an edge again and rewrites the lock (built with npm
    10.8.2 and 9.2.0: a lock whose root entry asked for debug ^3.2.7 over a locked debug
    4.4.3, as a merged lock has it, was rewritten, and `npm ci` failed). The root's and each
    entry's dependencies and optionalDependencies and the root's devDependencies are read,
    and with ``peers`` (npm 7 and later, unless legacy-peer-deps) each one's peerDependencies
    (built with npm 10.8.2: react 17.0.2 locked under the root's ``^17.0.2 || ^18.2.0`` and
    react-dom's peer ``^18.3.1``; npm wrote react 18.3.1); names package.json overrides,
    bundled entries, links and specs other than node-semver ranges (a tag, git, a file, an
    alias of another package) are left to the other checks."""
    overridden = _override_scopes(package.get("overrides"), packages)
    for path, entry in packages.items():
        if not isinstance(entry, dict) or entry.get("link"):
            continue
        fields = ["dependencies", "optionalDependencies"] + ([] if path else ["devDependencies"])
        for field in fields + (["peerDependencies"] if peers else []):
            declared = entry.get(field)
            for name, spec in declared.items() if isinstance(declared, dict) else ():
                target = _npm_target(packages, path, str(name))
                replaced = any(path in scope for scope in overridden.get(str(name), ()))
                found = packages.get(target) if target and not replaced else None
                if not isinstance(found, dict) or found.get("inBundle") or found.get("link"):
                    continue
                if isinstance(spec, str) and spec.startswith(f"npm:{found.get('name')}@"):
                    spec = spec.rpartition("@")[2]
                if isinstance(spec, str) and _semver_satisfies(found.get("version"), spec) is False:
                    return f"the {name} entry that {path or 'the root'} asks for"
    return None


def _override_scopes(overrides: object, packages: dict[str, Any]) -> dict[str, list[set[str]]]:
    """Every package name an ``overrides`` tree gives a spec of its own, at any depth, with
    the lock entries whose edges to it the override may replace: a top-level key's, every
    entry; a nested one's (``{"debug": {"ms": "2.1.2"}}``), the entries of its parent's name
    within the parent's scope and those they reach, not the root's own edge (built with npm
    10.8.2: the root's ms ``^2.1.3`` over a locked 2.1.2 that only debug's override asked
    for was resolved again and the lock rewritten). Selectors are stripped; a value of
    ``*``, or a map whose ``.`` is not a spec, changes nothing (arborist's ``Edge.spec``).
    Past ``MAX_NESTED_OVERRIDES`` objects the rest is not followed (npm_override_unmet
    calls such a lock stale)."""
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    scopes: dict[str, list[set[str]]] = {}  # (sets shared, not copied: a copy per key of
    todo = [(overrides, set(entries))]  # 20,000 top-level ones was quadratic)
    by_name = _npm_by_name(entries)
    nested = 0
    while todo:
        here, scope = todo.pop()
        for key, value in here.items() if isinstance(here, dict) else ():
            name = str(key)[:1] + str(key)[1:].partition("@")[0]
            if name == ".":
                continue
            if _override_spec(value.get(".") if isinstance(value, dict) else value):
                scopes.setdefault(name, []).append(scope)
            if isinstance(value, dict):
                nested += 1
                if nested > MAX_NESTED_OVERRIDES:
                    return scopes
                named = by_name.get(name, set()) & scope
                todo.append((value, named | _npm_reached(entries, named)))
    return scopes


def _override_spec(value: object) -> bool:
    """Whether an override's value replaces the spec of the edges it names (a non-empty
    string other than ``*``, as arborist's ``Edge.spec`` reads it)."""
    return isinstance(value, str) and value not in ("", "*")


def _npm_asked(entry: dict[str, Any], root: bool, peers: bool) -> list[str]:
    """The names a lock entry asks npm to install (a root entry: its dev and optional ones
    too; with ``peers``, its peers not marked optional in peerDependenciesMeta)."""
    fields = ["dependencies"] + (["devDependencies", "optionalDependencies"] if root else [])
    names = [str(n) for f in fields if isinstance(entry.get(f), dict) for n in entry[f]]
    meta = entry.get("peerDependenciesMeta")
    meta = meta if isinstance(meta, dict) else {}
    peer = entry.get("peerDependencies") if peers else None
    for name in peer if isinstance(peer, dict) else ():
        info = meta.get(name)
        if not (isinstance(info, dict) and info.get("optional")):
            names.append(str(name))
    return names


# The flags npm writes on a package-lock.json entry, and the edge types that keep each set
# (arborist's calc-dep-flags: an edge of another type from an entry without the flag unsets
# it on the target).
_NPM_FLAGS = ("dev", "optional", "devOptional", "peer")
_NPM_KEEPS = {
    "dev": ("dev",),
    "optional": ("optional", "peerOptional"),
    "devOptional": ("dev", "optional", "peerOptional"),
    "peer": ("peer", "peerOptional"),
}


def npm_lock_flags(packages: dict[str, Any], package: dict[str, Any], peers: bool) -> str | None:
    """The first entry of a package-lock.json's ``packages`` map whose flags (dev, optional,
    devOptional, peer; extraneous: not reached, npm prunes it) npm install would write
    otherwise, or None. npm 7 and later load the lock with every flag set and compute them
    again from ``package`` (the root) down, as arborist's calc-dep-flags does (a depth-first
    walk over a stack, so its order matters); a lock whose flags were left otherwise (dev
    dependencies that became a peer's) is rewritten: built with npm 10, a real React app's
    lock had 113 entries marked dev that npm wrote without. The rule agrees with npm 10 on
    the 53 real locks it kept and the 4 whose flags it changed. None (not judged) for a lock
    with links (workspaces)."""
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    if any(entry.get("link") for entry in entries.values()):
        return None
    entries[""] = package
    edges = {path: _npm_edges(entries, path, peers) for path in entries}
    flags = _npm_calc_flags(edges)
    for path, entry in entries.items():
        if path and flags[path] != {f for f in (*_NPM_FLAGS, "extraneous") if entry.get(f)}:
            return path
    return None


def _npm_edges(entries: dict[str, Any], path: str, peers: bool) -> list[tuple[str, str]]:
    """An entry's edges (target path, type) in arborist's order: peers, then dependencies,
    optionalDependencies and (the root's) devDependencies, a later type taking an earlier
    name's place; targets looked up as Node resolves them, missing ones left out."""
    entry = entries[path]
    types: dict[str, str] = {}
    meta = (
        entry.get("peerDependenciesMeta")
        if isinstance(entry.get("peerDependenciesMeta"), dict)
        else {}
    )
    peer = (
        entry.get("peerDependencies")
        if peers and isinstance(entry.get("peerDependencies"), dict)
        else {}
    )
    for optional in (False, True):
        for name in peer:
            info = meta.get(name)
            if bool(isinstance(info, dict) and info.get("optional")) is optional:
                types[str(name)] = "peerOptional" if optional else "peer"
    fields = [("dependencies", "prod"), ("optionalDependencies", "optional")]
    for field, kind in fields + ([("devDependencies", "dev")] if not path else []):
        declared = entry.get(field)
        for name in declared if isinstance(declared, dict) else ():
            types[str(name)] = kind
    found = [(_npm_target(entries, path, name), kind) for name, kind in types.items()]
    return [(target, kind) for target, kind in found if target is not None and target != path]


def _npm_target(packages: dict[str, Any], path: str, name: str) -> str | None:
    """The entry Node's lookup from the folder ``path`` finds for ``name`` (None: none)."""
    while True:
        target = posixpath.join(path, "node_modules", name)
        if target in packages:
            return target
        if not path:
            return None
        path = _npm_parent(path)


def _npm_calc_flags(edges: dict[str, list[tuple[str, str]]]) -> dict[str, set[str]]:
    """Each entry's flags as npm writes them, computed as calc-dep-flags does."""
    flags = {path: {*_NPM_FLAGS, "extraneous"} for path in edges}
    flags[""] = set()

    def unset(node: str, flag: str) -> None:
        stack = [node] if flag in flags[node] else []
        while stack:
            here = stack.pop()
            flags[here].discard("extraneous")
            flags[here].discard(flag)
            follow = ("prod",) if flag == "peer" else ("prod", "peer")
            stack.extend(t for t, kind in edges[here] if flag in flags[t] and kind in follow)

    def step(node: str) -> None:
        flags[node].discard("extraneous")
        for flag in ("extraneous", "dev", "peer", "devOptional", "optional"):
            parent = node
            while flag not in flags[node] and parent and (parent == node or flag in flags[parent]):
                flags[parent].discard(flag)
                parent = _npm_parent(parent)
        for target, kind in edges[node]:
            flags[target].discard("extraneous")
            for flag in [
                f
                for f in ("peer", "devOptional", "dev", "optional")
                if _npm_unsets(flags[node], kind, f)
            ]:
                unset(target, flag)

    seen: set[str] = set()
    stack = [""]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            step(node)
            stack.extend(target for target, _ in edges[node])
    return {path: _npm_written(found) for path, found in flags.items()}


def _npm_unsets(flags: set[str], kind: str, flag: str) -> bool:
    """Whether an edge of ``kind`` from an entry with ``flags`` unsets ``flag`` on its target
    (calc-dep-flags' unsetDev, unsetOpt, unsetDevOpt, unsetPeer): the entry lacks the flag
    and the edge's type does not carry it; leaving the devOptional tree (the entry in
    neither the dev nor the optional tree nor their overlap, by an edge neither dev nor
    optional) unsets dev and optional too."""
    leaves = not {"dev", "optional", "devOptional"} & flags and kind in ("prod", "peer")
    if flag == "devOptional":
        return leaves
    plain = flag not in flags and kind not in _NPM_KEEPS[flag]
    return plain or (leaves and flag != "peer")


def _npm_parent(path: str) -> str:
    """The folder an entry's node_modules sits in (its resolveParent): "" for the root."""
    head, sep, _ = path.rpartition("node_modules/")
    return head.rstrip("/") if sep else ""


def _npm_written(flags: set[str]) -> set[str]:
    """The flags npm writes: extraneous alone, devOptional only without dev and optional."""
    if "extraneous" in flags:
        return {"extraneous"}
    if flags & {"dev", "optional"}:
        return flags - {"devOptional"}
    return set(flags)


# The objects of an ``overrides`` tree msdfix follows: each is a walk over the lock's
# entries, so 10,000 nested ones over a lock of thousands took minutes (real trees hold a
# few); with more, the lock may not follow them.
MAX_NESTED_OVERRIDES = 32


def npm_override_unmet(packages: dict[str, Any], package: dict[str, Any]) -> str | None:
    """Why the lock may not follow package.json's overrides (None: it does, or there are
    none): an ``overrides`` key whose version the lock's entries of that name do not all
    satisfy, or more than ``MAX_NESTED_OVERRIDES`` objects: npm install resolves them again
    and rewrites the lock, which records no overrides of its own (built with npm 10: an
    override of ms changed from 2.1.2 to 2.1.3 after the lock, npm wrote 2.1.3 in it). A
    nested one (``{"a": {"ajv": "^8"}}``) applies to the entries a's entries reach; a spec
    ``npm:<the same name>@range`` is that range (npm kept a lock whose ms met
    ``npm:ms@2.1.3``). A key node-semver's ranges cannot judge (a ``name@range`` selector, a
    tag, an alias of another package) counts as unmet; ranges are read as node-semver reads
    them (npm 10 kept locks whose ms 2.1.3 met ``>=2.1.0 <3`` and ``2.0.0 || 2.1.3``)."""
    overrides = package.get("overrides")
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    everywhere = set(entries)  # (one set for every top-level key: a copy each was quadratic)
    todo = [(k, v, everywhere) for k, v in overrides.items()] if isinstance(overrides, dict) else []
    by_name = _npm_by_name(entries)
    nested = 0
    while todo:
        key, spec, scope = todo.pop()
        name = str(key)
        nested += isinstance(spec, dict)
        if nested > MAX_NESTED_OVERRIDES:
            return (
                f"overrides nest more than {MAX_NESTED_OVERRIDES} objects, more than msdfix follows"
            )
        named = by_name.get(name, set()) & scope
        if isinstance(spec, dict):
            below = _npm_reached(entries, named)
            todo.extend(
                (key if k == "." else k, v, scope if k == "." else below) for k, v in spec.items()
            )
            continue
        if isinstance(spec, str) and not _override_spec(spec):
            continue  # the edges keep their own specs, which npm_lock_invalid reads
        if isinstance(spec, str) and spec.startswith("$"):
            spec = _root_spec(package, spec[1:])
        if isinstance(spec, str) and spec.startswith(f"npm:{name}@"):
            spec = spec[len(f"npm:{name}@") :]  # an alias of the package itself: its range
        if (
            not isinstance(spec, str)
            or "@" in name[1:]
            or any(_semver_satisfies(entries[p].get("version"), spec) is not True for p in named)
        ):
            return f"its {name} entries may not follow package.json's overrides"
    return None


def _npm_by_name(entries: dict[str, Any]) -> dict[str, set[str]]:
    """The lock entries installed as each name (``node_modules/NAME`` or ``.../node_modules/NAME``),
    found once: a scan of the entries per override key took time quadratic in the two."""
    found: dict[str, set[str]] = {}
    for path in entries:
        head, mark, name = path.rpartition("node_modules/")
        if mark and (not head or head.endswith("/")):
            found.setdefault(name, set()).add(path)
    return found


def _npm_reached(entries: dict[str, Any], start: set[str]) -> set[str]:
    """The entries the ``start`` entries' dependencies reach (not ``start`` itself)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for target, _ in _npm_edges(entries, stack.pop(), True):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _root_spec(package: dict[str, Any], name: str) -> str | None:
    """The spec package.json's own dependency ``name`` has (an override's ``$name``)."""
    for field in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        declared = package.get(field)
        if isinstance(declared, dict) and isinstance(declared.get(name), str):
            return str(declared[name])
    return None


# A node-semver version: major, minor, patch, a prerelease's identifiers (loose forms: a
# leading v or =; build metadata, which no comparison reads).
_SEMVER_PRE = r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
_SEMVER = re.compile(r"[v=\s]*(\d+)\.(\d+)\.(\d+)" + _SEMVER_PRE)
# One comparator of a node-semver range: an operator and a version, parts left out or x/*,
# a prerelease only after three parts.
_SEMVER_WORD = re.compile(
    r"(<=|>=|<|>|=|\^|~>?)?[v=]*(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])" + _SEMVER_PRE + ")?)?"
)
_SEMVER_HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)")
Version = tuple[int, int, int, tuple[str, ...]]
# The lowest prerelease (``-0``), which node-semver's upper bounds carry (``<2.0.0-0``).
_LOWEST = ("0",)
# node-semver's largest version part (Number.MAX_SAFE_INTEGER): a larger one is invalid.
_SEMVER_MAX = 2**53 - 1


def _semver_satisfies(version: object, spec: str) -> bool | None:
    """Whether ``version`` satisfies the node-semver range ``spec`` as npm's dep-valid
    checks a lock entry (``semver.satisfies(version, spec, loose)``, ``*`` or an empty spec
    met by any version): alternatives joined by ``||``, each a set of comparators (``<``,
    ``<=``, ``>``, ``>=``, ``=``, ``^``, ``~``, x-ranges such as ``2.x`` or ``2``, hyphen
    ranges ``1.2 - 2``) desugared as node-semver 7 does, a prerelease version met only by a
    set one of whose comparators has a prerelease of the same major.minor.patch (``^1.2.3-rc.1``
    takes 1.2.3-rc.2, not 1.2.4-rc.1). None for any other form (a tag, git, a file). A
    version node-semver does not read meets no range (its satisfies answers false: npm
    resolves the edge again)."""
    if not isinstance(version, str):
        return None
    if spec.strip() in ("", "*"):
        return True
    alternatives = [_semver_bounds(alt) for alt in spec.split("||")]
    if any(bounds is None for bounds in alternatives):
        return None
    have = _semver_version(version)
    return have is not None and any(_semver_set_holds(have, b or []) for b in alternatives)


def _semver_version(text: str) -> Version | None:
    """A version's parts (None: not a node-semver version, as one longer than 256
    characters or with a part above 2**53 - 1 is not: node-semver 7.8.5 reads neither)."""
    found = _SEMVER.fullmatch(text) if len(text) <= 256 else None
    if found is None:
        return None
    major, minor, patch, pre = found.groups()
    parts = [decimal(major), decimal(minor), decimal(patch)]
    if max(parts) > _SEMVER_MAX:
        return None
    return parts[0], parts[1], parts[2], tuple(pre.split(".")) if pre else ()


def _semver_set_holds(have: Version, bounds: list[tuple[str, Version]]) -> bool:
    """Whether a version meets every comparison of one comparator set; a prerelease only
    where one of the set's versions is a prerelease of its major.minor.patch."""
    if not all(_semver_holds(have, op, want) for op, want in bounds):
        return False
    return not have[3] or any(want[3] and want[:3] == have[:3] for _, want in bounds)


def _semver_bounds(alt: str) -> list[tuple[str, Version]] | None:
    """The plain comparisons (op, full version) one comparator set means; None: not read."""
    hyphen = _SEMVER_HYPHEN.fullmatch(alt.strip())
    words = [f">={hyphen.group(1)}", f"<={hyphen.group(2)}"] if hyphen else []
    words = words or re.sub(r"(<=|>=|<|>|=|\^|~>?)\s+", r"\1", alt).split()
    bounds: list[tuple[str, Version]] = []
    for word in words:
        found = _SEMVER_WORD.fullmatch(word)
        if found is None:
            return None
        parts: list[int] = []
        for part in found.groups()[1:4]:
            if part is None or not part.isdigit():
                break
            parts.append(decimal(part))
        if parts and max(parts) > _SEMVER_MAX:
            return None  # node-semver: an invalid comparator
        pre = tuple(found.group(5).split(".")) if found.group(5) and len(parts) == 3 else ()
        bounds += _semver_desugar(found.group(1) or "", parts, pre)
    return bounds


def _semver_bump(parts: list[int]) -> Version:
    """The lowest prerelease above every version that starts with ``parts`` (1.2 ->
    1.3.0-0), node-semver's upper bound."""
    major, minor, patch = _semver_full([*parts[:-1], parts[-1] + 1])
    return major, minor, patch, _LOWEST


def _semver_full(parts: list[int]) -> tuple[int, int, int]:
    """A partial version's parts with zeros for those left out (1.2 -> 1.2.0)."""
    padded = [*parts, 0, 0, 0]
    return padded[0], padded[1], padded[2]


def _semver_desugar(op: str, parts: list[int], pre: tuple[str, ...]) -> list[tuple[str, Version]]:
    """node-semver's meaning of ``op`` and a partial version ``parts`` (with its prerelease
    ``pre``) as plain comparisons."""
    major, minor, patch = _semver_full(parts)
    full = (major, minor, patch, pre)
    if not parts:  # *, x: any version, except below or above all of them
        return [("<", (0, 0, 0, _LOWEST))] if op in ("<", ">") else []
    if op in ("", "=") and len(parts) == 3:
        return [("=", full)]
    if op in ("", "=", "<=", ">") and len(parts) < 3:
        if op == ">":
            return [(">=", _semver_bump(parts)[:3] + ((),))]
        return ([] if op == "<=" else [(">=", full)]) + [("<", _semver_bump(parts))]
    if op == "<" and len(parts) < 3:
        return [("<", (major, minor, patch, _LOWEST))]
    if op in ("<", "<=", ">", ">="):
        return [(op, full)]
    if op.startswith("~"):
        return [(">=", full), ("<", _semver_bump(parts[:2]))]
    nonzero = next((i for i, n in enumerate(parts) if n), len(parts) - 1)  # ^0.2.3 keeps 0.2
    return [(">=", full), ("<", _semver_bump(parts[: nonzero + 1]))]


def _semver_key(version: Version) -> tuple[object, ...]:
    """A version's precedence as node-semver orders it: a prerelease before its release,
    identifiers compared numerically when numeric, numbers before words."""
    major, minor, patch, pre = version
    ids = tuple((0, decimal(i), "") if i.isdigit() else (1, 0, i) for i in pre)
    return major, minor, patch, (0, ids) if pre else (1, ())


def _semver_holds(have: Version, op: str, want: Version) -> bool:
    """One plain comparison of two full versions."""
    left, right = _semver_key(have), _semver_key(want)
    return {
        "=": left == right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def npm_lock_libc(packages: dict[str, Any]) -> str | None:
    """The first entry of a package-lock.json's ``packages`` map holding ``libc``, which npm
    before 11.11 does not write (npm/cli#8514, fixed by #9025 in 11.11.0: ``libc`` was
    missing from arborist's pkgMetaKeys), so its install drops the field and rewrites the
    lock (built with npm 10.8: a lock written by a newer npm, ten entries with ``libc``,
    84,561 bytes in the context, 84,155 in the image). Which npm a node image holds is not
    known from its tag, so such a lock is read as rewritten."""
    for path, entry in packages.items():
        if path and isinstance(entry, dict) and "libc" in entry:
            return path
    return None


def npm_lock_name(package: dict[str, Any], folder: str) -> str | None:
    """The name npm writes at the top of package-lock.json: package.json's, or where it has
    none the base name of the project folder (built with npm 10: a lock named "foo" under a
    package.json without a name was rewritten as "app" in /app, "my-proj" in /srv/my-proj).
    None when the folder is not known (a variable left in it, or /)."""
    name = package.get("name")
    if name:
        return str(name)
    base = posixpath.basename(posixpath.normpath(folder)) if folder.startswith("/") else ""
    return base if base and "$" not in folder else None


# json-parse-even-better-errors' format detection, which npm uses on package.json: the first
# line break (newline) and the next line's leading white space (indent).
_JSON_FORMAT = re.compile(r"\s*[{\[]((?:\r?\n)+)([ \t]*)")


def npm_lock_reformatted(lock: str, package: str) -> bool:
    """Whether npm install writes package-lock.json in another layout than ``lock``: npm
    writes it with package.json's indent and line break (two spaces and LF when package.json
    shows none) and one line break at the end. Built with npm 10: a lock indented by 4 under
    a package.json indented by 2, one with CRLF under an LF package.json (2,306 bytes became
    2,232), one without its last line break were rewritten; CRLF or tabs in both were kept.
    A lock on one line (no npm writes one) is not judged here."""
    found = _JSON_FORMAT.match(package.lstrip("\ufeff"))
    newline = (found.group(1) if found else "") or "\n"
    indent = (found.group(2) if found else "") or "  "
    lock = lock.lstrip("\ufeff")
    if "\n" not in lock.rstrip():  # one line: not npm's output, left to the other checks
        return False
    if not lock.startswith("{" + newline + indent + '"') or not lock.endswith("}" + newline):
        return True
    if lock.endswith(newline + newline):
        return True
    lines = lock.count("\n")
    return lock.count("\r\n") != (lines if newline == "\r\n" else 0)


# A RUN that may put another npm in the image: ``npm install -g npm@10``, ``npm i -g npm``.
_NPM_UPGRADE = re.compile(r"\bnpm@|\bnpm\b[^\n;&|]*[ \t]npm(?![\w@.-])")


def npm_keeps_v1_lock(image: str, tag: str | None, runs: list[str]) -> bool:
    """Whether the npm that runs keeps a lockfileVersion 1 package-lock.json as it is: npm 7
    and later rewrite it as version 3 ("npm warn old lockfile ... This is a one-time fix-up",
    built with npm 10: 347 bytes became 507), npm 6 keeps it. Only the node image with a tag
    whose major is 14 or less (npm 6) keeps it, when no earlier RUN (``runs``) installs
    another npm."""
    major = re.match(r"(\d+)(?:[.-]|$)", tag or "")
    if image != "node" or major is None or decimal(major.group(1)) > 14:
        return False
    return not any(_NPM_UPGRADE.search(text) for text in runs)


def yarn_version_set(argv: list[str]) -> str | None:
    """The yarn version spec a command makes later ``yarn`` calls run: ``corepack prepare
    yarn@4.1.1 --activate``, ``corepack install -g yarn@stable``, ``corepack use yarn@4``,
    ``yarn set version berry``, ``yarn policies set-version 1.22.19`` ("" for ``yarn`` with
    no version: corepack's default). None: no such command (``corepack prepare`` alone takes
    the project's ``packageManager``, which package.json shows)."""
    if not argv:
        return None
    program = posixpath.basename(argv[0])
    args = positionals(argv[1:], frozenset({"-o", "--output"}))
    if program == "corepack" and args[:1] in (["prepare"], ["install"], ["use"]):
        specs = [a for a in args[1:] if a.startswith("yarn@") or a == "yarn"]
        return specs[-1].partition("@")[2] if specs else None
    if program in ("yarn", "yarnpkg"):
        if args[:2] == ["set", "version"] and len(args) > 2:
            return args[2]
        if args[:2] == ["policies", "set-version"]:
            return args[2] if len(args) > 2 else "latest"
    return None


def yarn_classic_spec(spec: str) -> bool:
    """A yarn version spec that surely names yarn 1 (``1.22.19``, ``^1``, ``classic``); a
    variable, a tag (``stable``, ``berry``, ``latest``) or ``2`` and later do not."""
    return spec == "classic" or re.fullmatch(r"[~^=v]?1(?:\.[\dx*]+){0,2}", spec) is not None


# Where a tool's package cache may be set inside the project: (config file, its setting's
# pattern, the command-line option).
_PROJECT_CACHES = {
    "npm": (".npmrc", re.compile(r"(?m)^[ \t]*cache[ \t]*=[ \t]*[\"']?([^\"'\s#;]+)"), "--cache"),
    "pnpm": (
        ".npmrc",
        re.compile(r"(?m)^[ \t]*store-dir[ \t]*=[ \t]*[\"']?([^\"'\s#;]+)"),
        "--store-dir",
    ),
    "yarn": (
        ".yarnrc",
        re.compile(r"""(?m)^[ \t]*["']?(?:--)?cache-folder["']?[ \t]+["']?([^"'\s#]+)"""),
        "--cache-folder",
    ),
}


def project_cache(
    ctx: BuildContext, base: str, program: str, args: list[str], dest: str | None = None
) -> str | None:
    """The context path of the package cache an install of the project in ``base`` keeps
    inside the project, when the build context holds files there: yarn Berry's
    ``.yarn/cache`` (zero-installs) or ``.yarnrc.yml``'s ``cacheFolder``, or a relative
    ``--cache``/``--store-dir``/``--cache-folder`` (or the same setting in ``.npmrc`` or
    ``.yarnrc``: CI jobs keep ``.yarn-cache`` in the checkout). The install reads and fills
    it. ``dest``: where the project lands in the image, so that an absolute setting below it
    (``cache=/app/npm-cache``) names the project's folder too. None: no such files."""
    folders: list[str] = []
    if program == "yarn":
        rc = ctx.read_text(posixpath.join(base, ".yarnrc.yml") if base else ".yarnrc.yml")
        setting = (yarnrc_settings(rc) or {}).get("cacheFolder")
        folders.append(setting if isinstance(setting, str) and setting else ".yarn/cache")
    config, pattern, option = _PROJECT_CACHES.get(program, ("", None, ""))
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            folders.append(args[i + 1])
        elif option and arg.startswith(option + "="):
            folders.append(arg.partition("=")[2])
    text = ctx.read_text(posixpath.join(base, config) if base else config) if config else None
    folders += pattern.findall(text or "") if pattern is not None else []
    for folder in folders:
        if dest is not None and folder.startswith("/") and within(posixpath.normpath(folder), dest):
            folder = posixpath.relpath(posixpath.normpath(folder), dest)
        if folder.startswith(("/", "~", "$")):
            continue
        path = posixpath.normpath(posixpath.join(base, folder))
        if path.startswith("../") or path == "..":
            continue
        # exists: the context walk behind holds leaves out node_modules, where yarn 1's
        # cache keeps every package (v6/npm-ms-2.1.3-.../node_modules/ms)
        if ctx.holds(path) or ctx.exists(path):
            return path
    return None


# Project settings that put installed packages outside the project's ``node_modules``: pnpm's
# virtual store and modules folder (.npmrc; pnpm-workspace.yaml from pnpm 10), yarn 1's
# modules folder (.yarnrc), yarn Berry's pnpm-linker store; the YAML files' top-level keys.
_LAYOUT_SETTINGS: tuple[tuple[str, re.Pattern[str] | tuple[str, ...]], ...] = (
    (".npmrc", re.compile(r"(?m)^[ \t]*(virtual-store-dir|modules-dir)[ \t]*=[ \t]*(\S*)")),
    ("pnpm-workspace.yaml", ("virtualStoreDir", "modulesDir")),
    (".yarnrc", re.compile(r"(?m)^[ \t]*[\"']?(--(?:install\.)?modules-folder)[\"']?\s+(\S*)")),
    (".yarnrc.yml", ("pnpmStoreFolder",)),
)
LAYOUT_FLAGS = ("--virtual-store-dir", "--modules-dir", "--modules-folder")
LAYOUT_ENV = ("npm_config_virtual_store_dir", "npm_config_modules_dir")


def modules_elsewhere(ctx: BuildContext, base: str) -> str | None:
    """A setting of the project in ``base`` that puts installed packages outside its
    ``node_modules`` (``.npmrc virtual-store-dir=.pnpm-vs``: node_modules then holds only
    links into that folder), as ``"<file> <setting>=<value>"``; None: none. Unreadable for
    a settings file msdfix cannot read (it may set one); a YAML one that does not read as
    YAML (``load_yaml``) is said."""
    for name, keys in _LAYOUT_SETTINGS:
        text = ctx.read_known(posixpath.join(base, name) if base else name) or ""
        try:
            found = _settings_in(text, keys, strings=name == ".yarnrc.yml")
        except YamlError as exc:
            return f"{name}, which msdfix cannot read as YAML ({exc})"
        for key, value in found:
            inside = posixpath.normpath(value or ".").split("/")[0] == "node_modules"
            if not inside or key in ("modules-dir", "modulesDir"):
                if value.rstrip("/") != "node_modules":
                    return f"{name} {key}={value}"
    return None


def _settings_in(
    text: str, keys: re.Pattern[str] | tuple[str, ...], strings: bool
) -> list[tuple[str, str]]:
    """(setting, value) pairs of a settings file's text: the matches of a pattern (setting
    and value groups, quotes taken off), or the top-level ``keys`` of a YAML mapping
    (``strings``: each scalar a string); YamlError for YAML that does not read."""
    if isinstance(keys, re.Pattern):
        return [(m.group(1), m.group(2).strip("\"'")) for m in keys.finditer(text)]
    data = load_yaml(text, strings=strings)
    data = data if isinstance(data, dict) else {}
    return [(key, "" if data[key] is None else str(data[key])) for key in keys if key in data]


@lru_cache(maxsize=64)  # one file is asked about by several rules: parsed once (read-only)
def yarnrc_settings(rc: str | None) -> dict[str, Any] | None:
    """A ``.yarnrc.yml`` text's settings as Yarn reads them, each scalar a string (Yarn reads
    it with js-yaml's failsafe schema: ``enableGlobalCache: false`` is "false"); {} for no
    text; None when it does not read as YAML (``load_yaml``) or is not a mapping. Callers
    only read the mapping, which is shared between them."""
    try:
        data = load_yaml(rc or "", strings=True)
    except YamlError:
        return None
    if data is None or data == "":
        return {}
    return data if isinstance(data, dict) else None


# yarn Berry's linker setting as a RUN may name it: ``YARN_NODE_LINKER``, ``yarn config set
# nodeLinker pnp``, a line written into .yarnrc.yml.
NODE_LINKER_SETTING = re.compile(r"node[-_]?linker", re.IGNORECASE)


def plug_n_play(rc: str | None, env: Mapping[str, str | None] | None = None) -> bool:
    """Yarn Berry's linker, given its ``.yarnrc.yml`` and the install's environment, is
    Plug'n'Play: no node_modules unless ``nodeLinker`` is ``node-modules`` or ``pnpm``; a file
    that does not read as YAML, not known otherwise. ``YARN_NODE_LINKER`` in ``env`` overrides
    the file, and one a build argument may set (None) is not known (built, yarn 4.5.0:
    ``ENV YARN_NODE_LINKER=pnp`` over ``nodeLinker: node-modules`` made no node_modules)."""
    if env and "YARN_NODE_LINKER" in env:
        return env["YARN_NODE_LINKER"] not in ("node-modules", "pnpm")
    settings = yarnrc_settings(rc)
    return settings is None or settings.get("nodeLinker") not in ("node-modules", "pnpm")


def berry_cache_kept(
    rc: str, major: int = 0, env: Mapping[str, str | None] | None = None
) -> str | None:
    """Why Yarn Berry, given its ``.yarnrc.yml`` text, the major version the project pins
    (``major``, 0 when unknown) and the install's environment (``env``: ``YARN_*`` settings
    override the file), keeps its download cache in the image whatever cache mount the RUN
    has, or None where ``~/.yarn/berry/cache`` (a cache mount's target) holds what it
    downloads (Yarn 4's global cache; before 4 the global mirror, with a copy in .yarn/cache:
    built, yarn 3.8.5, the mounted rewrite 1.8 MB smaller): Plug'n'Play loads packages from
    the cache at run time, ``cacheFolder`` moves it, ``enableGlobalCache: false`` (written
    out) keeps it in ``.yarn/cache``, where cache-mount leaves it, and ``enableMirror:
    false`` leaves the global mirror empty where the global cache is off (yarn 3.8.5 with
    it: the copied manifests made the mounted rewrite 1,092 bytes larger)."""
    env = env or {}
    if plug_n_play(rc, env):
        return "Plug'n'Play loads packages from its cache at run time"
    settings = yarnrc_settings(rc) or {}
    if "cacheFolder" in settings:
        return ".yarnrc.yml's cacheFolder keeps its cache in a folder it names"
    if berry_global_cache_off(rc, {}):  # the file's: cache-mount leaves the RUN alone
        return "enableGlobalCache: false keeps its cache in the project's .yarn/cache"
    mirror = _berry_flag(rc, env, "enableMirror", "YARN_ENABLE_MIRROR")
    unknown = mirror is None and "YARN_ENABLE_MIRROR" in env  # a build argument may say false
    if (mirror is False or unknown) and not _berry_global_cache(rc, major, env):
        said = "enableMirror: false"
        if "YARN_ENABLE_MIRROR" in env:
            said = f"YARN_ENABLE_MIRROR={env['YARN_ENABLE_MIRROR'] or '(a build argument)'}"
        return (
            f"{said} leaves the global mirror empty where the global cache is off (the "
            "default before yarn 4): its cache stays in the project's .yarn/cache"
        )
    return None


def berry_global_cache_off(rc: str, env: Mapping[str, str | None]) -> bool:
    """Yarn Berry keeps its cache in the project's ``.yarn/cache``: ``enableGlobalCache`` (or
    ``YARN_ENABLE_GLOBAL_CACHE``, which overrides it) is ``false`` or ``0`` (built, yarn 4.5.0:
    ``enableGlobalCache: 0`` read as false, the zips in .yarn/cache, a Plug'n'Play split
    answered from them; so did one with ``ENV YARN_ENABLE_GLOBAL_CACHE=0``). yarn still
    fills its global mirror then (built: a mount over it offset copied manifests)."""
    return _berry_flag(rc, env, "enableGlobalCache", "YARN_ENABLE_GLOBAL_CACHE") is False


def _berry_global_cache(rc: str, major: int, env: Mapping[str, str | None]) -> bool:
    """True when Yarn Berry is known to use its global cache (``~/.yarn/berry/cache``):
    ``enableGlobalCache`` true, or unset with a pinned yarn 4+ (its default)."""
    flag = _berry_flag(rc, env, "enableGlobalCache", "YARN_ENABLE_GLOBAL_CACHE")
    return flag is True or (flag is None and "YARN_ENABLE_GLOBAL_CACHE" not in env and major >= 4)


def _berry_flag(rc: str, env: Mapping[str, str | None], key: str, variable: str) -> bool | None:
    """A boolean Yarn Berry setting: the environment's ``variable`` (it overrides the file,
    unknown where a build argument sets it), else ``key`` in ``.yarnrc.yml``; None when
    unset or unknown. Yarn reads ``true``/``1`` and ``false``/``0``."""
    if variable in env:
        value = env[variable]
    else:
        value = (yarnrc_settings(rc) or {}).get(key)
    if not isinstance(value, str):
        return None
    return {"true": True, "1": True, "false": False, "0": False}.get(value.strip("\"'").lower())


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


def pnpm_frozen(args: Sequence[str]) -> bool:
    """pnpm's install is frozen by its arguments: the last of ``--frozen-lockfile``, ``=true``
    or ``=false`` and ``--no-frozen-lockfile`` turns it on (built, pnpm 8.15.9, 9 and 10 over
    a stale lock: ``--frozen-lockfile=true`` failed ERR_PNPM_OUTDATED_LOCKFILE as the bare
    flag does). ``CI=true``, pnpm's frozen default, does not count: pnpm 10 under it rewrote
    pnpm 8's 6.0 lock, where ``--frozen-lockfile`` failed (built)."""
    on = False
    for arg in args:
        if arg in ("--frozen-lockfile", "--frozen-lockfile=true"):
            on = True
        elif arg in ("--no-frozen-lockfile", "--frozen-lockfile=false"):
            on = False
    return on


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


# What yarn 2+'s install writes into ``.yarn/``: the package cache (``enableGlobalCache:
# false``), the unplugged packages of Plug'n'Play, the install state and yarn 2's build state.
BERRY_OUTPUTS = frozenset({"cache", "unplugged", "install-state.gz", "build-state.yml"})


def berry_folder_entries(ctx: BuildContext, folder: str) -> list[str] | None:
    """The entries of a yarn 2+ ``.yarn/`` folder in the context that its install only reads
    (``releases``, ``plugins``, ``patches``, ...), as context paths; None when the context
    holds something the install writes there (``BERRY_OUTPUTS``: the install would see it,
    and the full COPY after it would put the context's copy over the install's)."""
    root = folder.rstrip("/")
    names = {f[len(root) + 1 :].split("/")[0] for f in ctx.view.under(root) if f != root}
    if names & BERRY_OUTPUTS:
        return None
    return [posixpath.join(root, name) for name in sorted(names)]


# Programs that run package.json scripts (``npm run build``, ``yarn build``), each with the
# subcommands it runs itself even when a script has that name.
SCRIPT_RUNNERS: dict[str, frozenset[str]] = {
    "npm": frozenset(),
    "yarn": frozenset(),
    "yarnpkg": frozenset(),
    "pnpm": frozenset(),
    "bun": frozenset(
        "install i add remove rm update outdated link unlink pm x build test init create upgrade "
        "exec publish patch why audit info".split()
    ),
}


def _runner_value_options(program: str) -> frozenset[str]:
    """The options of a script runner that take the next word as their value (``--prefix``,
    ``--loglevel``, ``--cwd``, ``--filter``), from its package managers' ``value_options``."""
    name = "yarn" if program == "yarnpkg" else program
    return frozenset(o for m in MANAGERS if name in m.programs for o in m.value_options)


# Options that make a runner run the script of another package.json (npm's --prefix and
# --workspace, yarn's and bun's --cwd, pnpm's --dir and --filter).
PACKAGE_DIR_OPTIONS = frozenset(
    "--prefix -C --workspace -w --cwd --dir --filter -F".split()
)  # fmt: skip


def other_package(argv: list[str]) -> str | None:
    """The option and value with which a runner call runs the script of another package
    (``npm --prefix server start`` -> ``--prefix server``), whose package.json msdfix does
    not read for it; None for the context's own (no such option, or ``.``)."""
    program = posixpath.basename(argv[0]) if argv else ""
    options = _runner_value_options(program) & PACKAGE_DIR_OPTIONS
    for i, arg in enumerate(argv[1:], 1):
        option, eq, value = arg.partition("=")
        if option not in options:
            continue
        value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if value.rstrip("/") not in ("", "."):
            return f"{option} {value}"
    return None


def script_name(argv: list[str]) -> str | None:
    """The package.json script a runner call names (``npm run build`` -> build), or None. An
    option's value is no script: ``npm --loglevel warn start`` runs start (built: read as a
    script ``warn``, the start script's dev dependency went unseen and the split's runtime
    failed with ``nodemon: not found``)."""
    program = posixpath.basename(argv[0]) if argv else ""
    builtins = SCRIPT_RUNNERS.get(program)
    words = positionals(argv[1:], _runner_value_options(program))
    if builtins is None or not words:
        return None
    if words[0] in ("run", "run-script"):
        return words[1] if len(words) > 1 else words[0]
    return None if words[0] in builtins else words[0]


# Runners that run a dependency's program (node_modules/.bin) when a name is neither one of
# their commands nor a script: yarn ("yarn run <bin>", and `yarn <bin>` as its shorthand),
# pnpm ("the exec part is optional when the command is not in conflict with a builtin pnpm
# command": `pnpm jest`) and bun (`bun run <bin>`); npm only runs scripts. Their commands
# (yarn 1 and 2+, pnpm, bun), from each CLI's documented command list.
_RUNNER_COMMANDS: dict[str, frozenset[str]] = {
    "yarn": frozenset(
        """access add audit autoclean bin cache check config constraints create dedupe dlx
        exec explain generate-lock-entry global help import info init install licenses link
        list login logout node npm outdated owner pack patch patch-commit plugin policies
        publish rebuild remove run search set stage tag team test unlink unplug up upgrade
        upgrade-interactive version versions why workspace workspaces""".split()
    ),
    "pnpm": frozenset(
        """add approve-builds audit bin c cache config create dedupe deploy dlx doctor env exec
        fetch i ignored-builds import init install install-test it licenses link list ls
        outdated pack patch patch-commit patch-remove prune publish rb rebuild recursive remove
        rm root run server setup start store test un uninstall unlink up update why""".split()
    ),
    "bun": frozenset(
        """add build create exec i init install link outdated patch pm publish remove rm run
        test unlink update upgrade why x""".split()
    ),
}
_RUNNER_COMMANDS["yarnpkg"] = _RUNNER_COMMANDS["yarn"]


def runner_program(argv: list[str], package: dict[str, object]) -> list[str] | None:
    """The dependency program a runner call runs, with its arguments, when it names neither
    one of the runner's commands nor a script (``yarn sequelize db:migrate`` -> ``sequelize
    db:migrate``; ``yarn run knex``), or None."""
    commands = _RUNNER_COMMANDS.get(posixpath.basename(argv[0])) if argv else None
    name = script_name(argv)
    scripts = package.get("scripts")
    if commands is None or name is None or name in commands or name not in argv:
        return None
    if isinstance(scripts, dict) and name in scripts:
        return None
    return argv[argv.index(name) :]


def script_bodies(argv: list[str], package: dict[str, object]) -> list[str]:
    """The package.json scripts a runner call runs, in order: ``preX``, ``X`` and ``postX``,
    as npm and yarn 1 run them (``npm start`` runs prestart, start, poststart); [] when it
    names no script."""
    scripts = package.get("scripts")
    name = script_name(argv) or ("start" if argv[1:2] == ["start"] else None)
    if name is None or not isinstance(scripts, dict):
        return []
    hooks = (scripts.get(f"pre{name}"), scripts.get(name), scripts.get(f"post{name}"))
    return [body for body in hooks if isinstance(body, str)]


# Variables that name a configuration file an install reads (npm honours both spellings).
NPM_CONFIG_FILE_ENV = (
    "NPM_CONFIG_USERCONFIG", "npm_config_userconfig", "NPM_CONFIG_GLOBALCONFIG",
    "npm_config_globalconfig",
)  # fmt: skip
YARN_CONFIG_FILE_ENV = ("YARN_RC_FILENAME",)
# Variables naming a folder or file an install reads: npm's (and pnpm's) cache, store and CA
# file (npm reads npm_config_* in any case), yarn's cache folder and offline mirror (yarn 1
# reads YARN_<KEY> as the key, Berry YARN_CACHE_FOLDER).
NPM_PATH_ENV = ("NPM_CONFIG_CAFILE", "npm_config_cafile")
YARN_PATH_ENV = ("YARN_YARN_OFFLINE_MIRROR", "YARN_CAFILE")
# Variables naming the download cache (NODE_CACHE_KEYS'): the folder counts when the build
# context holds it (an empty one the install only fills reads nothing).
NODE_CACHE_ENV = (
    "NPM_CONFIG_CACHE", "npm_config_cache", "NPM_CONFIG_STORE_DIR", "npm_config_store_dir",
    "YARN_CACHE_FOLDER",
)  # fmt: skip
# node options that load a file before the program runs: with NODE_OPTIONS they apply to npm,
# yarn, pnpm and every install script, which then read that file from the image.
_NODE_LOADS = ("--require", "-r", "--import", "--loader", "--experimental-loader", "--env-file")


def node_options_files(value: str) -> list[str]:
    """The paths a NODE_OPTIONS value makes node load (``--require ./tracing.js``,
    ``--env-file=.env``); module names (``--require dd-trace/init``) are not paths."""
    words, found = value.split(), []
    for i, word in enumerate(words):
        option, eq, arg = word.partition("=")
        if option not in _NODE_LOADS:
            continue
        path = arg if eq else (words[i + 1] if i + 1 < len(words) else "")
        path = path.strip("\"'")
        if path.startswith(("/", "./", "../")) or option == "--env-file" and path:
            found.append(path)
    return found


# npm lifecycle scripts that run on a plain ``npm install`` / ``npm ci`` of the project.
NPM_LIFECYCLE = (
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "prepublish",
    "preprepare",
    "postprepare",
)


def lifecycle_hooks(package: dict[str, object], context: BuildContext, rel: str) -> list[str]:
    """The lifecycle scripts an install of the project in ``rel`` runs: package.json's, and
    npm's default ``install: node-gyp rebuild`` when the project has a binding.gyp and no
    install or preinstall script of its own (it writes ``build/`` next to package.json)."""
    scripts = package.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    hooks = [s for s in NPM_LIFECYCLE if s in scripts]
    gyp = posixpath.join(rel, "binding.gyp") if rel not in ("", ".") else "binding.gyp"
    if "install" not in scripts and "preinstall" not in scripts and context.exists(gyp):
        hooks.append("npm's default install script (node-gyp rebuild of binding.gyp)")
    return hooks


def dev_flagged_peer(lock: object) -> str | None:
    """``"<peer>, a peer of <package>"`` for a production package of an npm lock (v2+) whose
    required peer resolves to an entry the lock flags dev, or None.

    npm flags what only dev dependencies reach; with ``legacy-peer-deps`` it ignores peer
    edges, so such a peer is flagged dev and ``npm ci --omit=dev`` removes it (the package
    then fails to load it: ``Cannot find module 'graphql'``)."""
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return "the lock lists no packages"
    for key, meta in packages.items():
        if not key or not isinstance(meta, dict) or meta.get("dev") or meta.get("devOptional"):
            continue
        peers = meta.get("peerDependencies")
        optional = meta.get("peerDependenciesMeta")
        optional = optional if isinstance(optional, dict) else {}
        for peer in peers if isinstance(peers, dict) else {}:
            meta = optional.get(peer)  # npm writes an object; anything else marks nothing
            if isinstance(meta, dict) and meta.get("optional"):
                continue
            entry = _resolve_locked(packages, key, peer)
            if isinstance(entry, dict) and (entry.get("dev") or entry.get("devOptional")):
                return f"{peer}, a peer of {key.rsplit('node_modules/', 1)[-1]}"
    return None


def _resolve_locked(packages: dict[str, Any], key: str, name: str) -> object:
    """The lock entry node's resolution finds for ``name`` required from package ``key``."""
    base = key
    while True:
        found = packages.get(f"{base}/node_modules/{name}" if base else f"node_modules/{name}")
        if found is not None or not base:
            return found
        cut = base.rfind("/node_modules/")
        base = base[:cut] if cut >= 0 else ""


def dependency_config(
    context: BuildContext, rel: str, deps: NodeDependencies | None, manifests: tuple[str, ...]
) -> str | None:
    """A file or folder of the project in ``rel`` named for a dependency whose install may run
    a script (``.puppeteerrc.cjs``, ``puppeteer.config.js``, ``.huskyrc``, ``prisma/``), as
    ``"<path> (read by <package>'s install script)"``, or None.

    npm, yarn and pnpm run the install scripts of dependencies too, with INIT_CWD at the
    project, and such scripts look their configuration up there (cosmiconfig's
    ``.<name>rc*``, ``<name>.config.*``, ``.config/<name>rc*``; Prisma's ``prisma/`` schema):
    an install that sees only the manifests does something else (puppeteer downloads Chrome
    that ``skipDownload`` turned off). The packages are those an npm lock v2+ marks
    ``hasInstallScript``; without one, every direct dependency (which run scripts is unknown).
    """
    if deps is None:
        return None
    names = deps.install_scripts if deps.scripts_known else {*deps.production, *deps.dev}
    stems: dict[str, str] = {}
    for name in sorted(names):
        scope, _, bare = name.rpartition("/")
        keys = (_stem(scope), _stem(scope + bare)) if scope.startswith("@") else (_stem(bare),)
        for key in keys:
            if len(key) > 2:
                stems.setdefault(key, name)
    if not stems:
        return None
    prefix = "" if rel in ("", ".") else rel + "/"
    seen: set[str] = set()
    for path in context.view.under(rel if prefix else "."):
        parts = path[len(prefix) :].split("/")
        entries = [parts[0]] + (parts[1:2] if parts[0] == ".config" and len(parts) > 1 else [])
        for depth, entry in enumerate(entries):
            shown = prefix + "/".join(parts[: depth + 1])
            if shown in seen or (depth == 0 and entry in manifests):
                continue
            seen.add(shown)
            key = _stem(entry.lstrip(".").split(".")[0])
            found = stems.get(key) or (stems.get(key[:-2]) if key.endswith("rc") else None)
            if found is not None:
                return f"{shown} (read by {found}'s install script)"
    return None


def _stem(name: str) -> str:
    """``name`` lower-cased with everything but letters and digits left out."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("node",)


# ---------------------------------------------------------------- frontends and static servers

# Programs of a JavaScript frontend build run inside another ecosystem's stage.
FRONTEND_TOOLS = frozenset({"npm", "npx", "yarn", "yarnpkg", "pnpm", "corepack"})
# OS packages that only provide the frontend toolchain (not needed once it has its own stage).
FRONTEND_PACKAGES = frozenset({"nodejs", "npm", "yarn", "yarnpkg", "node-gyp"})
# Major version of the distribution's ``nodejs`` package.
DEBIAN_NODEJS = {"buster": "10", "bullseye": "12", "bookworm": "18", "trixie": "20"}
ALPINE_NODEJS = {"3.16": "16", "3.17": "18", "3.18": "18", "3.19": "20", "3.20": "20", "3.21": "22"}
DEFAULT_NODE_MAJOR = "18"

# Packages whose programs the node images ship outside npm's global folder: docker-node
# installs yarn 1 in /opt with links /usr/local/bin/yarn and yarnpkg, so `npm install -g yarn`
# there stops with EEXIST (built for real on node:18-slim).
NODE_IMAGE_PACKAGES = frozenset({"yarn"})

NGINX_RUNTIME = "nginx:1.25-alpine"
NGINX_HTML = "/usr/share/nginx/html"
NGINX_PORT = "80"


def frontend_node(tag: str | None, ecosystem: str) -> tuple[str, str | None]:
    """(node image with the Node major the stage's OS packages install, where it comes from).

    The second item names the distribution release whose ``nodejs`` package has that major
    (``Debian bookworm``); None when the release is unknown and the default major is a guess.
    """
    alpine = alpine_version(tag)
    if alpine is not None:
        major = ALPINE_NODEJS.get(alpine)
        exact = bool(major) and re.search(r"alpine3\.\d+", tag or "") is not None
        return f"node:{major or DEFAULT_NODE_MAJOR}-alpine", f"Alpine {alpine}" if exact else None
    release = golang_release(tag) if ecosystem == "go" else debian_codename(tag)
    major = DEBIAN_NODEJS.get(release or "")
    return f"node:{major or DEFAULT_NODE_MAJOR}-slim", f"Debian {release}" if major else None


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = (
    "node",
    "npm",
    "yarn",
    "pnpm",
    "npx",
    "bun",
    "ts-node",
    "tsx",
    "deno",
)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("oven/bun",)


# ---------------------------------------------------------------- the project's dependencies


@dataclass(frozen=True)
class NodeDependencies:
    """What a project's package.json and lock files say about the packages an install brings."""

    production: dict[str, object]  # dependencies and optionalDependencies: name -> spec
    dev: dict[str, object]  # devDependencies
    locked: frozenset[str] = frozenset()  # every package a lock file names
    locked_git: tuple[str, ...] = ()  # packages a lock file resolves from git
    # Packages whose install runs a script, complete only when ``scripts_known`` (an npm
    # lock file v2+ marks them with hasInstallScript).
    install_scripts: frozenset[str] = frozenset()
    scripts_known: bool = False
    unknown: str | None = None  # why the lock files' package list cannot be read
    # Packages an npm lock file installs at the top of node_modules for production (not
    # "dev"): what ``npm ci --omit=dev`` leaves a bare require() to find. None: no npm lock.
    hoisted: frozenset[str] | None = None
    # Programs such a production package links into node_modules/.bin (an npm lock file v2+
    # records each package's ``bin``): ``sirv`` is sirv-cli's, not a package named sirv.
    production_bins: frozenset[str] = frozenset()

    @property
    def names(self) -> set[str]:
        """Every package the install may bring: direct ones and the locked ones."""
        return {*self.production, *self.dev, *self.locked}


# A yarn.lock / pnpm-lock.yaml entry: ``"name@range":``, ``/name@1.0.0:``, ``name@1.0.0:``.
# [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines below and back
# (quadratic in a run of them); the entry's own line gives the same name.
_LOCK_ENTRY = re.compile(r'^[^\S\n]*"?/?((?:@[\w.-]+/)?[\w.-]+)@', re.M)


def read_dependencies(context: BuildContext, rel_dir: str = "") -> NodeDependencies | None:
    """The dependencies of the project in context directory ``rel_dir`` ('' is the root), from
    package.json and every lock file there; None when package.json is unreadable."""

    def path(name: str) -> str:
        return posixpath.join(rel_dir, name) if rel_dir else name

    package = context.read_json(path("package.json"))
    if not isinstance(package, dict):
        return None
    production: dict[str, object] = {}
    for key in ("dependencies", "optionalDependencies"):
        if isinstance(package.get(key), dict):
            production.update(package[key])
    dev = package.get("devDependencies")
    locked: set[str] = set()
    git: list[str] = []
    scripts: set[str] = set()
    known = False
    unknown: str | None = None
    hoisted: set[str] | None = None
    bins: set[str] = set()
    for name in ("package-lock.json", "npm-shrinkwrap.json"):
        lock = context.read_json(path(name))
        packages = lock.get("packages") if isinstance(lock, dict) else None
        if isinstance(packages, dict):
            known = True
            hoisted = set() if hoisted is None else hoisted
            for key, meta in packages.items():
                if not key or not isinstance(meta, dict):
                    continue
                dep = key.rsplit("node_modules/", 1)[-1]
                locked.add(dep)
                if (
                    key == f"node_modules/{dep}"
                    and not meta.get("dev")
                    and not meta.get("devOptional")
                ):
                    hoisted.add(dep)
                    if isinstance(meta.get("bin"), dict):
                        bins.update(b for b in meta["bin"] if isinstance(b, str))
                if meta.get("hasInstallScript"):
                    scripts.add(dep)
                resolved = meta.get("resolved")
                if isinstance(resolved, str) and resolved.startswith(("git+", "git:", "github:")):
                    git.append(dep)
        elif isinstance(lock, dict) and isinstance(lock.get("dependencies"), dict):
            locked |= _v1_names(lock["dependencies"])
            hoisted = (hoisted or set()) | {
                n
                for n, meta in lock["dependencies"].items()
                if isinstance(meta, dict) and not meta.get("dev")
            }
        elif not isinstance(lock, dict) and context.exists(path(name)):
            unknown = f"{name} unreadable (not JSON, or over 1 MiB)"
    for name in ("yarn.lock", "pnpm-lock.yaml"):
        text = context.read_text(path(name))
        if text is None and context.exists(path(name)):
            unknown = f"{name} unreadable (over 1 MiB)"
        locked.update(_LOCK_ENTRY.findall(text or ""))
    bun = context.read_text(path("bun.lock"))
    if bun is not None:
        found = _bun_names(bun)
        if found is None:
            unknown = "bun.lock unreadable"
        else:
            locked |= found
    elif context.exists(path("bun.lockb")):
        unknown = "bun.lockb is binary"
    return NodeDependencies(
        production,
        dict(dev) if isinstance(dev, dict) else {},
        frozenset(locked),
        tuple(git),
        frozenset(scripts),
        known,
        unknown,
        frozenset(hoisted) if hoisted is not None else None,
        frozenset(bins),
    )


# Modules every Node has (``require('fs')``, ``node:fs``): no install brings them.
BUILTIN_MODULES = frozenset(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys test timers
    tls trace_events tty url util v8 vm wasi worker_threads zlib""".split()
)


def _v1_names(dependencies: dict[str, object]) -> set[str]:
    """Package names of an npm lock file v1 ``dependencies`` tree."""
    names = set()
    for name, meta in dependencies.items():
        names.add(name)
        nested = meta.get("dependencies") if isinstance(meta, dict) else None
        if isinstance(nested, dict):
            names |= _v1_names(nested)
    return names


def _bun_names(text: str) -> set[str] | None:
    """Package names of a text bun.lock (JSON with trailing commas), or None."""
    try:
        data = json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict):
        return None
    names = set()
    for key, entry in packages.items():
        spec = entry[0] if isinstance(entry, list) and entry else None
        name = spec.rsplit("@", 1)[0] if isinstance(spec, str) and "@" in spec[1:] else None
        names.add(name or key.rsplit("/", 1)[-1])
    return names


# Settings of .yarnrc/.npmrc/.yarnrc.yml naming a file or folder an install reads: an offline
# mirror, yarn's own release, a CA file, another configuration.
NODE_PATH_KEYS = (
    "yarn-offline-mirror", "offline-mirror", "yarnPath", "cafile", "userconfig", "globalconfig",
)  # fmt: skip
# The download cache an offline install resolves from (npm's ``cache``, yarn 1's
# ``cache-folder``, Berry's ``cacheFolder``, pnpm's ``store-dir``): a user or global
# configuration, variable or option naming a folder of the copied tree that the build context
# holds reads the tree (a project's relative cache is project_cache's).
NODE_CACHE_KEYS = ("cache", "cache-folder", "cacheFolder", "store-dir")


def _setting_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A ``key=value``, ``key: value`` or ``key value`` line of these keys."""
    names = "|".join(keys)
    return re.compile(rf"(?m)^[ \t]*({names})(?:[ \t]*[:=][ \t]*|[ \t]+)[\"']?([^\"'\s]+)")


def path_options(
    args: list[str], keys: tuple[str, ...] = NODE_PATH_KEYS + NODE_CACHE_KEYS
) -> list[tuple[str, str]]:
    """(option, value) of each command-line option naming a path setting (``--cache
    /app/npm-cache``, ``--cache-folder=./ycache``): npm, yarn and pnpm take every setting as
    an option. ``keys``: the settings asked about (uv's ``cache-dir``)."""
    names = {f"--{k}" for k in keys}
    found = []
    for at, arg in enumerate(args):
        option, eq, value = arg.partition("=")
        if option in names and (eq or at + 1 < len(args)):
            found.append((option, value if eq else args[at + 1]))
    return found


def path_settings(scope: dict[str, str | None], args: list[str]) -> list[tuple[str, str, bool]]:
    """(``VAR=``/``--option ``, value, names the download cache) of each variable of the
    install's scope and each option of its arguments that names a path an install reads."""
    found = [(f"{o} ", v, o[2:] in NODE_CACHE_KEYS) for o, v in path_options(args)]
    for var in NPM_PATH_ENV + YARN_PATH_ENV + NODE_CACHE_ENV:
        value = scope.get(var)
        found += [(f"{var}=", value, var in NODE_CACHE_ENV)] if value else []
    return found


# Settings of .yarnrc/.npmrc/.yarnrc.yml that make an install read files of the project.
LOCAL_CONFIG = _setting_pattern(NODE_PATH_KEYS)
# The same in a configuration a COPY/ADD brings to the user's or the system's place.
COPIED_CONFIG = _setting_pattern(NODE_PATH_KEYS + NODE_CACHE_KEYS)


_LOCAL_PREFIXES = ("file:", "link:", "workspace:", "portal:", "patch:", ".", "~/", "/")
_DEPENDENCY_TABLES = (
    "dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
    "resolutions", "overrides",
)  # fmt: skip


def is_local_spec(spec: str) -> bool:
    """A dependency specifier that installs the project's own files, as npm-package-arg reads
    it: a path (``./vendor/x.tgz``, ``../lib``), a tarball file, or a ``file:``/``link:``/
    ``workspace:``/``portal:``/``patch:`` protocol."""
    if "://" in spec and not spec.startswith(("file:", "link:")):  # file:///app/x.tgz is local
        return False
    return spec.startswith(_LOCAL_PREFIXES) or spec.endswith((".tgz", ".tar.gz", ".tar"))


def local_dependency(package: dict[str, object]) -> tuple[str, str] | None:
    """(name, spec) of the first dependency package.json installs from the project's own
    files (the manifests alone do not install it), or None."""
    return next(local_dependencies(package), None)


def local_dependencies(package: dict[str, object]) -> Iterator[tuple[str, str]]:
    """(name, spec) of every dependency package.json installs from the project's own files.
    Override tables are read to the bottom: npm's nested ``overrides`` (``{"express": {"qs":
    ...}}``, ``{"qs": {".": ...}}``), ``pnpm.overrides`` and the dependency tables of
    ``pnpm.packageExtensions``; the name of a nested one is its path (``express > qs``)."""
    pnpm = package.get("pnpm")
    tables = [package.get(key) for key in _DEPENDENCY_TABLES]
    if isinstance(pnpm, dict):
        tables += [pnpm.get("overrides"), pnpm.get("packageExtensions")]
    for table in tables:
        todo: list[tuple[str, object]] = [("", table)]
        while todo:
            name, value = todo.pop(0)
            if isinstance(value, str) and is_local_spec(value):
                yield name, value
            for key, inner in value.items() if isinstance(value, dict) else []:
                todo.append((name if key == "." else f"{name} > {key}" if name else key, inner))


def local_spec_path(spec: str) -> str | None:
    """The project-relative path a local specifier names (``file:../shared`` -> ``../shared``,
    ``./vendor/x.tgz``); None when it names none a folder alone resolves (``workspace:*``
    comes from the workspace root, ``~/`` from the home, ``patch:`` from its own spec)."""
    protocol, colon, rest = spec.partition(":")
    if not colon or len(protocol) < 2:  # a bare path (a Windows drive letter is no protocol)
        rest = spec
    elif protocol not in ("file", "link", "portal"):
        return None
    rest = rest.removeprefix("//") if rest.startswith("///") else rest
    return None if rest.startswith("~") else rest


# A top-level ``patchedDependencies:`` key of pnpm-workspace.yaml (pnpm 10 reads its settings
# there) or pnpm-lock.yaml (pnpm records the patches it applied).
_PATCHED_KEY = re.compile(r"^patchedDependencies[ \t]*:", re.M)


def patched_dependencies(ctx: BuildContext, base: str, package: dict[str, object]) -> str | None:
    """Where the project in ``base`` declares patched dependencies, whose patch files the
    install reads from the project (pnpm, bun; yarn's ``patch:`` specifiers are local specs):
    package.json ``pnpm.patchedDependencies`` or ``patchedDependencies``, pnpm-workspace.yaml's
    or pnpm-lock.yaml's ``patchedDependencies:`` key (pnpm 10 failed with ENOENT on the patch
    when the manifests came without it). None: none declared."""
    pnpm = package.get("pnpm")
    if isinstance(pnpm, dict) and pnpm.get("patchedDependencies"):
        return "package.json pnpm.patchedDependencies"
    if package.get("patchedDependencies"):
        return "package.json patchedDependencies"
    for name in ("pnpm-workspace.yaml", "pnpm-lock.yaml"):
        path = posixpath.join(base, name) if base not in ("", ".") else name
        if not ctx.exists(path):
            continue
        try:
            if _declares_patches(ctx, path):
                return f"{name} patchedDependencies"
        except (OSError, Unreadable, YamlError):  # unread: its patches are unknown, not absent
            return f"{name} (unreadable, may declare patchedDependencies)"
    return None


def _declares_patches(ctx: BuildContext, path: str) -> bool:
    """True when the pnpm file at ``path`` has a top-level ``patchedDependencies`` key:
    pnpm-workspace.yaml read as YAML (flow style too), pnpm-lock.yaml (up to 64 MiB, written
    in block style by pnpm) line by line. OSError, Unreadable or YamlError: not read."""
    if posixpath.basename(path) == "pnpm-lock.yaml":
        return ctx.find_line(path, _PATCHED_KEY) is not None
    data = load_yaml(ctx.read_known(path) or "")
    return isinstance(data, dict) and "patchedDependencies" in data


MAX_LOCAL_PACKAGES = 200


def local_package_names(context: BuildContext, rel_dir: str) -> set[str] | None:
    """Names of the dependencies that the project's own packages declare: workspace members
    (package.json ``workspaces``, pnpm-workspace.yaml) and path dependencies (``file:../lib``),
    followed through theirs. An install brings them without the root package.json naming
    them (npm installs a member's simple-git). None when more than MAX_LOCAL_PACKAGES, or
    when a pnpm-workspace.yaml does not read as YAML (its members unknown)."""
    seen: set[str] = set()
    names: set[str] = set()
    todo = [rel_dir]
    while todo:
        item = todo.pop()
        here = posixpath.normpath(item) if item else ""
        here = "" if here == "." else here
        if here in seen or here.startswith("../"):
            continue
        seen.add(here)
        if len(seen) > MAX_LOCAL_PACKAGES:
            return None
        package = context.read_json(posixpath.join(here, "package.json"))
        if not isinstance(package, dict):
            continue
        for key in ("dependencies", "optionalDependencies"):
            table = package.get(key)
            for name, spec in table.items() if isinstance(table, dict) else []:
                if isinstance(spec, str) and is_local_spec(spec) and "://" not in spec:
                    path = spec.split(":", 1)[1] if ":" in spec[:9] else spec
                    todo.append(posixpath.join(here, path))
                elif here != rel_dir:
                    names.add(name)
        members = _members(context, here, package)
        if members is None:
            return None
        todo += [m.removesuffix("/package.json") for m in members]
    return names


def _members(context: BuildContext, here: str, package: dict[str, object]) -> list[str] | None:
    """package.json files of the workspace members of the project in ``here``: package.json
    ``workspaces`` and pnpm-workspace.yaml ``packages`` (None: that file does not read)."""
    spaces = package.get("workspaces")
    if isinstance(spaces, dict):
        spaces = spaces.get("packages")
    patterns = [p for p in spaces if isinstance(p, str)] if isinstance(spaces, list) else []
    try:
        pnpm = load_yaml(context.read_text(posixpath.join(here, "pnpm-workspace.yaml")) or "")
    except YamlError:
        return None
    listed = pnpm.get("packages") if isinstance(pnpm, dict) else None
    patterns += [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
    found = []
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        glob = posixpath.join(here, pattern.rstrip("/"), "package.json")
        found += [f for f in context.glob(glob) if "node_modules/" not in f]
    return found


# A lock file line that resolves a package from the project's own files: npm's ``"resolved":
# "file:..."`` or ``"link": true`` (``"version": "file:..."`` in a v1 lock), pnpm's
# ``file:``/``link:`` specifiers, versions and ``tarball: file:`` resolutions, yarn's
# ``name@file:``, ``@link:`` and (Berry) ``@portal:`` entries. Not ``workspace:``: every Berry
# lock has the root's ``app@workspace:.`` entry; workspaces are declined from package.json.
LOCAL_LOCK_LINES = {
    "package-lock.json": re.compile(r'"(?:resolved|version)":\s*"file:|"link":\s*true\b'),
    "npm-shrinkwrap.json": re.compile(r'"(?:resolved|version)":\s*"file:|"link":\s*true\b'),
    # not after a word character (``profile:``); not a YAML key (``link: 1.0.0``, a package
    # named link), whose colon a space or the line end follows
    "pnpm-lock.yaml": re.compile(r"(?<![\w.-])(?:file|link):(?![\s]|$)"),
    "yarn.lock": re.compile(r"@(?:file|link|portal):"),
}


def locked_local(context: BuildContext, rel_dir: str, eco: Ecosystem) -> str | None:
    """Why the lock files ``eco``'s install reads in the project ``rel_dir`` do not let the
    manifests alone install: the first entry that resolves a package from the project's files
    (``tarball: file:vendor/qs.tgz``), or a lock that exists but cannot be read. None when no
    such lock names a local package (or none exists)."""
    for name in eco.manifests:
        pattern = LOCAL_LOCK_LINES.get(name)
        path = posixpath.join(rel_dir, name) if rel_dir not in ("", ".") else name
        if pattern is None or not context.exists(path):
            continue
        try:
            line = context.find_line(path, pattern)
        except OSError as error:
            return f"{name} could not be read ({error})"
        if line is not None:
            return f"{name} resolves a package from a local path ({line.strip()[:120]})"
    return None


def yarn_env_files(rc: str) -> list[str] | None:
    """The files yarn (Berry) loads into the environment of every command, installs too
    (their variables may fill ``${VAR}`` in .yarnrc.yml or reach install scripts): the
    ``injectEnvironmentFiles`` list of .yarnrc.yml text ``rc``, ``.env.yarn?`` by default. A
    trailing ``?`` marks a file loaded only if present. None when the list cannot be read."""
    settings = yarnrc_settings(rc)
    if settings is None:
        return None
    files = settings.get("injectEnvironmentFiles", [".env.yarn?"])
    if files == "":  # written with no value
        return []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return [f.strip() for f in files if f.strip()]


def local_package_config(ctx: BuildContext, base: str, dest: str | None = None) -> str | None:
    """A package-manager setting naming a path in the project (an offline mirror, yarn's
    own release): the manifests alone do not install. ``dest`` is where the project lands in
    the image: an absolute path (or ``file:`` URL) below it names the project too
    (``yarn-offline-mirror "/app/offline"``); without it, any absolute path may."""
    for name in (".yarnrc", ".npmrc", ".yarnrc.yml"):
        try:
            text = ctx.read_known(posixpath.join(base, name)) or ""
        except Unreadable as exc:  # unread is not "names no path"
            return f"{exc} (it may name a path in the project)"
        for key, value in LOCAL_CONFIG.findall(text):
            path = re.sub(r"^file:(//)?", "", value)
            if path.startswith("/"):
                if dest is None or within(posixpath.normpath(path), dest):
                    return f"{name} sets {key} to {value}"
                continue
            inside = posixpath.normpath(value).startswith(".yarn/")  # copied with the manifests
            if not inside and not value.startswith(("http:", "https:", "~", "$")):
                return f"{name} sets {key} to {value}"
    return _pnpmfile_loads(ctx, base)


def yarn_parent_config(ctx: BuildContext, base: str) -> str | None:
    """A ``.yarnrc``, ``.npmrc`` or ``.yarnrc.yml`` in a folder of the context above the
    project ``base``: yarn 1 reads the first two and yarn 2+ the last from every folder between
    the filesystem root and the working directory (yarn 1's ``getPossibleConfigLocations``,
    Berry's ``Configuration.findRcFiles``), npm only the project's own. None: there is none."""
    parts = [p for p in posixpath.normpath(base or ".").split("/") if p not in ("", ".")]
    for depth in range(len(parts)):
        folder = "/".join(parts[:depth])
        for name in (".yarnrc", ".npmrc", ".yarnrc.yml"):
            path = posixpath.join(folder, name) if folder else name
            if ctx.exists(path):
                return path
    return None


# A pnpmfile's require/import of a relative path, a computed one, or a file it reads.
_PNPMFILE_LOADS = re.compile(
    r"""\b(?:require|import)\s*\(\s*(?:["'`](\.{1,2}/[^"'`]*)|[^"'`\s)])"""
    r"""|\bfrom\s+["'](\.{1,2}/[^"']*)["']|\b(readFileSync|readFile|readdirSync)\b"""
)


def _pnpmfile_loads(ctx: BuildContext, base: str) -> str | None:
    """pnpm runs ``.pnpmfile.cjs`` (code, not settings) during the install: a relative
    ``require("./tools/hooks")`` (or a computed one, or a file read) needs more of the tree
    than the manifests."""
    for name in (".pnpmfile.cjs", ".pnpmfile.mjs", "pnpmfile.js"):
        try:
            found = _PNPMFILE_LOADS.search(ctx.read_known(posixpath.join(base, name)) or "")
        except Unreadable as exc:  # unread is not "loads nothing"
            return f"{exc} (pnpm runs it, and it may load files of the project)"
        if found is not None:
            what = found.group(1) or found.group(2) or found.group(3) or "a computed path"
            return f"{name} loads {what} from the project"
    return None


# ---------------------------------------------------------------- builds kept in a cache

# pnpm-lock.yaml before v9 marks each package that runs an install script or has a
# binding.gyp (and every optional one) ``requiresBuild: true``; v9 dropped the field.
_PNPM_LOCK_VERSION = re.compile(r"""^lockfileVersion:\s*['"]?(\d+)""", re.M)
_PNPM_DEPENDENCIES = re.compile(r"^[^\S\n]*(?:dev|optional)?[dD]ependencies:", re.M)


def may_run_install_scripts(
    context: BuildContext, manager: PackageManager, args: list[str]
) -> bool:
    """True unless a pnpm command is shown to build nothing the store keeps: ``pnpm fetch``
    (downloads only), or a frozen install of the context's one lock file that lists no
    package, or, before v9, only registry packages none of which ``requiresBuild``."""
    words = positionals(args, frozenset(manager.value_options))
    if words[:1] == ["fetch"]:
        return False
    if words not in (["install"], ["i"]) or not pnpm_frozen(args):
        return True  # adds packages, or may re-resolve (not in the lock file)
    if any(a in manager.global_markers for a in args):
        return True
    locks = context.glob("*pnpm-lock.yaml") if context.present else []
    text = context.read_text(locks[0]) if len(locks) == 1 else None
    version = _PNPM_LOCK_VERSION.search(text or "")
    if text is None or version is None:
        return True
    entries = _pnpm_packages(text)
    if entries is None:
        return _PNPM_DEPENDENCIES.search(text) is not None  # no packages: nothing to build
    if decimal(version.group(1)) >= 9:
        return bool(entries)  # the lock no longer says which packages build
    # git, tarball and directory sources (no integrity) are built when fetched
    return any("integrity:" not in e or "requiresBuild: true" in e for e in entries)


def _pnpm_packages(text: str) -> list[str] | None:
    """The entries of a pnpm lock file's ``packages:`` section (None: it has none), each as
    its text; an entry msdfix cannot delimit comes back as a marker that proves nothing."""
    lines = text.splitlines()
    if "packages:" not in lines:
        return None
    entries: list[str] = []
    for line in lines[lines.index("packages:") + 1 :]:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            continue
        if indent == 0:
            break
        if indent == 2:
            entries.append("")
        elif indent < 2 or not entries or line.startswith("\t"):
            return ["unreadable"]
        else:
            entries[-1] += line.strip() + "\n"
    return entries
