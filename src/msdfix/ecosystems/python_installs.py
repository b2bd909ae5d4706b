"""Which packages of a lock file a Linux install of CPython X.Y installs.

A lock lists every package of every platform: docker-py's ``pywin32; sys_platform ==
'win32'``, pyobjc under macOS-only edges. The tools install only those a way to which holds
in the environment: uv follows the ``marker`` of each dependency edge of uv.lock (from the
project's own entry; where a fork locks two versions of a name, the edge names its version),
poetry 2.x reads each package's ``markers`` of a lock-version 2.1 lock (per group, ``"*"``
when absent; ``Locker.locked_packages``) and resolves an older lock again along its
``[package.dependencies]`` markers, and pdm's ``inherit_metadata`` strategy writes each
package's ``marker`` (older locks: the markers of its ``dependencies``). msdfix keeps a
package unless every way to it is false on Linux (``holds_on_linux``): every group, extra
and optional dependency counts, a marker it cannot evaluate holds, and a lock it cannot read
keeps every package. Built with uv 0.13.9, poetry 2.1.3 and 1.8.5 and pdm 2.19.3 on
python:3.11: docker 7.1.0's pywin32, jupyter-core 5.7.2's and jupyter-server 2.14.2's
pywinpty were not installed, nor was pyyaml 5.3.1 (sdist only) of a fork for Python < 3.9.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from msdfix.ecosystems.python_markers import holds_on_every_linux, holds_on_linux

# A dependency edge: the package it leads to and its marker (None: none, it always holds).
_Edge = tuple[str, str | None]
# The entry ``[manifest]`` requirements of uv.lock hang from (a workspace without a project).
_MANIFEST = "\x00manifest"


def linux_installs(
    tool: str, lock: dict[str, Any], pyproject: dict[str, Any] | None, version: tuple[int, int]
) -> list[bool] | None:
    """For each package of the lock, whether a Linux install of CPython ``version`` may
    install it; None when msdfix cannot tell (every package then counts)."""
    packages = lock.get("package")
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        return None
    metadata = _table(lock.get("metadata"))
    if tool == "poetry" and _lock_version(metadata.get("lock-version")) >= (2, 1):
        return [_poetry_holds(p, version) for p in packages]
    if tool == "pdm" and "inherit_metadata" in _strings(metadata.get("strategy")):
        return [_pdm_holds(p, version) for p in packages]
    keys = _uv_keys(packages) if tool == "uv" else [_name(p) for p in packages]
    if tool == "uv":
        reached = _reached(keys, _uv_edges(packages, keys, lock.get("manifest")), (), version)
    else:
        roots = _pyproject_names(pyproject)
        edges = _poetry_edges(packages) if tool == "poetry" else _pdm_edges(packages)
        reached = None if roots is None else _reached(keys, edges, roots, version)
    return None if reached is None else [key in reached for key in keys]


def surely_installed(tool: str, lock: dict[str, Any], version: tuple[int, int]) -> set[str]:
    """Names of the lock's packages every Linux install of CPython ``version`` installs:
    reached from the root project over plain dependencies whose markers hold on every Linux
    (uv.lock), or in the main group (poetry 2.1) or default group (pdm ``inherit_metadata``)
    with such a marker. An extra or group may not be installed, and older locks do not tell:
    none there (built: uv.lock with psycopg-binary in an extra a plain ``uv sync`` left out,
    -slim failed "libpq library not found" where python:3.11 answered)."""
    packages = lock.get("package")
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        return set()
    metadata = _table(lock.get("metadata"))
    if tool == "poetry" and _lock_version(metadata.get("lock-version")) >= (2, 1):
        return {_name(p) for p in packages if _group_holds(p, "main", "markers", version)}
    if tool == "pdm" and "inherit_metadata" in _strings(metadata.get("strategy")):
        return {_name(p) for p in packages if _group_holds(p, "default", "marker", version)}
    if tool != "uv":
        return set()
    keys = _uv_keys(packages)
    by_name: dict[str, list[str]] = {}
    for key in keys:
        by_name.setdefault(key.split(" ")[0], []).append(key)
    tables = dict(zip(keys, packages, strict=True))
    edges: dict[str, list[_Edge]] = {}
    for key, package in tables.items():
        found = _uv_entries([package.get("dependencies", [])], by_name)
        extras = _uv_entries(_extras_turned_on(package, tables, by_name, version), by_name)
        edges[key] = [*(found or []), *(extras or [])]
    start = {k for k, p in zip(keys, packages, strict=True) if _is_root(p.get("source"))}
    sure = _closure(start, edges, lambda m: m is None or holds_on_every_linux(m, version))
    return {key.split(" ")[0] for key in sure}


def _extras_turned_on(
    package: dict[str, Any],
    tables: dict[str, dict[str, Any]],
    by_name: dict[str, list[str]],
    version: tuple[int, int],
) -> list[Any]:
    """The optional-dependency lists of the packages ``package`` depends on with extras
    (``{ name = "psycopg", extra = ["binary"] }``), where that edge holds on every Linux and
    names one locked version: uv
    installs them with it (built: uv 0.8.22's ``uv sync --frozen`` of ``psycopg[binary]``
    answered "binary" on python:3.11-slim, which has no libpq)."""
    lists: list[Any] = []
    deps = package.get("dependencies", [])
    for entry in deps if isinstance(deps, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("extra"), list):
            continue
        marker = _marker(entry.get("marker"))
        if marker is not None and not holds_on_every_linux(marker, version):
            continue
        name = canonicalize_name(str(entry.get("name", "")))
        targets = by_name.get(name, [])
        exact = f"{name} {entry.get('version')}"
        targets = [exact] if exact in targets else targets
        if len(targets) != 1:
            continue  # forks: which version's extra a Linux install gets is not one answer
        optional = _table(tables[targets[0]].get("optional-dependencies"))
        lists += [optional[e] for e in _strings(entry["extra"]) if e in optional]
    return lists


def _is_root(source: object) -> bool:
    """The project at the lock's folder, which a plain ``uv sync`` there installs (not a
    workspace member, which it leaves out without ``--all-packages``)."""
    return isinstance(source, dict) and "." in (source.get("virtual"), source.get("editable"))


def _group_holds(package: dict[str, Any], group: str, key: str, version: tuple[int, int]) -> bool:
    """Whether a poetry or pdm lock package is in ``group`` with a marker (``key``: one, or
    one per group) that holds on every Linux."""
    if group not in _strings(package.get("groups")):
        return False
    marker = package.get(key, "*")
    if isinstance(marker, dict):
        marker = marker.get(group, "*")
    return marker == "*" or (isinstance(marker, str) and holds_on_every_linux(marker, version))


def _uv_keys(packages: list[dict[str, Any]]) -> list[str]:
    """Each uv.lock package's node: its name, with its version where the lock holds several
    versions of it (forks by marker: an edge then names the version it leads to)."""
    names = [_name(p) for p in packages]
    counts = Counter(names)
    return [
        n if counts[n] == 1 else f"{n} {p.get('version')}"
        for n, p in zip(names, packages, strict=True)
    ]


def _reached(
    names: list[str],
    edges: dict[str, list[_Edge]] | None,
    roots: Iterable[str],
    version: tuple[int, int],
) -> set[str] | None:
    """The packages reached from the roots (the given ones, and every package no edge leads
    to) over edges that may hold on Linux, and every package no edge reaches at all."""
    if edges is None:
        return None
    targets = {name for found in edges.values() for name, _ in found}
    start = {*roots, *(n for n in [*names, _MANIFEST] if n not in targets)}
    everywhere = _closure(start, edges, lambda marker: True)
    markers: dict[str, bool] = {}

    def holds(marker: str | None) -> bool:
        """Whether an edge's marker may hold on Linux (cached: locks repeat them)."""
        if marker is None:
            return True
        if marker not in markers:
            markers[marker] = holds_on_linux(marker, version)
        return markers[marker]

    return (_closure(start, edges, holds) | (set(names) - everywhere)) - {_MANIFEST}


