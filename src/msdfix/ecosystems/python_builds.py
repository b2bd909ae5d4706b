"""What makes a Python install build code although a lock file or ``--only-binary`` says it
installs wheels: the installer's settings (``no-binary``), the project's own build (its
build backend runs code msdfix does not read) and wheels built on some machine rather than
portable (``linux_x86_64`` instead of manylinux)."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from msdfix.model.context import BuildContext

# Settings files in which uv, poetry and pdm may say "build these from their sdists".
NO_BINARY_FILES = ("pyproject.toml", "uv.toml", "poetry.toml", "pdm.toml", "config.toml")
_NO_BINARY = re.compile(r"no[-_]binary", re.IGNORECASE)

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
            if text is None or _NO_BINARY.search(text):
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
    root and by its last component (``/wheels`` copied from ``wheels/``)."""
    found: list[str] = []
    for folder in folders:
        rel = folder.removeprefix("./").strip("/")
        prefixes = {rel, posixpath.basename(rel)} if folder.startswith("/") else {rel}
        for prefix in prefixes:
            for path in context.glob("*.whl"):
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
