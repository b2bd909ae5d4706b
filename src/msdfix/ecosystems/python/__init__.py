"""Python: pip, uv, poetry, pipenv and pdm (caches ``~/.cache/pip`` or ``PIP_CACHE_DIR``
(``XDG_CACHE_HOME`` moves every ``~/.cache``),
``~/.cache/uv`` or ``UV_CACHE_DIR``, ``~/.cache/pypoetry``, ``~/.cache/pipenv``,
``~/.cache/pdm`` or ``PDM_CACHE_DIR``), their manifests, and what the build context proves about
the packages an install will build.

A package installs on a ``-slim`` image (no compiler, no ``-dev`` libraries) when pip finds a
wheel for the interpreter and the machine: pure-Python (``py3-none-any``) or a manylinux wheel
for both amd64 and arm64 (the build may run on either). Lock files that list each package's
files (``poetry.lock``, ``uv.lock``, ``pdm.lock``) are that evidence; requirements files are not.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import posixpath
import re
import sys
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from msdfix.ecosystems.base import (
    NEVER_WRITES,
    WRITES_IN_PLACE,
    CacheDir,
    Ecosystem,
    PackageManager,
)
from msdfix.ecosystems.images import PY_NEEDS_FULL
from msdfix.ecosystems.python_builds import configured_no_binary, local_wheel_builds, pure_build
from msdfix.ecosystems.python_installs import linux_installs, surely_installed
from msdfix.ecosystems.python_markers import holds_on_every_linux, markers_agree
from msdfix.files import decimal, load_toml
from msdfix.model.context import BuildContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ARCHES = ("x86_64", "aarch64")
# Packaging tools published as pure-Python wheels or as wheels for every Linux platform.
WHEEL_TOOLS = frozenset(
    "pip setuptools wheel uv poetry poetry-core pipenv virtualenv pip-tools hatch hatchling pdm"
    " flit flit-core build installer".split()
)
LOCK_FILES = {"poetry": "poetry.lock", "uv": "uv.lock", "pdm": "pdm.lock"}
# Variables that make an installer build packages from source although wheels exist.
NO_BINARY_ENV = (
    "PIP_NO_BINARY", "UV_NO_BINARY", "UV_NO_BINARY_PACKAGE", "POETRY_INSTALLER_NO_BINARY",
    "PDM_NO_BINARY",
)  # fmt: skip


@dataclass(frozen=True)
class WheelEvidence:
    """What a lock file says about building: packages without a usable wheel, or unknown."""

    lock: str | None  # the lock file read, None when there is none to read
    builds: tuple[str, ...] = ()  # packages pip would build from source
    names: tuple[str, ...] = ()  # every package it locks (canonical names)
    sure: frozenset[str] = frozenset()  # those every Linux install installs

    @property
    def known(self) -> bool:
        """True when a lock file answered the question."""
        return self.lock is not None


def _usable(filename: str, version: tuple[int, int]) -> set[str]:
    """Architectures a wheel installs on for CPython ``version`` (``any`` counts as all)."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return set()
    major, minor = version
    found: set[str] = set()
    for tag in tags:
        interpreter, abi, platform = tag.interpreter, tag.abi, tag.platform
        if interpreter.startswith("py"):
            ok = interpreter in ("py3", f"py{major}", f"py{major}{minor}")
        elif interpreter.startswith("cp") and interpreter[2:].isdigit():
            wheel_minor = decimal(interpreter[3:])
            ok = wheel_minor == minor or (abi == "abi3" and wheel_minor <= minor)
        else:
            ok = False
        if not ok:
            continue
        if platform == "any":
            found.update(ARCHES)
        elif platform.startswith("manylinux"):
            found.update(a for a in ARCHES if platform.endswith(a))
    return found


def wheel_evidence(context: BuildContext, tool: str, version: tuple[int, int]) -> WheelEvidence:
    """Packages of the tool's lock file that a Linux install of ``version`` may install
    (``linux_installs``) and that have no wheel for it on every arch."""
    name = LOCK_FILES.get(tool)
    text = context.read_text(name) if name else None
    if name is None or text is None:
        return WheelEvidence(None)
    try:
        data = load_toml(text)
    except (tomllib.TOMLDecodeError, RecursionError):  # RecursionError: nested too deep
        return WheelEvidence(None)
    builds, names = [], []
    packages = data.get("package", [])
    installs = linux_installs(tool, data, context.read_toml("pyproject.toml"), version)
    for index, package in enumerate(packages if isinstance(packages, list) else [None]):
        if not isinstance(package, dict):
            return WheelEvidence(None)  # a lock file of another shape: unreadable
        names.append(canonicalize_name(str(package.get("name", "?"))))
        if installs is not None and not installs[index]:
            continue  # every way to it is false on Linux: not installed (python_installs)
        source = package.get("source")
        if isinstance(source, dict) and "virtual" in source:
            continue  # the project itself, not built
        if isinstance(source, dict) and "editable" in source:
            # the project or a member, built from the copied sources by its backend
            if not pure_build(context, str(source["editable"])):
                builds.append(names[-1])
            continue
        files = [  # poetry and pdm: {file = ...}; pdm with static URLs: {url = ...}
            f.get("file") or str(f.get("url", "")).rsplit("/", 1)[-1]
            for f in _list(package.get("files"))
            if isinstance(f, dict)
        ]
        files += [
            str(w.get("url", "")).rsplit("/", 1)[-1]
            for w in _list(package.get("wheels"))
            if isinstance(w, dict)
        ]
        arches: set[str] = set()
        for filename in files:
            if isinstance(filename, str) and filename.endswith(".whl"):
                arches |= _usable(filename, version)
        if not set(ARCHES) <= arches:
            builds.append(names[-1])
    sure = frozenset(surely_installed(tool, data, version))
    return WheelEvidence(name, tuple(builds), tuple(names), sure)


# ---------------------------------------------------------------- package managers

