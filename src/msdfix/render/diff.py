"""Unified diffs with difflib, coloured with rich only when asked to."""

from __future__ import annotations

import bisect
import difflib
import itertools
from collections.abc import Iterator
from typing import Literal, TextIO

from rich.console import Console
from rich.text import Text

from msdfix.fixes import Edit, apply_edits
from msdfix.render.quoting import quote_path

NO_NEWLINE = "\\ No newline at end of file\n"
Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


def split_lines(text: str) -> list[str]:
    """``text``'s lines, each with its ``\\n``, ending at ``\\n`` only, as Docker, ``diff`` and
    ``patch`` count lines: ``str.splitlines`` also ends one at ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``,
    ``\\x85``, U+2028, U+2029 and a lone ``\\r``, which gave diffs ``git apply`` refused."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def header_name(path: str) -> str:
    """``path`` as a ``---``/``+++`` header shows it: quoted as git quotes it, and followed by a
    tab when it holds a space (as git writes it: GNU patch ends an unquoted name at a space)."""
    name = quote_path(path)
    return name + "\t" if " " in name else name


def unified_diff(before: str, after: str, path: str, edits: list[Edit] | None = None) -> str:
    """A git-style unified diff of two texts (line endings kept, missing final newline marked).

    With the ``edits`` that turn ``before`` into ``after``, only the lines they touch are
    compared: difflib over a whole file is quadratic when thousands of changed lines alternate
    with unchanged ones, and the lines between edits are known to be equal.
    """
    if before == after:
        return ""  # edits that cancel out (an inserted line, the same line deleted nearby)
    out = []
    old, new = split_lines(before), split_lines(after)
    opcodes = _opcodes_of_edits(old, new, edits) if edits else None
    if opcodes is None or apply_edits(before, edits or []) != after:
        name = header_name(path)
        lines = difflib.unified_diff(old, new, name, name, n=3)
    else:
        lines = _format(old, new, path, opcodes)
    for k, line in enumerate(lines):
        if k < 2:  # the two headers (a removed line may start with "--" too)
            line = line.rstrip("\r\n") + "\n"
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)


def _starts(lines: list[str]) -> list[int]:
    """The offset of each line, and the text's length last."""
    return [0, *itertools.accumulate(len(line) for line in lines)]


def _opcodes_of_edits(old: list[str], new: list[str], edits: list[Edit]) -> list[Opcode] | None:
    """difflib opcodes for the whole texts, computed by difflib only over the lines the edits
    touch; None when the edits do not fall on whole lines of both texts (then the caller
    compares everything)."""
    old_at, new_at = _starts(old), _starts(new)
    new_line = {offset: k for k, offset in enumerate(new_at)}
    blocks: list[list[int]] = []  # [first old line, end old line, length change]
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        first = max(0, bisect.bisect_right(old_at, edit.start) - 1)
        end = max(first + 1, bisect.bisect_left(old_at, edit.end))
        end = min(end, len(old))  # an insertion at the very end touches no old line
        first = min(first, end)
        change = len(edit.content) - (edit.end - edit.start)
        if blocks and first <= blocks[-1][1]:
            blocks[-1][1] = max(blocks[-1][1], end)
            blocks[-1][2] += change
        else:
            blocks.append([first, end, change])
    opcodes: list[Opcode] = []
    i = j = shift = 0
    for first, end, change in blocks:
        j_first = new_line.get(old_at[first] + shift)
        j_end = new_line.get(old_at[end] + shift + change)
        if j_first is None or j_end is None or first - i != j_first - j:
            return None
        if first > i:
            opcodes.append(("equal", i, first, j, j_first))
        matcher = difflib.SequenceMatcher(None, old[first:end], new[j_first:j_end])
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            opcodes.append((tag, first + a1, first + a2, j_first + b1, j_first + b2))
        i, j, shift = end, j_end, shift + change
    if len(old) - i != len(new) - j:
        return None
    if len(old) > i:
        opcodes.append(("equal", i, len(old), j, len(new)))
    return _joined(opcodes)


def _joined(opcodes: list[Opcode]) -> list[Opcode]:
    """Adjacent equal runs as one (an edit's first or last line can be unchanged), as
    difflib has them, so that hunks get three lines of context, not more."""
    out: list[Opcode] = []
    for op in opcodes:
        if out and op[0] == "equal" and out[-1][0] == "equal":
            out[-1] = ("equal", out[-1][1], op[2], out[-1][3], op[4])
        else:
            out.append(op)
    return out


class _Known(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """A matcher whose opcodes are already known (difflib then groups them into hunks)."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self.known = opcodes

    def get_opcodes(self) -> list[Opcode]:
        return self.known


def _format(old: list[str], new: list[str], path: str, opcodes: list[Opcode]) -> Iterator[str]:
    """``difflib.unified_diff(old, new, path, path, n=3)`` for precomputed opcodes."""
    for k, group in enumerate(_Known(opcodes).get_grouped_opcodes(3)):
        if k == 0:
            yield f"--- {header_name(path)}\n"
            yield f"+++ {header_name(path)}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in old[i1:i2])
                continue
            yield from ("-" + line for line in old[i1:i2])
            yield from ("+" + line for line in new[j1:j2])


def _range(start: int, stop: int) -> str:
    """A hunk's line range as difflib writes it (``_format_range_unified``)."""
    length = stop - start
    beginning = start + 1 if length else start
    return str(beginning) if length == 1 else f"{beginning},{length}"


def files_diff(files: dict[str, tuple[str | None, str]]) -> str:
    """Diffs of the other files a rewrite creates or extends (``/dev/null`` for a new file)."""
    out = []
    for path, (old, new) in sorted(files.items()):
        diff = unified_diff(old or "", new, path)
        if old is None:
            diff = diff.replace(f"--- {header_name(path)}\n", "--- /dev/null\n", 1)
        out.append(diff)
    return "".join(out)


STYLES = {"+": "green", "-": "red", "@": "cyan", "\\": "dim"}


def print_diff(diff: str, stream: TextIO, color: bool) -> None:
    """Write ``diff`` to ``stream``; colour lines by their first character when ``color``."""
    if not color:
        stream.write(diff)
        return
    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for line in diff.removesuffix("\n").split("\n"):
        line = line.removesuffix("\r")
        style = "bold" if line.startswith(("---", "+++")) else STYLES.get(line[:1], "")
        console.print(Text(line, style=style))
