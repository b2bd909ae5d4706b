"""Nodes of the lossless Dockerfile tree: every node is a span of the original text."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

WHITESPACE = " \t\v\f\r"
_ARGS_SPACE = frozenset(WHITESPACE + "\n")
_DECODER = json.JSONDecoder()


class Segment(NamedTuple):
    """A run of the logical line copied verbatim from the physical text."""

    logical: int
    physical: int
    length: int


class Flag(NamedTuple):
    """A builder flag such as ``--mount=type=cache,target=/x`` (offsets are physical)."""

    name: str
    value: str | None
    start: int
    end: int


@dataclass(frozen=True)
class Heredoc:
    """A here-document attached to RUN/COPY/ADD; ``body_*`` spans exclude the terminator line."""

    name: str
    chomp: bool
    quoted: bool
    body_start: int
    body_end: int
    content: str


class Trivia(NamedTuple):
    """Blank lines, comments and parser directives not owned by an instruction."""

    kind: str  # "blank" | "comment" | "directive"
    start: int
    end: int
    line: int


@dataclass
class Instruction:
    """One instruction, its continuation lines, heredoc bodies and owned comments."""

    keyword: str
    start: int
    end: int
    comment_start: int
    start_line: int
    end_line: int
    logical: str
    segments: list[Segment]
    flags: list[Flag]
    args_offset: int
    heredocs: list[Heredoc] = field(default_factory=list)
    escape: str = "\\"
    cmd: str = field(init=False)  # lower-case instruction name (``run``, ``copy``, ...)

    def __post_init__(self) -> None:
        self.cmd = self.keyword.lower()

    @property
    def args(self) -> str:
        """The logical text after the keyword and flags, trimmed."""
        return self.logical[self.args_offset :].strip(WHITESPACE + "\n")

    @property
    def args_start(self) -> int:
        """Logical offset of the first argument character."""
        offset = self.args_offset
        while offset < len(self.logical) and self.logical[offset] in WHITESPACE:
            offset += 1
        return offset

    def json_args(self) -> list[str] | None:
        """The exec-form argument list, or None for shell form."""
        head = self.logical[self.args_offset : self.args_offset + 1]
        if head != "[" and head not in _ARGS_SPACE:  # shell form (or no arguments)
            return None
        value = self._json_args
        return None if value is None else list(value)

    @cached_property
    def _segment_starts(self) -> list[int]:
        """The logical offset where each segment starts, in order."""
        return [seg.logical for seg in self.segments]

    @cached_property
    def _json_args(self) -> tuple[str, ...] | None:
        rest = self.args
        if not rest.startswith("["):
            return None
        try:
            value, _ = _DECODER.raw_decode(rest)
        except (ValueError, RecursionError):  # RecursionError: nested too deep, not strings
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(_valid(v) for v in value)
        return None

    @property
    def is_json(self) -> bool:
        """True for exec (JSON) form."""
        return self.json_args() is not None

    def flag(self, name: str) -> Flag | None:
        """The first flag named ``name`` (without dashes)."""
        for flag in self.flags:
            if flag.name == name:
                return flag
        return None

    def flags_named(self, name: str) -> list[Flag]:
        """All flags named ``name``."""
        return [f for f in self.flags if f.name == name]

    def physical(self, logical_offset: int) -> int:
        """Map an offset in :attr:`logical` to an offset in the file text (by bisection: the
        segments follow each other, and a scan of them per offset was quadratic in an
        instruction of thousands of continuation lines with an edit on each)."""
        at = bisect.bisect_right(self._segment_starts, logical_offset) - 1
        seg = self.segments[at] if at >= 0 else None
        if seg is not None and logical_offset < seg.logical + seg.length:
            return seg.physical + logical_offset - seg.logical
        last = self.segments[-1]
        if logical_offset == last.logical + last.length:
            return last.physical + last.length
        raise ValueError(f"offset {logical_offset} is not in instruction at line {self.start_line}")

    def is_contiguous(self, lstart: int, lend: int) -> bool:
        """True when the logical range maps to one physical run (no continuation inside)."""
        if lend <= lstart:
            return True
        return self.physical(lend - 1) - self.physical(lstart) == lend - 1 - lstart


@dataclass
class Dockerfile:
    """A parsed Dockerfile; ``nodes`` tile ``text`` exactly, so printing is lossless."""

    text: str
    nodes: list[Trivia | Instruction]
    escape: str
    directives: dict[str, str]
    newline: str

    def __str__(self) -> str:
        return "".join(self.node_text(n) for n in self.nodes)

    def node_text(self, node: Trivia | Instruction) -> str:
        """The exact source text of ``node`` (instructions include owned comments)."""
        start = node.comment_start if isinstance(node, Instruction) else node.start
        return self.text[start : node.end]

    @property
    def instructions(self) -> list[Instruction]:
        """All instructions in file order."""
        return list(self._instructions)

    @cached_property
    def _instructions(self) -> tuple[Instruction, ...]:
        return tuple([n for n in self.nodes if isinstance(n, Instruction)])

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self._instructions)

    def instruction_at(self, offset: int) -> Instruction | None:
        """The instruction whose text, owned comments included, holds ``offset``."""
        found = bisect.bisect_right(self._ends, offset)  # the first that ends after it
        if found < len(self._instructions):
            ins = self._instructions[found]
            return ins if ins.comment_start <= offset else None
        return None

    def instruction_on_line(self, line: int) -> Instruction | None:
        """The instruction that starts on ``line``."""
        found = bisect.bisect_left(self._start_lines, line)
        if found < len(self._instructions) and self._start_lines[found] == line:
            return self._instructions[found]
        return None

    @cached_property
    def _ends(self) -> list[int]:
        return [ins.end for ins in self._instructions]

    @cached_property
    def _start_lines(self) -> list[int]:
        return [ins.start_line for ins in self._instructions]

    def comments_above(self, ins: Instruction) -> list[str]:
        """The comment lines owned by ``ins`` (text without newline)."""
        block = self.text[ins.comment_start : ins.start]
        return [line.strip() for line in block.splitlines() if line.strip()]


def _valid(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in JSON) as U+FFFD, as Go's decoder in
    BuildKit reads them: the rest of msdfix handles only encodable text."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
