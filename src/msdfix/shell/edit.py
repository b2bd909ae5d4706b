"""Text ranges for removing a word or a whole command from a RUN script."""

from __future__ import annotations

import re

from msdfix.shell.commands import Command, Word
from msdfix.shell.script import RunScript

_COMMENT_LINE = re.compile(r"\n[ \t]*#")
_JOINERS = ("&&", ";")


def _clean(script: RunScript, start: int, end: int, after: bool = False) -> tuple[int, int] | None:
    """Physical range of script[start:end]; ``after``: start right after the char before."""
    pstart = script.physical(start - 1) + 1 if after else script.physical(start)
    pend = script.physical(end - 1) + 1
    text = script.ins_text(pstart, pend)
    if _COMMENT_LINE.search(text) or _joins_lines(script, pstart, pend):
        return None
    return (pstart, pend)


def _continues(line: str, escape: str) -> bool:
    """BuildKit's line continuation: one escape character at the end (blanks after it)."""
    stripped = line.rstrip(" \t\r")
    return len(stripped) - len(stripped.rstrip(escape)) == 1


def _joins_lines(script: RunScript, start: int, end: int) -> bool:
    """True when removing ``start:end`` changes whether its line continues onto the next one.

    ``curl\\ && rm -rf x`` without ``&& rm -rf x`` ends in an escape: BuildKit would join the
    next line (the next instruction) to this RUN.
    """
    if script.heredoc_start is not None:
        return False
    source = script.source
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", end)
    line_end = len(source) if line_end < 0 else line_end
    escape = script.ins.escape
    before = _continues(source[source.rfind("\n", 0, end) + 1 : line_end], escape)
    return before != _continues(source[line_start:start] + source[end:line_end], escape)


def word_removal(script: RunScript, command: Command, word: Word) -> tuple[int, int] | None:
    """Physical range covering ``word`` and the blanks after (or else before) it, or None."""
    if not script.editable or word is command.words[0]:
        return None
    text = script.text
    end = word.end
    while end < len(text) and text[end] in " \t":
        end += 1
    if end > word.end and end < len(text) and script.contiguous(word.start, end):
        return _clean(script, word.start, end)
    start = word.start
    floor = max((w.end for w in command.words if w.end <= word.start), default=0)
    while start > floor and text[start - 1] in " \t":  # an escaped blank belongs to its word
        start -= 1
    if start == word.start or not script.contiguous(start, word.end):
        return None
    return _clean(script, start, word.end)


def errexit(before: list[Command], on: bool = False) -> bool:
    """Whether errexit is on after ``before`` ran in a shell that starts with it ``on`` (the
    shell's own ``-e``): each ``set -e`` (``-eux``, ``-o errexit``) turns it on, ``set +e``
    (``+o errexit``) off, so a failing command then ends the RUN."""
    for command in before:
        if command.argv[:1] == ["set"]:
            on = errexit_option(command.argv[1:], on)
    return on


def errexit_option(options: list[str], on: bool = False) -> bool:
    """Whether errexit is on after the shell options ``options`` (of ``set`` or of the shell
    itself, up to the cluster holding ``-c``), as sh(1) reads them: ``-e``/``+e`` in a
    cluster of single letters, ``-o errexit``/``+o errexit``; an ``o`` in a cluster takes
    the next word (``-eo pipefail``). Reading stops at the first word that is no option."""
    i = 0
    while i < len(options):
        word = options[i]
        if len(word) < 2 or word[0] not in "-+" or word[1] in "-+":
            break
        if "e" in word[1:]:
            on = word[0] == "-"
        if "o" in word[1:]:
            i += 1
            if i < len(options) and options[i] == "errexit":
                on = word[0] == "-"
        if "c" in word[1:]:
            break
        i += 1
    return on


def command_removal(
    script: RunScript, index: int, last: int | None = None, *, errexit_on: bool = False
) -> tuple[int, int] | None:
    """Physical range that removes commands ``index``..``last`` (one command by default)
    with their joining operator, or None; ``errexit_on``: the shell starts with -e."""
    commands = script.commands
    last = index if last is None else last
    group = commands[index : last + 1]
    command, final = group[0], group[-1]
    if not script.editable or any(c.nested or c.redirects for c in group):
        return None
    if any(c.op_before not in _JOINERS for c in group[1:]):
        return None
    text = script.text
    following = commands[last + 1] if last + 1 < len(commands) else None
    if script.heredoc_start is not None:
        line_start = text.rfind("\n", 0, command.start) + 1
        line_end = text.find("\n", final.end)
        line_end = len(text) if line_end < 0 else line_end + 1
        if text[line_start : command.start].strip() or text[final.end : line_end].strip():
            return None
        if len(commands) == len(group):
            return None
        return _clean(script, line_start, line_end) if line_end > line_start else None
    if following is None and command.op_before == ";" and not errexit(commands[:index], errexit_on):
        return None  # `A; rm -rf lists` exits 0 where A fails: the RUN's status would change
    if command.op_before in _JOINERS:
        start = text.rfind(command.op_before, 0, command.start)
        floor = commands[index - 1].end if index > 0 else 0
        while start > floor and text[start - 1] in " \t":  # `curl\\ &&`: the blank is curl's
            start -= 1
        if following is not None and following.op_before not in _JOINERS:
            return None
        return _clean(script, start, final.end, after=start > 0)
    if command.op_before is None and index == 0 and following is not None:
        if following.op_before not in _JOINERS:
            return None
        return _clean(script, command.start, following.start)
    return None