# pip.conf settings that move the cache or name a folder pip reads packages from, which may
# lie in the cache (``find-links``)
_PIP_CONFIG_KEYS = r"cache[-_]dir|find[-_]links"

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "pip",
        ("pip", "pip3", "pip3.8", "pip3.9", "pip3.10", "pip3.11", "pip3.12", "pip3.13"),
        ("install", "wheel", "download"),
        (
            CacheDir(
                "~/.cache/pip",
                (("PIP_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/pip")),
                built=("wheels",),
            ),
        ),
        # pip (optparse) takes any unambiguous prefix of a long option: --no-cache, --no-ca
        defeat_flags=tuple("--no-cache-dir"[:n] for n in range(7, 15)),
        clean_commands=(("pip", "cache", "purge"), ("pip3", "cache", "purge")),
        # an install at container start reads the cache the image carries
        runtime_users=(
            ("pip", "install"),
            ("pip3", "install"),
            ("python", "-m", "pip", "install"),
            ("python3", "-m", "pip", "install"),
        ),  # fmt: skip
        cache_options=("--cache-dir",),
        no_cache_env=("PIP_NO_CACHE_DIR",),
        # pip's HTTP cache follows Cache-Control (PyPI sends max-age; a mirror may send none,
        # and plain-http indexes are never cached): built against such a mirror, the cache
        # stayed empty and a rewrite's copied requirements.txt made the image 22 bytes larger
        caches_by_headers=True,
        # pip's check_path_owner: as root, no cache under a directory another user owns
        root_owner_check=True,
        # general options with a value, which may come before the subcommand
        value_options=(
            "--cache-dir",
            "--log",
            "--proxy",
            "--retries",
            "--timeout",
            "--exists-action",
            "--trusted-host",
            "--cert",
            "--client-cert",
            "--python",
            "--keyring-provider",
            "--use-feature",
            "--use-deprecated",
        ),
        config_files=("pip.conf", "pip.ini"),
        # find-links may name a folder in the cache (built: `printf '[global]\nno-index =
        # true\nfind-links = /root/.cache/pip/dl'` > /etc/pip.conf after `pip download -d
        # /root/.cache/pip/dl`; the mounted install found no six, the original installed it)
        config_keys=_PIP_CONFIG_KEYS,
        config_env=("PIP_CONFIG_FILE",),
    ),
    PackageManager(
        "uv",
        ("uv",),
        ("pip", "sync", "add", "tool", "venv", "lock"),
        (  # uv's built wheels sit in versioned buckets a tmpfs cannot name
            CacheDir(
                "~/.cache/uv", (("UV_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/uv")), builds="wheels"
            ),
        ),
        defeat_flags=("--no-cache",),
        clean_commands=(("uv", "cache", "clean"),),
        value_options=("--directory", "--project", "--cache-dir"),
        cache_options=("--cache-dir",),
        # uv's Linux default link mode is "hardlink": the venv and the cache share their
        # files (a real rewrite's copied 15 KB uv.lock was not offset: 7,347 bytes larger)
        links_cache=True,
        copy_link_modes=("copy",),  # "clone" may fall back to hard links: not built
        link_option="--link-mode",
        link_env="UV_LINK_MODE",
        link_config=(("uv.toml", ("link-mode",)), ("pyproject.toml", ("tool", "uv", "link-mode"))),
        # --offline installs from the cache alone (built: after a cached `uv pip install`,
        # `uv pip install --offline` on an emptied mount failed, "six was not found in the
        # cache"); UV_OFFLINE takes clap's booleans
        offline_flags=("--offline",),
        offline_env=tuple(("UV_OFFLINE", v) for v in ("1", "true", "yes", "on", "t", "y")),
        config_files=("uv.toml",),
        config_keys=r"cache-dir|offline|find-links",
        config_env=("UV_CONFIG_FILE",),
        offline_config_keys=r"offline",
    ),
    PackageManager(
        "poetry",
        ("poetry",),
        ("install", "update", "add", "lock"),
        # not the whole cache dir: poetry creates its virtualenvs under it. sharing=locked:
        # poetry before 1.3 wrote each archive in place, so a build beside it read the
        # half-written file ("Invalid hashes", poetry#5142, fixed by #6186's atomic_open), and
        # its metadata cache still writes in place (Cache.put)
        (
            CacheDir(
                "~/.cache/pypoetry/cache",
                (("POETRY_CACHE_DIR", "/cache"), ("XDG_CACHE_HOME", "/pypoetry/cache")),
                locked=True,
            ),
            CacheDir(  # the wheels poetry builds sit next to the archives (same hashed dirs)
                "~/.cache/pypoetry/artifacts",
                (("POETRY_CACHE_DIR", "/artifacts"), ("XDG_CACHE_HOME", "/pypoetry/artifacts")),
                builds="wheels",
                locked=True,
            ),
        ),
        defeat_flags=("--no-cache",),
        inert_subcommands=("config", "--version", "self"),
        config_files=("config.toml", "poetry.toml"),
        config_keys=r"cache-dir",
        home_config_files=("config.toml",),  # poetry.toml is the project's own
        config_homes=("pypoetry",),
    ),
    PackageManager(
        "pipenv",
        ("pipenv",),
        ("install", "sync", "update", "lock"),
        (  # pipenv runs pip with PIP_CACHE_DIR=PIPENV_CACHE_DIR: pip's layout, wheels/ built
            CacheDir(
                "~/.cache/pipenv",
                (("PIPENV_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/pipenv")),
                built=("wheels",),
            ),
            CacheDir(
                "~/.cache/pip",
                (("PIP_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/pip")),
                built=("wheels",),
            ),
        ),
        inert_subcommands=("config", "--version", "self"),
        config_files=("pip.conf", "pip.ini"),
        config_keys=_PIP_CONFIG_KEYS,
        config_env=("PIP_CONFIG_FILE",),
        # pip's HTTP cache (see pip): built against a mirror that sent no caching headers,
        # pipenv 2024.0.1 kept no cache and the copied Pipfile(.lock) made it 1,375 bytes larger
        caches_by_headers=True,
        # pip's check_path_owner through PIP_CACHE_DIR: built, pipenv 2026.10.3 as root with
        # XDG_CACHE_HOME=/app/.cache under a /app owned by app left no /app/.cache
        root_owner_check=True,
    ),
    PackageManager(
        "pdm",
        ("pdm",),
        ("install", "sync", "add", "update", "lock"),
        # Only http/ (downloads): with install.cache on, pdm links packages from packages/,
        # and wheels/ holds nothing but the wheels pdm built from sdists, keyed without the
        # build's environment (a mount there would share builds and cache no download).
        (
            CacheDir(
                "~/.cache/pdm/http", (("PDM_CACHE_DIR", "/http"), ("XDG_CACHE_HOME", "/pdm/http"))
            ),
        ),
        inert_subcommands=("config", "--version", "self", "cache"),
        config_files=("config.toml",),
        config_keys=r"cache_dir",
        home_config_files=("config.toml",),
        config_homes=("pdm",),
        # http/ is an HTTP cache that follows the index's caching headers, as pip's: built
        # against a mirror that sent none (pdm 2.12.4), it stayed empty and the copied
        # pyproject.toml and pdm.lock made the rewrite 27,402 bytes larger
        caches_by_headers=True,
    ),
)

_BY_PROGRAM = {program: m for m in MANAGERS for program in m.programs}
PIP = Ecosystem("pip", ("pip", "uv"), ())  # the requirements files named with -r/-c
POETRY = Ecosystem(
    "poetry",
    ("poetry",),
    ("pyproject.toml", "poetry.lock", "poetry.toml"),
    guess=("pyproject.toml", "poetry.lock*", "poetry.toml*"),
    outputs=(".venv",),
    key="pyproject.toml",
    checks="python",
    no_self=("--no-root",),
    no_self_setting=r"^[^\S\n]*package-mode\s*=\s*false",
)
UV = Ecosystem(
    "uv",
    ("uv",),
    ("pyproject.toml", "uv.lock", "uv.toml", ".python-version"),
    guess=("pyproject.toml", "uv.lock*", ".python-version*"),
    outputs=(".venv",),
    key="pyproject.toml",
    checks="python",
)
PIPENV = Ecosystem(
    "pipenv",
    ("pipenv",),
    ("Pipfile", "Pipfile.lock"),
    guess=("Pipfile", "Pipfile.lock*"),
    outputs=(".venv",),
    key="Pipfile",
    checks="python",
)
PDM = Ecosystem(
    "pdm",
    ("pdm",),
    ("pyproject.toml", "pdm.lock", "pdm.toml", ".pdm-python"),
    guess=("pyproject.toml", "pdm.lock*", "pdm.toml*"),
    outputs=(".venv", "__pypackages__"),
    key="pyproject.toml",
    checks="python",
    no_self=("--no-self",),
    no_self_setting=r"^[^\S\n]*distribution\s*=\s*false",
)


def project_manifest_writes(program: str, words: list[str], args: list[str]) -> str | None:
    """How ``uv sync``, ``poetry install`` and ``pdm install`` write the manifests they read
    (``base.NEVER_WRITES`` or ``base.WRITES_IN_PLACE``); None for other commands. uv's
    ``--locked`` asserts that uv.lock "will remain unchanged" and ``--frozen`` syncs "without
    updating the uv.lock file"; a plain ``uv sync`` rewrites a stale uv.lock in place (built
    with it on a read-write bind mount). Poetry writes its TOML files in place (tomlkit opens
    the file itself), and ``poetry install`` writes poetry.lock only where there is none (a
    stale one fails the install or is only warned about); built with both read-only. PDM's
    ``install --frozen-lockfile`` does not "create or update the lockfile" (built read-only,
    at the original's size); its plain install rewrites a stale pdm.lock in place (built
    read-write)."""
    if program == "pdm" and words == ["install"]:
        return NEVER_WRITES if "--frozen-lockfile" in args else WRITES_IN_PLACE
    if program == "uv" and words == ["sync"]:
        return NEVER_WRITES if {"--locked", "--frozen"} & set(args) else WRITES_IN_PLACE
    if program == "poetry" and words in (["install"], ["sync"]):
        return WRITES_IN_PLACE
    return None


