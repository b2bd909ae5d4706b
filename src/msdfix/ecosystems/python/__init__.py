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

import posixpath
import re
import sys
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from msdfix.ecosystems.base import (
    NEVER_WRITES,
    WRITES_IN_PLACE,
    CacheDir,
    Ecosystem,
    PackageManager,
)
from msdfix.ecosystems.images import PY_NEEDS_FULL
from msdfix.ecosystems.python.locks import (
    pdm_lock_stale,
    uv_lock_stale,
    uv_project_settings,
    uv_sync_upgrades,
)
from msdfix.ecosystems.python.requirements import (
    LOCATION_OPTIONS,
    PATH_OPTION,
    local_location,
    may_be_left_out,
    read_requirements,
    requirement_name,
)
from msdfix.ecosystems.python_builds import configured_no_binary, local_wheel_builds, pure_build
from msdfix.ecosystems.python_installs import linux_installs, surely_installed
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
