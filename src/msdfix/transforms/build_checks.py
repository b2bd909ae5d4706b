"""build-checks: fix what BuildKit's build checks flag when the fix is purely syntactic.

What it does
    Fixes two of BuildKit's build checks (``docker build --check``) exactly as BuildKit's
    linter defines them:

    - FromAsCasing: the ``AS`` of ``FROM image AS name`` takes the case of the ``FROM``
      keyword (``FROM x as y`` becomes ``FROM x AS y``, ``from x AS y`` becomes
      ``from x as y``); a mixed-case ``From`` is not flagged, so it is left alone.
    - LegacyKeyValueFormat: ``ENV key value`` and ``LABEL key value`` (BuildKit flags only
      these two; ``ARG`` has no legacy form) become ``ENV key=value``. A value with spaces is
      quoted so it stays one value: ``ENV A hello world`` becomes ``ENV A="hello world"``.
Why
    BuildKit warns about both on every build; the legacy form is deprecated and ambiguous
    (``ENV A B=C`` sets ``A`` to ``B=C``).
Example
    ``FROM golang:1.22 as build`` becomes ``FROM golang:1.22 AS build``;
    ``ENV NODE_ENV production`` becomes ``ENV NODE_ENV=production``.
Fix safety
    Safe: BuildKit reads the same key and value. A legacy value is one word after BuildKit's
    word expansion, with its spaces kept; the new form keeps the value's text and only adds
    quoting where the value has unquoted spaces (double quotes when the value has no quotes
    or backslashes, a backslash before each unquoted space otherwise). Left alone: keys with
    quotes, ``$`` or backslashes, a key and value separated by a continuation line, Windows
    files (backtick escape).
"""

from __future__ import annotations

from collections.abc import Iterable

from msdfix.document import Document
from msdfix.fixes import Edit, Finding
from msdfix.syntax import Instruction
from msdfix.syntax.parser import GO_SPACE, WHITESPACE_RE
from msdfix.syntax.values import instruction_values, parse_words
from msdfix.transforms.base import Transform, register

_KEY_FORBIDDEN = set("\"'$=\\`")


def _from_as(doc: Document, ins: Instruction) -> Finding | None:
    """FromAsCasing: ``as`` takes the case of the ``FROM`` keyword."""
    _, values, _ = instruction_values(ins)
    if len(values) != 3 or values[1].lower() != "as":
        return None
    keyword = ins.keyword
    if keyword == keyword.lower():
        wanted = "as"
    elif keyword == keyword.upper():
        wanted = "AS"
    else:
        return None  # BuildKit leaves mixed-case FROM to ConsistentInstructionCasing
    if values[1] == wanted:
        return None
    rest = ins.logical[ins.args_start :]
    tokens = [m for m in WHITESPACE_RE.finditer(rest)]
    if not tokens:
        return None
    start = ins.args_start + tokens[0].end()  # the word after the image
    if not ins.logical.startswith(values[1], start) or not ins.is_contiguous(start, start + 2):
        return None
    at = ins.physical(start)
    message = f"'{values[1]}' takes the case of '{keyword}' (BuildKit check FromAsCasing)"
    return doc.fix(BuildChecks.id, ins, message, [Edit(at, at + 2, wanted)])


def _quote_spaces(value: str, escape: str) -> list[tuple[int, str]] | None:
    """Insertions (offset, text) that make ``value`` one word; None when none are needed."""
    if not any(ch in GO_SPACE for ch in value) or len(parse_words(value, escape)) == 1:
        return None
    if not any(ch in value for ch in "\"'" + escape):
        return [(0, '"'), (len(value), '"')]
    inserts = []
    quote = ""
    i = 0
    while i < len(value):  # the quote state BuildKit's parseWords tracks
        ch = value[i]
        if ch == escape and quote != "'":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in GO_SPACE:
            inserts.append((i, escape))
        i += 1
    return inserts


def _legacy_key_value(doc: Document, ins: Instruction) -> Finding | None:
    """LegacyKeyValueFormat: ``ENV key value`` -> ``ENV key=value`` with the same value."""
    start = ins.args_start
    rest = ins.logical[start:].rstrip(GO_SPACE)
    words = parse_words(rest, ins.escape)
    if not words or "=" in words[0]:
        return None
    sep = WHITESPACE_RE.search(rest)
    if sep is None:
        return None
    key, value = rest[: sep.start()], rest[sep.end() :]
    if not value or any(ch in _KEY_FORBIDDEN or ch == ins.escape for ch in key):
        return None
    sep_start, value_start = start + sep.start(), start + sep.end()
    if not ins.is_contiguous(sep_start, value_start):
        return None
    inserts = _quote_spaces(value, ins.escape) or []
    opening = "".join(text for at, text in inserts if at == 0 and text == '"')
    edits = [Edit(ins.physical(sep_start), ins.physical(value_start), "=" + opening)]
    for at, text in inserts:
        if at == 0 and text == '"':
            continue
        if at == len(value):  # after the value's last character
            end = ins.physical(value_start + at - 1) + 1
            edits.append(Edit(end, end, text))
        else:
            pos = ins.physical(value_start + at)
            edits.append(Edit(pos, pos, text))
    keyword = ins.keyword.upper()
    message = f'"{keyword} {key}=value" instead of the legacy "{keyword} {key} value" (BuildKit check LegacyKeyValueFormat)'
    return doc.fix(BuildChecks.id, ins, message, edits)


@register
class BuildChecks(Transform):
    id = "build-checks"
    title = "Fix BuildKit build checks FromAsCasing and LegacyKeyValueFormat"
    order = 50

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.dockerfile.escape != "\\":
            return
        for ins in doc.dockerfile.instructions:
            fix = None
            if ins.cmd == "from":
                fix = _from_as(doc, ins)
            elif ins.cmd in ("env", "label"):
                fix = _legacy_key_value(doc, ins)
            if fix is not None:
                yield fix
