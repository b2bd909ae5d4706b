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
# Sources read per family: Python's ctypes/cffi, Ruby's Fiddle and FFI, Node's FFI packages.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "python": ("*.py",),
    "ruby": ("*.rb",),
    "node": ("*.js", "*.cjs", "*.mjs", "*.ts", "*.cts", "*.mts"),
}
# A shared object's name anywhere in a source that imports ctypes or cffi (``LoadLibrary(
# os.environ.get("LIB", "libpq.so.5"))``); a soname may hold dots (``libldap-2.5.so.0``).
_SONAME = re.compile(r"""["'`](?:[\w./-]*/)?(lib[\w+.-]+?\.so(?:\.\d+)*)["'`]""")
# Node's FFI packages load a library by file name when the program runs: koffi's
# ``koffi.load('libldap-2.5.so.0')`` (dlopen), ffi-napi's ``ffi.Library('libcrypto', ...)``
# (adds ``.so``), ffi-rs's ``open({path: 'libpq.so.5'})``. Their packages ship prebuilt
# binaries, so nothing in the lock file says which system library the app loads.
_NODE_FFI = re.compile(
    r"""\brequire\(\s*["'](?:koffi|ffi-napi|@napi-ffi/ffi-napi|ffi-rs|ffi|node-ffi)["']\s*\)"""
    r"""|\bfrom\s+["'](?:koffi|ffi-napi|@napi-ffi/ffi-napi|ffi-rs|ffi|node-ffi)["']"""
    r"""|\bimport\(\s*["'](?:koffi|ffi-napi|ffi-rs)["']\s*\)|\bprocess\.dlopen\("""
)
_FFI_PACKAGE = re.compile(r'"(?:koffi|ffi-napi|@napi-ffi/ffi-napi|ffi-rs|ffi|node-ffi)"\s*:')
_NODE_LIBRARY = re.compile(r"""\bLibrary\(\s*["'`](lib[\w+.-]+)["'`]""")
# A local addon's binding.gyp: node-gyp links what its "libraries" name (``-lpq``,
# ``-l:libldap-2.5.so.0``) and what ``pkg-config --libs`` prints; the full node image has the
# headers and libraries of libpq, libxml2, libsqlite3, libcurl, ... and node:*-slim lacks them.
_GYP_LINK = re.compile(r"""(?<![\w-])-l:?([\w+.-]+)""")
# (the search for ``--libs`` stops at the next ``pkg-config``, which is tried on its own: from
# each of many on one line it ran to the line's end, quadratic in the line)
_GYP_PKG_CONFIG = re.compile(
    r"""pkg-config\b(?:(?!pkg-config\b)[^"'\n)])*?--libs[\w-]*((?:\s+[a-z][\w+.-]*)+)"""
)
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
    ctx: BuildContext, provided: Iterable[str] = (), patterns: tuple[str, ...] = ("*.py",)
) -> str | None:
    """Why a source of the context (Python, Ruby or Node: ``patterns``) needs the full image
    when it runs: it loads a library beyond glibc's by name (through ctypes, cffi, Fiddle,
    koffi or ffi-napi) that nothing ``provided`` (an installed package ``libpq5``, a copied
    ``libfast.so.1``) brings, or it compiles C with cffi. None when none does, or there is no
    context."""
    if not ctx.present:
        return None
    packages = [posixpath.basename(p) for p in provided]
    if patterns == SUFFIXES["node"]:
        linked = _gyp_need(ctx, packages)
        if linked or not _node_ffi_dependency(ctx):
            return linked
    found = sorted({f for pattern in patterns for f in ctx.glob(pattern)})
    files = [f for f in found if not f.startswith(_SKIPPED) and "/test" not in f]
    python = patterns == SUFFIXES["python"]
    if len(files) > MAX_SCANNED:
        return TOO_MANY
    for rel in sorted(files):
        try:
            text = ctx.read_known(rel) or ""
        except Unreadable as exc:  # unread is not "loads none"
            return f"{exc}, so which system libraries it loads is unknown"
        if "cffi" in text and _CFFI_BUILD.search(text) and _CFFI_COMPILE.search(text):
            return f"{rel} compiles C with cffi when it runs (gcc)"
        if python and _TORCH_COMPILE.search(text):
            return f"{rel} calls torch.compile, which builds C++ with a compiler when it runs"
        if python and _TKINTER.search(text) and not _provides_tk(packages):
            return f"{rel} uses tkinter, which loads the system library libtk"
        for word in _loaded_names(text):
            name = library_name(word)
            if not name or name in _BASE_LIBRARIES or name.startswith("python"):
                continue
            if any(p.startswith(f"lib{name}") for p in packages):
                continue  # the Dockerfile installs or copies it
            return f"{rel} loads the system library lib{name} by name"
    return None