def _closure(
    start: set[str], edges: dict[str, list[_Edge]], holds: Callable[[str | None], bool]
) -> set[str]:
    """Packages reached from ``start`` over the edges whose marker ``holds``."""
    seen, todo = set(start), list(start)
    while todo:
        for name, marker in edges.get(todo.pop(), []):
            if name not in seen and holds(marker):
                seen.add(name)
                todo.append(name)
    return seen


def _uv_edges(
    packages: list[dict[str, Any]], keys: list[str], manifest: object
) -> dict[str, list[_Edge]] | None:
    """uv.lock's edges: each package's dependencies, optional dependencies and dependency
    groups, and ``[manifest]``'s requirements and groups; None when one is unreadable."""
    edges: dict[str, list[_Edge]] = {}
    by_name: dict[str, list[str]] = {}
    for key in keys:
        by_name.setdefault(key.split(" ")[0], []).append(key)
    sources = [(k, p, ("dependencies",)) for k, p in zip(keys, packages, strict=True)]
    if isinstance(manifest, dict):
        sources.append((_MANIFEST, manifest, ("requirements",)))
    for key, table, lists in sources:
        entries = [table.get(name, []) for name in lists]
        for name in ("optional-dependencies", "dev-dependencies", "dependency-groups"):
            found = table.get(name, {})
            entries += found.values() if isinstance(found, dict) else [None]
        found_edges = _uv_entries(entries, by_name)
        if found_edges is None:
            return None
        edges.setdefault(key, []).extend(found_edges)
    return edges


