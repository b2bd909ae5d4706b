"""A lossless Dockerfile parser that follows BuildKit's line rules.

It mirrors ``moby/buildkit/frontend/dockerfile/parser``: parser directives at the top,
comment and empty lines skipped inside continuations, the escape character, heredocs on
RUN/COPY/ADD (and ONBUILD of those). Unlike BuildKit it keeps every byte: nodes are spans.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from msdfix.syntax.nodes import Dockerfile, Flag, Heredoc, Instruction, Segment, Trivia

KNOWN_INSTRUCTIONS = frozenset(
    "add arg cmd copy entrypoint env expose from healthcheck label maintainer onbuild run "
    "shell stopsignal user volume workdir".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})
DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
HEREDOC_WORD_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_KEYWORD_RE = re.compile(r"[^\t\v\f\r ]+")
WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
GO_SPACE = " \t\n\v\f\r\x85\xa0"


class ParseError(Exception):
    """A Dockerfile that BuildKit would reject; carries the 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Line(NamedTuple):
    start: int
    end: int
    number: int
    body: str  # without the newline characters (and without a BOM on line 1)
    body_start: int  # offset of ``body`` in the text


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    for number, part in enumerate(parts, 1):
        end = min(pos + len(part) + 1, len(text))
        body_start = pos + 1 if pos == 0 and text.startswith("\ufeff") else pos
        body = part[body_start - pos :]
        if body.endswith("\r"):
            body = body.rstrip("\r")
        lines.append(_Line(pos, end, number, body, body_start))
        pos = end
    return lines


def _is_comment(body: str) -> bool:
    return body[:1] == "#" or body.lstrip(GO_SPACE)[:1] == "#"


def _lstrip_len(body: str) -> int:
    return len(body) - len(body.lstrip(GO_SPACE))


def parse(text: str) -> Dockerfile:
    """Parse ``text`` into a lossless tree; raise :class:`ParseError` on invalid input."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _lines(text)
        self.escape = "\\"
        self.directives: dict[str, str] = {}
        self.nodes: list[Trivia | Instruction] = []

    def _continuation_end(self, body: str) -> int | None:
        """Index where a trailing escape (plus spaces/tabs) starts, or None.

        BuildKit's rule (``lineContinuationRegex``): one escape character at the end, not
        preceded by another one; ``\\\\`` or ``\\\\\\`` at the end continue nothing.
        """
        stripped = body.rstrip(" \t")
        run = len(stripped) - len(stripped.rstrip(self.escape))
        return len(stripped) - 1 if run == 1 else None

    def _directives(self) -> int:
        index = 0
        while index < len(self.lines):
            line = self.lines[index]
            match = DIRECTIVE_RE.match(line.body.lstrip(GO_SPACE))
            if not match:
                break
            name, value = match.group(1).lower(), match.group(2)
            if name in self.directives:
                raise ParseError(f"only one {name} parser directive can be used", line.number)
            if name == "escape":
                if value not in ("\\", "`"):
                    raise ParseError(
                        f"invalid escape token '{value}' does not match ` or \\", line.number
                    )
                self.escape = value
            self.directives[name] = value
            self.nodes.append(Trivia("directive", line.start, line.end, line.number))
            index += 1
        return index

    def parse(self) -> Dockerfile:
        index = self._directives()
        pending: list[Trivia] = []  # comment lines directly above the next instruction
        while index < len(self.lines):
            line = self.lines[index]
            if _is_comment(line.body):
                pending.append(Trivia("comment", line.start, line.end, line.number))
                index += 1
                continue
            lead = _lstrip_len(line.body)
            cont = self._continuation_end(line.body)
            content_end = len(line.body) if cont is None else cont
            if cont is None and lead >= len(line.body):
                self.nodes.extend(pending)
                pending = []
                self.nodes.append(Trivia("blank", line.start, line.end, line.number))
                index += 1
                continue
            ins, index = self._instruction(index, lead, content_end, cont is not None)
            ins.comment_start = pending[0].start if pending else ins.start
            pending = []
            self.nodes.append(ins)
        self.nodes.extend(pending)
        dockerfile = Dockerfile(
            self.text, self.nodes, self.escape, self.directives, _newline(self.text)
        )
        if not dockerfile.instructions:
            raise ParseError("file with no instructions", max(1, len(self.lines)))
        return dockerfile

    def _instruction(
        self, index: int, lead: int, content_end: int, continued: bool
    ) -> tuple[Instruction, int]:
        first = self.lines[index]
        pieces = [first.body[lead:content_end]]
        size = len(pieces[0])
        segments = [Segment(0, first.body_start + lead, size)]
        index += 1
        while continued and index < len(self.lines):
            line = self.lines[index]
            index += 1
            if _is_comment(line.body) or not line.body.strip(GO_SPACE):
                continue
            cont = self._continuation_end(line.body)
            piece = line.body if cont is None else line.body[:cont]
            segments.append(Segment(size, line.body_start, len(piece)))
            pieces.append(piece)
            size += len(piece)
            continued = cont is not None
        logical = "".join(pieces)
        last_line = self.lines[index - 1]
        keyword_match = _KEYWORD_RE.match(logical, _lstrip_len(logical))
        keyword = keyword_match.group(0) if keyword_match else ""
        kw_offset = _lstrip_len(logical)
        if keyword.lower() not in KNOWN_INSTRUCTIONS:
            raise ParseError(f"unknown instruction: {keyword}", first.number)
        rest_offset = kw_offset + len(keyword)
        ins = Instruction(
            keyword=keyword,
            start=first.start,
            end=last_line.end,
            comment_start=first.start,
            start_line=first.number,
            end_line=last_line.number,
            logical=logical,
            segments=segments,
            flags=[],
            args_offset=rest_offset,
            escape=self.escape,
        )
        ins.flags, ins.args_offset = _flags(ins, rest_offset)
        if "<<" in logical and _heredoc_target(ins) is not None:
            index = self._heredocs(ins, index)
        return ins, index

    def _heredocs(self, ins: Instruction, index: int) -> int:
        for fd_chomp_name in _heredoc_words(ins.logical[ins.args_offset :]):
            chomp, name, quoted = fd_chomp_name
            body_start = self.lines[index].start if index < len(self.lines) else len(self.text)
            terminated = False
            content: list[str] = []
            while index < len(self.lines):
                line = self.lines[index]
                index += 1
                candidate = line.body.lstrip("\t") if chomp else line.body
                if candidate == name:
                    terminated = True
                    ins.heredocs.append(
                        Heredoc(name, chomp, quoted, body_start, line.start, "".join(content))
                    )
                    ins.end, ins.end_line = line.end, line.number
                    break
                content.append(self.text[line.body_start : line.end])
            if not terminated:
                raise ParseError(f"unterminated heredoc <<{name}", ins.start_line)
        return index


def _newline(text: str) -> str:
    nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def _heredoc_target(ins: Instruction) -> str | None:
    """The instruction that may carry heredocs (ONBUILD RUN counts), or None."""
    cmd = ins.cmd
    rest = ins.logical[ins.args_offset :].lstrip(GO_SPACE)
    if cmd == "onbuild":
        sub = re.match(r"[^\t\v\f\r ]+", rest)
        cmd = sub.group(0).lower() if sub else ""
        rest = rest[len(cmd) :]
    if cmd not in HEREDOC_INSTRUCTIONS:
        return None
    if ins.cmd != "onbuild" and ins.is_json:
        return None
    return cmd


def _heredoc_words(line: str) -> list[tuple[bool, str, bool]]:
    """Heredocs named on a line, as BuildKit's ``heredocsFromLine`` finds them."""
    found = []
    for word in _raw_words(line):
        match = HEREDOC_WORD_RE.match(word)
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        quoted = any(q in rest for q in "\"'")
        name = _unquote(rest)
        if name is None or not name or any(c in name for c in " \t\n"):
            continue
        found.append((match.group(2) == "-", name, quoted))
    return found


