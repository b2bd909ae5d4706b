"""The new text of lines of the original, from the engine's edits of the original."""

from __future__ import annotations

from msdfix.engine import Result
from msdfix.fixes import Edit, apply_edits


def applied_edits(result: Result) -> list[Edit]:
    """Every applied fix's edits of the original (non-overlapping; together: the output)."""
    return sorted(
        (e for f in result.applied if f.fix for e in f.fix.original_edits or []),
        key=lambda e: (e.start, e.end),
    )


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end + 1


def rewritten_lines(result: Result, first: int, last: int) -> str:
    """What lines ``first``..``last`` (1-based) of the original become in the output.

    The range grows to whole lines around any edit that crosses its edges.
    """
    text = result.original
    start = 0
    for _ in range(first - 1):
        start = text.find("\n", start) + 1
    end = _line_end(text, start)
    for _ in range(last - first):
        end = _line_end(text, end)
    edits = applied_edits(result)
    grown = True
    while grown:
        grown = False
        for edit in edits:
            if edit.start <= end and edit.end >= start and (edit.start < start or edit.end > end):
                start = min(start, _line_start(text, edit.start))
                end = max(end, _line_end(text, max(edit.end - 1, edit.start)))
                grown = True
    inside = [Edit(e.start - start, e.end - start, e.content) for e in edits
              if start <= e.start and e.end <= end]  # fmt: skip
    return apply_edits(text[start:end], inside)
