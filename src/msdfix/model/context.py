"""The build context next to a Dockerfile: file lookup, .dockerignore, small manifest reads.

What a context folder holds (its file list, the .dockerignore verdicts, derived answers) is
computed lazily, once per folder and ignore file, and shared by every Dockerfile of a run that
uses the same folder (``ContextCache``): n Dockerfiles in one folder cost one walk, not n.
"""

from __future__ import annotations

import bisect
import codecs
import fnmatch
import json
import os
import posixpath
import re
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from msdfix.files import (
    InputError,
    exists,
    is_file,
    load_toml,
    read_regular,
    regular_lines,
    resolves_within,
    walk,
)
from msdfix.model.dockerignore import (
    DockerIgnore,
    DockerIgnoreError,
    Pattern,
    TooManyPatterns,
    ignore_file,
)
from msdfix.model.paths import within

MAX_MANIFEST_BYTES = 1 << 20
MAX_SCANNED_BYTES = 64 << 20  # a file find_line reads line by line (lock files grow large)
# A source msdfix searches with regexes (imports, programs, locales: about 0.5 s a MiB each): a
# 10 MiB bundle searched to the end took 16 s, so larger ones are unknown.
MAX_SOURCE_BYTES = 8 << 20
MAX_WALK_FILES = 100_000
# Texts of a folder's files kept for the readers that ask again (every source is read by the
# fonts, netbase, locale, library and tool searches of slim-base): the first ones read, up to
# this many bytes a folder.
MAX_KEPT_TEXT_BYTES = 16 << 20
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", "target", ".gradle"}
T = TypeVar("T")


class ContextTooLarge(Exception):
    """The context holds more files than msdfix lists (or its ignore file more patterns than
    it evaluates), so what the build sees is unknown: a transform that needs it leaves the
    file unchanged."""

    def __init__(self, why: str | None = None) -> None:
        super().__init__(
            why
            or f"the build context holds more than {MAX_WALK_FILES:,} files, too many to tell "
            "which files it has"
        )


class Unreadable(Exception):
    """A context file the build sees that msdfix cannot read: what it says is unknown, which
    never counts as absent (the message says why: ``go.mod is over 1 MiB``)."""


def _is_directory(root: Path) -> bool:
    """Whether ``root`` is a directory. One that cannot be looked at (a name longer than
    the system allows, a parent without search permission) is no known context, as a missing
    one is: every file in it is unknown. ``Path.is_dir`` raised for those (exit 123 for
    ``--stdin-filename`` of 4,000 folders)."""
    try:
        return root.is_dir()
    except OSError:
        return False


