"""Shell scripts of RUN instructions as a list of simple commands (tree-sitter-bash)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from itertools import repeat
from typing import NamedTuple

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Tree

from msdfix.syntax.values import unquote

OPERATORS = {"&&", "||", ";", "|", "&", "|&", ";;"}
NESTING = {
    "if_statement", "for_statement", "while_statement", "case_statement", "subshell",
    "compound_statement", "function_definition", "c_style_for_statement",
    "command_substitution", "process_substitution",
}  # fmt: skip
CHAINS = {"list", "pipeline"}
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
    return Parser(_language())


@lru_cache(maxsize=1)
def _language() -> Language:
    return Language(tree_sitter_bash.language())


# What the walk does with a node, by its kind id (several ids can share one name).
_COMMAND, _OPERATOR, _LEAF, _NESTING, _DESCEND = range(5)
# What ``_command`` does with a child: a word, an assignment, a redirect, or nothing.
_WORD, _ASSIGNMENT, _REDIRECT, _OTHER = range(4)


@lru_cache(maxsize=1)
def _kinds() -> tuple[dict[int, int], dict[int, int], frozenset[int]]:
    """Walk actions, child roles and the ids of ``redirected_statement``, by kind id.

    Ids outside the grammar's table (``ERROR`` nodes) are looked up with a default.
    """
    language = _language()
    names = [language.node_kind_for_id(i) or "" for i in range(language.node_kind_count)]
    walk = [
        _COMMAND if name == "command"
        else _OPERATOR if name in OPERATORS
        else _LEAF if name in WORD_TYPES or name in SKIP
        else _NESTING if name in NESTING
        else _DESCEND
        for name in names
    ]  # fmt: skip
    role = [
        _WORD if name == "command_name" or name in WORD_TYPES
        else _ASSIGNMENT if name == "variable_assignment"
        else _REDIRECT if "redirect" in name
        else _OTHER
        for name in names
    ]  # fmt: skip
    redirected = frozenset(i for i, name in enumerate(names) if name == "redirected_statement")
    return dict(enumerate(walk)), dict(enumerate(role)), redirected


def _offsets(script: str) -> list[int] | None:
    """str offset of each byte offset of ``script`` (None for ASCII: they are equal)."""
    if script.isascii():
        return None
    table = [0] * (len(script.encode("utf-8")) + 1)
    byte = 0
    for index, ch in enumerate(script):
        width = len(ch.encode("utf-8"))
        for k in range(width):
            table[byte + k] = index
        byte += width
    table[byte] = len(script)
    return table


@lru_cache(maxsize=512)
def _cached(script: str) -> tuple[Command, ...]:
    return tuple(_parse(script))


def parse_commands(script: str) -> list[Command]:
    """Simple commands of ``script`` in execution order, tracking ``cd`` and operators."""
    return list(_cached(script))


def _parse(script: str) -> list[Command]:
    return _walk([_tree(script).root_node], script, _offsets(script))


@lru_cache(maxsize=256)
def _tree(script: str) -> Tree:
    """The syntax tree of ``script``: one parse for its commands, its substitutions and its
    assignments (each read it again; a file's scripts are asked about by each transform)."""
    return _parser().parse(script.encode("utf-8"))


def _walk(nodes: list[Node], script: str, table: list[int] | None) -> list[Command]:
    """The simple commands under ``nodes`` (a tree of ``script``), as ``parse_commands``."""
    walk, _, redirected = _kinds()
    found: list[Command] = []
    state: dict[str, str | None] = {"op": None, "cwd": None}
    # Depth first, left to right, without recursion; each node with the redirected_statement
    # whose redirects are its own, if any (``node.parent`` walks down from the root: quadratic
    # in a long && chain).
    stack: list[tuple[Node, bool, Node | None]] = [(n, False, None) for n in reversed(nodes)]
    while stack:
        node, nested, redirect = stack.pop()
        action = walk.get(node.kind_id, _DESCEND)
        if action == _COMMAND:
            found.append(_command(node, script, table, state, nested, redirect))
            state["op"] = None
        elif action == _OPERATOR and node.child_count == 0:
            state["op"] = node.type
        elif action != _LEAF:
            inner = nested or action == _NESTING
            if redirect is None and node.kind_id not in redirected:  # no child takes redirects
                stack.extend([(child, inner, None) for child in reversed(node.children)])
            else:
                owners = _owners(node, redirect)
                stack.extend(reversed(list(zip(node.children, repeat(inner), owners))))
    return found


def _owners(node: Node, redirect: Node | None) -> list[Node | None]:
    """The redirected_statement each child of ``node`` takes its redirects from.

    tree-sitter-bash reads ``a && b > x`` as ``(a && b) > x``; bash gives ``> x`` to ``b``
    alone, so the redirect goes to the last command of a list or pipeline body (removing
    ``b`` must not hand its redirect to ``a``).
    """
    count = node.child_count
    if node.kind_id in _kinds()[2]:
        return [node] * count
    if redirect is not None and node.kind_id in _chains() and count:
        return [None] * (count - 1) + [redirect]
    return [None] * count


@lru_cache(maxsize=1)
def _chains() -> frozenset[int]:
    """Kind ids of ``list`` and ``pipeline`` (whose last command owns a trailing redirect)."""
    language = _language()
    return frozenset(
        i for i in range(language.node_kind_count) if language.node_kind_for_id(i) in CHAINS
    )


def _command(
    node: Node,
    script: str,
    table: list[int] | None,
    state: dict[str, str | None],
    nested: bool,
    redirect: Node | None,
) -> Command:
    _, role, _ = _kinds()
    words: list[Word] = []
    assignments: dict[str, str] = {}
    redirects: list[str] = []
    for child in node.children:
        kind = role.get(child.kind_id, _OTHER)
        if kind == _OTHER:
            continue
        start, end = child.start_byte, child.end_byte
        if table is not None:
            start, end = table[start], table[end]
        raw = script[start:end]
        if kind == _WORD:
            words.append(Word(unquote(raw) if _QUOTING.search(raw) else raw, start, end))
        elif kind == _ASSIGNMENT:
            if not words:
                name, _, value = raw.partition("=")
                assignments[name] = unquote(value)
        else:
            redirects.append(raw)
    if redirect is not None:
        for c in redirect.children:
            if role.get(c.kind_id) == _REDIRECT:
                start, end = c.start_byte, c.end_byte
                if table is not None:
                    start, end = table[start], table[end]
                redirects.append(script[start:end])
    start, end = node.start_byte, node.end_byte
    if table is not None:
        start, end = table[start], table[end]
    cmd = Command(words, assignments, start, end, state["op"], state["cwd"], nested, redirects)
    if not nested and words and words[0].value.endswith("cd") and cmd.name == "cd":
        target = cmd.argv[1] if len(cmd.argv) > 1 else "~"
        state["cwd"] = (
            posixpath.normpath(posixpath.join(state["cwd"] or "", target))
            if state["cwd"] and not target.startswith("/")
            else target
        )
    return cmd


_SUBSTITUTIONS = ("command_substitution", "process_substitution")


def substituted_commands(script: str) -> list[Command]:
    """Commands that ``$(...)``, backquotes and ``<(...)`` of ``script`` run, at any depth and
    wherever they stand (a word, ``REV=$(git rev-parse HEAD)``, a redirect): programs the
    script needs that ``parse_commands`` keeps inside words. Spans are ``script``'s; each
    command is ``nested``."""
    if "$(" not in script and "`" not in script and "(" not in script:
        return []
    return list(_substituted(script))


MAX_SUBSTITUTION_DEPTH = 64  # real scripts nest a few levels
UNREAD_SUBSTITUTION = "$(...)"  # the program of a substitution nested deeper: unknown


@lru_cache(maxsize=512)  # each pass asks again about the same scripts, as of parse_commands
def _substituted(script: str) -> tuple[Command, ...]:
    """Each substitution's commands, read from the nodes of one parse of ``script`` (parsing
    each substitution's text again made ``$( $( ... ) )`` quadratic in its depth).

    Each level's command holds a word with every deeper level's text (``"$(echo "$(...)")"``),
    unquoted once per level: quadratic in the depth. A substitution nested deeper than
    MAX_SUBSTITUTION_DEPTH is one command whose program is unknown (``$(...)``), as for any
    script msdfix cannot read."""
    table = _offsets(script)
    found: list[Command] = []
    stack: list[tuple[Node, int]] = [(_tree(script).root_node, 0)]
    while stack:
        node, depth = stack.pop()
        if node.type in _SUBSTITUTIONS and node.child_count >= 2:
            body = node.children[1:-1]
            if depth >= MAX_SUBSTITUTION_DEPTH:
                found.append(_unread(node, table))
                continue
            found += [replace(c, nested=True) for c in _walk(body, script, table)]
            depth += 1
        stack.extend((child, depth) for child in reversed(node.children))
    return tuple(found)


def _unread(node: Node, table: list[int] | None) -> Command:
    """The command standing for a substitution msdfix does not read: an unknown program."""
    start, end = node.start_byte, node.end_byte
    if table is not None:
        start, end = table[start], table[end]
    return Command([Word(UNREAD_SUBSTITUTION, start, end)], {}, start, end, None, None, True)


def commands_run(script: str) -> list[Command]:
    """Every command ``script`` runs: ``parse_commands``, then ``substituted_commands``."""
    return parse_commands(script) + substituted_commands(script)


@lru_cache(maxsize=512)
def _assigned(script: str) -> tuple[tuple[str, str], ...]:
    table = _offsets(script)
    found: list[tuple[str, str]] = []
    stack = [_tree(script).root_node]
    while stack:
        node = stack.pop()
        if node.type == "variable_assignment" and (
            node.parent is None or node.parent.type != "command"
        ):
            start, end = node.start_byte, node.end_byte
            if table is not None:
                start, end = table[start], table[end]
            name, _, value = script[start:end].partition("=")
            found.append((name, unquote(value)))
            continue
        stack.extend(reversed(node.children))
    return tuple(found)


def script_assignments(script: str) -> dict[str, str]:
    """The shell variables ``script`` sets in statements of their own (``DEPS="curl jq"``,
    ``export DEPS=...``; not ``NAME=value cmd``, which only ``cmd`` sees), the last value
    of each."""
    return dict(_assigned(script))


_ENDS_SCRIPT = frozenset({"exit", "exec", "return"})


def surely_runs(commands: list[Command], at: int) -> bool:
    """True when a script of ``commands`` succeeds only where ``commands[at]`` ran.

    A command nested in ``if``/a subshell, after ``||``, in the background or after an
    ``exit`` may be skipped; one after ``&&`` is skipped when what comes before fails, and the
    script still succeeds where a later list or an ``||`` follows (``a && rm -rf x; b``), so it
    must end the script's last and-or list.
    """
    command = commands[at]
    if command.nested or command.op_before == "||":
        return False
    if any(c.name in _ENDS_SCRIPT for c in commands[:at]):
        return False
    end = next(
        (i for i in range(at + 1, len(commands)) if commands[i].op_before in (None, ";", "&")),
        len(commands),
    )
    if end < len(commands) and commands[end].op_before == "&":
        return False  # the list runs in the background: the shell need not wait for it
    if command.op_before in (None, ";", "&"):
        return True
    return end == len(commands) and all(c.op_before != "||" for c in commands[at + 1 : end])
