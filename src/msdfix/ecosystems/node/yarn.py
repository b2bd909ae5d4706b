"""yarn's release and settings: 1 or Berry, .yarnrc.yml, Plug'n'Play, Berry's cache, .yarn/."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from msdfix.ecosystems.base import positionals
from msdfix.files import YamlError, decimal, load_yaml
from msdfix.model.context import BuildContext


def yarn_berry(ctx: BuildContext, base: str, package: object) -> bool:
    """Yarn 2 or later runs in ``base``: a ``.yarnrc.yml`` there, or ``packageManager: yarn@2+``."""
    manager = package.get("packageManager") if isinstance(package, dict) else None
    major = re.match(r"yarn@(\d+)", manager) if isinstance(manager, str) else None
    rc = posixpath.join(base, ".yarnrc.yml") if base else ".yarnrc.yml"
    return ctx.exists(rc) or (major is not None and decimal(major.group(1)) >= 2)


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
