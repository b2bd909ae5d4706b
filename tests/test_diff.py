"""Unified diffs: computed from the rewrite's edits, they are valid and stay linear."""

from __future__ import annotations

import difflib
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msdfix.engine import rewrite
from msdfix.fixes import Edit, apply_edits
from msdfix.render.diff import NO_NEWLINE, files_diff, split_lines, unified_diff

HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n")


def _sides(text: str) -> tuple[list[str], list[str], list[tuple[int, int, int, int]]]:
    """Apply a unified diff to nothing: the old and new lines it shows, and its hunk headers."""
    lines = split_lines(text)[2:]
    old: list[str] = []
    new: list[str] = []
    heads = []
    for k, line in enumerate(lines):
        match = HUNK.fullmatch(line)
        if match:
            a, b, c, d = match.groups()
            heads.append((int(a), int(b or 1), int(c), int(d or 1)))
            continue
        if line == NO_NEWLINE:
            continue
        body = line[1:]
        if k + 1 < len(lines) and lines[k + 1] == NO_NEWLINE:
            body = body.removesuffix("\n")
        if line[0] in " -":
            old.append(body)
        if line[0] in " +":
            new.append(body)
    return old, new, heads


def _applies(before: str, after: str, text: str) -> bool:
    """True when every hunk's old lines are ``before``'s at its line and its new lines
    ``after``'s, and the lines between hunks are equal."""
    old_lines, new_lines = split_lines(before), split_lines(after)
    o, n, heads = _sides(text)
    rebuilt: list[str] = []
    at = 0
    for a, b, c, d in heads:
        start = a - 1 if b else a
        rebuilt += old_lines[at:start]
        hunk_new = new_lines[(c - 1 if d else c) : (c - 1 if d else c) + d]
        if old_lines[start : start + b] != o[:b] or hunk_new != n[:d]:
            return False
        o, n = o[b:], n[d:]
        rebuilt += hunk_new
        at = start + b
    rebuilt += old_lines[at:]
    return "".join(rebuilt) == after


LINE = st.sampled_from(
    ["FROM a\n", "RUN x \\\n", "  && y\n", "\n", "COPY . .\n", "CMD z", "L a\u2028\x0b\r b\n"]
)


@st.composite
def edited(draw: Any) -> tuple[str, list[Edit]]:
    text = "".join(draw(st.lists(LINE, max_size=30)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    edits = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        edits.append(Edit(start, end, draw(st.sampled_from(["", "x", "RUN --m \\\n", "\n"]))))
    return text, edits


@given(edited())
@settings(max_examples=300, deadline=None)
def test_the_diff_of_edits_turns_before_into_after(case: tuple[str, list[Edit]]) -> None:
    before, edits = case
    after = apply_edits(before, edits)
    text = unified_diff(before, after, "Dockerfile", edits)
    if before == after:
        assert text == ""
        return
    assert _applies(before, after, text)
    plain = unified_diff(before, after, "Dockerfile")
    assert _applies(before, after, plain)  # the check above can fail: the same on difflib's


def test_edits_that_do_not_give_the_output_fall_back_to_comparing_the_texts() -> None:
    before, after = "FROM a\nRUN x\n", "FROM a\nRUN y\n"
    wrong = [Edit(0, 4, "FROM")]
    assert unified_diff(before, after, "f", wrong) == unified_diff(before, after, "f")


def test_thousands_of_alternating_changes_compare_only_the_changed_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """difflib over the whole file is quadratic on this shape (3,000 stages: seconds; the
    5 MiB limit: hours); with the edits each comparison covers one RUN."""
    text = "".join(
        f"FROM python:3.11 AS s{i}\nRUN pip install --no-cache-dir pkg{i}\n" for i in range(3000)
    )
    result = rewrite(text)
    assert result.changed
    sizes: list[int] = []
    real = difflib.SequenceMatcher

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, junk: Any = None, a: Any = "", b: Any = "", **kw: Any) -> None:
            sizes.append(len(a) + len(b))
            super().__init__(junk, a, b, **kw)

    monkeypatch.setattr(difflib, "SequenceMatcher", Counting)
    text_diff = unified_diff(result.original, result.output, "Dockerfile", result.edits)
    assert _applies(result.original, result.output, text_diff)
    assert text_diff.count("\n-RUN pip install") == 3000
    assert sizes and max(sizes) <= 4


@pytest.mark.parametrize(
    "separator", ["\v", "\f", "\x1c", "\x1e", "\x85", "\u2028", "\u2029", "\r"]
)
def test_lines_end_at_a_newline_only(separator: str) -> None:
    """``str.splitlines`` also ends a line at these characters: the diff of a file holding one
    had ``\\ No newline at end of file`` mid-file and lines the file does not have, and
    ``git apply``/``patch`` refused it. Docker, diff and patch end lines at ``\\n`` only."""
    before = f'FROM a\nLABEL a="x{separator}y"\nRUN pip install x\nCMD ["z"]\n'
    after = before.replace("RUN pip", "RUN --mount=type=cache,target=/c pip")
    start = before.index("pip")
    edits = [Edit(start, start, "--mount=type=cache,target=/c ")]
    for text in (unified_diff(before, after, "D", edits), unified_diff(before, after, "D")):
        assert NO_NEWLINE not in text and text.count("\n") == 8, text
        assert _applies(before, after, text)


def test_every_diff_header_is_quoted_and_a_space_ends_with_a_tab() -> None:
    """The difflib path (every ``.dockerignore`` diff) wrote the path raw: a folder named
    ``a<newline>+++ b`` forged a header, and ``--- /dev/null`` was lost. A name with a space
    gets git's trailing tab, without which GNU patch reads the name up to the space."""
    new = files_diff({"a\n+++ b/.dockerignore": (None, ".git\n")})
    assert new.splitlines()[:2] == ["--- /dev/null", '+++ "a\\n+++ b/.dockerignore"\t']
    extended = files_diff({"a\nb/.dockerignore": (".git\n", ".git\n.env\n")})
    assert extended.splitlines()[:2] == ['--- "a\\nb/.dockerignore"', '+++ "a\\nb/.dockerignore"']
    before, after = "FROM a\nRUN x\n", "FROM a\nRUN y\n"
    start = before.index("x")
    for edits in ([Edit(start, start + 1, "y")], None):
        text = unified_diff(before, after, "a b/Dockerfile", edits)
        assert text.splitlines()[:2] == ["--- a b/Dockerfile\t", "+++ a b/Dockerfile\t"]
