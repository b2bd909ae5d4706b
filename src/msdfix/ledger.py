"""Edits of every pass, composed into one set of edits against the ORIGINAL text.

Transforms edit whatever text they see (later passes see earlier rewrites). The ledger keeps
the composition: non-overlapping edits of the original, each owned by the applied fix that made
it, such that applying them all to the original gives the current text. When a later edit
touches text an earlier one wrote, the two become one edit (owned by the earlier fix). JSON,
SARIF, GitHub annotations and reported line numbers all come from here.
"""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass

from msdfix.fixes import Edit, Fix, apply_edits


@dataclass
class Change:
    """``original[start:end]`` becomes ``content``; made by ``owner`` (and maybe others)."""

    start: int
    end: int
    content: str
    owner: Fix


class Ledger:
    """The current text as the original plus non-overlapping changes."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.current = original
        self.changes: list[Change] = []  # sorted by (start, end), non-overlapping
        self.spans: dict[int, list[tuple[int, int]]] = {}  # id(fix) -> original ranges it edited
        self._cached: list[tuple[int, int, int]] | None = []

    def _pieces(self) -> list[tuple[int, int, int]]:
        """(current start, current end, change index) for every change, sorted."""
        if self._cached is None:
            out, shift = [], 0
            for i, change in enumerate(self.changes):
                start = change.start + shift
                out.append((start, start + len(change.content), i))
                shift += len(change.content) - (change.end - change.start)
            self._cached = out
        return self._cached

    def record(self, edits: list[tuple[Edit, Fix]]) -> None:
        """Compose non-overlapping edits of the current text, each with the fix it belongs to.

        From the last edit to the first: an edit moves only the changes after it, which the
        edits still to come (all before it) never touch, so the pieces before it stay valid
        and the batch costs a walk of the changes once, not once per edit.
        """
        pieces = list(self._pieces())
        for edit, owner in sorted(edits, key=lambda p: (p[0].start, p[0].end), reverse=True):
            span = self._record(edit, owner, pieces)
            self.spans.setdefault(id(owner), []).append(span)
        self.current = apply_edits(self.current, [edit for edit, _ in edits])
        self._cached = None

    def _text(self, start: int, end: int, first: int, last: int) -> str:
        """The current text of ``original[start:end]``, which holds changes ``first..last``."""
        parts, pos = [], start
        for change in self.changes[first : last + 1]:
            parts += [self.original[pos : change.start], change.content]
            pos = change.end
        parts.append(self.original[pos:end])
        return "".join(parts)

    def _record(
        self, edit: Edit, owner: Fix, pieces: list[tuple[int, int, int]]
    ) -> tuple[int, int]:
        """Record one edit; ``pieces`` (valid up to the edit) is cut back to end with it."""
        reach = bisect.bisect_right(pieces, (edit.end, sys.maxsize, sys.maxsize))
        first_touched = reach
        while first_touched and pieces[first_touched - 1][1] >= edit.start:
            first_touched -= 1
        touched = pieces[first_touched:reach]
        if touched:
            first, last = self.changes[touched[0][2]], self.changes[touched[-1][2]]
            cur_start = min(edit.start, touched[0][0])
            cur_end = max(edit.end, touched[-1][1])
            start = first.start - (touched[0][0] - cur_start)
            end = last.end + (cur_end - touched[-1][1])
            index, last_index = touched[0][2], touched[-1][2]
            region = self._text(start, end, index, last_index)  # current[cur_start:cur_end]
            content = (
                region[: edit.start - cur_start] + edit.content + region[edit.end - cur_start :]
            )
            merged = Change(start, end, content, first.owner)
            self.changes[index : last_index + 1] = [merged]
            new_start = cur_start
        else:
            start = self._locate_in(pieces, edit.start)[1]
            end = start + (edit.end - edit.start)
            change = Change(start, end, edit.content, owner)
            index = bisect.bisect(self.changes, (start, end), key=lambda c: (c.start, c.end))
            self.changes.insert(index, change)
            new_start = edit.start
        content_len = len(self.changes[index].content)
        del pieces[first_touched:]
        pieces.append((new_start, new_start + content_len, index))
        return start, end

    def _locate(self, offset: int) -> tuple[Change | None, int]:
        """The change whose content holds current ``offset`` (None: original text), and the
        original offset (inside a change: its start)."""
        return self._locate_in(self._pieces(), offset)

    def _locate_in(
        self, pieces: list[tuple[int, int, int]], offset: int
    ) -> tuple[Change | None, int]:
        # Only the last piece starting at or before ``offset`` matters: it holds the offset,
        # or it is the last change before it and gives the shift.
        k = bisect.bisect_right(pieces, (offset, sys.maxsize, sys.maxsize))
        if not k:
            return None, offset
        cur_start, cur_end, i = pieces[k - 1]
        change = self.changes[i]
        if offset < cur_end:
            return change, change.start
        return None, offset - (cur_end - change.end)

    def to_original(self, offset: int) -> int:
        """An offset of the current text as an offset of the original (inside a change: its
        start)."""
        return self._locate(offset)[1]

    def original_of(self, start: int, end: int) -> str:
        """The original text of the current span ``start:end`` (spans of changes widen to the
        changes' original text)."""
        first = self.to_original(start)
        if end <= start:
            return ""
        change, last = self._locate(end - 1)
        return self.original[first : change.end if change is not None else last + 1]

    def original_line_start(self, offset: int) -> int:
        """Where the current line starting at ``offset`` is in the original: inside a change,
        the same line carried over unchanged (a moved instruction), else the change's start."""
        change, original = self._locate(offset)
        if change is None:
            return original
        end = self.current.find("\n", offset)
        line = self.current[offset : len(self.current) if end < 0 else end + 1]
        span = self.original[change.start : change.end]
        at = [m.start() for m in re.finditer(re.escape(line), span)]
        at = [a for a in at if a == 0 or span[a - 1] == "\n"]
        return change.start + at[0] if len(at) == 1 and line.strip() else original

    def untouched(self, start: int, end: int) -> bool:
        """True when ``current[start:end]`` (and its edges) is text of the original."""
        pieces = self._pieces()
        k = bisect.bisect_right(pieces, (end, sys.maxsize, sys.maxsize))
        return not k or pieces[k - 1][1] < start

    def edits_by_owner(self) -> dict[int, list[Edit]]:
        """id(fix) -> the changes that fix owns, as edits of the original."""
        owned: dict[int, list[Edit]] = {}
        for c in self.changes:
            owned.setdefault(id(c.owner), []).append(Edit(c.start, c.end, c.content))
        return owned

    def check(self) -> bool:
        """The changes reproduce the current text (a self-check of the composition)."""
        edits = [Edit(c.start, c.end, c.content) for c in self.changes]
        return apply_edits(self.original, edits) == self.current
