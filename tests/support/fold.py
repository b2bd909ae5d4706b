"""Hostile-size lines as BuildKit can read them.

BuildKit refuses a physical line longer than 65,535 bytes, but joins continuation lines into
one logical line of any length: the tests that feed megabytes to one instruction fold it.
"""

from __future__ import annotations


def fold(text: str, width: int = 60_000, escape: str = "\\") -> str:
    """Split every line longer than ``width`` into continuation lines that BuildKit joins back
    into the same logical line (each piece keeps its spaces; none may read as a comment, a
    blank line or an escaped escape)."""
    out = []
    for line in text.split("\n"):
        pieces = [line[i : i + width] for i in range(0, len(line), width)] or [""]
        for piece in pieces[1:]:
            assert not piece.lstrip().startswith("#"), "a folded piece would be a comment"
        assert len(pieces) == 1 or pieces[-1].strip(), "a blank last piece ends nothing"
        assert all(not p.endswith(escape) for p in pieces[:-1]), "an escaped escape"
        out.append(f"{escape}\n".join(pieces))
    return "\n".join(out)