# A requirement as uv.lock records it: name, extras, specifier and marker, normalized.
_Req = tuple[str, tuple[str, ...], str, str]


def _pep508_key(spec: str, extra: str | None = None) -> _Req | None:
    """A PEP 508 requirement of pyproject.toml as uv.lock records it (an optional
    dependency's marker gains ``extra == '<name>'``); None when unreadable or a URL."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    if req.url:
        return None
    marker = str(req.marker) if req.marker else ""
    if extra is not None:
        marker = f"{marker} and extra == '{extra}'" if marker else f"extra == '{extra}'"
    return _req_key(req.name, req.extras, str(req.specifier), marker)


def _req_key(name: str, extras: object, specifier: str, marker: str) -> _Req | None:
    """The normalized form of one requirement (packaging's specifier set and marker text)."""
    try:
        spec = str(SpecifierSet(specifier))
        mark = str(Marker(marker)) if marker else ""
    except (InvalidSpecifier, InvalidMarker):
        return None
    spec = ",".join(sorted(spec.split(","))) if spec else ""
    if not isinstance(extras, (list, set)):
        return None
    names = tuple(sorted({canonicalize_name(str(e)) for e in extras}))
    return (canonicalize_name(name), names, spec, mark)


def _locked_key(entry: object) -> _Req | None:
    """A ``requires-dist`` entry of uv.lock as a requirement; None for one with a source
    (git, url, index, path: [tool.uv.sources]) or fields msdfix does not compare."""
    if not isinstance(entry, dict) or set(entry) - {"name", "specifier", "marker", "extras"}:
        return None
    return _req_key(
        str(entry.get("name")),
        entry.get("extras", []),
        str(entry.get("specifier", "")),
        str(entry.get("marker", "")),
    )


def _same_requirements(
    wanted: list[_Req] | None, locked: list[_Req] | None, python: object
) -> bool:
    """Whether two requirement lists are the same set as uv's ``satisfies`` compares them:
    name, extras and specifier equal, markers agreeing within the lock's requires-python
    (``markers_agree``); False when either is unknown."""
    if wanted is None or locked is None:
        return False
    return _covered(wanted, locked, python) and _covered(locked, wanted, python)


def _covered(reqs: list[_Req], others: list[_Req], python: object) -> bool:
    """Whether every requirement of ``reqs`` has one in ``others`` that uv reads as equal."""
    return all(
        any(r[:3] == o[:3] and markers_agree(r[3], o[3], python) for o in others) for r in reqs
    )


def _keys(specs: object, extra: str | None = None) -> list[_Req] | None:
    """Requirements of pyproject.toml as uv.lock records them; None when one is unknown."""
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        return None
    keys = [_pep508_key(s, extra) for s in specs]
    return None if None in keys else sorted(k for k in keys if k is not None)


def _locked_keys(entries: object) -> list[_Req] | None:
    """uv.lock's requirements (``requires-dist`` or a group); None when one is unknown."""
    if not isinstance(entries, list):
        return None
    keys = [_locked_key(e) for e in entries]
    return None if None in keys else sorted(k for k in keys if k is not None)


def _wanted_dist(project: dict[str, Any]) -> list[_Req] | None:
    """``[project]`` dependencies and optional dependencies as uv.lock's ``requires-dist``."""
    wanted = _keys(project.get("dependencies", []))
    extras = project.get("optional-dependencies", {})
    if wanted is None or not isinstance(extras, dict):
        return None
    for extra, specs in extras.items():
        more = _keys(specs, canonicalize_name(extra))
        if more is None:
            return None
        wanted += more
    return sorted(wanted)


def _wanted_groups(pyproject: dict[str, Any]) -> dict[str, list[_Req]] | None:
    """``[dependency-groups]`` (and uv's ``dev-dependencies`` as group ``dev``) as uv.lock's
    ``[package.metadata.requires-dev]``; None when a group includes another or is unread."""
    groups = pyproject.get("dependency-groups", {})
    uv = (pyproject.get("tool") or {}).get("uv") or {}
    if not isinstance(groups, dict) or not isinstance(uv, dict):
        return None
    wanted: dict[str, list[_Req]] = {}
    for group, specs in groups.items():
        keys = _keys(specs)
        if keys is None:
            return None
        wanted[canonicalize_name(group)] = keys
    if "dev-dependencies" in uv:
        keys = _keys(uv["dev-dependencies"])
        if keys is None:
            return None
        wanted["dev"] = sorted(wanted.get("dev", []) + keys)
    return wanted


def _uv_manifest_stale(uv: dict[str, Any], lock: dict[str, Any]) -> str | None:
    """Which of uv's constraint, override and build-constraint settings differs from the
    lock's ``[manifest]``; ``sources`` when [tool.uv.sources] is set (not compared)."""
    if "sources" in uv or "index" in uv:
        return "[tool.uv.sources] or [[tool.uv.index]] (which msdfix does not compare)"
    manifest = lock.get("manifest") or {}
    for setting, key in (
        ("constraint-dependencies", "constraints"),
        ("override-dependencies", "overrides"),
        ("build-constraint-dependencies", "build-constraints"),
    ):
        wanted = _keys(uv.get(setting, []))
        locked = _locked_keys(manifest.get(key, []) if isinstance(manifest, dict) else None)
        if not _same_requirements(wanted, locked, lock.get("requires-python")):
            return f"[tool.uv] {setting}"
    return None


def uv_lock_stale(
    pyproject: dict[str, Any],
    lock: dict[str, Any],
    settings: Mapping[str, str | None] | str | None = None,
) -> str | None:
    """What makes uv.lock out of step with pyproject.toml the way ``uv sync`` checks it
    (uv's ``Lock::satisfies``): the project entry's ``[package.metadata] requires-dist``
    against ``[project]`` dependencies and optional dependencies (name, extras, specifier,
    marker), ``requires-dev`` against the dependency groups, the lock's ``requires-python``,
    the project's version and uv's constraints. A plain ``uv sync`` then rewrites uv.lock,
    and ``uv run`` started from a copy without that write locks again at start (it failed
    offline: "failed to lookup address information", built for real with uv 0.4.30; with
    uv 0.9.5 a changed specifier, ``six>=1.10`` to ``>=1.15``, re-locked, and so did a
    changed requires-python, version, group, extra or constraint, built with uv 0.13.9;
    spacing did not). Markers are compared as uv compares them, within the lock's
    requires-python (``markers_agree``); the resolver ``settings`` (``uv_resolver_settings``,
    [tool.uv]'s without) against the lock's ``[options]``. None when in step or not a uv
    project."""
    project = pyproject.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        return None
    name = canonicalize_name(project["name"])
    entries = [p for p in lock.get("package", []) if isinstance(p, dict)]
    entry = next((p for p in entries if p.get("name") == name), None)
    metadata = entry.get("metadata") if entry else None
    if entry is None or not isinstance(metadata, dict):
        return None
    python = lock.get("requires-python")
    locked = _locked_keys(metadata.get("requires-dist", []))
    if not _same_requirements(_wanted_dist(project), locked, python):
        return "lists other dependencies than pyproject.toml"
    groups = _wanted_groups(pyproject)
    dev = metadata.get("requires-dev", {})
    locked_groups: dict[str, list[_Req] | None] | None = (
        {canonicalize_name(g): _locked_keys(v) for g, v in dev.items()}
        if isinstance(dev, dict)
        else None
    )
    if (
        groups is None
        or locked_groups is None
        or set(groups) != set(locked_groups)
        or not all(_same_requirements(v, locked_groups[g], python) for g, v in groups.items())
    ):
        return "lists other dependency groups than pyproject.toml"
    if _specifiers_differ(project.get("requires-python"), lock.get("requires-python")):
        return "has another requires-python than pyproject.toml"
    if _versions_differ(project, entry.get("version")):
        return "has another version of the project than pyproject.toml"
    uv = (pyproject.get("tool") or {}).get("uv") or {}
    if not isinstance(uv, dict):
        return "does not follow [tool.uv]"
    settings = uv_resolver_settings(uv, {}, []) if settings is None else settings
    if isinstance(settings, str):
        return f"may not follow {settings}"
    manifest = _uv_manifest_stale(uv, lock) or _uv_options_stale(settings, lock)
    return f"does not follow {manifest}" if manifest else None


def uv_sync_upgrades(args: list[str]) -> str | None:
    """The option of ``uv sync`` that upgrades the locked versions (``-U``, ``--upgrade``,
    ``-P``, ``--upgrade-package``): uv then locks again and rewrites uv.lock even where it
    is in step (built with uv 0.13.9: a lock resolved with ``--exclude-newer 2020-01-01``
    was rewritten by ``uv sync -U``; ``--refresh`` and ``--reinstall`` left it)."""
    for arg in args:
        if arg in ("-U", "--upgrade", "-P", "--upgrade-package") or arg.startswith(
            ("--upgrade-package=", "-P")
        ):
            return arg.split("=", 1)[0]
    return None


# uv's resolver settings uv.lock records in ``[options]``: the setting (in [tool.uv] or
# uv.toml, ``--<setting>``, ``UV_<SETTING>``), its key in the lock and its default, which
# uv does not write (a lock resolved with all three defaults set has no [options]).
_UV_OPTIONS = {
    "resolution": ("resolution-mode", "highest"),
    "prerelease": ("prerelease-mode", "if-necessary-or-explicit"),
    "fork-strategy": ("fork-strategy", "requires-python"),
    "exclude-newer": ("exclude-newer", None),
}


def uv_resolver_settings(
    config: Mapping[str, Any], env: Mapping[str, str | None], args: list[str]
) -> dict[str, str | None] | str:
    """The resolver settings a ``uv sync`` runs with, as uv takes them: its option
    (``--resolution lowest``), else the environment (``UV_RESOLUTION``), else the project's
    configuration ``config`` (uv.toml beside pyproject.toml, which replaces [tool.uv]; none
    with ``--no-config`` or ``UV_NO_CONFIG``). A str says which is unknown: a build
    argument without a value, or a configuration file named elsewhere
    (``UV_CONFIG_FILE``, ``--config-file``)."""
    if "--no-config" in args or str(env.get("UV_NO_CONFIG")).lower() in ("1", "true"):
        config = {}
    elif "UV_CONFIG_FILE" in env or _uv_option(args, "--config-file") is not None:
        return "a configuration file named by UV_CONFIG_FILE or --config-file"
    settings: dict[str, str | None] = {}
    for setting in _UV_OPTIONS:
        var = "UV_" + setting.upper().replace("-", "_")
        value = _uv_option(args, f"--{setting}")
        if value is None and var in env:
            if env[var] is None:
                return f"{var} (a value msdfix does not know)"
            value = env[var]
        elif value is None and config.get(setting) is not None:
            value = str(config[setting])
        settings[setting] = value
    return settings


def _uv_option(args: list[str], name: str) -> str | None:
    """The value of the last ``name value`` or ``name=value`` of a uv command."""
    found = None
    for at, arg in enumerate(args):
        if arg == name and at + 1 < len(args):
            found = args[at + 1]
        elif arg.startswith(f"{name}="):
            found = arg.split("=", 1)[1]
    return found


def _uv_options_stale(settings: Mapping[str, str | None], lock: dict[str, Any]) -> str | None:
    """Which of uv's resolver settings (``resolution``, ``prerelease``, ``fork-strategy``,
    ``exclude-newer``) differs from the lock's ``[options]``, a default and an absent key
    alike: uv locks again when they differ (uv's ``ValidatedLock::validate``; with uv
    0.13.9 each one set after the lock in [tool.uv], uv.toml, ``UV_RESOLUTION``,
    ``UV_PRERELEASE``, ``UV_FORK_STRATEGY`` or ``UV_EXCLUDE_NEWER``, and a lock resolved
    with ``--exclude-newer`` synced without it, failed ``uv lock --locked``; the defaults
    set did not). Built: ``ENV UV_RESOLUTION=lowest-direct`` (or uv.toml's ``resolution``)
    over a lock resolved without it, the original re-locked and answered six 1.10.0, the
    moved install failed on the mounted lock ("failed to rename file ... to /app/uv.lock:
    Device or resource busy"). An exclude-newer date is the next day's midnight in UTC, as
    uv writes it (built: a lock resolved with ``UV_EXCLUDE_NEWER=2024-01-01`` and the same
    ENV kept its bytes, and the moved install answered the same); other values are
    compared as written."""
    options = lock.get("options") or {}
    if not isinstance(options, dict):
        return "[options]"
    for setting, (key, default) in _UV_OPTIONS.items():
        wanted, locked = settings.get(setting) or default, options.get(key) or default
        if setting == "exclude-newer":
            wanted, locked = _uv_timestamp(wanted), _uv_timestamp(locked)
        if wanted != locked:
            return f"the {setting} setting"
    return None


def _uv_timestamp(value: object) -> str | None:
    """An exclude-newer value as uv.lock writes it (``2024-01-01`` is
    ``2024-01-02T00:00:00Z``, an offset is moved to UTC); others as written."""
    if value is None:
        return None
    text = str(value).strip()
    try:  # Python 3.10's fromisoformat reads no "Z"
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return f"{date.fromisoformat(text) + timedelta(days=1)}T00:00:00Z"
        moment = datetime.fromisoformat(text)
    except ValueError:
        return str(value).strip()
    if moment.tzinfo is None:
        return str(value).strip()
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _specifiers_differ(wanted: object, locked: object) -> bool:
    """Whether pyproject's requires-python differs from the lock's (not when pyproject
    sets none: uv then writes one of its own)."""
    if wanted is None:
        return False
    try:
        return SpecifierSet(str(wanted)) != SpecifierSet(str(locked or ""))
    except InvalidSpecifier:
        return True


def _versions_differ(project: dict[str, Any], locked: object) -> bool:
    """Whether pyproject's static ``version`` differs from the lock's entry of the project."""
    version = project.get("version")
    if "version" in (project.get("dynamic") or []) or version is None or locked is None:
        return False
    try:
        return Version(str(version)) != Version(str(locked))
    except InvalidVersion:
        return str(version) != str(locked)


def pdm_lock_stale(pyproject: dict[str, Any], lock: dict[str, Any]) -> bool:
    """Whether pdm.lock's ``[metadata] content_hash`` differs from the hash pdm computes of
    pyproject.toml (``PyProject.content_hash``, pdm 2.22: the JSON, keys sorted, of
    ``[tool.pdm] source`` and ``resolution``, ``[project]`` dependencies, optional
    dependencies and requires-python, and the dependency groups merged with ``[tool.pdm]
    dev-dependencies``): a plain ``pdm install`` then locks again and rewrites pdm.lock
    (built with pdm 2.22.2: a changed specifier or requires-python rewrote it; a comment or
    the version did not). A hash of another algorithm or version of pdm reads as stale."""
    metadata = lock.get("metadata")
    value = metadata.get("content_hash") if isinstance(metadata, dict) else None
    if not isinstance(value, str):
        return False
    algo, _, digest = value.partition(":")
    return algo != "sha256" or _pdm_content_hash(pyproject) != digest


def _pdm_group(name: str) -> str:
    """A group's name as pdm normalizes it (``pdm.utils.normalize_name``: every run of
    characters other than ASCII letters and digits becomes ``-``, lower case)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).lower()


def _pdm_content_hash(pyproject: dict[str, Any]) -> str | None:
    """pdm's content hash of pyproject.toml; None when a table is not one."""
    project = pyproject.get("project") or {}
    pdm = (pyproject.get("tool") or {}).get("pdm") or {}
    groups = pyproject.get("dependency-groups") or {}
    if not all(
        isinstance(t, dict) for t in (project, pdm, groups, pdm.get("dev-dependencies", {}))
    ):
        return None
    dev: dict[str, list[Any]] = {_pdm_group(g): list(d) for g, d in groups.items()}
    for group, deps in pdm.get("dev-dependencies", {}).items():
        dev.setdefault(_pdm_group(group), []).extend(deps)
    data = {
        "sources": pdm.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": dev,
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": pdm.get("resolution", {}),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MANIFESTS: tuple[Ecosystem, ...] = (
    PIP,
    POETRY,
    UV,
    PIPENV,
    PDM,
)

# (program, first word) of commands that install the project's packages (pip: any ``pip*``).
INSTALL_COMMANDS = frozenset(
    {
        ("uv", "sync"), ("uv", "pip"), ("poetry", "install"), ("pipenv", "install"),
        ("pipenv", "sync"), ("pdm", "install"), ("pdm", "sync"),
    }
)  # fmt: skip

# Tools that install into a virtualenv of their own (split-stages leaves them alone).
ENV_MANAGERS: tuple[str, ...] = ("poetry", "pipenv", "pdm")

INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "pip": ("install",),
    "poetry": ("install", "sync"),
    "pipenv": ("install", "sync"),
    "pdm": ("install", "sync"),
}

# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("python",)


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = (
    "python",
    "python3",
    "gunicorn",
    "uvicorn",
    "hypercorn",
    "flask",
    "celery",
    "streamlit",
)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ()


# ---------------------------------------------------------------- requirements files

# An include on an option line, wherever it stands (``--prefer-binary -r base.txt``).
_INCLUDE = re.compile(r"(?:^|\s)(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)")
# An option naming a path or index, wherever it stands on an option line: pip parses every
# option of a line (``--no-index --find-links=wheels``).
PATH_OPTION = re.compile(
    r"(?:^|\s)(-e|--editable|-f|--find-links|-i|--index-url|--extra-index-url)"
    r"(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)"
)
# Options whose value is where pip looks for packages: an index or a folder (or page) of links.
LOCATION_OPTIONS = ("-f", "--find-links", "-i", "--index-url", "--extra-index-url")


def local_location(value: str) -> str | None:
    """The path an index or find-links location names: a ``file:`` URL's path, or the value
    itself when it is no URL (``vendor``, ``/app/wheels``); None for a remote URL."""
    if value.startswith("file:"):
        path = unquote(value[len("file:") :])
        if path.startswith("//"):  # file:///app/simple, file://localhost/app/simple
            host, _, rest = path[2:].partition("/")
            return "/" + rest if host in ("", "localhost") else value  # another host: unknown
        return path
    return None if "://" in value else value


