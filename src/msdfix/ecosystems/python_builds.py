"""What makes a Python install build code although a lock file or ``--only-binary`` says it
installs wheels: the installer's settings (``no-binary``), the project's own build (its
build backend runs code msdfix does not read) and wheels built on some machine rather than
portable (``linux_x86_64`` instead of manylinux)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from msdfix.ecosystems.base import PackageManager
from msdfix.model.context import BuildContext

# Settings files in which uv, poetry and pdm may say "build these from their sdists".
NO_BINARY_FILES = ("pyproject.toml", "uv.toml", "poetry.toml", "pdm.toml", "config.toml")
NO_BINARY = re.compile(r"no[-_]binary", re.IGNORECASE)

# Build backends that only copy files into the wheel (no compiler, no code of the project),
# as long as no hook or build script of the project runs with them.
PURE_BACKENDS = frozenset(
    {
        "hatchling.build",
        "flit_core.buildapi",
        "poetry.core.masonry.api",
        "pdm.backend",
        "uv_build",
        "setuptools.build_meta",
        "setuptools.build_meta:__legacy__",
    }
)
# Files a backend runs by itself when they exist (setuptools, hatch and pdm hooks).
_BUILD_SCRIPTS = ("setup.py", "hatch_build.py", "pdm_build.py")


def configured_no_binary(context: BuildContext) -> str | None:
    """A settings file of the context that names ``no-binary`` (uv's ``no-binary-package``,
    poetry's ``installer.no-binary``, pdm's ``no-binary``), or None. A file that cannot be
    read counts: it may say so."""
    if not context.present:
        return None
    for name in NO_BINARY_FILES:
        for rel in context.glob(f"*{name}"):
            text = context.read_text(rel)
            if text is None or NO_BINARY.search(text):
                return rel
    return None


def pure_build(context: BuildContext, folder: str) -> bool:
    """True when building the project in the context ``folder`` runs no code msdfix does not
    read: no build script, and a known backend that copies files (no hooks, no extension
    modules). A project without pyproject.toml or setup.py has nothing to run."""
    base = "" if folder in ("", ".", "./") else folder.strip("/").removeprefix("./") + "/"
    if any(context.exists(base + script) for script in _BUILD_SCRIPTS):
        return False
    if not context.exists(base + "pyproject.toml"):
        return True
    data = context.read_toml(base + "pyproject.toml")
    if data is None:
        return False
    system = data.get("build-system")
    backend = system.get("build-backend") if isinstance(system, dict) else None
    if backend is None:
        return not isinstance(system, dict) or not system.get("backend-path")
    if backend not in PURE_BACKENDS:
        return False
    return not _has_build_code(_table(data, "tool"))


def _has_build_code(tool: dict[str, Any]) -> bool:
    """The project's [tool] tables run code or compile when it is built."""
    hatch = _table(_table(tool, "hatch"), "build")
    targets = _table(hatch, "targets")
    if hatch.get("hooks") or any(_table(t, "hooks") for t in targets.values()):
        return True
    poetry = _table(tool, "poetry")
    if poetry.get("build") or poetry.get("build-script"):
        return True
    pdm_build = _table(_table(tool, "pdm"), "build")
    if pdm_build.get("run-setuptools"):
        return True
    setuptools = _table(tool, "setuptools")
    return bool(setuptools.get("ext-modules") or setuptools.get("cmdclass"))


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def local_wheel_builds(context: BuildContext, folders: list[str]) -> list[str]:
    """Wheels in the context ``folders`` (find-links locations, as the build names them) that
    are not portable: a ``linux_<arch>`` wheel was compiled against the libraries of the
    machine that built it. A folder given by an absolute path is looked for at the context's
    root and by its last component (``/wheels`` copied from ``wheels/``); when neither is a
    folder of the context, any wheel of the context may be the one copied there."""
    found: list[str] = []
    wheels = context.glob("*.whl") if context.present else []
    folders_of = {posixpath.dirname(p) for p in wheels}
    for folder in folders:
        rel = folder.removeprefix("./").strip("/")
        prefixes = {rel, posixpath.basename(rel)} if folder.startswith("/") else {rel}
        if folder.startswith("/") and not prefixes & folders_of:
            prefixes = folders_of  # /wheels from vendor/wheels: any of them may land there
        for prefix in prefixes:
            for path in wheels:
                if posixpath.dirname(path) != prefix:
                    continue
                name = posixpath.basename(path)
                try:
                    _, _, _, tags = parse_wheel_filename(name)
                except InvalidWheelFilename:
                    found.append(name)
                    continue
                if any(t.platform.startswith("linux_") for t in tags):
                    found.append(name)
    return found


