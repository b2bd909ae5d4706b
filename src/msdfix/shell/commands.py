"""Shell scripts of RUN instructions as a list of simple commands (tree-sitter-bash)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NamedTuple

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from msdfix.syntax.values import unquote

OPERATORS = {"&&", "||", ";", "|", "&", "|&", ";;"}
NESTING = {
    "if_statement", "for_statement", "while_statement", "case_statement", "subshell",
    "compound_statement", "function_definition", "c_style_for_statement",
    "command_substitution", "process_substitution",
}  # fmt: skip
SKIP = {"variable_assignment", "comment", "heredoc_body", "file_redirect", "test_command"}
WORD_TYPES = {
    "word", "string", "raw_string", "concatenation", "number", "simple_expansion",
    "expansion", "ansi_c_string", "translated_string", "command_substitution",
}  # fmt: skip


_QUOTING = re.compile(r"[\"'\\]")


class Word(NamedTuple):
    """One shell word: its unquoted value and its span in the script."""

    value: str
    start: int
    end: int


@dataclass
class Command:
    """A simple command: ``argv`` after leading assignments, with spans and context."""

    words: list[Word]
    assignments: dict[str, str]
    start: int
    end: int
    op_before: str | None
    cwd: str | None
    nested: bool
    redirects: list[str] = field(default_factory=list)

    @cached_property
    def argv(self) -> list[str]:
        """Unquoted words, command name first."""
        return [w.value for w in self.words]

    @cached_property
    def name(self) -> str:
        """Base name of the program (``/usr/bin/pip3`` gives ``pip3``)."""
        return posixpath.basename(self.words[0].value) if self.words else ""


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


class _Offsets:
    """Convert tree-sitter byte offsets to str offsets."""

    def __init__(self, script: str) -> None:
        self.ascii = script.isascii()
        if not self.ascii:
            self.table = [0] * (len(script.encode("utf-8")) + 1)
            byte = 0
            for index, ch in enumerate(script):
                width = len(ch.encode("utf-8"))
                for k in range(width):
                    self.table[byte + k] = index
                byte += width
            self.table[byte] = len(script)

    def __call__(self, byte: int) -> int:
        return byte if self.ascii else self.table[byte]


@lru_cache(maxsize=512)
def _cached(script: str) -> tuple[Command, ...]:
    return tuple(_parse(script))


def parse_commands(script: str) -> list[Command]:
    """Simple commands of ``script`` in execution order, tracking ``cd`` and operators."""
    return list(_cached(script))


def _parse(script: str) -> list[Command]:
    data = script.encode("utf-8")
    tree = _parser().parse(data)
    offsets = _Offsets(script)
    found: list[Command] = []
    state: dict[str, str | None] = {"op": None, "cwd": None}

    def text(node: Node) -> str:
        return script[offsets(node.start_byte) : offsets(node.end_byte)]

    stack = [(tree.root_node, False)]  # depth first, left to right, without recursion
    while stack:
        node, nested = stack.pop()
        kind = node.type
        if kind == "command":
            found.append(_command(node, script, text, offsets, state, nested))
            state["op"] = None
        elif kind in OPERATORS and node.child_count == 0:
            state["op"] = kind
        elif kind not in WORD_TYPES and kind not in SKIP:
            inner = nested or kind in NESTING
            stack.extend((child, inner) for child in reversed(node.children))
    return found


def _command(node: Node, script: str, text, offsets, state, nested: bool) -> Command:  # type: ignore[no-untyped-def]
    words: list[Word] = []
    assignments: dict[str, str] = {}
    redirects: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "command_name" or kind in WORD_TYPES:
            start, end = offsets(child.start_byte), offsets(child.end_byte)
            raw = script[start:end]
            words.append(Word(unquote(raw) if _QUOTING.search(raw) else raw, start, end))
        elif kind == "variable_assignment" and not words:
            name, _, value = text(child).partition("=")
            assignments[name] = unquote(value)
        elif "redirect" in kind:
            redirects.append(text(child))
    parent = node.parent
    if parent is not None and parent.type == "redirected_statement":
        redirects += [text(c) for c in parent.children if "redirect" in c.type]
    cmd = Command(
        words, assignments, offsets(node.start_byte), offsets(node.end_byte),
        state["op"], state["cwd"], nested, redirects,
    )  # fmt: skip
    if cmd.name == "cd" and not nested:
        target = cmd.argv[1] if len(cmd.argv) > 1 else "~"
        state["cwd"] = (
            posixpath.normpath(posixpath.join(state["cwd"] or "", target))
            if state["cwd"] and not target.startswith("/")
            else target
        )
    return cmd
