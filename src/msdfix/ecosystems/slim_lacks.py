"""Whether a program reads files that a -slim image lacks and its full image has.

The facts are in ``msdfix.ecosystems.images`` (``SYSTEM_FONTS``, ``NETBASE``): this reads the
start commands and the build context's sources for their use.
"""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.images import (
    FONT_FILE,
    NETBASE_NEEDLES,
    NETBASE_USE,
    SYSTEM_FONT_NEEDLES,
    SYSTEM_FONT_USE,
)
from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.program_calls import COMMON, MAX_SCANNED, SOURCE_PATTERNS


def _sources(ctx: BuildContext) -> list[str]:
    """The project's sources, up to as many as msdfix reads."""
    files = sorted({f for pattern in SOURCE_PATTERNS for f in ctx.glob(pattern)})
    return [
        rel
        for rel in files[:MAX_SCANNED]
        if not any(p.fullmatch(rel) for p in COMMON) and "node_modules/" not in rel
    ]


def _named(
    ctx: BuildContext, pattern: re.Pattern[str], needles: tuple[str, ...], texts: list[str]
) -> str | None:
    """Where ``texts`` (start commands) or a source match ``pattern``, or None. ``needles``:
    texts one of which every match holds (a source without any is not searched)."""
    for text in texts:
        found = pattern.search(text)
        if found:
            return f"the start command names {found.group(0)}"
    if not ctx.present:
        return None
    return ctx.view.memo(
        ("named", pattern.pattern), lambda: _named_in_sources(ctx, pattern, needles)
    )


def _named_in_sources(
    ctx: BuildContext, pattern: re.Pattern[str], needles: tuple[str, ...]
) -> str | None:
    """Where a source of the context matches ``pattern``, or None: read once per context
    folder and ignore file (every Dockerfile of a repository and every lacking package ask)."""
    for rel in _sources(ctx):
        try:  # (up to 1 MiB, not MAX_SOURCE_BYTES: these regexes take 0.5 s a MiB)
            text = ctx.read_known(rel) or ""
        except Unreadable as exc:  # unread is not "names none"
            return f"{exc}, so what it names is unknown"
        found = pattern.search(text) if any(n in text for n in needles) else None
        if found:
            return f"{rel} names {found.group(0)}"
    return None


def system_font_use(ctx: BuildContext, texts: list[str]) -> str | None:
    """Why the program may read the system's fonts, or None: the start commands or a source
    name their folders, fontconfig or a DejaVu face, or a source names a font file without
    its folder that the context does not hold (Pillow and reportlab then search the system's
    folders)."""
    named = _named(ctx, SYSTEM_FONT_USE, SYSTEM_FONT_NEEDLES, texts)
    if named is not None or not ctx.present:
        return named
    return ctx.view.memo(("font files",), lambda: _font_files(ctx))


def _font_files(ctx: BuildContext) -> str | None:
    """Why a source loads a font by a file name the context does not hold, or None (once per
    context folder and ignore file)."""
    shipped = {posixpath.basename(f).lower() for f in ctx.glob("*.*")}
    for rel in _sources(ctx):
        try:
            text = ctx.read_known(rel) or ""
        except Unreadable as exc:
            return f"{exc}, so which fonts it loads is unknown"
        for m in FONT_FILE.finditer(text):
            if m.group(1).lower() not in shipped:
                return f"{rel} loads {m.group(1)} by name, from the system's font folders"
    return None


def netbase_use(ctx: BuildContext, texts: list[str]) -> str | None:
    """Why the program may read /etc/services or /etc/protocols, or None."""
    return _named(ctx, NETBASE_USE, NETBASE_NEEDLES, texts)