def links_into_cache(
    manager: PackageManager,
    args: list[str],
    assignments: Mapping[str, str],
    scope: Mapping[str, str | None],
    context: BuildContext,
) -> bool:
    """True when the install symlinks packages into the tool's cache (uv ``--link-mode
    symlink``, bun ``--backend symlink``). The installed files then live in the cache."""
    return link_mode(manager, args, assignments, scope, context) == "symlink"


def link_mode(
    manager: PackageManager,
    args: list[str],
    assignments: Mapping[str, str],
    scope: Mapping[str, str | None],
    context: BuildContext,
) -> str | None:
    """How the install links packages from the tool's cache (uv ``--link-mode``, bun
    ``--backend``): by its option, else its variable, else the context's configuration
    file; None where nothing sets it (the tool's default)."""
    if not manager.link_option:
        return None
    mode = assignments.get(manager.link_env) or scope.get(manager.link_env)
    for name, keys in manager.link_config if mode is None else ():
        value: Any = context.read_toml(name)
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        mode = mode or (value if isinstance(value, str) else None)
    for i, arg in enumerate(args):
        if arg == manager.link_option and i + 1 < len(args):
            mode = args[i + 1]
        elif arg.startswith(manager.link_option + "="):
            mode = arg.split("=", 1)[1]
    return mode


# pip settings that install somewhere else than the interpreter's prefix (pip.conf keys, and
# ``pip config set install.target ...``); uv's ``[pip]`` table has target and prefix.
_PIP_RELOCATING = re.compile(r"^[^\S\n]*(target|prefix|root|user)[^\S\n]*[=:]", re.M | re.I)
_PIP_CONFIG_SET = re.compile(r"\bconfig\b.*\b(?:install|global)\.(target|prefix|root|user)\b")


def relocating_config(context: BuildContext, runs: list[str]) -> str | None:
    """Where pip's or uv's configuration may move the install out of the interpreter's prefix
    (pip reads ``pip.conf`` files like its ``PIP_TARGET``, ``PIP_USER``, ... variables): a
    pip.conf/pip.ini of the context with ``target``/``prefix``/``root``/``user`` (or one that
    cannot be read), uv.toml's ``[pip]`` target or prefix, or a RUN that sets them (``pip
    config set install.target``, a pip.conf written by the RUN)."""
    if context.present:
        for rel in context.glob("*pip.conf") + context.glob("*pip.ini"):
            text = context.read_text(rel)
            if text is None or _PIP_RELOCATING.search(text):
                return f"{rel} may set where pip installs"
        for rel, table in (("uv.toml", ("pip",)), ("pyproject.toml", ("tool", "uv", "pip"))):
            data: Any = context.read_toml(rel)
            for key in table:
                data = _table(data, key)
            if data.get("target") or data.get("prefix"):
                return f"{rel} sets where uv pip installs"
    for text in runs:
        written = "pip.conf" in text and _PIP_RELOCATING.search(text.replace("\\n", "\n"))
        if _PIP_CONFIG_SET.search(text) or written:
            return "a RUN sets where pip installs"
    return None