def _raw_words(line: str) -> list[str]:
    """Split on unquoted whitespace, keeping quotes and escapes (shlex RawQuotes mode)."""
    words: list[str] = []
    word = ""
    quote = ""
    have = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            word += ch
            if ch == "\\" and quote == '"' and i + 1 < len(line):
                word += line[i + 1]
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in " \t\n":
            if have:
                words.append(word)
            word, have = "", False
        else:
            have = True
            word += ch
            if ch in "\"'":
                quote = ch
            elif ch == "\\" and i + 1 < len(line):
                word += line[i + 1]
                i += 1
        i += 1
    if have:
        words.append(word)
    return words


def _unquote(word: str) -> str | None:
    out = ""
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(word):
                i += 1
                out += word[i]
            else:
                out += ch
        elif ch in "\"'":
            quote = ch
        elif ch == "\\" and i + 1 < len(word):
            i += 1
            out += word[i]
        else:
            out += ch
        i += 1
    return None if quote else out


def _flags(ins: Instruction, offset: int) -> tuple[list[Flag], int]:
    """Leading ``--name[=value]`` words, as BuildKit's ``extractBuilderFlags`` reads them."""
    line = ins.logical
    flags: list[Flag] = []
    pos = offset
    end = len(line.rstrip(GO_SPACE))
    while True:
        while pos < end and line[pos] in GO_SPACE:
            pos += 1
        if pos >= end or not line.startswith("--", pos):
            return flags, pos
        start = pos
        word = ""
        quote = ""
        while pos < end:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < end:
                    pos += 1
                    word += line[pos]
                else:
                    word += ch
            elif ch in GO_SPACE:
                break
            elif ch in "\"'":
                quote = ch
            elif ch == "\\":
                if pos + 1 < end:
                    pos += 1
                    word += line[pos]
            else:
                word += ch
            pos += 1
        if word == "--":
            return flags, pos
        name, eq, value = word[2:].partition("=")
        flags.append(
            Flag(
                name.lower(), value if eq else None, ins.physical(start), ins.physical(pos - 1) + 1
            )
        )
