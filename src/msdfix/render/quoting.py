"""Text from the input shown where it could act: terminals, diff headers, lists of paths.

A file name or a Dockerfile word may hold a newline (a second line that looks like msdfix's
own), a tab (a diff header's timestamp field) or an escape sequence (it recolours the terminal,
moves the cursor or sets its title) or a GitHub workflow command (the Actions runner acts on a
line that starts with ``::`` after spaces, and on ``##[`` anywhere in a line). ``printable``
escapes them for the summary; ``quote_path`` quotes a path as git does, so one line with a path
is always that one whole path.
"""

from __future__ import annotations

import re

# Control characters (C0, DEL, C1), and the bytes of a name that is not UTF-8 (Python keeps
# them as lone surrogates U+DC80-U+DCFF: written as text they were `\udcff`, or strict
# encoders failed on them).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\udc80-\udcff]")
_UNSAFE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\udc80-\udcff]|##\[")
_C_ESCAPES = {"\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r"}


def printable(text: str) -> str:
    """``text`` with its control characters (C0 with tab and newline, DEL, C1) as ``\\xNN``,
    and the legacy workflow-command prefix ``##[`` as ``#\\x23[``."""
    if not _UNSAFE_RE.search(text):
        return text
    return _UNSAFE_RE.sub(
        lambda m: "#\\x23[" if m.group() == "##[" else f"\\x{_byte(m.group()):02x}", text
    )


def _byte(char: str) -> int:
    """The code of a control character, or the byte a lone surrogate stands for."""
    code = ord(char)
    return code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else code


def lossy(text: str) -> str:
    """``text`` as valid Unicode: the bytes of a name that is not UTF-8 as U+FFFD, as ruff
    writes such names in JSON (a lone surrogate escape is refused by strict JSON parsers)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def shown_path(path: str) -> str:
    """``path`` (printable) for the start of a line: a relative path that starts with ``:`` is
    shown as ``./:...`` (the same file), so the line cannot be a ``::command::`` of the Actions
    runner (a folder ``::error title=x::y`` forged annotations, ``::stop-commands::`` silenced
    the rest of the step)."""
    shown = printable(path)
    return "./" + shown if shown.startswith(":") else shown


def quote_path(path: str) -> str:
    """``path``, or when it holds a control character or starts with ``"``, the path in double
    quotes with C escapes (``"a\\nb\\tc/Dockerfile"``), as git and GNU diff write such names and
    ``git apply`` and ``patch`` read them."""
    if not _CONTROL_RE.search(path) and not path.startswith('"'):
        return path
    out = []
    for char in path:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _C_ESCAPES:
            out.append("\\" + _C_ESCAPES[char])
        elif _CONTROL_RE.match(char):
            raw = char.encode("utf-8", "surrogateescape")  # a name's byte that is not UTF-8
            out.append("".join(f"\\{byte:03o}" for byte in raw))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
