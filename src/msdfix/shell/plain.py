"""A shell command line without shell features, as the argv ``sh -c`` would execute.

A command is *plain* when POSIX ``sh -c TEXT`` runs exactly one program with arguments that
do not depend on the shell: no variables, command substitution, globs, redirects, pipes,
lists (``;`` ``&&`` ``||`` ``&``), subshells, comments, ``~`` or brace expansion, leading
assignments, keywords or builtins. Quotes and backslashes are allowed and removed exactly as
the shell removes them (single quotes are literal; double quotes only when they contain no
``$``, backtick or backslash). A leading ``exec`` is dropped: ``sh -c 'exec X'`` runs X.
"""

from __future__ import annotations

from dataclasses import dataclass

# Characters a word may contain outside quotes (others need the shell or mean something).
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@%+,=^")
_BLANKS = " \t"
# Keywords and builtins: as argv[0] they would need a shell (or mean something else).
SHELL_WORDS = frozenset(
    """
    if then else elif fi case esac for while until do done in function select time ! { } [[ ]]
    . : source eval exec export readonly set unset shift trap ulimit umask alias unalias cd
    read wait return exit break continue local declare typeset let times hash type getopts
    command builtin jobs fg bg
    """.split()
)


@dataclass(frozen=True)
class Plain:
    """The argv of a plain command, or why the command needs a shell."""

    argv: list[str] | None
    reason: str = ""


def _word(text: str, i: int) -> tuple[str | None, int, str]:
    """Read one word from ``text[i]`` (not a blank): (value or None, next index, reason)."""
    out: list[str] = []
    start = i
    while i < len(text) and text[i] not in _BLANKS:
        ch = text[i]
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return None, i, "an unterminated quote"
            out.append(text[i + 1 : end])
            i = end + 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                return None, i, "an unterminated quote"
            inner = text[i + 1 : end]
            if any(c in inner for c in "$`\\"):
                return None, i, "an expansion inside double quotes"
            out.append(inner)
            i = end + 1
        elif ch == "\\":
            if i + 1 >= len(text) or text[i + 1] == "\n":
                return None, i, "a trailing backslash"
            out.append(text[i + 1])
            i += 2
        elif ch in _PLAIN or (ch == "#" and i > start) or (ord(ch) > 127 and ch.isprintable()):
            out.append(ch)
            i += 1
        else:
            return None, i, f"'{ch}'"
    return "".join(out), i, ""


def plain_argv(text: str) -> Plain:
    """The argv ``sh -c text`` executes, when ``text`` is a plain command."""
    words: list[str] = []
    raw_first = ""
    i = 0
    while i < len(text):
        if text[i] in _BLANKS:
            i += 1
            continue
        start = i
        value, i, reason = _word(text, i)
        if value is None:
            return Plain(None, f"it needs the shell for {reason}")
        if not words:
            raw_first = text[start:i]
        words.append(value)
    if words and raw_first == "exec" and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
        raw_first = words[0]
    if not words or not words[0]:
        return Plain(None, "it has no program")
    head = words[0]
    if head in SHELL_WORDS or raw_first in SHELL_WORDS:
        return Plain(None, f"'{head}' is a shell keyword or builtin")
    name, eq, _ = raw_first.partition("=")
    if eq and name.replace("_", "a").isalnum() and not name[:1].isdigit():
        return Plain(None, "it starts with a variable assignment")
    return Plain(words)
