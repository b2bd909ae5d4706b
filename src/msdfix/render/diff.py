"""Unified diffs with difflib, coloured with rich only when asked to."""

from __future__ import annotations

import difflib
from typing import TextIO

from rich.console import Console
from rich.text import Text

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(before: str, after: str, path: str) -> str:
    """A git-style unified diff of two texts (line endings kept, missing final newline marked)."""
    out = []
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for line in difflib.unified_diff(old, new, path, path, n=3):
        if line.startswith(("---", "+++")):
            line = line.rstrip("\r\n") + "\n"
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)


def files_diff(files: dict[str, tuple[str | None, str]]) -> str:
    """Diffs of the other files a rewrite creates or extends (``/dev/null`` for a new file)."""
    out = []
    for path, (old, new) in sorted(files.items()):
        diff = unified_diff(old or "", new, path)
        if old is None:
            diff = diff.replace(f"--- {path}\n", "--- /dev/null\n", 1)
        out.append(diff)
    return "".join(out)


STYLES = {"+": "green", "-": "red", "@": "cyan", "\\": "dim"}


def print_diff(diff: str, stream: TextIO, color: bool) -> None:
    """Write ``diff`` to ``stream``; colour lines by their first character when ``color``."""
    if not color:
        stream.write(diff)
        return
    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for line in diff.splitlines():
        style = "bold" if line.startswith(("---", "+++")) else STYLES.get(line[:1], "")
        console.print(Text(line, style=style))
