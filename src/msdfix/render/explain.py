"""``msdfix --explain ID``: a transform's docstring for a terminal (no reST markup left)."""

from __future__ import annotations

import re
import sys

from rich.text import Text

from msdfix.transforms import Transform

CODE_RE = re.compile(r"(?::[a-z]+:)?``?([^`]+)``?")


def _inline(line: str, text: Text) -> None:
    pos = 0
    for match in CODE_RE.finditer(line):
        text.append(line[pos : match.start()])
        text.append(match.group(1), "cyan")
        pos = match.end()
    text.append(line[pos:])


def explain_text(transform: type[Transform]) -> Text:
    """Title, then the What it does / Why / Example / Fix safety sections, markup rendered."""
    doc = (sys.modules[transform.__module__].__doc__ or "").strip()
    out = Text()
    out.append(f"{transform.id}", "bold")
    out.append(f": {transform.title}\n")
    body: list[str] = []
    for line in [*doc.splitlines()[1:], "End"]:
        if line and not line[0].isspace():
            _inline("".join(body), out)  # code spans may run over a line break
            body = []
            if line != "End":
                out.append("\n" + line.strip() + "\n", "bold")
        elif line.strip():
            body.append(line.rstrip() + "\n")
    return out