# pip.conf keys (any section: [global], [install]) whose values are files or folders pip
# reads, or indexes that may be ``file:`` URLs; pip takes them like its command-line options.
PIP_CONFIG_LOCATION = re.compile(
    r"(?:find|extra[-_]index|index)[-_](?:links|url)|constraint|requirement|(?:client[-_])?cert"
)


def pip_config_locations(text: str) -> list[str] | None:
    """The local paths a pip configuration file (pip.conf, pip.ini) names as a find-links
    folder, an index, a constraint or requirements file or a certificate (``find-links =
    /app/wheels``, ``index-url = file:///srv/simple``); None when it cannot be read."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return [
        path
        for section in parser.sections()
        for key, value in parser.items(section)
        if PIP_CONFIG_LOCATION.fullmatch(key)
        for part in (value or "").split()
        if (path := local_location(part)) is not None
    ]


def pip_config_sets_cache(text: str) -> bool:
    """Whether a pip configuration file moves pip's cache (``cache-dir``) or names a
    find-links location that may lie in it: a local path may (built: ``find-links =
    /root/.cache/pip/dl`` with ``no-index`` found nothing on the mount); http(s) URLs do not
    (pip fetches their pages with ``max-age=0``; built: ``find-links =
    https://pypi.org/simple/six/`` with ``no-index`` installed six 1.17.0 with the mount
    emptied or filled with 1.16.0, as the original). A file configparser cannot read may."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return True
    for section in parser.sections():
        for key, value in parser.items(section):
            if re.fullmatch(r"cache[-_]dir", key):
                return True
            if re.fullmatch(r"find[-_]links", key) and any(
                not re.match(r"https?://", part) for part in (value or "").split()
            ):
                return True
    return False


_UV_LOCATIONS = ("find-links", "index-url", "extra-index-url")


# uv's cache folder (UV_CACHE_DIR, --cache-dir): with UV_OFFLINE/--offline, uv installs from
# it alone, so a cache the repository keeps is a file the install reads.
UV_CACHE_ENV = ("UV_CACHE_DIR",)
UV_CACHE_OPTIONS = ("--cache-dir",)


