"""Which files a run processes: PATH arguments, directory search, exclusions, .gitignore.

ruff's semantics: ``exclude`` (replacing the defaults) and ``extend-exclude`` are gitignore-style
patterns relative to the project root (the configuration file's directory; the current
directory for patterns given on the command line). A file named on the command line is always
processed unless ``force-exclude`` is set. With ``respect-gitignore`` (default), directory search
skips what ``.gitignore`` files (in the searched directories and their parents up to the git
root) and ``.git/info/exclude`` ignore. Patterns are matched with ``pathspec``, the gitignore
implementation black uses.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from msdfix.config import FileConfig
from msdfix.files import (
    FOREIGN_SUFFIXES,
    InputError,
    is_searched_name,
    read_regular,
    resolves_within,
    starts_like_dockerfile,
    walk,
)

GITIGNORE_LIMIT = 1 << 20
_STARS = re.compile(r"\\.|\*")  # an escape or one star: pathspec writes `[^/]*` per star
DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".tox", ".venv", "__pycache__", "node_modules")


def _dockerfile_here(path: Path) -> bool:
    """Whether a file directory search found by its name is a Dockerfile: one whose name ends
    in another format's suffix (``.github/workflows/dockerfile.yaml``) only when it starts
    like one."""
    return not path.name.lower().endswith(FOREIGN_SUFFIXES) or starts_like_dockerfile(path)


@dataclass(frozen=True)
class Found:
    """One input: what to call it, where it is (None for stdin), or why it cannot be used;
    ``stands_for``: the file a stdin buffer is (``--stdin-filename``), for its configuration
    and build context."""

    display: str
    path: Path | None
    error: str | None = None
    stands_for: Path | None = None


def _pattern(line: str) -> GitIgnoreSpecPattern:
    """One line compiled, or a comment (which matches nothing) for a line git accepts and
    matches nothing with (``!``, a trailing ``\\``, ``[z-a]``) but pathspec refuses: it is
    left out, as it changes nothing. Each line is compiled once (a spec built per line to
    test it first cost 100 s for a .gitignore of 50,000 lines)."""
    try:
        return GitIgnoreSpecPattern(line)
    except (ValueError, re.error):  # GitIgnorePatternError is a ValueError
        return GitIgnoreSpecPattern("#")


def _spec(patterns: list[str]) -> GitIgnoreSpec:
    """``GitIgnoreSpec.from_lines`` without Python's FutureWarning about set syntax
    (``[[:alpha:]]``, ``[a&&b]``): it reached stderr with msdfix's source lines, and was an
    internal error under ``-W error``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return GitIgnoreSpec.from_lines(patterns, pattern_factory=_pattern)


