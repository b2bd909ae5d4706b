"""The build context next to a Dockerfile: file lookup, .dockerignore, small manifest reads."""

from __future__ import annotations

import fnmatch
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from msdfix.model.dockerignore import DEFAULT_NAME, DockerIgnore, DockerIgnoreError, ignore_file

MAX_MANIFEST_BYTES = 1 << 20
MAX_WALK_FILES = 20000
MAX_ALL_PATHS = 200_000
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", "target", ".gradle"}


class BuildContext:
    """Files next to the Dockerfile. ``BuildContext(None)`` means: no context known."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None,
        dockerfile: str | os.PathLike[str] | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.dockerfile = Path(dockerfile) if dockerfile is not None else None
        self.dockerignore_error: str | None = None
        self.ignore_text: str | None = None  # set by with_ignore_text: not yet on disk

    @property
    def ignore_path(self) -> Path | None:
        """The ignore file BuildKit reads, existing or not (``<Dockerfile>.dockerignore`` first)."""
        if not self.present:
            return None
        assert self.root is not None
        return ignore_file(self.root, self.dockerfile) or self.root / DEFAULT_NAME

    def with_ignore_text(self, text: str) -> BuildContext:
        """The same context, with ``text`` as the ignore file's contents (a pending change)."""
        other = BuildContext(self.root, self.dockerfile)
        other.ignore_text = text
        for name in ("files", "all_paths"):  # appended exclusions leave both valid
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    @cached_property
    def all_paths(self) -> list[str] | None:
        """Every file and directory of the context, relative, ``.git`` itself but not inside it,
        nor inside directories .dockerignore excludes (when it has no ``!`` rule); None when
        there are more than MAX_ALL_PATHS."""
        if not self.present:
            return []
        assert self.root is not None
        rules = self.dockerignore
        prune = not rules.has_exceptions
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            keep = []
            for name in sorted(dirnames):
                rel = prefix + name
                found.append(rel)
                if rel != ".git" and not (prune and rules.excludes(rel)):
                    keep.append(name)
            dirnames[:] = keep
            found += [prefix + name for name in sorted(filenames)]
            if len(found) > MAX_ALL_PATHS:
                return None
        return found

    @property
    def present(self) -> bool:
        """True when a build context directory is available to inspect."""
        return self.root is not None and self.root.is_dir()

    @cached_property
    def dockerignore(self) -> DockerIgnore:
        """The .dockerignore rules of the build (``<Dockerfile>.dockerignore`` first).

        A file Docker would reject fails the original build too; then nothing counts as
        excluded and ``dockerignore_error`` says why.
        """
        if not self.present:
            return DockerIgnore([])
        assert self.root is not None
        try:
            if self.ignore_text is not None:
                return DockerIgnore.from_text(self.ignore_text)
            return DockerIgnore.for_build(self.root, self.dockerfile)
        except (DockerIgnoreError, OSError) as exc:
            self.dockerignore_error = str(exc)
            return DockerIgnore([])

    @property
    def has_exceptions(self) -> bool:
        """True when .dockerignore re-includes paths with ``!`` (no pruning of whole dirs)."""
        return self.dockerignore.has_exceptions

    def is_ignored(self, rel: str) -> bool:
        """True when .dockerignore keeps the context-relative path out of the build."""
        return self.dockerignore.excludes(rel)

    def exists(self, rel: str) -> bool:
        """True when ``rel`` exists in the context and is not excluded by .dockerignore."""
        if not self.present or self.is_ignored(rel):
            return False
        assert self.root is not None
        return (self.root / rel).exists()

    def glob(self, pattern: str) -> list[str]:
        """Context-relative files matching a glob pattern (not ignored)."""
        return [f for f in self.files if fnmatch.fnmatch(f, pattern) and not self.is_ignored(f)]

    @cached_property
    def files(self) -> list[str]:
        """Context-relative paths of regular files (bounded walk, skipping vendored dirs)."""
        if not self.present:
            return []
        assert self.root is not None
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            rel_dir = os.path.relpath(dirpath, self.root)
            for name in sorted(filenames):
                found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
                if len(found) >= MAX_WALK_FILES:
                    return found
        return found

    def read_text(self, rel: str) -> str | None:
        """Contents of a small file in the context, or None when absent, large or unreadable."""
        if not self.present:
            return None
        assert self.root is not None
        path = self.root / rel
        try:
            if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
                return None
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def read_json(self, rel: str) -> Any:
        """Parsed JSON of a small file, or None."""
        text = self.read_text(rel)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None
