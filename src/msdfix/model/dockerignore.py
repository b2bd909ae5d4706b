""".dockerignore with Docker's exact rules (moby/patternmatcher and its ``ignorefile.ReadAll``).

Reading (``ReadAll``): a UTF-8 BOM is dropped; lines starting with ``#`` in column 1 are
comments; each pattern is trimmed, ``filepath.Clean``-ed and loses one leading ``/``; ``!``
marks an exception. Matching (``MatchesOrParentMatches``, what BuildKit's context transfer
applies): a pattern excludes a path when it matches the path or one of its parent directories;
the last pattern that matches decides. Patterns are Go ``filepath.Match`` globs plus ``**``,
compiled the way patternmatcher compiles them (exact, prefix, suffix or regular expression).
BuildKit prefers ``<Dockerfile name>.dockerignore`` next to the Dockerfile over the context's
``.dockerignore``.
"""

from __future__ import annotations

import os
import posixpath
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from msdfix.files import InputError, exists, read_regular

DEFAULT_NAME = ".dockerignore"
MAX_BYTES = 16 << 20
MAX_PATTERNS = 10_000
MAX_PATTERN_CHARS = 4096  # Linux's PATH_MAX
MAX_RULES_CHARS = 256 << 10  # all patterns together (real ignore files have a few hundred)
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # fmt: skip
_REGEX_ESCAPED = set(".+()|{}$")  # regexp specials that mean nothing to filepath.Match


class DockerIgnoreError(ValueError):
    """A pattern Docker rejects (the build fails with it)."""


class TooManyPatterns(ValueError):
    """More patterns, or a longer one, than msdfix evaluates: every path is matched against
    every pattern (real ignore files have tens, each shorter than a path), so what the build
    sees is unknown, not "nothing excluded"."""

    @classmethod
    def check(cls, patterns: list[str]) -> None:
        """Raise for rules beyond MAX_PATTERNS, MAX_PATTERN_CHARS or MAX_RULES_CHARS."""
        if len(patterns) > MAX_PATTERNS:
            raise cls(f"{len(patterns):,} patterns, more than msdfix evaluates ({MAX_PATTERNS:,})")
        longest = max(map(len, patterns), default=0)
        if longest > MAX_PATTERN_CHARS:
            raise cls(
                f"a pattern of {longest:,} characters, longer than msdfix evaluates "
                f"({MAX_PATTERN_CHARS:,})"
            )
        total = sum(map(len, patterns))
        if total > MAX_RULES_CHARS:
            raise cls(f"patterns of {total:,} characters, more than msdfix evaluates "
                      f"({MAX_RULES_CHARS:,})")  # fmt: skip


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash-separated path (``""`` -> ``"."``)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _go_dir(path: str) -> str:
    """Go's ``filepath.Dir``."""
    return go_clean(path[: path.rfind("/") + 1])


def _check_glob_syntax(pattern: str) -> None:
    """Raise DockerIgnoreError where Go's ``filepath.Match`` reports ``ErrBadPattern``."""
    n, i = len(pattern), 0

    def escaped_char(j: int) -> int:  # Go's getEsc: one (possibly escaped) class character
        if j >= n or pattern[j] in "-]":
            raise DockerIgnoreError(f"syntax error in pattern {pattern!r}")
        if pattern[j] == "\\":
            j += 1
            if j >= n:
                raise DockerIgnoreError(f"syntax error in pattern {pattern!r}")
        if j + 1 >= n:
            raise DockerIgnoreError(f"syntax error in pattern {pattern!r}")
        return j + 1

    while i < n:
        if pattern[i] == "\\":
            if i + 1 >= n:
                raise DockerIgnoreError(f"syntax error in pattern {pattern!r}")
            i += 2
        elif pattern[i] == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (i < n and pattern[i] == "]" and ranges):
                i = escaped_char(i)
                if pattern[i] == "-":
                    i = escaped_char(i + 1)
                ranges += 1
            i += 1
        else:
            i += 1


