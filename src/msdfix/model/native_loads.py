"""Python sources that load a system library by name, or compile C, while the program runs.

The full python image (buildpack-deps) has gcc and many libraries (libpq, libxml2, libmagic,
libcairo, ...) that ``python:*-slim`` lacks. Known PyPI packages that need them are listed in
``PY_NEEDS_FULL``; the app's own ``ctypes.CDLL("libpq.so.5")`` or a cffi module compiled at
import (``ffibuilder.compile()``) are seen only in its sources.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.program_calls import MAX_SCANNED, TOO_MANY

_LOAD = re.compile(
    r"""\b(?:CDLL|PyDLL|LoadLibrary|find_library|dlopen|Handle\.new|ffi_lib)[(\s]\s*[rbu]?["']"""
    r"""([^"'\s]+)["']"""
)
# Sources read per family: Python's ctypes/cffi, Ruby's Fiddle and FFI.
SUFFIXES = {"python": "*.py", "ruby": "*.rb"}
# A shared object's name anywhere in a source that imports ctypes or cffi (``LoadLibrary(
# os.environ.get("LIB", "libpq.so.5"))``).
_SONAME = re.compile(r"""["'](?:[\w./-]*/)?(lib[\w+-]+?\.so(?:\.\d+)*)["']""")
_CFFI_BUILD = re.compile(r"\bset_source\(|\.verify\(")
_CFFI_COMPILE = re.compile(r"\.compile\(|\.verify\(")
# tkinter's extension links libtk/libtcl: the full python image keeps tk-dev (a build
# dependency of the interpreter), and the -slim Dockerfile deliberately leaves tkinter's
# libraries out of what it keeps (``find ... -not -name '*tkinter*' -exec ldd``), so
# ``import tkinter`` fails there with "libtk8.6.so: cannot open shared object file".
_TKINTER = re.compile(
    r"^[^\S\n]*(?:import|from)[^\S\n]+(?:_?tkinter|turtle|turtledemo|idlelib)\b"
    r"|\bImageTk\b|\buse\(\s*[\"']TkAgg[\"']|\bMPLBACKEND\W+TkAgg\b",
    re.MULTILINE | re.IGNORECASE,
)
# torch.compile's default backend (inductor) compiles generated C++ with the system's
# compiler when the program runs ("InvalidCxxCompiler: No working C++ compiler found").
_TORCH_COMPILE = re.compile(r"\btorch\.compile\(|@torch\.compile\b")
# glibc's own libraries and the runtime libraries every Debian image has.
_BASE_LIBRARIES = frozenset(
    "c m dl pthread rt util crypt resolv nsl anl gcc_s stdc++ z python3".split()
)
_SKIPPED = ("tests/", "test/", "docs/", "venv/", ".venv/", "node_modules/", "site-packages/")


def library_name(word: str) -> str:
    """``libpq.so.5`` -> ``pq``; ``pq`` -> ``pq``; ``/usr/lib/libmagic.so.1`` -> ``magic``."""
    base = posixpath.basename(word)
    base = base.removeprefix("lib")
    return re.split(r"\.so\b|\.dylib\b|\.dll\b", base)[0]


def native_need(
    ctx: BuildContext, provided: Iterable[str] = (), pattern: str = "*.py"
) -> str | None:
    """Why a Python source of the context needs the full image when it runs: it loads a
    library beyond glibc's by name (through ctypes or cffi) that nothing ``provided`` (an
    installed package ``libpq5``, a copied ``libfast.so.1``) brings, or it compiles C with
    cffi. None when none does, or there is no context."""
    if not ctx.present:
        return None
    files = [f for f in ctx.glob(pattern) if not f.startswith(_SKIPPED) and "/test" not in f]
    if len(files) > MAX_SCANNED:
        return TOO_MANY
    packages = [posixpath.basename(p) for p in provided]
    for rel in sorted(files):
        try:
            text = ctx.read_known(rel) or ""
        except Unreadable as exc:  # unread is not "loads none"
            return f"{exc}, so which system libraries it loads is unknown"
        if "cffi" in text and _CFFI_BUILD.search(text) and _CFFI_COMPILE.search(text):
            return f"{rel} compiles C with cffi when it runs (gcc)"
        if pattern == "*.py" and _TORCH_COMPILE.search(text):
            return f"{rel} calls torch.compile, which builds C++ with a compiler when it runs"
        if pattern == "*.py" and _TKINTER.search(text) and not _provides_tk(packages):
            return f"{rel} uses tkinter, which loads the system library libtk"
        words = [m.group(1) for m in _LOAD.finditer(text)]
        if "ctypes" in text or "cffi" in text or "fiddle" in text.lower():
            words += [m.group(1) for m in _SONAME.finditer(text)]
        for word in words:
            name = library_name(word)
            if not name or name in _BASE_LIBRARIES or name.startswith("python"):
                continue
            if any(p.startswith(f"lib{name}") for p in packages):
                continue  # the Dockerfile installs or copies it
            return f"{rel} loads the system library lib{name} by name"
    return None


def _provides_tk(packages: list[str]) -> bool:
    """The Dockerfile installs Tk itself (``libtk8.6``, ``tk``, ``tk-dev``)."""
    return any(p.startswith(("libtk", "tk")) for p in packages)


def provided_names(packages: Iterable[str], copies: Iterable[str]) -> set[str]:
    """OS packages a stage installs and the words of its COPY/ADD lines (a vendored
    ``libfast.so.1``): what may bring a library a source loads."""
    return set(packages) | {w for line in copies for w in line.split()}