def uv_local_location(text: str, path: str) -> str | None:
    """Where uv's settings file ``path`` (uv.toml, or pyproject.toml's [tool.uv]) makes an
    install read the project's files: a find-links folder or an index given as a path or
    ``file:`` URL (``find-links = ["vendor/wheels"]``); None when it names none."""
    try:
        data = load_toml(text)
    except (tomllib.TOMLDecodeError, RecursionError):  # RecursionError: nested too deep
        return f"{path} could not be read"
    if not path.endswith("uv.toml"):
        data = data.get("tool", {}).get("uv", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [data, data.get("pip")] if isinstance(data, dict) else []
    for table in [t for t in tables if isinstance(t, dict)]:
        indexes = table.get("index")
        urls = (
            [i.get("url") for i in indexes if isinstance(i, dict)]
            if isinstance(indexes, list)
            else []
        )
        values = [(key, table.get(key)) for key in _UV_LOCATIONS] + [("index", u) for u in urls]
        for key, value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and local_location(item) is not None:
                    return f"{path} sets {key} to {item}"
    return None


# pip's ARCHIVE_EXTENSIONS (pip/_internal/utils/filetypes.py): an argument ending in one, in
# any case, is a file pip opens, even a bare name (``mypkg-1.0.tar.bz2``).
_ARCHIVES: tuple[str, ...] = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar")
_ARCHIVES += (".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma")


def is_local(arg: str) -> bool:
    """True for a pip argument naming a local path rather than a package: a path, or an
    archive pip opens from the working folder (built: a requirements line
    ``mypkg-1.0.tar.bz2`` failed with "No such file or directory" when the requirements file
    came without it)."""
    if "://" in arg and not arg.startswith("file:"):
        return False
    return (
        arg.startswith((".", "/", "~", "file:"))
        or arg.lower().endswith(_ARCHIVES)
        or ("/" in arg and "@" not in arg)
    )


@dataclass
class Requirements:
    """What requirements files, with the files they include (-r, -c), ask pip to install."""

    files: list[str] = field(default_factory=list)  # context paths read, in reading order
    names: list[str] = field(default_factory=list)  # canonical names of the named packages
    marked: set[str] = field(default_factory=set)  # names listed with an environment marker
    markers: dict[str, list[str]] = field(default_factory=dict)  # each marked name's markers
    git: list[str] = field(default_factory=list)  # version-control requirement lines
    local: list[tuple[str, str]] = field(default_factory=list)  # (file, line) of local paths
    missing: str | None = None  # the first file that is not in the context
    # Every file lists the whole dependency tree: written by pip-compile or uv pip compile, or
    # in pip's hash-checking mode (each requirement with --hash, which pip enforces on every
    # dependency). Otherwise the packages' own dependencies are unknown.
    closed: bool = True
    no_binary: bool = False  # a ``--no-binary`` line: pip builds those from the sdist
    # Names listed only in a constraints file (``-c``): pip installs them only where a
    # requirement asks for them.
    constrained: set[str] = field(default_factory=set)


# A PEP 508 direct reference to a local file, however spaced: ``name@file:``, ``name[x] @file:``.
_FILE_REFERENCE = re.compile(r"^[A-Za-z0-9][\w.\-]*\s*(?:\[[^\]]*\])?\s*@\s*file:", re.I)


def read_requirements(context: BuildContext, paths: list[str]) -> Requirements:
    """Read the requirements files ``paths`` (context paths) and every file they include."""
    found = Requirements()
    todo, seen = deque(paths), set[str]()  # a set: 4,000 chained files took 14 s as a list
    required, listed, constraints = set(paths), set[str](), set[str]()  # -r files; their names
    while todo:
        path = todo.popleft()
        if path in seen:
            continue
        text = context.read_text(path)
        if text is None:
            found.missing = found.missing or path
            continue
        found.files.append(path)
        seen.add(path)
        closed = "--require-hashes" in text or _COMPILED.search(text) is not None or annotated(text)
        for raw in _CONTINUED.sub(" ", text).splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith("#"):
                continue
            includes = list(_INCLUDE.finditer(line)) if line.startswith("-") else []
            for include in includes:
                folder = posixpath.dirname(path)
                if ".." in include.group(2).split("/")[1:]:
                    found.local.append((path, line))  # pip opens sub/../x: sub must exist
                todo.append(posixpath.normpath(posixpath.join(folder, include.group(2))))
                if include.group(1) in ("-r", "--requirement"):
                    required.add(todo[-1])
            if includes and includes[0].start() == 0:
                continue  # an include line (other options on it are read below)
            if "git+" in line:
                found.git.append(line)
                continue
            if line.startswith("-") and _NO_BINARY_OPTION.search(line):
                found.no_binary = True  # it wins over --only-binary given on the command line
            if line.startswith("-"):
                if any(_reads_context(m) for m in PATH_OPTION.finditer(line)):
                    found.local.append((path, line))  # ``--find-links vendor``, ``-e .``
            elif is_local(line.split(";")[0].strip()) or _FILE_REFERENCE.search(line):
                found.local.append((path, line))
            else:
                name = requirement_name(line)
                if name is not None:
                    found.names.append(name)
                    (listed if path in required else constraints).add(name)
                    if ";" in line:  # pip installs it only where the marker holds
                        found.marked.add(name)
                        marker = line.split(";", 1)[1].split(" --")[0].strip()
                        found.markers.setdefault(name, []).append(marker)
                found.closed = found.closed and (closed or "--hash" in line)
    found.constrained = constraints - listed
    return found


def may_be_left_out(read: Requirements, version: tuple[int, int] | None) -> set[str]:
    """The marked names pip may leave out on some Linux build of CPython ``version`` (every
    marked name when the version is unknown): pip-compile writes psycopg[binary]'s
    ``psycopg-binary ; implementation_name != "pypy"``, which every CPython installs (built:
    python:3.11-slim, which has no libpq, answered "binary"). Names only a constraints file
    lists are left out (built: psycopg-binary in ``-c constraints.txt`` was not installed;
    the split without libpq5 failed "libpq library not found" where python:3.11 answered)."""
    return read.constrained | {
        name
        for name in read.marked
        if version is None
        or not all(holds_on_every_linux(m, version) for m in read.markers.get(name, [""]))
    }


def _reads_context(option: re.Match[str]) -> bool:
    """True for a path option that makes pip read the project's files: an editable install
    (it builds from sources), or a find-links folder or index given as a path or ``file:``
    URL (a remote index or page of links reads none)."""
    name, value = option.group(1), option.group(2)
    return name not in LOCATION_OPTIONS or local_location(value) is not None


_CONTINUED = re.compile(r"\\\r?\n")
# Anywhere on an option line, as PATH_OPTION (``--prefer-binary --no-binary lxml``).
_NO_BINARY_OPTION = re.compile(r"(?:^|\s)--no-binary[\s=]+(?!:none:(?:\s|$))\S")
_COMPILED = re.compile(r"(?im)^#.*\bautogenerated by (?:pip-compile|uv)\b")
_VIA = re.compile(r"^\s*#\s*via\b")
_EXTRAS = re.compile(r"[A-Za-z0-9][\w.\-]*\s*\[")  # ``name[extra]``, however spaced


def annotated(text: str) -> bool:
    """Every requirement carries the ``# via`` annotation pip-compile and ``uv pip compile``
    write (on its line or the next): their output without the header (``--no-header``).
    Not with a requirement naming extras: both tools strip them by default, so one is likely
    added by hand, and the extra's packages may be listed nowhere (built: a hand-added
    ``sqlalchemy[postgresql_psycopg]`` installed psycopg unlisted, whose split runtime lacked
    libpq: "libpq library not found")."""
    lines = _CONTINUED.sub(" ", text).splitlines()
    found = False
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        if _EXTRAS.match(line):
            return False
        after = lines[i + 1] if i + 1 < len(lines) else ""
        inline = raw[raw.find(" #") + 1 :] if " #" in raw else ""
        if not (_VIA.match(inline) or _VIA.match(after)):
            return False
        found = True
    return found


# A package that needs the full image's library only where the one named beside it is not
# installed: psycopg imports psycopg-binary's implementation first, which brings its own libpq
# (built: python:3.12-slim answered "binary" with libpq 17; without it, "libpq library not found").
BRINGS_OWN = {"psycopg": "psycopg-binary"}
# The variable that picks another implementation than the one BRINGS_OWN names, and its value
# that keeps it (built: ``ENV PSYCOPG_IMPL=python`` beside psycopg-binary, -slim failed
# "couldn't import requested psycopg 'python' implementation: libpq library not found").
_OWN_CHOSEN_BY = {"psycopg": ("PSYCOPG_IMPL", "binary")}
# The implementation loaded before the one BRINGS_OWN names when both are installed (built:
# psycopg[binary,c] answered "c 150020" on python:3.11, linked to the system's libpq; the
# split onto python:3.11-slim without libpq5 fell back to "binary 170000").
_CHOSEN_FIRST = {"psycopg": "psycopg-c"}


def needs_full(
    names: Iterable[str], marked: Collection[str] = (), env: Mapping[str, str | None] | None = None
) -> list[str]:
    """The names among ``names`` that need the full image (``PY_NEEDS_FULL``), leaving out a
    package whose own copy of the library (``BRINGS_OWN``) is installed with it: listed
    without an environment marker (``marked``), which may not hold where the image is built
    (built: ``psycopg-binary ; sys_platform == "win32"`` beside psycopg, -slim failed
    "libpq library not found" where python:3.11 answered), and not where the runtime's
    variables ``env`` choose another implementation (``_OWN_CHOSEN_BY``)."""
    listed = list(names)
    own = brings_own(listed, marked, env)
    return [n for n in listed if n in PY_NEEDS_FULL and n not in own]


def brings_own(
    names: Iterable[str], marked: Collection[str] = (), env: Mapping[str, str | None] | None = None
) -> set[str]:
    """The names among ``names`` whose own copy of their library (``BRINGS_OWN``) is
    installed with them and chosen (see ``needs_full``)."""
    listed = list(names)
    sure = set(listed) - set(marked)
    return {n for n in listed if BRINGS_OWN.get(n) in sure and not _own_not_chosen(n, env or {})}


def _own_not_chosen(name: str, env: Mapping[str, str | None]) -> bool:
    """True when the runtime's variables (``env``) may pick another implementation of
    ``name`` than the one its ``BRINGS_OWN`` package brings (a value-less ARG may)."""
    variable, keeps = _OWN_CHOSEN_BY.get(name, ("", ""))
    if not variable or variable not in env:
        return False
    value = env[variable]
    return value is None or value.lower() not in ("", keeps)  # psycopg lowers it


def requirement_name(spec: str) -> str | None:
    """The canonical (PEP 503) name of a PEP 508 requirement, or None when it is not one."""
    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        return canonicalize_name(match.group(0)) if match else None


# ---------------------------------------------------------------- what an install builds

_PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-t", "--target", "-i", "--index-url",
    "--extra-index-url", "--prefix", "--root", "-f", "--find-links", "--only-binary",
    "--no-binary", "--cache-dir", "--src", "-e", "--editable", "-w", "--wheel-dir",
}  # fmt: skip