class Folder:
    """One context folder as a run sees it: walked at most once, answers kept."""

    def __init__(self, root: Path | None) -> None:
        self.root = root or Path()
        self._views: dict[Path | None, View] = {}
        self.present = root is not None and _is_directory(root)
        self._dirs: list[str] = []
        self._skipped: list[str] = []  # directories the walk did not enter (SKIP_DIRS)
        self.excluded: list[str] = []  # directories .dockerignore excludes, not walked (listed)
        self._dir_links: list[str] = []  # links to directories (the walk does not enter them)
        self._inside: dict[str, bool] = {}
        self._texts: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._text_bytes = 0

    @cached_property
    def listed(self) -> tuple[list[str], bool]:
        """Context-relative paths of regular files, skipping vendored dirs, at most
        MAX_WALK_FILES of them, and whether that is all of them. A folder with more is walked
        again without the directories its ``.dockerignore`` excludes (with no ``!`` pattern
        BuildKit sends nothing below an excluded directory), which ``excluded`` lists."""
        found, complete = self._walk(None)
        rules = self._root_rules() if not complete else None
        if rules is not None:
            self._dirs, self._skipped, self._dir_links = [], [], []
            found, complete = self._walk(rules)
        return found, complete

    def _root_rules(self) -> DockerIgnore | None:
        """The folder's ``.dockerignore`` when it excludes whole directories (no ``!``)."""
        try:
            rules = DockerIgnore.read(self.root / ".dockerignore")
        except (DockerIgnoreError, TooManyPatterns, OSError):
            return None
        return None if rules.has_exceptions else rules

    def _walk(self, rules: DockerIgnore | None) -> tuple[list[str], bool]:
        """One walk of the folder for ``listed``, not entering what ``rules`` exclude."""
        found: list[str] = []
        if not self.present:
            return found, True
        for dirpath, dirnames, filenames in walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            paths = {d: d if rel_dir == "." else f"{rel_dir}/{d}" for d in dirnames}
            if rules is not None:
                self.excluded += [paths[d] for d in dirnames if rules.excludes(paths[d])]
                dirnames[:] = [d for d in dirnames if not rules.excludes(paths[d])]
            self._skipped += [paths[d] for d in dirnames if d in SKIP_DIRS]
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            if rel_dir != ".":
                self._dirs.append(rel_dir)
            self._dir_links += [
                paths[d] for d in dirnames if os.path.islink(os.path.join(dirpath, d))
            ]
            for name in sorted(filenames):
                if name.startswith(".") and name.endswith(".msdfix"):
                    continue  # a file --write is replacing right now (files.write_atomic)
                if len(found) == MAX_WALK_FILES:
                    return found, False
                found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
        return found, True

    @property
    def files(self) -> list[str]:
        """All of ``listed``; ContextTooLarge when the walk stopped before the end."""
        found, complete = self.listed
        if not complete:
            raise ContextTooLarge
        return found

    @property
    def dirs(self) -> list[str]:
        """Context-relative paths of the directories the walk of ``files`` entered."""
        self.files  # noqa: B018 (walks the folder, or raises ContextTooLarge)
        return self._dirs

    @property
    def dir_links(self) -> list[str]:
        """Context-relative paths of the symlinks to directories the walk passed."""
        self.files  # noqa: B018 (walks the folder, or raises ContextTooLarge)
        return self._dir_links

    @property
    def skipped(self) -> list[str]:
        """Context-relative paths of the directories the walk of ``files`` left out."""
        self.files  # noqa: B018 (walks the folder, or raises ContextTooLarge)
        return self._skipped

    @cached_property
    def by_name(self) -> dict[str, str]:
        """Base name -> the first file (in walk order) with that name."""
        names: dict[str, str] = {}
        for rel in self.files:
            names.setdefault(posixpath.basename(rel), rel)
        return names

    def inside(self, rel: str) -> bool:
        """Whether ``rel``, links followed, lies in the folder (``resolves_within``): asked
        once per path, though every reader of a source asks (fonts, locales, tools...)."""
        found = self._inside.get(rel)
        if found is None:
            found = self._inside[rel] = resolves_within(self.root / rel, self.root)
        return found

    def text(self, rel: str, found: os.stat_result, limit: int) -> str:
        """The decoded text of regular file ``rel``, whose ``stat`` is ``found``: read again
        only when its inode, modification time or size changed (``--write`` replaced it).
        Read by ``read_regular`` (InputError when it is no longer a regular file of at most
        ``limit`` bytes: the context changed since ``found``)."""
        key = (found.st_ino, found.st_mtime_ns, found.st_size)
        kept = self._texts.get(rel)
        if kept is not None and kept[0] == key:
            return kept[1]
        data, opened = read_regular(self.root / rel, limit)
        key, text = (opened.st_ino, opened.st_mtime_ns, opened.st_size), decode(data)
        if self._text_bytes + len(data) <= MAX_KEPT_TEXT_BYTES:
            self._texts[rel] = (key, text)
            self._text_bytes += len(data)
        return text

    def view(self, dockerfile: Path | None) -> View:
        """The folder through the ignore file a build of ``dockerfile`` uses."""
        try:
            key = ignore_file(self.root, dockerfile) if self.present else None
        except OSError:
            key = None
        if key not in self._views:
            self._views[key] = View(self, key)
        return self._views[key]