# The pieces of the regular expressions Pattern.compile writes, for matching without
# backtracking: Python's re backtracks, and ``*a*a*a*a*b`` against a long name of ``a``s takes
# exponential time (Go's RE2 does not), so a hostile .dockerignore hung msdfix.
_PIECE = re.compile(
    r"\(\.\*/\)\?|\.\*|\[\^/\]\*|\[\^/\]|\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[^*+?{}()|\\\[\]^$.]", re.S
)
_QUANTIFIED = ("(.*/)?", ".*", "[^/]*")
_BACKTRACK_LIMIT = 2  # patterns with more wildcards than this are matched by _Automaton
# Longer paths too: with up to two wildcards the regex still backtracks over every split of the
# path (quadratic: a 20,000-character COPY source against "*a*" took 10 s). No file path is this
# long in practice; COPY sources and probe paths from a .dockerignore line may be.
_SHORT_PATH = 1024
_MEMO_LIMIT = 100_000  # automaton states kept per pattern (about the walk's limit on files)


def _pieces(regex: str) -> list[str] | None:
    """``regex`` (without ``^`` and ``\\Z``) cut into the pieces Pattern.compile writes, or None
    when it holds anything else (then the regular expression is used as it is)."""
    pieces, at = [], 0
    while at < len(regex):
        found = _PIECE.match(regex, at)
        if found is None:
            return None
        pieces.append(found.group())
        at = found.end()
    return pieces


class _Automaton:
    """The pieces as a bit-parallel automaton: one step per character, no backtracking.

    Bit ``i`` of ``outer`` means "before piece i"; bit ``i`` of ``inner`` means "inside piece
    i's ``(.*/)?``, waiting for a ``/``". The state after each directory is kept, so a path
    costs its last name only: a tree thousands of levels deep is matched in linear time.
    """

    def __init__(self, pieces: Sequence[str]) -> None:
        positions: dict[str, list[int]] = {}
        for i, piece in enumerate(pieces):
            positions.setdefault(piece, []).append(i)

        def mask(*kinds: str) -> int:
            return _bits(i for kind in kinds for i in positions.get(kind, ()))

        self.end = len(pieces)
        self.quantified = mask(*_QUANTIFIED)
        self.any = mask(".*")
        self.name = mask("[^/]*")
        self.dirs = mask("(.*/)?")
        self.singles = [  # one matcher per distinct piece, with the bits of its positions
            (_bits(at), re.compile(piece, re.S))
            for piece, at in positions.items()
            if piece not in _QUANTIFIED
        ]
        self.by_char: dict[str, int] = {}
        self.after_dir: dict[str, tuple[int, int]] = {}
        self.start = (self._close(1), 0)

    def _close(self, outer: int) -> int:
        """Add the states reached by matching nothing (each quantified piece may)."""
        while True:
            more = outer | ((outer & self.quantified) << 1)
            if more == outer:
                return outer
            outer = more

    def _singles(self, ch: str) -> int:
        """The single-character pieces ``ch`` matches."""
        found = self.by_char.get(ch)
        if found is None:
            found = sum(bit for bit, matcher in self.singles if matcher.fullmatch(ch))
            if len(self.by_char) < _MEMO_LIMIT:
                self.by_char[ch] = found
        return found

    def _run(self, state: tuple[int, int], text: str) -> tuple[int, int]:
        outer, inner = state
        for ch in text:
            if not (outer or inner):
                break
            waiting = (outer | inner) & self.dirs
            following = (outer & self._singles(ch)) << 1
            if ch != "\n":
                following |= outer & self.any
            if ch != "/":
                following |= outer & self.name
            else:
                following |= waiting << 1
            outer, inner = self._close(following), waiting if ch != "\n" else 0
        return outer, inner

    def _after(self, directory: str) -> tuple[int, int]:
        """The state after ``directory`` and its ``/``."""
        chain = []
        while directory not in self.after_dir:
            cut = directory.rfind("/")
            chain.append((directory, directory[cut + 1 :]))
            if cut < 0:
                state = self.start
                break
            directory = directory[:cut]
        else:
            state = self.after_dir[directory]
        if len(self.after_dir) + len(chain) > _MEMO_LIMIT:
            self.after_dir.clear()
        for known, name in reversed(chain):
            state = self._run(state, name + "/")
            self.after_dir[known] = state
        return state

    def matches(self, path: str) -> bool:
        """Whether the pieces match all of ``path``."""
        cut = path.rfind("/")
        state = self.start if cut < 0 else self._after(path[:cut])
        outer, _ = self._run(state, path[cut + 1 :])
        return bool(outer >> self.end & 1)