@dataclass
class InstallEvidence:
    """Whether the build context proves that Python installs need no compiler or -dev library.

    ``status``: 'none' (proven: every package installs from a wheel, and the packages are
    all known: a lock file or requirements that list the whole tree), 'native' or 'git' (a
    package needs the full image), 'open' (from wheels, but their dependencies are not
    listed: one may load a system library), 'unproven' (packages that may be built from
    source; ``names`` lists them when a lock file tells), 'unknown' (msdfix cannot see what
    installs).
    """

    status: str
    names: list[str] = field(default_factory=list)
    packages: set[str] = field(default_factory=set)  # every package name the installs name
    # False when the installs may bring packages ``packages`` does not list (their
    # dependencies are listed nowhere, or msdfix stopped reading).
    complete: bool = True
    why: str = ""  # for 'unknown', why msdfix cannot see it when it knows
    # Per package of ``BRINGS_OWN``: True while every install naming it brings its own copy
    # of the library (psycopg with psycopg-binary), so the runtime needs no system one.
    own: dict[str, bool] = field(default_factory=dict)


def python_version(tag: str | None) -> tuple[int, int] | None:
    """The CPython (major, minor) an image tag names (``3.12-slim``), or None."""
    match = re.match(r"(\d+)\.(\d+)", tag or "")
    return (decimal(match.group(1)), decimal(match.group(2))) if match else None


def install_evidence(
    context: BuildContext,
    installs: list[tuple[str, list[str]]],
    version: tuple[int, int] | None,
    scope: Mapping[str, str | None],
    runtime_env: Mapping[str, str | None] | None = None,
) -> InstallEvidence:
    """The evidence for the ``(program, args)`` installs of a stage on CPython ``version``;
    ``runtime_env``: the variables the image runs with (default: ``scope``)."""
    env = scope if runtime_env is None else runtime_env
    found = InstallEvidence("none")
    for program, args in installs:
        if "uninstall" in args:
            _note_uninstalled(found.own, args)
            continue
        manager = _BY_PROGRAM.get(program)
        sub = manager.subcommand_of(args) if manager else ""
        if program in LOCK_FILES and sub in ("install", "sync"):
            if version is None:
                return InstallEvidence("unknown", packages=found.packages, complete=False)
            relock = _relocks(context, program, sub, args, scope)
            if relock is not None:
                return InstallEvidence("unknown", [], found.packages, False, relock)
            evidence = wheel_evidence(context, program, version)
            if not evidence.known:
                return InstallEvidence("unknown", packages=found.packages, complete=False)
            found.packages.update(evidence.names)  # the lock lists every dependency
            left_out = _sync_leaves_out(program, args, evidence.names)
            marked = set(evidence.names) - evidence.sure | left_out
            _note_own(found.own, evidence.names, brings_own(evidence.names, marked, env))
            native = needs_full(evidence.names, marked, env)
            if native:
                return InstallEvidence("native", native, found.packages, complete=False)
            builds = list(evidence.builds)
            if _no_binary(context, args, scope, program):  # sdists although wheels exist
                builds += [n for n in evidence.names if n not in builds]
            if _builds_self(context, program, args):
                builds.append("the project itself")
            if builds:
                found.status, found.names = "unproven", [*found.names, *builds]
            continue
        if program not in ("pip", "pip3", "uv") and not program.startswith("pip3."):
            return InstallEvidence("unknown", packages=found.packages, complete=False)
        status, names = _pip_blockers(context, args, found.packages, env, version, found.own)
        if status in ("unknown", "native", "git"):
            return InstallEvidence(status, names, found.packages, complete=False)
        found.complete = found.complete and status != "open"
        wheels = _only_binary(args, scope) and not _no_binary(context, args, scope, program)
        built = local_wheel_builds(context, _find_links(args, scope)) if wheels else []
        if built:  # compiled on some machine, against its libraries
            found.status, found.names = "unproven", [*found.names, *built]
        elif not (wheels or _tools_only(args)) and found.status in (
            "none",
            "open",
        ):
            found.status = "unproven"
        elif status == "open" and found.status == "none":
            found.status, found.names = "open", names
    return found


def _sync_leaves_out(program: str, args: list[str], names: Iterable[str]) -> set[str]:
    """The lock's packages a ``uv sync`` may leave out although every Linux install of the
    project has them: each ``--no-install-package`` (built: uv 0.8.22 left psycopg-binary out,
    psycopg[binary] then loaded the system's libpq, and the split onto python:3.11-slim failed
    "libpq library not found"), and all of ``names`` with ``--package`` (it installs a
    workspace member's dependencies, which msdfix does not read)."""
    if program != "uv":
        return set()
    left: set[str] = set()
    for i, arg in enumerate(args):
        if arg == "--package" or arg.startswith("--package="):
            return set(names)
        if arg == "--no-install-package" and i + 1 < len(args):
            left.add(canonicalize_name(args[i + 1]))
        elif arg.startswith("--no-install-package="):
            left.add(canonicalize_name(arg.split("=", 1)[1]))
    return left


def _note_uninstalled(own: dict[str, bool], args: list[str]) -> None:
    """Record that no ``BRINGS_OWN`` package keeps its own library once a ``pip uninstall``
    removes that library's package, or packages from a file (built: ``pip uninstall -y
    psycopg-binary`` after installing psycopg[binary]; python:3.11 answered "python 150020"
    with its libpq, the split onto python:3.11-slim without libpq5 failed "libpq library not
    found")."""
    operands = {requirement_name(a) for a in args if not a.startswith("-")}
    from_file = any(a in ("-r", "--requirement") or a.startswith("--requirement=") for a in args)
    for package, library in BRINGS_OWN.items():
        if from_file or library in operands:
            own[package] = False


def _note_own(own: dict[str, bool], names: Iterable[str], brought: set[str]) -> None:
    """Record, for each ``BRINGS_OWN`` package among ``names``, whether this install
    brought its own library with it (``brought``) as every earlier one did; an install of
    the implementation chosen first (``_CHOSEN_FIRST``) records that none does."""
    for name in names:
        if name in BRINGS_OWN:
            own[name] = own.get(name, True) and name in brought
        for package, first in _CHOSEN_FIRST.items():
            if name == first:
                own[package] = False


def _relocks(
    context: BuildContext, program: str, sub: str, args: list[str], scope: Mapping[str, str | None]
) -> str | None:
    """Why a plain ``uv sync`` or ``pdm install`` locks again instead of installing the
    context's lock (``uv_lock_stale`` with the settings it runs with, ``uv_sync_upgrades``,
    ``pdm_lock_stale``): what it installs is then not what the lock lists. Built with uv
    0.13.9: a uv.lock listing six alone, pyproject.toml adding psycopg2; the install locked
    again and built psycopg2 from its sdist, and the split's runtime failed "libpq.so.5:
    cannot open shared object file" where the original answered. None when it does not."""
    if program not in ("uv", "pdm") or project_manifest_writes(program, [sub], args) != (
        WRITES_IN_PLACE
    ):
        return None
    pyproject = context.read_toml("pyproject.toml")
    lock = context.read_toml(LOCK_FILES[program])
    if pyproject is None or lock is None:
        return None
    if program == "pdm":
        stale = (
            "has another content_hash than pdm computes"
            if pdm_lock_stale(pyproject, lock)
            else None
        )
    elif (upgrade := uv_sync_upgrades(args)) is not None:
        stale = f"is upgraded by `{upgrade}`"
    else:
        settings = uv_project_settings(context, ".", pyproject, {**scope}, args)
        stale = uv_lock_stale(pyproject, lock, settings)
    if stale is None:
        return None
    return (
        f"the install locks again ({program}.lock {stale}), so the lock does not show what "
        "it installs"
    )


