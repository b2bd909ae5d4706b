"""PEP 508 markers compared the way uv compares a lock's requirements with pyproject.toml's.

uv's ``Lock::satisfies`` simplifies both sides' markers against the lock's requires-python
(``normalize_requirement``, ``RequiresPython::simplify_markers``) and compares them as
decision diagrams, so two markers agree when they select the same environments among those
whose Python is within requires-python's bounds: ``python_version >= '3.8'`` in
pyproject.toml and ``python_full_version >= '3.8'`` (or no marker at all, under
``requires-python = ">=3.9"``) in uv.lock are in step (``uv lock --locked`` passed, uv
0.13.9), ``sys_platform == 'darwin'`` against ``'linux'`` is not. msdfix decides it by
evaluating both markers at every region their literals bound; a marker it cannot sample
that way (``in`` on strings, a version compared on another variable, a pre-release
literal) agrees only with its own text (uv kept ``sys_platform in 'linux darwin'`` and
``platform_release not in '5.0 6.0'`` as written); ``python_version in`` is read as uv's
list of releases; ``~=`` is sampled at its release and the next major (uv 0.13.9 kept
``python_version ~= '3.10'`` against its ``python_full_version >= '3.10' and
python_full_version < '4'``, and no other of 48 locked markers).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from msdfix.files import decimal

# Variables holding Python's version (``python_version`` is ``python_full_version``'s X.Y).
_PYTHON_VARS = ("python_version", "python_full_version")
# Operators whose regions msdfix samples: orderings on Python's version, equality on strings.
_VERSION_OPS = ("<", "<=", ">", ">=", "==", "!=", "~=")
_STRING_OPS = ("==", "!=")
# A plain release of at most three parts, optionally a ``.*`` prefix match.
_RELEASE = re.compile(r"(\d+(?:\.\d+){0,2})(\.\*)?")
# A value no marker names: stands for every other value of a string variable.
_OTHER = "\x00other"
# Environments evaluated per pair at most (a pair over more reads as unknown).
_MAX_ENVIRONMENTS = 4_096


def markers_agree(first: str, second: str, requires_python: object) -> bool:
    """Whether two markers select the same environments whose Python is within the bounds
    of ``requires_python`` (the lock's; None when it sets none); False when unknown."""
    if first == second:
        return True
    try:
        markers = [Marker(m) if m else None for m in (first, second)]
    except InvalidMarker:
        return False
    for marker in markers:
        if marker is not None:
            marker._markers = _uv_platforms(marker._markers)
    environments = _environments(markers, requires_python)
    if environments is None:
        return False
    try:
        return all(_holds(markers[0], env) == _holds(markers[1], env) for env in environments)
    except (UndefinedComparison, UndefinedEnvironmentName, ValueError):
        return False


def _holds(marker: Marker | None, env: dict[str, str]) -> bool:
    """A marker's value in one environment (no marker holds everywhere)."""
    return True if marker is None else marker.evaluate(env)


def _atoms(tree: list[Any]) -> Iterator[tuple[str, str, str] | None]:
    """(variable, operator, value) of each comparison of a parsed marker; None for one
    without exactly one variable."""
    for item in tree:
        if isinstance(item, list):
            yield from _atoms(item)
        elif isinstance(item, tuple):
            left, op, right = item
            kinds = (type(left).__name__, type(right).__name__)
            if kinds == ("Variable", "Value"):
                yield str(left.value), str(op.value), str(right.value)
            elif kinds == ("Value", "Variable"):
                yield str(right.value), _FLIPPED.get(str(op.value), "?"), str(left.value)
            else:
                yield None


# ``platform_system`` values uv reads as ``sys_platform`` ones (uv-pep508's ``algebra.rs``
# normalizes only these, which it can guarantee equivalent): ``platform_system == 'Linux'``
# in pyproject.toml was ``sys_platform == 'linux'`` in uv 0.13.9's uv.lock.
_UV_PLATFORMS = {
    "Windows": "win32",
    "Darwin": "darwin",
    "Linux": "linux",
    "AIX": "aix",
    "Emscripten": "emscripten",
    "Android": "android",
}


def _uv_platforms(tree: list[Any]) -> list[Any]:
    """A parsed marker with each ``platform_system`` comparison uv normalizes written as
    the ``sys_platform`` one uv reads it as, and each ``python_version in`` list as the
    comparisons uv reads it as (``_uv_version_in``)."""
    out: list[Any] = []
    for item in tree:
        if isinstance(item, list):
            item = _uv_platforms(item)
        elif isinstance(item, tuple):
            left, right = _uv_platform(item[0], item[2])
            item = _uv_version_in((left, item[1], right))
        out.append(item)
    return out


def _uv_version_in(item: tuple[Any, Any, Any]) -> Any:
    """``python_version in '3.11 3.12'`` as uv reads it, a list of releases (``== '3.11' or
    == '3.12'``; ``not in``: ``!=`` each, joined by ``and``), where packaging tests a
    substring; other comparisons as they are. Built (uv 0.13.9, ``uv lock --locked`` under
    requires-python ``>=3.11``): ``in '3.11 3.12'``, ``'3.12 3.11'`` and ``'3.10 3.11
    3.12'`` kept a lock of ``python_full_version >= '3.11' and python_full_version <
    '3.13'``; ``in '3.11'``, ``'3.11 3.12 3.13'``, ``not in '3.13'`` and ``not in '3.10'``
    did not."""
    left, op, right = item
    kinds = (type(left).__name__, type(right).__name__)
    if kinds != ("Variable", "Value") or left.value != "python_version":
        return item
    if op.value not in ("in", "not in"):
        return item
    releases = right.value.split()
    if not releases or not all(re.fullmatch(r"\d+\.\d+", r) for r in releases):
        return item
    each, join = ("==", "or") if op.value == "in" else ("!=", "and")
    out: list[Any] = []
    for release in releases:
        out += [join] if out else []
        out.append((left, type(op)(each), type(right)(release)))
    return out


def _uv_platform(left: Any, right: Any) -> tuple[Any, Any]:
    """One comparison's two sides, ``platform_system`` and a value uv normalizes renamed."""
    for var, value in ((left, right), (right, left)):
        if type(var).__name__ == "Variable" and type(value).__name__ == "Value":
            if var.value == "platform_system" and value.value in _UV_PLATFORMS:
                renamed = (type(var)("sys_platform"), type(value)(_UV_PLATFORMS[value.value]))
                return renamed if var is left else renamed[::-1]
    return left, right


# An ordering read from the other side (``'3.8' < python_version``).
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _environments(
    markers: list[Marker | None], requires_python: object
) -> list[dict[str, str]] | None:
    """One environment in every region the markers' literals bound, Python's version within
    requires-python's bounds; None when a comparison is not one msdfix samples."""
    strings: dict[str, set[str]] = {}
    releases: list[str] = []
    for marker in markers:
        for atom in _atoms(marker._markers) if marker is not None else ():
            if atom is None:
                return None
            variable, op, value = atom
            if variable in _PYTHON_VARS:
                match = _RELEASE.fullmatch(value)
                if op not in _VERSION_OPS or match is None or (match[2] and op[0] not in "=!"):
                    return None
                releases.append(match[1])
                if op == "~=":  # ~=3.10 ends below 4: sample there too
                    releases.append(str(decimal(match[1].split(".")[0]) + 1))
            elif op in _STRING_OPS:
                strings.setdefault(variable, {_OTHER}).add(value)
            else:
                return None
    pythons = _python_samples(releases, requires_python)
    if pythons is None:
        return None
    names = sorted(strings)
    choices = [sorted(strings[n]) for n in names]
    count = len(pythons)
    for values in choices:
        count *= len(values)
    if count > _MAX_ENVIRONMENTS:
        return None
    return [
        {
            **dict(zip(names, combo, strict=True)),
            "python_full_version": full,
            "python_version": short,
        }
        for full, short in pythons
        for combo in itertools.product(*choices)
    ]


def _python_samples(releases: list[str], requires_python: object) -> list[tuple[str, str]] | None:
    """(python_full_version, python_version) at every boundary a release names and between
    them (a ``.post1`` and a longer release, since ``>V`` excludes V's post-releases), kept
    within the hull of requires-python (uv simplifies against its bounds, not its gaps);
    None when requires-python is unreadable or names other than plain releases."""
    try:
        bounds = SpecifierSet(str(requires_python or ""))
    except InvalidSpecifier:
        return None
    limits = [_RELEASE.fullmatch(spec.version) for spec in bounds]
    if None in limits:
        return None
    points: set[Version] = {Version("0")}
    for text in [*releases, *(m[1] for m in limits if m)]:
        parts = [decimal(p) for p in text.split(".")] + [0, 0]
        for release in (parts[:3], [parts[0], parts[1] + 1, 0], [*parts[:2], parts[2] + 1]):
            base = ".".join(map(str, release))
            points.update(Version(v) for v in (base, f"{base}.post1", f"{base}.0.1"))
    inside = [p for p in points if bounds.contains(p, prereleases=True)]
    if not inside:
        return None
    low, high = min(inside), max(inside)
    ordered = sorted(p for p in points if low <= p <= high)
    return [(str(p), ".".join(map(str, p.release[:2]))) for p in ordered]


# The environment of every Linux build of CPython: what markers are evaluated against there.
_LINUX = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
_MACHINES = ("x86_64", "aarch64")
# Variables whose every Linux CPython value msdfix samples (the others read as unknown).
_LINUX_VARS = frozenset([*_LINUX, "platform_machine", *_PYTHON_VARS, "implementation_version"])


def holds_on_linux(marker: str, version: tuple[int, int]) -> bool:
    """Whether a marker may hold in a Linux build of CPython ``version`` (X.Y): on either
    arch (x86_64, aarch64) at any patch release. True when msdfix cannot evaluate it (an
    invalid marker, ``extra``, a variable such as ``platform_release`` it does not know)."""
    values = _linux_values(marker, version)
    return values is None or any(values)


def holds_on_every_linux(marker: str, version: tuple[int, int]) -> bool:
    """Whether a marker holds in every Linux build of CPython ``version`` (both arches, any
    patch release); False when msdfix cannot evaluate it (``extra`` among them)."""
    values = _linux_values(marker, version)
    return values is not None and all(values)


def _linux_values(marker: str, version: tuple[int, int]) -> list[bool] | None:
    """The marker's value in each sampled Linux environment; None when msdfix cannot
    evaluate it."""
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return None
    atoms = list(_atoms(parsed._markers))
    if any(atom is None or atom[0] not in _LINUX_VARS for atom in atoms):
        return None
    try:
        return [parsed.evaluate(env) for env in _linux_environments(atoms, version)]
    except (UndefinedComparison, UndefinedEnvironmentName, ValueError):
        return None


def _linux_environments(
    atoms: list[tuple[str, str, str] | None], version: tuple[int, int]
) -> Iterator[dict[str, str]]:
    """Linux CPython environments of ``version`` on both arches, at patch release 0, at
    each the marker names (and either side of it) and at a late one."""
    major, minor = version
    patches = {0, 1, 99}
    for atom in atoms:
        found = re.fullmatch(rf"{major}\.{minor}\.(\d+)", atom[2]) if atom else None
        if found:
            patches.update(decimal(found[1]) + d for d in (-1, 0, 1) if decimal(found[1]) + d >= 0)
    for machine in _MACHINES:
        for patch in sorted(patches):
            full = f"{major}.{minor}.{patch}"
            yield {
                **_LINUX,
                "platform_machine": machine,
                "python_version": f"{major}.{minor}",
                "python_full_version": full,
                "implementation_version": full,
            }