def _bits(positions: Iterable[int]) -> int:
    """An int with these bits set (in linear time: a sum of ``1 << i`` is quadratic)."""
    found = bytearray()
    for i in positions:
        byte = i >> 3
        if byte >= len(found):
            found.extend(bytes(byte + 1 - len(found)))
        found[byte] |= 1 << (i & 7)
    return int.from_bytes(found, "little")


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern (``text`` is the cleaned pattern without ``!``)."""

    text: str
    exclusion: bool
    kind: str  # "exact" | "prefix" | "suffix" | "regexp"
    regex: re.Pattern[str] | None = None
    pieces: tuple[str, ...] | None = None  # the regex cut for _Automaton (None: it cannot be)
    backtracks: bool = False  # more wildcards than _BACKTRACK_LIMIT: always the automaton

    @cached_property
    def automaton(self) -> _Automaton | None:
        """The pieces as an automaton (built when a path first needs it)."""
        return None if self.pieces is None else _Automaton(self.pieces)

    @classmethod
    def compile(cls, text: str, exclusion: bool) -> Pattern:
        """Translate like patternmatcher's ``Pattern.compile`` (separator ``/``)."""
        out, kind, i, n = ["^"], "exact", 0, len(text)  # joined once: str += is quadratic
        step = 0
        while i < n:
            ch = text[i]
            i += 1
            if ch == "*" and i < n and text[i] == "*":
                i += 1
                if i < n and text[i] == "/":
                    i += 1  # "**/" is "**"
                if i == n:  # trailing "**": everything below, like .gitignore
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        kind = "regexp"
                        out.append(".*")
                else:
                    kind = "regexp"
                    out.append("(.*/)?")
                if step == 0:
                    kind = "suffix"
            elif ch == "*":
                kind = "regexp"
                out.append("[^/]*")
            elif ch == "?":
                kind = "regexp"
                out.append("[^/]")
            elif ch in _REGEX_ESCAPED:
                out.append("\\" + ch)
            elif ch == "\\":
                if i < n:
                    kind = "regexp"
                    out.append("\\" + text[i])
                    i += 1
                else:
                    out.append("\\")  # a trailing backslash stays (New rejects it anyway)
            elif ch in "[]":
                kind = "regexp"
                out.append(ch)
            else:
                out.append(ch)
            step += 1
        regex, pieces, backtracks = None, None, False
        if kind == "regexp":
            try:
                with warnings.catch_warnings():  # set syntax ("[[:alpha:]]"): no stderr noise
                    warnings.simplefilter("ignore", FutureWarning)
                    regex = re.compile("".join(out) + r"\Z")  # Go's "$": end of text only
            except re.error as exc:
                raise DockerIgnoreError(f"syntax error in pattern {text!r}: {exc}") from None
            cut = _pieces("".join(out[1:]))
            if cut is not None:
                pieces = tuple(cut)
                backtracks = sum(p in _QUANTIFIED for p in cut) > _BACKTRACK_LIMIT
        return cls(text, exclusion, kind, regex, pieces, backtracks)

    def matches(self, path: str) -> bool:
        """patternmatcher's ``Pattern.match`` on one slash-separated path."""
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        if self.pieces is not None and (self.backtracks or len(path) > _SHORT_PATH):
            assert self.automaton is not None  # built only now: short paths use the regex
            return self.automaton.matches(path)
        assert self.regex is not None
        return self.regex.match(path) is not None