class View:
    """A folder filtered by one .dockerignore file (or none): what a build can see."""

    def __init__(self, folder: Folder, ignore: Path | None) -> None:
        self.folder = folder
        self.error: str | None = None
        self.ignore = DockerIgnore([])
        self.too_many: str | None = None
        if ignore is not None:
            try:
                self.ignore = DockerIgnore.read(ignore)
            except TooManyPatterns as exc:
                self.too_many = f"{ignore.name} has {exc}: which files the build sees is unknown"
            except (DockerIgnoreError, OSError) as exc:
                self.error, self.ignore = str(exc), DockerIgnore([])
        self._ignored: dict[str, bool] = {}
        self._memo: dict[Hashable, Any] = {}

    def rules(self) -> DockerIgnore:
        """The ignore rules (ContextTooLarge when there are too many to evaluate)."""
        if self.too_many:
            raise ContextTooLarge(self.too_many)
        return self.ignore

    @classmethod
    def with_rules(cls, folder: Folder, rules: DockerIgnore) -> View:
        """The folder through rules not (yet) in a file."""
        view = cls(folder, None)
        view.ignore = rules
        return view

    def is_ignored(self, rel: str) -> bool:
        """True when .dockerignore keeps the context-relative path out of the build."""
        found = self._ignored.get(rel)
        if found is None:
            found = self._ignored[rel] = self.rules().excludes(rel)
        return found

    @cached_property
    def kept(self) -> list[str]:
        """The folder's files that .dockerignore does not exclude, in walk order
        (ContextTooLarge when the walk left out a directory that these rules send)."""
        files = self.folder.files
        if any(not self.is_ignored(d) for d in self.folder.excluded):
            raise ContextTooLarge
        return [f for f in files if not self.is_ignored(f)]

    @cached_property
    def kept_set(self) -> frozenset[str]:
        """``kept`` as a set."""
        return frozenset(self.kept)

    @cached_property
    def _sorted(self) -> list[str]:
        return sorted(self.kept)

    def has_prefix(self, prefix: str) -> bool:
        """True when a kept file's path starts with ``prefix``."""
        at = bisect.bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)

    @cached_property
    def bare_dirs(self) -> list[str]:
        """Directories the build sees that hold no file it sees (``uploads/``, or ``logs/``
        whose files are ignored): a COPY of their parent still creates them."""
        return [
            d for d in self.folder.dirs if not self.has_prefix(d + "/") and not self.is_ignored(d)
        ]

    @cached_property
    def dir_links(self) -> list[str]:
        """Symlinks to directories the build sees: a COPY of their parent copies the link."""
        return [d for d in self.folder.dir_links if not self.is_ignored(d)]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this view (answers that depend on the context only)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    def matching(self, pattern: str) -> list[str]:
        """The kept files, and the directories above them, that a COPY source with wildcards
        names (``*.json``, ``templates/*.html``): Go's ``filepath.Match`` on the whole path, so
        a ``*`` never crosses a ``/``; sorted. A pattern Docker rejects names nothing."""
        return self.memo(("matching", pattern), lambda: _matching(self, pattern))

    def under(self, rel: str) -> list[str]:
        """Kept files equal to ``rel`` or below it (``rel`` normalised, ``""`` for the root)."""
        prefix = "" if rel == "." else rel + "/"
        return self.memo(
            ("under", rel), lambda: [f for f in self.kept if f == rel or f.startswith(prefix)]
        )


def _matching(view: View, pattern: str) -> list[str]:
    try:
        compiled = Pattern.compile(pattern, False)
    except DockerIgnoreError:
        return []
    depth = pattern.count("/")
    found: set[str] = set()
    for rel in view.kept:
        parts = rel.split("/")
        if len(parts) > depth:
            candidate = "/".join(parts[: depth + 1])
            if candidate not in found and compiled.matches(candidate):
                found.add(candidate)
    return sorted(found)


