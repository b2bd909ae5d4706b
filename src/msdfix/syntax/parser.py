"""A lossless Dockerfile parser that follows BuildKit's line rules.

It mirrors ``moby/buildkit/frontend/dockerfile/parser``: parser directives at the top,
comment and empty lines skipped inside continuations, the escape character, heredocs on
RUN/COPY/ADD (and ONBUILD of those). Unlike BuildKit it keeps every byte: nodes are spans.
"""

from __future__ import annotations

import re
from itertools import accumulate

from msdfix.syntax.nodes import Dockerfile, Flag, Heredoc, Instruction, Segment, Trivia

KNOWN_INSTRUCTIONS = frozenset(
    "add arg cmd copy entrypoint env expose from healthcheck label maintainer onbuild run "
    "shell stopsignal user volume workdir".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})
# Go's unicode.IsSpace: what BuildKit trims from the start of a line (before a keyword, a
# comment, a directive, or on an empty continuation line).
LINE_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
GO_SPACE = " \t\n\v\f\r\x85\xa0"  # around arguments and flags, as values.py reads them
# BuildKit's DirectiveParser: `#`, unicode spaces, then `name\s*=\s*(.+?)\s*$` where Go's \s is
# ASCII ([\t\n\f\r ]: a no-break space after the value is part of it). The value runs to its
# last non-space character; "(.+?)\s*$" found that by trying \s*$ after every character, each
# time over all the spaces inside it (quadratic in the line). ".+?" is left for a value of
# spaces only.
DIRECTIVE_RE = re.compile(
    f"^#[{LINE_SPACE}]*([a-zA-Z][a-zA-Z0-9]*)[\\t\\n\\f\\r ]*=[\\t\\n\\f\\r ]*"
    r"([^\t\n\f\r ](?:.*[^\t\n\f\r ])?|.+?)[\t\n\f\r ]*$"
)
# The names BuildKit reads as directives; any other name ends the directives, and that line
# and the ones after it are comments (`# foo=x` then `# escape=`` keeps the backslash).
DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})
# BuildKit reads lines with Go's bufio.Scanner and its default 64 KiB buffer: a longer line
# fails the build ("dockerfile line greater than max allowed size of 65535").
MAX_LINE_BYTES = 65535
HEREDOC_WORD_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_KEYWORD_RE = re.compile(r"[^\t\v\f\r ]+")
WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (3x faster)
_SPACES_RE = re.compile(f"[{GO_SPACE}]*")


