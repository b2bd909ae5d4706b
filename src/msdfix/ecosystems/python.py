"""Python: pip, uv, poetry, pipenv and pdm (caches ``~/.cache/pip`` or ``PIP_CACHE_DIR``,
``~/.cache/uv`` or ``UV_CACHE_DIR``, ``~/.cache/pypoetry``, ``~/.cache/pipenv``,
``~/.cache/pdm`` or ``PDM_CACHE_DIR``), their manifests, and what the build context proves about
the packages an install will build.

A package installs on a ``-slim`` image (no compiler, no ``-dev`` libraries) when pip finds a
wheel for the interpreter and the machine: pure-Python (``py3-none-any``) or a manylinux wheel
for both amd64 and arm64 (the build may run on either). Lock files that list each package's
files (``poetry.lock``, ``uv.lock``, ``pdm.lock``) are that evidence; requirements files are not.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager
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


@dataclass(frozen=True)
class WheelEvidence:
    """What a lock file says about building: packages without a usable wheel, or unknown."""

    lock: str | None  # the lock file read, None when there is none to read
    builds: tuple[str, ...] = ()  # packages pip would build from source

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
            wheel_minor = int(interpreter[3:] or 0)
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
    """Packages of the tool's lock file that have no wheel for ``version`` on every arch."""
    name = LOCK_FILES.get(tool)
    text = context.read_text(name) if name else None
    if name is None or text is None:
        return WheelEvidence(None)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return WheelEvidence(None)
    builds = []
    for package in data.get("package", []):
        if not isinstance(package, dict):
            continue
        source = package.get("source")
        if isinstance(source, dict) and ({"editable", "virtual"} & set(source)):
            continue  # the project itself: built from the copied sources either way
        files = [  # poetry and pdm: {file = ...}; pdm with static URLs: {url = ...}
            f.get("file") or str(f.get("url", "")).rsplit("/", 1)[-1]
            for f in package.get("files", [])
            if isinstance(f, dict)
        ]
        files += [
            str(w.get("url", "")).rsplit("/", 1)[-1]
            for w in package.get("wheels", [])
            if isinstance(w, dict)
        ]
        arches: set[str] = set()
        for filename in files:
            if isinstance(filename, str) and filename.endswith(".whl"):
                arches |= _usable(filename, version)
        if not set(ARCHES) <= arches:
            builds.append(canonicalize_name(str(package.get("name", "?"))))
    return WheelEvidence(name, tuple(builds))


# ---------------------------------------------------------------- package managers

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "pip",
        ("pip", "pip3", "pip3.8", "pip3.9", "pip3.10", "pip3.11", "pip3.12", "pip3.13"),
        ("install", "wheel", "download"),
        (CacheDir("~/.cache/pip", (("PIP_CACHE_DIR", ""),)),),
        defeat_flags=("--no-cache-dir",),
        clean_commands=(("pip", "cache", "purge"), ("pip3", "cache", "purge")),
        cache_options=("--cache-dir",),
        no_cache_env=("PIP_NO_CACHE_DIR",),
    ),
    PackageManager(
        "uv",
        ("uv",),
        ("pip", "sync", "add", "tool", "venv", "lock"),
        (CacheDir("~/.cache/uv", (("UV_CACHE_DIR", ""),)),),
        defeat_flags=("--no-cache",),
        clean_commands=(("uv", "cache", "clean"),),
        value_options=("--directory", "--project", "--cache-dir"),
        cache_options=("--cache-dir",),
    ),
    PackageManager(
        "poetry",
        ("poetry",),
        ("install", "update", "add", "lock"),
        (  # not the whole cache dir: poetry creates its virtualenvs under it
            CacheDir("~/.cache/pypoetry/cache", (("POETRY_CACHE_DIR", "/cache"),)),
            CacheDir("~/.cache/pypoetry/artifacts", (("POETRY_CACHE_DIR", "/artifacts"),)),
        ),
        defeat_flags=("--no-cache",),
        inert_subcommands=("config", "--version", "self"),
    ),
    PackageManager(
        "pipenv",
        ("pipenv",),
        ("install", "sync", "update", "lock"),
        (
            CacheDir("~/.cache/pipenv", (("PIPENV_CACHE_DIR", ""),)),
            CacheDir("~/.cache/pip", (("PIP_CACHE_DIR", ""),)),
        ),
        inert_subcommands=("config", "--version", "self"),
    ),
    PackageManager(
        "pdm",
        ("pdm",),
        ("install", "sync", "add", "update", "lock"),
        (  # not the whole cache dir: with install.cache on, pdm links packages from packages/
            CacheDir("~/.cache/pdm/http", (("PDM_CACHE_DIR", "/http"),)),
            CacheDir("~/.cache/pdm/wheels", (("PDM_CACHE_DIR", "/wheels"),)),
        ),
        inert_subcommands=("config", "--version", "self", "cache"),
    ),
)

PIP = Ecosystem("pip", ("pip", "uv"), ())  # the requirements files named with -r/-c
POETRY = Ecosystem(
    "poetry",
    ("poetry",),
    ("pyproject.toml", "poetry.lock", "poetry.toml"),
    guess=("pyproject.toml", "poetry.lock*", "poetry.toml*"),
    outputs=(".venv",),
    key="pyproject.toml",
    checks="python",
    no_self=("--no-root", "--only-root"),
    no_self_setting=r"^\s*package-mode\s*=\s*false",
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
    no_self_setting=r"^\s*distribution\s*=\s*false",
)
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