class ContextCache:
    """Context folders shared within a run; the ``size`` most recently used are kept."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._folders: OrderedDict[Path, Folder] = OrderedDict()

    def folder(self, root: Path) -> Folder:
        """The shared state of ``root`` (created on first use)."""
        found = self._folders.get(root)
        if found is None:
            found = self._folders[root] = Folder(root)
            if len(self._folders) > self.size:
                self._folders.popitem(last=False)
        else:
            self._folders.move_to_end(root)
        return found

    def forget(self, root: Path) -> None:
        """Drop what was read of ``root`` (a file in it was just written)."""
        self._folders.pop(root, None)


class BuildContext:
    """Files next to the Dockerfile. ``BuildContext(None)`` means: no context known.

    Contexts made with the same ``cache`` share what they read of the same folder. ``stdin``:
    the text came from standard input (``--stdin-filename`` names ``dockerfile``), so the only
    output is the Dockerfile: no other file of the context is written.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None,
        dockerfile: str | os.PathLike[str] | None = None,
        cache: ContextCache | None = None,
        stdin: bool = False,
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.dockerfile = Path(dockerfile) if dockerfile is not None else None
        self._cache = cache
        self.stdin = stdin

    @cached_property
    def _folder(self) -> Folder | None:
        if self.root is None:
            return None
        return (self._cache or ContextCache(1)).folder(self.root)

    @cached_property
    def view(self) -> View:
        """The context as the build sees it (shared with other Dockerfiles of the folder)."""
        return (self._folder or Folder(None)).view(self.dockerfile)

    @property
    def present(self) -> bool:
        """True when a build context directory is available to inspect."""
        return self._folder is not None and self._folder.present

    @property
    def dockerignore(self) -> DockerIgnore:
        """The .dockerignore rules of the build (``<Dockerfile>.dockerignore`` first).

        A file Docker would reject fails the original build too; then nothing counts as
        excluded and ``dockerignore_error`` says why.
        """
        return self.view.rules()

    @property
    def dockerignore_error(self) -> str | None:
        """Why the .dockerignore file was not used, if it was not."""
        return self.view.error

    @property
    def has_exceptions(self) -> bool:
        """True when .dockerignore re-includes paths with ``!`` (no pruning of whole dirs)."""
        return self.dockerignore.has_exceptions

    def is_ignored(self, rel: str) -> bool:
        """True when .dockerignore keeps the context-relative path out of the build."""
        return self.view.is_ignored(rel)

    def exists(self, rel: str) -> bool:
        """True when ``rel`` exists in the context and is not excluded by .dockerignore."""
        if not self.present or _leaves(rel) or self.is_ignored(rel):
            return False
        return self.on_disk(rel)

    def on_disk(self, rel: str) -> bool:
        """True when ``rel`` is in the context folder, whatever .dockerignore says (False for
        a path outside it)."""
        if not self.present or _leaves(rel):
            return False
        assert self.root is not None
        return exists(self.root / rel)

    def glob(self, pattern: str) -> list[str]:
        """Kept files matching an fnmatch pattern anywhere in the tree (``*.go`` finds every
        Go source): a search, not COPY's wildcards (those are ``model.copies``, Docker's)."""
        view = self.view
        return view.memo(
            ("glob", pattern), lambda: [f for f in view.kept if fnmatch.fnmatch(f, pattern)]
        )

    def holds(self, rel: str) -> bool:
        """True when a kept file is ``rel`` or below it (``within``)."""
        view = self.view
        return view.memo(("holds", rel), lambda: any(within(f, rel) for f in view.kept))

    @property
    def files(self) -> list[str]:
        """Context-relative paths of regular files, skipping vendored dirs (ContextTooLarge
        when there are more than MAX_WALK_FILES)."""
        return self._folder.files if self._folder is not None else []

    @property
    def first_files(self) -> list[str]:
        """Up to MAX_WALK_FILES of ``files``: for a choice that any of them can serve."""
        return self._folder.listed[0] if self._folder is not None else []

    @property
    def unlisted(self) -> list[str]:
        """Directories the build sees whose files ``files`` leaves out (node_modules, target,
        .venv, ...: vendored trees; .git is never a source)."""
        if self._folder is None:
            return []
        return [
            d
            for d in self._folder.skipped
            if posixpath.basename(d) != ".git" and not self.is_ignored(d)
        ]

    @property
    def repositories(self) -> list[str]:
        """The ``.git`` directories the build sees (``files`` never lists their files)."""
        if self._folder is None:
            return []
        return [
            d
            for d in self._folder.skipped
            if posixpath.basename(d) == ".git" and not self.is_ignored(d)
        ]

    def named(self, name: str) -> str | None:
        """The first file (in walk order) whose base name is ``name``."""
        return self._folder.by_name.get(name) if self._folder is not None else None

    def read_text(self, rel: str, limit: int = MAX_MANIFEST_BYTES) -> str | None:
        """Contents of a file of at most ``limit`` bytes in the context, or None when absent,
        larger or unreadable."""
        if not self.present or _leaves(rel):
            return None
        assert self.root is not None
        assert self._folder is not None
        path = self.root / rel
        if not self._folder.inside(rel):
            return None  # a link out of the context: Docker cannot read it either
        try:
            found = path.stat()
            if not stat.S_ISREG(found.st_mode) or found.st_size > limit:
                return None
            return self._folder.text(rel, found, limit)
        except (OSError, ValueError, InputError):  # ValueError: a NUL byte, no such name
            return None

    def read_known(self, rel: str, limit: int = MAX_MANIFEST_BYTES) -> str | None:
        """Contents of context file ``rel`` (read as ``read_text`` reads it), None when the
        build has no such file (absent, excluded by .dockerignore, outside the context);
        Unreadable when it has one msdfix cannot read: over the manifest limit, a link out
        of the context or in a loop, a directory, FIFO or device. ``read_text(...) or ""``
        read those as empty, so a hazard they hold (a local ``replace`` in a 1 MiB go.mod)
        counted as absent. ``limit``: a larger size to read (a source searched for a
        program may be a 2 MiB bundle)."""
        text = self.read_text(rel, limit)
        if text is not None or not self.present or _leaves(rel):
            return text
        assert self.root is not None
        path = self.root / rel
        try:
            if not os.path.lexists(path):
                return None
        except ValueError:  # a NUL byte: no file has that name
            return None
        if self.is_ignored(rel):
            return None
        raise Unreadable(f"{rel} {_why_unreadable(path, self.root, limit)}")

    def dir_mode(self, rel: str) -> int | None:
        """Permission bits (with setuid, setgid and sticky) of context directory ``rel``, which
        the client sends and COPY keeps for the directories below a source; None when it is not
        a directory of the context (absent, a file, a link)."""
        if not self.present or _leaves(rel):
            return None
        assert self.root is not None
        try:
            found = os.lstat(self.root / rel)
        except (OSError, ValueError):
            return None
        return stat.S_IMODE(found.st_mode) if stat.S_ISDIR(found.st_mode) else None

    def link_target(self, rel: str) -> str | None:
        """The target of context path ``rel`` when it is a symlink (as written, possibly
        relative: COPY keeps the link, so the image resolves it where it lands), else None."""
        if not self.present or _leaves(rel):
            return None
        assert self.root is not None
        try:
            return os.readlink(self.root / rel)
        except OSError:  # not a link, absent
            return None

    def find_line(
        self, rel: str, pattern: re.Pattern[str], needles: tuple[str, ...] = ()
    ) -> str | None:
        """The first line of context file ``rel`` that ``pattern`` matches, or None when no
        line does. Read line by line, so files over read_text's limit are searched too; a
        file that cannot be read (absent, over MAX_SCANNED_BYTES) raises OSError: its lines
        are unknown, not absent. ``needles``: texts one of which every match holds; lines
        without any are not given to the regex (one starting with ``\\b`` took 0.3 s a MiB)."""
        if not self.present or _leaves(rel):
            raise OSError(f"{rel} is not in the build context")
        assert self.root is not None
        path = self.root / rel
        if not resolves_within(path, self.root) or not is_file(path):
            raise OSError(f"{rel} is not a file of the build context")
        try:
            return next(
                (
                    line
                    for line in _text_lines(regular_lines(path, MAX_SCANNED_BYTES))
                    if (not needles or any(n in line for n in needles)) and pattern.search(line)
                ),
                None,
            )
        except InputError as exc:  # changed since the check: a FIFO now, or larger
            raise OSError(f"{rel}: {exc.message}") from None

    def may_match(self, rel: str, pattern: re.Pattern[str], needles: tuple[str, ...] = ()) -> bool:
        """True when a line of context file ``rel`` matches ``pattern`` (``find_line``), or
        when the file cannot be read: a search for a hazard (``import "C"``, a program a
        source runs) must not count a source it could not read as free of it. ``read_text``
        stops at 1 MiB, and a generated 2 MiB Go file's ``import "C"`` went unseen."""
        try:
            return self.find_line(rel, pattern, needles) is not None
        except OSError:
            return True

    def read_toml(self, rel: str) -> dict[str, Any] | None:
        """Parsed TOML of a small file, or None."""
        text = self.read_text(rel)
        return None if text is None else parse_toml(text)

    def read_json(self, rel: str) -> Any:
        """Parsed JSON of a small file, or None."""
        text = self.read_text(rel)
        return None if text is None else parse_json(text)