class ParseError(Exception):
    """A Dockerfile that BuildKit would reject; carries the 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _split(text: str) -> tuple[list[str], list[int]]:
    """Line bodies (no newline characters, no BOM) and line starts (one more: the text's end)."""
    bodies = text.split("\n")
    if bodies[-1] == "":
        bodies.pop()
    starts = list(accumulate(map((1).__add__, map(len, bodies)), initial=0))
    starts[-1] = min(starts[-1], len(text))
    if "\r" in text:
        bodies = [body.rstrip("\r") for body in bodies]
    if text.startswith("\ufeff"):
        bodies[0] = bodies[0][1:]
    return bodies, starts


# 4 bytes a character at most; from line starts only: tried from every position, a line just
# shorter cost its length squared (5 MB of 16,000-character lines: 40 s)
_LONG_LINE_RE = re.compile(f"^[^\n]{{{MAX_LINE_BYTES // 4 + 1},}}", re.MULTILINE)


def _check_line_lengths(text: str) -> None:
    """Refuse a line BuildKit's scanner cannot hold: more than 65,535 bytes in UTF-8 (a BOM
    and a carriage return count), as ``docker build`` refuses it."""
    if len(text) <= MAX_LINE_BYTES // 4:
        return
    for match in _LONG_LINE_RE.finditer(text):
        if len(match.group().encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise ParseError(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}",
                text.count("\n", 0, match.start()) + 1,
            )


def _lstrip_len(body: str) -> int:
    return len(body) - len(body.lstrip(LINE_SPACE))


def parse(text: str) -> Dockerfile:
    """Parse ``text`` into a lossless tree; raise :class:`ParseError` on invalid input."""
    _check_line_lengths(text)
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.bodies, self.starts = _split(text)
        self.bom = int(text.startswith("\ufeff"))  # the first body starts after it
        self.escape = "\\"
        self.directives: dict[str, str] = {}
        self.nodes: list[Trivia | Instruction] = []

    def _continuation_end(self, body: str) -> int | None:
        """Index where a trailing escape (plus spaces/tabs) starts, or None.

        BuildKit's rule (``lineContinuationRegex``): one escape character at the end, not
        preceded by another one; ``\\\\`` or ``\\\\\\`` at the end continue nothing.
        """
        last = body[-1:]
        if last != self.escape and last != " " and last != "\t":
            return None
        stripped = body.rstrip(" \t")
        run = len(stripped) - len(stripped.rstrip(self.escape))
        return len(stripped) - 1 if run == 1 else None

    def _directives(self) -> int:
        index = 0
        starts = self.starts
        while index < len(self.bodies):
            match = DIRECTIVE_RE.match(self.bodies[index].lstrip(LINE_SPACE))
            if not match:
                break
            name, value = match.group(1).lower(), match.group(2)
            if name not in DIRECTIVE_NAMES:
                break
            if name in self.directives:
                raise ParseError(f"only one {name} parser directive can be used", index + 1)
            if name == "escape":
                if value not in ("\\", "`"):
                    raise ParseError(
                        f"invalid escape token '{value}' does not match ` or \\", index + 1
                    )
                self.escape = value
            self.directives[name] = value
            self.nodes.append(Trivia("directive", starts[index], starts[index + 1], index + 1))
            index += 1
        return index

    def parse(self) -> Dockerfile:
        index = self._directives()
        bodies, starts, nodes = self.bodies, self.starts, self.nodes
        count = len(bodies)
        pending: list[Trivia] = []  # comment lines directly above the next instruction
        while index < count:
            body = bodies[index]
            head = body[:1]
            if not head or head in LINE_SPACE:
                lead = _lstrip_len(body)
                head = body[lead : lead + 1]
            else:
                lead = 0
            if head == "#":
                pending.append(
                    _new(Trivia, ("comment", starts[index], starts[index + 1], index + 1))
                )
                index += 1
                continue
            if lead == len(body):  # blank: an escape is never a space, so nothing continues
                nodes.extend(pending)
                pending = []
                nodes.append(_new(Trivia, ("blank", starts[index], starts[index + 1], index + 1)))
                index += 1
                continue
            ins, index = self._instruction(index, lead)
            if pending:
                ins.comment_start = pending[0].start
                pending = []
            nodes.append(ins)
        nodes.extend(pending)
        dockerfile = Dockerfile(self.text, nodes, self.escape, self.directives, _newline(self.text))
        if not dockerfile.instructions:
            raise ParseError("file with no instructions", max(1, count))
        return dockerfile

    def _instruction(self, index: int, lead: int) -> tuple[Instruction, int]:
        bodies, starts = self.bodies, self.starts
        first = index
        body = bodies[index]
        body_start = starts[index] + (self.bom if index == 0 else 0)
        cont = self._continuation_end(body)
        if cont is None:
            logical = body[lead:] if lead else body
            segments = [_new(Segment, (0, body_start + lead, len(logical)))]
            index += 1
        else:
            logical, segments, index = self._continued(index, lead, cont, body_start)
        kw_offset = 0 if logical[:1] not in LINE_SPACE else _lstrip_len(logical)
        space = logical.find(" ", kw_offset)
        keyword = logical[kw_offset:] if space < 0 else logical[kw_offset:space]
        if keyword.lower() not in KNOWN_INSTRUCTIONS:  # letters only: no other separator inside
            match = _KEYWORD_RE.match(logical, kw_offset)
            keyword = match.group(0) if match else ""
            if keyword.lower() not in KNOWN_INSTRUCTIONS:
                raise ParseError(f"unknown instruction: {keyword}", first + 1)
        rest = kw_offset + len(keyword)
        start = starts[first]
        end, escape = starts[index], self.escape
        ins = Instruction(
            keyword, start, end, start, first + 1, index, logical, segments, [], rest, [], escape
        )
        after = logical[rest + 1 : rest + 2]
        if logical[rest : rest + 1] == " " and after and after not in GO_SPACE and after != "-":
            ins.args_offset = rest + 1  # one space and no flags: the common case
        else:
            ins.flags, ins.args_offset = _flags(ins, rest)
        if "<<" in logical and _heredoc_target(ins) is not None:
            index = self._heredocs(ins, index)
        return ins, index

    def _continued(
        self, index: int, lead: int, cont: int, body_start: int
    ) -> tuple[str, list[Segment], int]:
        """The logical line of an instruction whose first line ends with an escape."""
        bodies, starts = self.bodies, self.starts
        pieces = [bodies[index][lead:cont]]
        size = len(pieces[0])
        segments = [Segment(0, body_start + lead, size)]
        index += 1
        continued = True
        escape = self.escape
        while continued and index < len(bodies):
            body = bodies[index]
            index += 1
            head = body.lstrip(LINE_SPACE)[:1]
            if not head or head == "#":
                continue
            last = body[-1]
            if last == escape and body[-2:-1] != escape:
                piece = body[:-1]
            elif last == " " or last == "\t":
                end = self._continuation_end(body)
                piece = body if end is None else body[:end]
                continued = end is not None
            else:
                piece = body
                continued = False
            segments.append(_new(Segment, (size, starts[index - 1], len(piece))))
            pieces.append(piece)
            size += len(piece)
        return "".join(pieces), segments, index

    def _heredocs(self, ins: Instruction, index: int) -> int:
        bodies, starts = self.bodies, self.starts
        for fd_chomp_name in _heredoc_words(ins.logical[ins.args_offset :]):
            chomp, name, quoted = fd_chomp_name
            body_start = starts[index] if index < len(bodies) else len(self.text)
            terminated = False
            content: list[str] = []
            while index < len(bodies):
                body = bodies[index]
                index += 1
                candidate = body.lstrip("\t") if chomp else body
                if candidate == name:
                    terminated = True
                    ins.heredocs.append(
                        Heredoc(
                            name, chomp, quoted, body_start, starts[index - 1], "".join(content)
                        )
                    )
                    ins.end, ins.end_line = starts[index], index
                    break
                content.append(self.text[starts[index - 1] : starts[index]])
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
    found: list[tuple[bool, str, bool]] = []
    if not _lexes(line):
        return found
    for word in _raw_words(line):
        match = HEREDOC_WORD_RE.match(word)
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        quoted = any(q in rest for q in "\"'")
        name = _unquote(rest)
        if not name:  # quoted or escaped blanks belong to the name (`<<"E OF"`)
            continue
        found.append((match.group(2) == "-", name, quoted))
    return found


_SUBSTITUTION_RE = re.compile(r"[A-Za-z0-9_]*(.?)")
_MODIFIERS = frozenset("}:?-+#%/")  # `#`, `%` and `/`: recent BuildKit


def _lexes(line: str) -> bool:
    """False when BuildKit's word lexer fails on the line (a quote or a ``${`` left open, a
    ``${`` whose name is followed by no modifier it knows, as in ``${ x}``): its
    ``heredocsFromLine`` drops that error and with it every heredoc of the line."""
    quote = ""
    opened: list[str] = []  # the quote each open ${ began in: its } closes it there
    i = 0
    while i < len(line):
        ch = line[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            i += 1
        elif ch == '"':
            quote = "" if quote else '"'
        elif ch == "'" and not quote:
            quote = "'"
        elif ch == "$" and line.startswith("{", i + 1):
            match = _SUBSTITUTION_RE.match(line, i + 2)  # always matches
            if not match or match.group(1) not in _MODIFIERS:
                return False
            opened.append(quote)
            i += 1
        elif ch == "}" and opened and opened[-1] == quote:
            opened.pop()
        i += 1
    return not quote and not opened


def _raw_words(line: str) -> list[str]:
    """Split on unquoted whitespace, keeping quotes and escapes (shlex RawQuotes mode)."""
    words: list[str] = []
    word: list[str] = []  # characters, joined once: += on a long word is quadratic
    quote = ""
    have = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            word.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < len(line):
                word.append(line[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in " \t\n":
            if have:
                words.append("".join(word))
            word, have = [], False
        else:
            have = True
            word.append(ch)
            if ch in "\"'":
                quote = ch
            elif ch == "\\" and i + 1 < len(line):
                word.append(line[i + 1])
                i += 1
        i += 1
    if have:
        words.append("".join(word))
    return words


def _unquote(word: str) -> str | None:
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(word):
                i += 1
                out.append(word[i])
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == "\\" and i + 1 < len(word):
            i += 1
            out.append(word[i])
        else:
            out.append(ch)
        i += 1
    return None if quote else "".join(out)


def _flags(ins: Instruction, offset: int) -> tuple[list[Flag], int]:
    """Leading ``--name[=value]`` words, as BuildKit's ``extractBuilderFlags`` reads them."""
    line = ins.logical
    flags: list[Flag] = []
    spaces = _SPACES_RE.match(line, offset)  # always matches
    pos = spaces.end() if spaces else offset
    if not line.startswith("--", pos):  # no flags: the common case
        return flags, pos if pos < len(line) else max(offset, len(line.rstrip(GO_SPACE)))
    end = len(line.rstrip(GO_SPACE))
    while True:
        while pos < end and line[pos] in GO_SPACE:
            pos += 1
        if pos >= end or not line.startswith("--", pos):
            return flags, pos
        start = pos
        chars: list[str] = []
        quote = ""
        while pos < end:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and pos + 1 < end:
                    pos += 1
                    chars.append(line[pos])
                else:
                    chars.append(ch)
            elif ch in GO_SPACE:
                break
            elif ch in "\"'":
                quote = ch
            elif ch == "\\":
                if pos + 1 < end:
                    pos += 1
                    chars.append(line[pos])
            else:
                chars.append(ch)
            pos += 1
        word = "".join(chars)
        if word == "--":
            return flags, pos
        name, eq, value = word[2:].partition("=")
        flags.append(
            Flag(
                name.lower(), value if eq else None, ins.physical(start), ins.physical(pos - 1) + 1
            )
        )
