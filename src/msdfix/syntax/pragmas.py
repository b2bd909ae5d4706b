"""``# msdfix: ignore`` pragmas: the transforms a comment above an instruction turns off."""

from __future__ import annotations

import re

from msdfix.syntax.nodes import Dockerfile, Instruction

# ``# msdfix: ignore`` or ``# msdfix: ignore[id,...]``, optionally followed by a reason. A
# "[" that no "]" closes is no pragma (a typo must not turn every transform off); the list
# holds no "#", so a comment of many unclosed "#msdfix:ignore[" is searched in linear time.
PRAGMA_RE = re.compile(r"#\s*msdfix:\s*ignore(?:\s*\[([^\]#]*)\]|(?![\w\[-]))", re.IGNORECASE)
# [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines below and back
# (quadratic in a run of them); the line where the "#" is matches the same. A byte-order mark
# (kept in the text, read past by BuildKit) may open the first line: it hid the pragma there.
FILE_PRAGMA_RE = re.compile(
    r"^\ufeff?[^\S\n]*#\s*msdfix:\s*ignore-file\b", re.IGNORECASE | re.MULTILINE
)


def ignores_file(text: str) -> bool:
    """``FILE_PRAGMA_RE`` is in ``text``. An ASCII text without "msdfix" in any case has no
    pragma (the regex tries every line; outside ASCII, case folding may match other letters,
    so such a text is searched)."""
    if text.isascii() and "msdfix" not in text.lower():
        return False
    return FILE_PRAGMA_RE.search(text) is not None


def ignored_here(dockerfile: Dockerfile, ins: Instruction, transform: str) -> bool:
    """A pragma in the comments right above ``ins`` turns ``transform`` off there."""
    for comment in dockerfile.comments_above(ins):
        match = PRAGMA_RE.search(comment)
        if match:
            ids = match.group(1)
            if ids is None or transform in {i.strip() for i in ids.split(",")}:
                return True
    return False
