"""Instruction arguments as BuildKit's parser reads them (``Node.Next`` values).

Used by the model (ENV/ARG/LABEL pairs, EXPOSE ports) and by the parity test against the
BuildKit parser. These are read-only views: edits never rebuild text from them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from msdfix.syntax.nodes import Instruction
from msdfix.syntax.parser import GO_SPACE, WHITESPACE_RE, ParseError


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's ``parseWords``: split on spaces outside quotes, keeping quotes and escapes."""
    return list(_parse_words(rest, escape))


@lru_cache(maxsize=4096)
def _parse_words(rest: str, escape: str) -> tuple[str, ...]:
    words: list[str] = []
    word: list[str] = []  # characters: ``str +=`` per character is quadratic in a long word
    quote = ""
    blank_ok = False
    in_word = False
    i = 0
    n = len(rest)
    while i < n:
        ch = rest[i]
        if not in_word:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            if ch == escape and quote != "'" and quote:
                if i + 1 == n:
                    quote = ""
                    i += 1
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        if ch.isspace():
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok, in_word = [], False, False
            i += 1
            continue
        if ch in "'\"":
            quote = ch
            blank_ok = True
        if ch == escape:
            if i + 1 == n:
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    if in_word and (blank_ok or word):
        words.append("".join(word))
    return tuple(words)


NOT_STRINGS = "when using JSON array syntax, arrays must be comprised of strings only"
GO_JSON_DEPTH = 10_000  # encoding/json's maxNestingDepth


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (outside strings)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _json_list(rest: str) -> list[str] | None:
    rest = rest.lstrip(GO_SPACE)
    if not rest.startswith("["):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        return None
    except RecursionError:  # nested too deep for Python's decoder
        if _depth(rest) > GO_JSON_DEPTH:
            return None  # Go's decoder fails too: BuildKit reads the shell form
        raise ValueError(NOT_STRINGS) from None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError(NOT_STRINGS)
    return value


def _split_ws(rest: str) -> list[str]:
    return [w for w in WHITESPACE_RE.split(rest) if w] if rest else []


def _name_val(rest: str, escape: str, key: str) -> list[str]:
    words = parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = WHITESPACE_RE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{key} must have two arguments")
        return [parts[0], parts[1]]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise ValueError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
        name, _, value = word.partition("=")
        out += [name, value]
    return out


def _value_of(cmd: str, rest: str, escape: str) -> tuple[list[str], bool]:
    """(values, is_json) for instruction ``cmd`` with arguments ``rest``."""
    if cmd in ("run", "cmd", "entrypoint", "shell"):
        as_json = _json_list(rest)
        if as_json is not None:
            return as_json, True
        return ([rest] if rest else []), False
    if cmd in ("copy", "add", "volume"):
        as_json = _json_list(rest)
        if as_json is not None:
            return as_json, True
        return _split_ws(rest), False
    if cmd in ("from", "expose"):
        return _split_ws(rest), False
    if cmd in ("maintainer", "stopsignal", "user", "workdir"):
        return ([rest] if rest else []), False
    if cmd == "arg":
        return parse_words(rest, escape), False
    if cmd in ("env", "label"):
        return _name_val(rest, escape, cmd.upper()), False
    if cmd == "healthcheck":
        match = re.match(r"\S+", rest)
        if not match:
            return [], False
        values, is_json = _value_of("cmd", rest[match.end() :].lstrip(GO_SPACE), escape)
        return [match.group(0), *values], is_json
    return ([rest] if rest else []), False


def instruction_values(ins: Instruction) -> tuple[str | None, list[str], bool]:
    """(sub_cmd, values, is_json) as BuildKit reports them; raises ParseError when invalid."""
    try:
        sub, values, is_json = _values(ins.cmd, ins.logical, ins.args_offset, ins.escape)
    except ValueError as exc:
        raise ParseError(str(exc), ins.start_line) from exc
    return sub, list(values), is_json


@lru_cache(maxsize=8192)
def _values(
    cmd: str, logical: str, args_offset: int, escape: str
) -> tuple[str | None, tuple[str, ...], bool]:
    """Cached on the logical line: the same string object hashes once, re-parses hit too."""
    rest = logical[args_offset:].strip(GO_SPACE)
    if cmd == "onbuild":
        match = re.match(r"[^\t\v\f\r ]+", rest)
        if not match:
            return None, (), False
        sub = match.group(0).lower()
        sub_rest = _strip_flags(rest[match.end() :].lstrip(GO_SPACE))
        values, is_json = _value_of(sub, sub_rest, escape)
        return sub.upper(), tuple(values), is_json
    values, is_json = _value_of(cmd, rest, escape)
    return None, tuple(values), is_json


def _strip_flags(rest: str) -> str:
    """An ONBUILD trigger's arguments after its flags, as BuildKit's ``extractBuilderFlags``
    reads them: a flag ends at a blank outside quotes (``--a="b c"`` is one), ``--`` ends
    the flags."""
    pos = 0
    while rest.startswith("--", pos):
        start, quote = pos, ""
        while pos < len(rest) and (quote or rest[pos] not in GO_SPACE):
            ch = rest[pos]
            if ch == "\\":
                pos += 1
            elif ch == quote:
                quote = ""
            elif ch in "\"'" and not quote:
                quote = ch
            pos += 1
        done = rest[start:pos] == "--"
        while pos < len(rest) and rest[pos] in GO_SPACE:
            pos += 1
        if done:
            break
    return rest[pos:]


def env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    """ENV/LABEL/ARG as (name, raw value) pairs; ARG without default gives value ''. Names
    are unquoted as BuildKit sets them (``ENV "XDG_CACHE_HOME"=/x`` sets XDG_CACHE_HOME)."""
    _, values, _ = instruction_values(ins)
    if ins.cmd == "arg":
        return [(unquote(w.partition("=")[0], ins.escape), w.partition("=")[2]) for w in values]
    names = [unquote(n, ins.escape) for n in values[::2]]
    return list(zip(names, values[1::2], strict=False))


def unquote(value: str, escape: str = "\\") -> str:
    """Remove shell-style quotes and escapes from an ENV/LABEL value."""
    if "'" not in value and '"' not in value and "\\" not in value and escape not in value:
        return value
    return _unquote(value, escape)


@lru_cache(maxsize=8192)
def _unquote(value: str, escape: str) -> str:
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == escape and quote != "'" and i + 1 < len(value):
            i += 1
            out.append(value[i])
        elif quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)
