"""Findings with an optional fix; fixes are text edits with an applicability (ruff's model)."""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass, field
from enum import Enum

from msdfix.syntax.parser import MAX_LINE_BYTES


class Applicability(str, Enum):
    """How sure we are that a fix keeps the build's meaning."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class FileChange:
    """Create (``old`` None) or replace a file beside the Dockerfile, e.g. ``.dockerignore``."""

    path: str
    old: str | None
    new: str


@dataclass
class Fix:
    """The text edits (and other files) that resolve a finding, with how safe they are."""

    applicability: Applicability
    edits: list[Edit] = field(default_factory=list)
    # Other files this fix creates or extends (absolute paths), applied with the Dockerfile.
    file_changes: list[FileChange] = field(default_factory=list)
    # Final-image settings this fix changes on purpose (e.g. {"cmd", "expose"}); the engine
    # refuses any other change of the final stage's observable configuration.
    changes_config: frozenset[str] = frozenset()
    # Set by the engine: the edits as offsets into the file's ORIGINAL text (None when a fix
    # not applied touches text that other fixes rewrote, so it has no such form).
    original_edits: list[Edit] | None = None

    def __post_init__(self) -> None:
        if not self.edits and not self.file_changes:
            raise ValueError("a fix changes something: report an explanation without a fix")

    @property
    def span(self) -> tuple[int, int]:
        """Smallest range covering all edits."""
        return min(e.start for e in self.edits), max(e.end for e in self.edits)


@dataclass
class Finding:
    """What a transform reports about some lines: a one-line message and maybe a fix.

    A finding without a fix is an explanation: why the transform left those lines as they are.
    """

    transform: str
    message: str
    line: int
    end_line: int
    fix: Fix | None = None


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (any order) to ``text``."""
    out = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def makes_long_line(text: str, edits: list[Edit]) -> bool:
    """True when applying ``edits`` to ``text`` leaves a line they touch longer than
    MAX_LINE_BYTES in UTF-8 (only the lines around the edits are rebuilt: linear)."""
    if len(text) + sum(len(e.content) for e in edits) <= MAX_LINE_BYTES // 4:
        return False  # no line can reach the limit: most files
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    i = 0
    while i < len(edits):
        begin = text.rfind("\n", 0, edits[i].start) + 1
        stop = begin
        group: list[Edit] = []
        while i < len(edits) and (not group or edits[i].start <= stop):
            newline = text.find("\n", edits[i].end)
            stop = max(stop, len(text) if newline < 0 else newline)
            group.append(edits[i])
            i += 1
        shifted = [Edit(e.start - begin, e.end - begin, e.content) for e in group]
        for line in apply_edits(text[begin:stop], shifted).split("\n"):
            if len(line) > MAX_LINE_BYTES // 4 and _utf8_len(line) > MAX_LINE_BYTES:
                return True
    return False


def _utf8_len(line: str) -> int:
    return len(line.encode("utf-8", "surrogatepass"))


class Taken:
    """Ranges of the text that the fixes accepted in one pass edit (kept sorted, so that a
    check costs a few bisections rather than a walk over every earlier edit)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []  # sorted, non-overlapping (they may touch)
        self.edits: list[tuple[int, int, str]] = []  # the same, with their new text

    def add(self, fix: Fix) -> None:
        for edit in fix.edits:
            bisect.insort(self.ranges, (edit.start, edit.end))
            bisect.insort(self.edits, (edit.start, edit.end, edit.content))

    def near(self, fix: Fix, text: str) -> list[Edit]:
        """Taken edits that start on a line an edit of ``fix`` touches."""
        found: list[Edit] = []
        for edit in fix.edits:
            begin = text.rfind("\n", 0, edit.start) + 1
            stop = text.find("\n", edit.end)
            stop = len(text) if stop < 0 else stop
            low = bisect.bisect_left(self.edits, (begin,))
            high = bisect.bisect_right(self.edits, (stop, sys.maxsize))
            found += [Edit(*taken) for taken in self.edits[low:high]]
        return list(dict.fromkeys(found))

    def overlaps(self, fix: Fix) -> bool:
        """True when an edit of ``fix`` intersects a taken range, or touches one where either
        of the two is an insertion."""
        return any(self._hits(edit.start, edit.end) for edit in fix.edits)

    def _hits(self, start: int, end: int) -> bool:
        ranges = self.ranges
        # Sorted non-overlapping ranges have non-decreasing ends: among the ranges that begin
        # before (or at) ``end``, the last reaches furthest.
        before = bisect.bisect_left(ranges, (end, end))
        if before and ranges[before - 1][1] > start:
            return True  # intersects
        if start == end:  # an insertion touches any range that reaches it
            upto = bisect.bisect_right(ranges, (end, sys.maxsize))
            return upto > 0 and ranges[upto - 1][1] >= start
        # a taken insertion at either edge, or a range ending exactly at ``start`` is only
        # touched by insertions (handled above)
        return (start, start) in self._at(start) or (end, end) in self._at(end)

    def _at(self, offset: int) -> list[tuple[int, int]]:
        ranges = self.ranges
        i = bisect.bisect_left(ranges, (offset, offset))
        return ranges[i : i + 1]
