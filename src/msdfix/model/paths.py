"""Small helpers for absolute POSIX paths inside an image."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def within(path: str, base: str) -> bool:
    """True when ``path`` is ``base`` or below it."""
    return path == base or path.startswith(base.rstrip("/") + "/")


def parents(path: str) -> Iterator[str]:
    """The text before each ``/`` of ``path``: ``within(path, b)`` for a ``b != path`` holds
    exactly when ``b.rstrip("/")`` is one of these (a set lookup instead of a scan)."""
    i = path.find("/")
    while i >= 0:
        yield path[:i]
        i = path.find("/", i + 1)


def containing(paths: Iterable[str], bases: Iterable[str]) -> set[str]:
    """The ``bases`` that at least one of ``paths`` is ``within``."""
    exact = set(bases)
    stripped: dict[str, list[str]] = {}
    for base in exact:
        stripped.setdefault(base.rstrip("/"), []).append(base)
    found: set[str] = set()
    for path in paths:
        if path in exact:
            found.add(path)
        for parent in parents(path):
            found.update(stripped.get(parent, ()))
    return found