def _node_ffi_dependency(ctx: BuildContext) -> bool:
    """A package.json of the project names a Node FFI package (only then are the sources read
    for the libraries they load); an unreadable one may."""
    for rel in ctx.glob("package.json"):
        if "node_modules/" in f"/{rel}":
            continue
        try:
            text = ctx.read_known(rel) or ""
        except Unreadable:
            return True
        if _FFI_PACKAGE.search(text):
            return True
    return False


def _gyp_need(ctx: BuildContext, packages: list[str]) -> str | None:
    """Why a local addon's binding.gyp (not a dependency's) needs the full image: it links a
    library beyond glibc's that no installed package brings."""
    for rel in sorted(ctx.glob("binding.gyp")):
        if "node_modules/" in f"/{rel}":
            continue
        try:
            text = ctx.read_known(rel) or ""
        except Unreadable as exc:
            return f"{exc}, so which system libraries it links is unknown"
        words = _GYP_LINK.findall(text)
        words += [w for m in _GYP_PKG_CONFIG.findall(text) for w in m.split()]
        for word in words:
            name = library_name(word)
            if name in _BASE_LIBRARIES or any(p.startswith(f"lib{name}") for p in packages):
                continue
            return f"{rel} links the system library lib{name}"
    return None


def _loaded_names(text: str) -> list[str]:
    """Library names a source loads: ctypes/cffi/Fiddle calls, and every shared object's
    name in a source that uses one of those or a Node FFI package."""
    words = [m.group(1) for m in _LOAD.finditer(text)]
    node = _NODE_FFI.search(text) is not None
    if node:
        words += [m.group(1) for m in _NODE_LIBRARY.finditer(text)]
    if node or "ctypes" in text or "cffi" in text or "fiddle" in text.lower():
        words += [m.group(1) for m in _SONAME.finditer(text)]
    return words


def _provides_tk(packages: list[str]) -> bool:
    """The Dockerfile installs Tk itself (``libtk8.6``, ``tk``, ``tk-dev``)."""
    return any(p.startswith(("libtk", "tk")) for p in packages)


def provided_names(packages: Iterable[str], copies: Iterable[str]) -> set[str]:
    """OS packages a stage installs and the words of its COPY/ADD lines (a vendored
    ``libfast.so.1``): what may bring a library a source loads."""
    return set(packages) | {w for line in copies for w in line.split()}


# Compiled code (Ruby/Python extensions, Node addons, shared libraries).
NATIVE_FILES = ("*.so", "*.so.*", "*.node", "*.bundle")


def compiled_copy(ctx: BuildContext, sources: list[str]) -> str | None:
    """A compiled file of the build context that COPY ``sources`` (context-relative) bring:
    a committed ``.node`` addon or vendored ``.so`` links libraries msdfix cannot see."""
    for pattern in NATIVE_FILES:
        for path in ctx.glob(pattern) if ctx.present else []:
            if any(_copies(src, path) for src in sources):
                return path
    return None


def _copies(source: str, path: str) -> bool:
    """True when the COPY source (context-relative) holds ``path``."""
    source = source.removeprefix("./").strip("/")
    return source in ("", ".") or path == source or path.startswith(source + "/")