def _uv_entries(lists: list[Any], by_name: dict[str, list[str]]) -> list[_Edge] | None:
    """The edges of uv.lock's dependency arrays, to the version an entry names or else to
    every version of its name; None when one is not a table with a name."""
    edges: list[_Edge] = []
    for entries in lists:
        if not isinstance(entries, list):
            return None
        for entry in entries:
            if not isinstance(entry, dict) or "name" not in entry:
                return None
            name, marker = canonicalize_name(str(entry["name"])), _marker(entry.get("marker"))
            exact = f"{name} {entry.get('version')}"
            targets = by_name.get(name) or [name]
            edges += [(target, marker) for target in ([exact] if exact in targets else targets)]
    return edges


def _poetry_edges(packages: list[dict[str, Any]]) -> dict[str, list[_Edge]] | None:
    """An older poetry.lock's ``[package.dependencies]``: a version string, a table with
    ``markers`` or an array of them; None when one is something else."""
    edges: dict[str, list[_Edge]] = {}
    for package in packages:
        deps = package.get("dependencies", {})
        if not isinstance(deps, dict):
            return None
        own = edges.setdefault(_name(package), [])
        for name, spec in deps.items():
            for one in spec if isinstance(spec, list) else [spec]:
                if not isinstance(one, (str, dict)):
                    return None
                marker = one.get("markers") if isinstance(one, dict) else None
                own.append((canonicalize_name(name), _marker(marker)))
    return edges


def _pdm_edges(packages: list[dict[str, Any]]) -> dict[str, list[_Edge]] | None:
    """An older pdm.lock's ``dependencies``: PEP 508 strings; None when one is unreadable."""
    edges: dict[str, list[_Edge]] = {}
    for package in packages:
        own = edges.setdefault(_name(package), [])
        for spec in package.get("dependencies", []) or []:
            try:
                req = Requirement(str(spec))
            except InvalidRequirement:
                return None
            own.append((canonicalize_name(req.name), str(req.marker) if req.marker else None))
    return edges


def _poetry_holds(package: dict[str, Any], version: tuple[int, int]) -> bool:
    """Whether a package of a lock-version 2.1 poetry.lock may install on Linux: its
    ``markers`` (one for every group, or one per group, a group without one ``"*"``)."""
    markers = package.get("markers", "*")
    if isinstance(markers, str):
        return markers == "*" or holds_on_linux(markers, version)
    if not isinstance(markers, dict):
        return True
    groups = _strings(package.get("groups")) or list(markers)
    return any(
        not isinstance(markers.get(g, "*"), str)
        or markers.get(g, "*") == "*"
        or holds_on_linux(markers[g], version)
        for g in groups
    )


def _pdm_holds(package: dict[str, Any], version: tuple[int, int]) -> bool:
    """Whether a package of an ``inherit_metadata`` pdm.lock may install on Linux."""
    marker = package.get("marker")
    return not isinstance(marker, str) or holds_on_linux(marker, version)


def _pyproject_names(pyproject: dict[str, Any] | None) -> set[str] | None:
    """Every package pyproject.toml names as a dependency (poetry's tables and groups,
    [project]'s dependencies and extras, [dependency-groups], pdm's dev-dependencies): the
    roots of an older lock, each counted installed. None without a pyproject.toml."""
    if pyproject is None:
        return None
    tool = _table(pyproject.get("tool"))
    poetry = _table(tool.get("poetry"))
    tables = [_table(poetry.get("dependencies")), _table(poetry.get("dev-dependencies"))]
    tables += [_table(_table(g).get("dependencies")) for g in _table(poetry.get("group")).values()]
    names: set[str] = {canonicalize_name(str(n)) for t in tables for n in t}
    project = _table(pyproject.get("project"))
    specs = list(_strings(project.get("dependencies")))
    for table in (
        project.get("optional-dependencies"),
        pyproject.get("dependency-groups"),
        _table(tool.get("pdm")).get("dev-dependencies"),
    ):
        specs += [s for group in _table(table).values() for s in _strings(group)]
    for spec in specs:
        try:
            names.add(canonicalize_name(Requirement(spec).name))
        except InvalidRequirement:
            return None
    return names


def _lock_version(value: object) -> tuple[int, ...]:
    """A lock-version as numbers ((0,) when unreadable: the oldest format)."""
    try:
        return tuple(int(part) for part in str(value).split("."))
    except ValueError:
        return (0,)


def _marker(value: object) -> str | None:
    """An edge's marker: None when there is none; a non-string one unreadable, held true."""
    return None if value is None else str(value) if isinstance(value, str) else "?"


def _name(package: dict[str, Any]) -> str:
    """A lock package's canonical name."""
    return canonicalize_name(str(package.get("name", "?")))


def _table(value: object) -> dict[str, Any]:
    """A TOML table, or an empty one when it is something else."""
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    """A TOML array's strings (none when it is something else)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
