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

    def _pieces(self) -> list[tuple[int, int, int]]:
        """(current start, current end, change index) for every change."""
        out, shift = [], 0
        for i, change in enumerate(self.changes):
            start = change.start + shift
            out.append((start, start + len(change.content), i))
            shift += len(change.content) - (change.end - change.start)
        return out

    def record(self, edits: list[tuple[Edit, Fix]]) -> None:
        """Compose non-overlapping edits of the current text, each with the fix it belongs to."""
        for edit, owner in sorted(edits, key=lambda p: (p[0].start, p[0].end), reverse=True):
            span = self._record(edit, owner)
            self.spans.setdefault(id(owner), []).append(span)

    def _record(self, edit: Edit, owner: Fix) -> tuple[int, int]:
        pieces = self._pieces()
        touched = [p for p in pieces if p[0] <= edit.end and p[1] >= edit.start]
        if touched:
            first, last = self.changes[touched[0][2]], self.changes[touched[-1][2]]
            cur_start = min(edit.start, touched[0][0])
            cur_end = max(edit.end, touched[-1][1])
            start = first.start - (touched[0][0] - cur_start)
            end = last.end + (cur_end - touched[-1][1])
            content = (
                self.current[cur_start : edit.start]
                + edit.content
                + self.current[edit.end : cur_end]
            )
            merged = Change(start, end, content, first.owner)
            index = touched[0][2]
            self.changes[index : touched[-1][2] + 1] = [merged]
        else:
            start = self.to_original(edit.start)
            end = start + (edit.end - edit.start)
            change = Change(start, end, edit.content, owner)
            keys = [(c.start, c.end) for c in self.changes]
            self.changes.insert(bisect.bisect(keys, (start, end)), change)
        self.current = self.current[: edit.start] + edit.content + self.current[edit.end :]
        return start, end

    def _locate(self, offset: int) -> tuple[Change | None, int]:
        """The change whose content holds current ``offset`` (None: original text), and the
        original offset (inside a change: its start)."""
        shift = 0
        for cur_start, cur_end, i in self._pieces():
            change = self.changes[i]
            if offset < cur_start:
                break
            if offset < cur_end:
                return change, change.start
            shift = cur_end - change.end
        return None, offset - shift

    def to_original(self, offset: int) -> int:
        """An offset of the current text as an offset of the original (inside a change: its
        start)."""
        return self._locate(offset)[1]

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
        return not any(p[0] <= end and p[1] >= start for p in self._pieces())

    def edits_of(self, fix: Fix) -> list[Edit]:
        """The changes ``fix`` owns, as edits of the original."""
        return [Edit(c.start, c.end, c.content) for c in self.changes if c.owner is fix]

    def check(self) -> bool:
        """The changes reproduce the current text (a self-check of the composition)."""
        edits = [Edit(c.start, c.end, c.content) for c in self.changes]
        return apply_edits(self.original, edits) == self.current