def uv_project_settings(
    context: BuildContext,
    project: str,
    pyproject: dict[str, Any],
    env: Mapping[str, str | None],
    args: list[str],
) -> Mapping[str, str | None] | str:
    """``uv_resolver_settings`` of the project in the context folder ``project``: uv.toml
    there where there is one (an unreadable one is unknown), else [tool.uv]."""
    config: object = (pyproject.get("tool") or {}).get("uv") or {}
    path = posixpath.join(project, "uv.toml")
    if context.exists(path):
        config = context.read_toml(path)
    if not isinstance(config, dict):
        return "uv.toml or [tool.uv], which msdfix cannot read"
    return uv_resolver_settings(config, env, args)


def _only_binary(args: list[str], scope: Mapping[str, str | None]) -> bool:
    """pip refuses to build anything: ``--only-binary :all:`` or PIP_ONLY_BINARY=:all:."""
    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--only-binary=") else None
        if arg == "--only-binary" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None and ":all:" in value.split(","):
            return True
    return ":all:" in (scope.get("PIP_ONLY_BINARY") or "").split(",")


def _no_binary(
    context: BuildContext, args: list[str], scope: Mapping[str, str | None], program: str = "pip"
) -> bool:
    """Some package is built from its sdist although ``--only-binary :all:`` is given or a
    lock file lists wheels: a ``--no-binary`` option, variable or line of a requirements file
    (pip reads the file's options after the command line's, so the file's wins), or for uv,
    poetry and pdm a ``no-binary`` setting in their settings files."""
    if any(a.startswith("--no-binary") for a in args) or any(scope.get(v) for v in NO_BINARY_ENV):
        return True
    if program in ("uv", "poetry", "pdm") and configured_no_binary(context):
        return True
    if program in LOCK_FILES and not _requirement_files(args):
        return False
    files = _requirement_files(args)
    return read_requirements(context, [_context_path(context, f) for f in files]).no_binary


def _builds_self(context: BuildContext, program: str, args: list[str]) -> bool:
    """poetry and pdm install the project itself (not in their lock files) unless told not
    to; its build may run code msdfix does not read (a build script, hooks, extensions)."""
    if program not in ("poetry", "pdm") or {"--no-root", "--no-self"} & set(args):
        return False
    ecosystem = POETRY if program == "poetry" else PDM
    text = context.read_text("pyproject.toml")
    if (
        text is not None
        and ecosystem.no_self_setting
        and re.search(ecosystem.no_self_setting, text, re.M)
    ):
        return False
    return not pure_build(context, ".")


def _find_links(args: list[str], scope: Mapping[str, str | None]) -> list[str]:
    """The local folders a pip command finds packages in (``-f``/``--find-links``, and
    ``PIP_FIND_LINKS``/``UV_FIND_LINKS``)."""
    values: list[str] = []
    for i, arg in enumerate(args):
        if arg in ("-f", "--find-links") and i + 1 < len(args):
            values.append(args[i + 1])
        elif arg.startswith("--find-links="):
            values.append(arg.split("=", 1)[1])
        elif arg.startswith("-f") and len(arg) > 2:
            values.append(arg[2:])
    for var in ("PIP_FIND_LINKS", "UV_FIND_LINKS"):
        values += (scope.get(var) or "").split()
    return [p for p in (local_location(v) for v in values) if p]


def _requirement_files(args: list[str]) -> list[str]:
    """The files a pip command's ``-r``/``--requirement`` options name, as written."""
    files: list[str] = []
    for i, arg in enumerate(args):
        if arg in ("-r", "--requirement") and i + 1 < len(args):
            files.append(args[i + 1])
        elif arg.startswith("-r") and len(arg) > 2:
            files.append(arg[2:])
        elif arg.startswith("--requirement="):
            files.append(arg.split("=", 1)[1])
    return files


def requirement_locations(context: BuildContext, args: list[str]) -> list[tuple[str, str]]:
    """The absolute local folders or indexes the option lines of a pip command's requirements
    files name (those the context holds), each with its line (``--find-links
    /root/.cache/pip/dl``)."""
    files = _requirement_files(args)
    read = read_requirements(context, [_context_path(context, f) for f in files]) if files else None
    return [
        (path, line)
        for _, line in (read.local if read is not None else [])
        for m in PATH_OPTION.finditer(line)
        if m.group(1) in LOCATION_OPTIONS
        and (path := local_location(m.group(2)) or "").startswith("/")
    ]


def _context_path(context: BuildContext, path: str) -> str:
    """The context path of a requirements file named in a RUN."""
    rel = path[2:] if path.startswith("./") else path
    if rel.startswith("/") or context.read_text(rel) is None:
        rel = posixpath.basename(rel)  # copied from the context root (the usual case)
    return rel


def _tools_only(args: list[str]) -> bool:
    """A pip command that installs nothing but packaging tools (they ship wheels)."""
    names = [a for a in args if not a.startswith("-") and a not in ("install", "pip", "wheel")]
    if any(a.startswith(("-r", "--requirement", "-e", "--editable", "-c")) for a in args):
        return False
    return bool(names) and all(requirement_name(n) in WHEEL_TOOLS for n in names)


def _pip_blockers(
    context: BuildContext,
    args: list[str],
    packages: set[str],
    env: Mapping[str, str | None],
    version: tuple[int, int] | None = None,
    own: dict[str, bool] | None = None,
) -> tuple[str, list[str]]:
    """Known blockers among the packages a pip command names ('none' when none is known)
    on CPython ``version``; the names it installs are added to ``packages``, and whether
    they bring their own library to ``own`` (``InstallEvidence.own``)."""
    own = {} if own is None else own
    status, names = "none", list[str]()
    files = _requirement_files(args)
    for i, arg in enumerate(args):
        if arg in ("-r", "--requirement") or arg.startswith(("-r", "--requirement=")):
            continue
        if (
            not arg.startswith("-")
            and arg not in ("install", "pip", "wheel")
            and (i == 0 or args[i - 1] not in _PIP_VALUE_OPTIONS)
        ):
            if arg.startswith(("git+", ".", "/")) or "://" in arg:
                return "unknown", []
            name = requirement_name(arg)
            packages.add(name or arg)
            _note_own(own, [name or arg], set())  # psycopg alone on the command line
            if name in PY_NEEDS_FULL:
                status, names = "native", [*names, arg]
            elif status == "none" and name not in WHEEL_TOOLS:
                status = "open"  # its dependencies are not listed anywhere
    for path in files:
        read = read_requirements(context, [_context_path(context, path)])
        if read.missing or read.local:
            return "unknown", []
        packages.update(read.names)
        if read.git:
            status, names = "git", [*names, *read.git]
        elif status != "git":
            left_out = may_be_left_out(read, version)
            _note_own(own, read.names, brings_own(read.names, left_out, env))
            native = needs_full(read.names, left_out, env)
            if native:
                status, names = "native", [*names, *native]
            elif status == "none" and not read.closed:
                status = "open"
    return status, names


def _list(value: Any) -> list[Any]:
    """A lock file's array, or none when it holds something else."""
    return value if isinstance(value, list) else []