def _text_lines(lines: Iterable[bytes]) -> Iterator[str]:
    """Lines of bytes as text lines, without their ends, split where Python's text files
    split them (``\\n``, ``\\r\\n`` and a lone ``\\r``)."""
    for line in lines:
        text = line.decode("utf-8", errors="replace").replace("\r\n", "\n").rstrip("\n")
        yield from text.split("\r")


def parse_toml(text: str) -> dict[str, Any] | None:
    """Parsed TOML, or None when it is not valid."""
    try:
        data: dict[str, Any] = load_toml(text)
    except (tomllib.TOMLDecodeError, RecursionError):  # RecursionError: nested too deep
        return None
    return data


def parse_json(text: str) -> Any:
    """Parsed JSON, or None when it is not valid."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip


def decode(data: bytes) -> str:
    """A context file's text as tools read it: UTF-8, or the encoding its byte-order mark
    names (PowerShell's ``pip freeze > requirements.txt`` writes UTF-16, and pip reads it)."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    return data.decode(encoding, errors="replace")


def _why_unreadable(path: Path, root: Path, limit: int) -> str:
    """Why ``read_text`` could not read ``path``, which exists (for Unreadable)."""
    if not resolves_within(path, root):
        return "links outside the build context or in a loop"
    if not is_file(path):
        return "is not a regular file"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size > limit:
        return f"is over {limit >> 20} MiB"
    return "cannot be read"


def _leaves(rel: str) -> bool:
    """True for a path outside the context (absolute, or ``..`` above its root): a context
    file may name one (``-r ../../etc/passwd``), and msdfix must neither read nor quote it."""
    norm = posixpath.normpath(rel)
    return norm.startswith("/") or norm == ".." or norm.startswith("../")