@dataclass(frozen=True)
class Rules:
    """Gitignore-style patterns anchored at ``root``."""

    root: Path
    spec: GitIgnoreSpec

    @classmethod
    def of(cls, root: Path, patterns: list[str]) -> Rules:
        """Rules from pattern lines (blank lines and ``#`` comments are ignored); a line that
        could make the regex engine backtrack exponentially is left out."""
        usable = [p for p in patterns if not _backtracks(p)]
        return cls(root.resolve(), _spec(usable))

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern matches."""
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            rel = path.name  # outside the root: only single-name patterns can apply
        if rel in ("", "."):
            return None
        return self.spec.check_file(rel + "/" if is_dir else rel).include


def _backtracks(pattern: str) -> bool:
    """True for a line whose wildcards Python's re (which pathspec uses) may try in exponentially
    many ways on a long path: more than two ``*`` in one segment (``*a*a*a*b``; pathspec writes
    one ``[^/]*`` per star, so ``a********b`` is eight), or more than two choices in the whole
    line. Each star after a segment's first is a choice, and so is each ``**`` before the last
    segment (any number of directories), a line without a slash counting as one that starts
    with ``**/``: ``*a*/*a*/*a*/x`` against three long names of ``a`` and ``**/a/**/a/**/a/x``
    against ``a/a/a/...`` each hung a search (the choices multiply across segments). Such a
    line is not applied, so search may visit more files, never fewer."""
    body = pattern.strip().removeprefix("!").rstrip("/")
    segments = body.split("/")
    choices = 0 if "/" in body else 1
    for index, segment in enumerate(segments):
        if segment == "**":
            after_another = index > 0 and segments[index - 1] == "**"  # pathspec joins them
            choices += index < len(segments) - 1 and not after_another
            continue
        stars = sum(token == "*" for token in _STARS.findall(segment))
        if stars > 2:
            return True
        choices += max(0, stars - 1)
    return choices > 2


def git_root(directory: Path) -> Path | None:
    """The nearest directory at or above ``directory`` that holds ``.git`` (without a
    ``Discovery``, whose default exclusions cost a millisecond to build, asked per file)."""
    return _nearest_git(directory, {})


def _nearest_git(directory: Path, roots: dict[Path, Path | None]) -> Path | None:
    """``git_root``, remembering in ``roots`` the answer for every folder passed (no
    recursion: trees can be deeper than Python's stack)."""
    pending = []
    while directory not in roots:
        pending.append(directory)
        if (directory / ".git").exists():
            roots[directory] = directory
            break
        if directory.parent == directory:
            roots[directory] = None
            break
        directory = directory.parent
    root = roots[directory]
    for d in pending:
        roots[d] = root
    return root


@dataclass(frozen=True)
class Scope:
    """What the configuration of some directories says about search."""

    exclude: list[Rules]
    respect_gitignore: bool = True
    force_exclude: bool = False


def scope_for(
    config: FileConfig,
    exclude: list[str] | None = None,
    extend_exclude: list[str] | None = None,
    force_exclude: bool | None = None,
    respect_gitignore: bool | None = None,
) -> Scope:
    """What one configuration and the command line's patterns and flags (which win, like
    ruff's) say about search: ``exclude`` replaces the defaults and the configured exclude,
    ``extend-exclude`` adds to them; command-line patterns are relative to the current
    directory, configured ones to the configuration's."""
    cwd = Path.cwd()
    if exclude:
        rules = [Rules.of(cwd, exclude)]
    elif config.exclude is not None:
        rules = [Rules.of(config.root, config.exclude)]
    else:
        rules = [Rules.of(cwd, list(DEFAULT_EXCLUDE))]
    if config.extend_exclude:
        rules.append(Rules.of(config.root, config.extend_exclude))
    if extend_exclude:
        rules.append(Rules.of(cwd, extend_exclude))
    return Scope(
        rules,
        respect_gitignore=_first(respect_gitignore, config.respect_gitignore, True),
        force_exclude=_first(force_exclude, config.force_exclude, False),
    )


def _first(*values: bool | None) -> bool:
    return next(v for v in values if v is not None)


@dataclass
class Discovery:
    """Exclusion settings for a run: the same everywhere, or from ``scope_of`` a directory
    (the nearest configuration's exclusions, as ruff applies them per directory)."""

    exclude: list[Rules] = field(
        default_factory=lambda: [Rules.of(Path.cwd(), list(DEFAULT_EXCLUDE))]
    )
    respect_gitignore: bool = True
    force_exclude: bool = False
    scope_of: Callable[[Path], Scope] | None = None
    stdin_name: str | None = None  # --stdin-filename: what ``-`` is called and stands for
    _gitignores: dict[Path, Rules | None] = field(default_factory=dict)
    _roots: dict[Path, Path | None] = field(default_factory=dict)
    _chains: dict[tuple[Path, Path], list[Rules | None]] = field(default_factory=dict)

    def inputs(self, paths: tuple[str, ...]) -> Iterator[Found]:
        """Every input named on the command line, directories searched (no PATH: ``.``), each
        file once, as ruff and black do: ``msdfix . svc`` or ``Dockerfile ./Dockerfile``
        processed a file twice (two reports, counted twice, duplicate SARIF results)."""
        seen: set[str] = set()
        for found in self._inputs(paths):
            if found.path is not None and found.error is None:
                key = os.path.abspath(found.path)
                if key in seen:
                    continue
                seen.add(key)
            yield found

    def _inputs(self, paths: tuple[str, ...]) -> Iterator[Found]:
        for raw in paths or (".",):
            if raw == "-":
                name = self.stdin_name
                yield Found(name or "-", None, stands_for=Path(name) if name else None)
                continue
            path = Path(raw)
            try:
                is_dir, exists = path.is_dir(), path.exists() or path.is_symlink()
            except (OSError, ValueError) as exc:  # a name too long, a NUL byte
                yield Found(raw, path, f"cannot access: {getattr(exc, 'strerror', None) or exc}")
                continue
            if is_dir:  # one without Dockerfiles adds nothing, as in ruff and black
                yield from self.walk(path)  # streamed: memory stays bounded
            elif not exists:
                yield Found(raw, path, "no such file or directory")
            elif not (self._scope(path).force_exclude and self.force_excluded(path)):
                yield Found(raw, path)

    def _scope(self, path: Path) -> Scope:
        """The search settings for a file or directory: those of its folder's configuration."""
        if self.scope_of is None:
            return Scope(self.exclude, self.respect_gitignore, self.force_exclude)
        return self.scope_of(Path(os.path.abspath(path)).parent)

    def stdin_excluded(self) -> bool:
        """True when ``--stdin-filename`` names a file that ``--force-exclude`` (given or
        configured) leaves out: ruff then checks nothing and echoes the input unchanged."""
        if self.stdin_name is None:
            return False
        path = Path(self.stdin_name)
        return self._scope(path).force_exclude and self.force_excluded(path)

    def force_excluded(self, path: Path) -> bool:
        """For --force-exclude: would directory search leave this file (or a parent) out?"""
        absolute = Path(os.path.abspath(path))
        cwd = Path.cwd()
        top = self._git_root(absolute.parent) or (
            cwd if cwd in absolute.parents else absolute.parent
        )
        chain = [absolute, *(p for p in absolute.parents if top in p.parents)]
        scope = self._scope(absolute)
        return any(self._excluded(p, p != absolute, top, scope) for p in chain)

    def walk(self, top: Path) -> Iterator[Found]:
        """Dockerfiles under ``top`` in a stable order: regular files only, no directory links
        followed, no file links that lead out of ``top`` (as black: --write over a checkout
        must not rewrite files elsewhere); a directory that cannot be listed is reported, not
        skipped silently."""
        errors: list[OSError] = []
        floor = Path(os.path.abspath(top))
        for dirpath, dirnames, filenames in walk(top, onerror=errors.append):
            yield from self._unlisted(errors, dirpath)
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not self._skip(here / d, True, floor))
            for name in sorted(filenames):
                if is_searched_name(name) and not self._skip(here / name, False, floor):
                    try:
                        regular = stat.S_ISREG(os.stat(here / name).st_mode)
                    except OSError:
                        regular = False  # a dangling link: nothing to read
                    if (
                        regular
                        and (not (here / name).is_symlink() or resolves_within(here / name, floor))
                        and _dockerfile_here(here / name)
                    ):
                        yield Found(str(here / name), here / name)
        yield from self._unlisted(errors, str(top))

    @staticmethod
    def _unlisted(errors: list[OSError], fallback: str) -> Iterator[Found]:
        """The directories the walk could not list so far, as errors. They were reported only
        at the next directory listed, so the last one (``chmod 000`` on a tree's last folder,
        or on the searched directory itself) was skipped without a word."""
        while errors:
            error = errors.pop(0)
            where = error.filename or fallback
            yield Found(str(where), Path(where), f"cannot list directory: {error.strerror}")

    def _skip(self, path: Path, is_dir: bool, floor: Path) -> bool:
        if is_dir and path.is_symlink():
            return True  # never search through a link to a directory (loops, other trees)
        absolute = Path(os.path.abspath(path))
        return self._excluded(absolute, is_dir, floor, self._scope(absolute))

    def _excluded(self, absolute: Path, is_dir: bool, floor: Path, scope: Scope) -> bool:
        if any(rules.verdict(absolute, is_dir) for rules in scope.exclude):
            return True
        return scope.respect_gitignore and self._git_ignores(absolute, is_dir, floor)

    def _git_ignores(self, path: Path, is_dir: bool, floor: Path) -> bool:
        """git's verdict: ``.git/info/exclude``, then the ``.gitignore`` of every directory from
        the git root (outside git: from ``floor``) down to the file's own; deeper files win."""
        root = self._git_root(path.parent)
        top = root or floor
        rules = [self._rules(top / ".git" / "info" / "exclude", top)] if root else []
        rules += self._chain(path.parent, top)
        verdict = None
        for rule in rules:
            answer = rule.verdict(path, is_dir) if rule is not None else None
            verdict = answer if answer is not None else verdict
        return bool(verdict)

    def _chain(self, directory: Path, top: Path) -> list[Rules | None]:
        """The ``.gitignore`` rules from ``top`` down to ``directory`` (none when it is not at
        or below ``top``), kept per directory: a tree thousands of levels deep cost cubic time
        when each file walked up to the top again."""
        memo = self._chains
        pending = []
        while (directory, top) not in memo:
            if directory == top:
                memo[(directory, top)] = [self._rules(directory / ".gitignore", directory)]
            elif directory.parent == directory:
                memo[(directory, top)] = []  # the root, without meeting top: not below it
            else:
                pending.append(directory)
                directory = directory.parent
        chain = memo[(directory, top)]
        for d in reversed(pending):
            chain = [*chain, self._rules(d / ".gitignore", d)] if chain else []
            memo[(d, top)] = chain
        return chain

    def _rules(self, file: Path, root: Path) -> Rules | None:
        if file not in self._gitignores:
            try:  # a `.gitignore -> /dev/zero` link or a FIFO is never read
                data, _ = read_regular(file, GITIGNORE_LIMIT)
                # git skips a UTF-8 BOM (skip_utf8_bom): its first line was read as
                # "\ufeffbuild/", which ignored nothing, so search read what git ignores
                lines = data.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines()
                self._gitignores[file] = Rules.of(root, lines)
            except InputError:
                self._gitignores[file] = None
        return self._gitignores[file]

    def _git_root(self, directory: Path) -> Path | None:
        """The nearest directory at or above ``directory`` that holds ``.git``."""
        return _nearest_git(directory, self._roots)
