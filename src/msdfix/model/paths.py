"""Small helpers for absolute POSIX paths inside an image."""

from __future__ import annotations


def within(path: str, base: str) -> bool:
    """True when ``path`` is ``base`` or below it."""
    return path == base or path.startswith(base.rstrip("/") + "/")