def read_patterns(text: str) -> list[str]:
    """``ignorefile.ReadAll``: the patterns of a .dockerignore file, in order."""
    patterns = []
    for number, line in enumerate(text.split("\n")):
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(_GO_SPACE)
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


class DockerIgnore:
    """The exclusion rules of one build; ``DockerIgnore.from_text("")`` excludes nothing."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns
        self._above: dict[tuple[int, str], bool] = {}

    @classmethod
    def from_patterns(cls, raw: list[str]) -> DockerIgnore:
        """patternmatcher's ``New``: trim, clean, ``!`` exceptions, syntax check."""
        compiled = []
        for pattern in raw:
            pattern = pattern.strip(_GO_SPACE)
            if not pattern:
                continue
            pattern = go_clean(pattern)
            exclusion = pattern.startswith("!")
            if exclusion:
                if len(pattern) == 1:
                    raise DockerIgnoreError('illegal exclusion pattern: "!"')
                pattern = pattern[1:]
            _check_glob_syntax(pattern)
            compiled.append(Pattern.compile(pattern, exclusion))
        return cls(compiled)

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        """Rules of a .dockerignore file's text."""
        return cls.from_patterns(read_patterns(text))

    @classmethod
    def for_build(
        cls, context: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None
    ) -> DockerIgnore:
        """The rules BuildKit applies: ``<Dockerfile>.dockerignore``, else the context's."""
        path = ignore_file(context, dockerfile)
        return cls([]) if path is None else cls.read(path)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> DockerIgnore:
        """The rules of one ignore file (DockerIgnoreError, OSError when unusable;
        TooManyPatterns beyond the limits of TooManyPatterns.check)."""
        try:  # only a regular file is read: never a FIFO or a link to /dev/zero
            data, _ = read_regular(Path(path), MAX_BYTES)
        except InputError as exc:
            raise DockerIgnoreError(f"{path}: {exc.message}") from exc
        patterns = read_patterns(data.decode("utf-8", errors="surrogateescape"))  # as names are
        TooManyPatterns.check(patterns)  # a pending file adds msdfix's own few lines only
        return cls.from_patterns(patterns)

    @property
    def has_exceptions(self) -> bool:
        """True when a ``!`` pattern can re-include paths below an excluded directory."""
        return any(p.exclusion for p in self.patterns)

    def matches_or_parent_matches(self, path: str) -> bool:
        """patternmatcher's ``MatchesOrParentMatches`` on a slash-separated path, as given."""
        matched = False
        parent = _go_dir(path)
        for index, pattern in enumerate(self.patterns):
            if pattern.exclusion != matched:
                continue  # only a later exception can undo a match, and vice versa
            if pattern.matches(path) or self._matches_above(index, parent):
                matched = not pattern.exclusion
        return matched

    def _matches_above(self, index: int, directory: str) -> bool:
        """Whether pattern ``index`` matches ``directory`` or one of its parents; each
        directory is asked once per pattern (a tree thousands of levels deep cost cubic time
        when every path asked again about every parent)."""
        memo = self._above
        chain = []
        while directory != "." and (index, directory) not in memo:
            chain.append(directory)
            parent = _go_dir(directory)
            directory = "." if parent == directory else parent  # "/" is its own parent
        found = directory != "." and memo[(index, directory)]
        pattern = self.patterns[index]
        for directory in reversed(chain):
            found = found or pattern.matches(directory)
            memo[(index, directory)] = found
        return found

    def excludes(self, path: str) -> bool:
        """True when the context-relative ``path`` is not sent to the builder."""
        cleaned = go_clean(path).lstrip("/")
        if cleaned in ("", "."):
            return False  # the context root itself is never excluded
        return self.matches_or_parent_matches(cleaned)


def ignore_file(
    context: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None
) -> Path | None:
    """The ignore file a build uses: ``<Dockerfile>.dockerignore`` beside it, else the context's."""
    if dockerfile is not None:
        specific = Path(os.fspath(dockerfile) + DEFAULT_NAME)
        if exists(specific):
            return specific
    default = Path(context) / DEFAULT_NAME
    return default if exists(default) else None
