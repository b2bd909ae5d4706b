"""The build context next to a Dockerfile: file lookup, .dockerignore, small manifest reads."""

from __future__ import annotations

import fnmatch
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from msdfix.model.dockerignore import DockerIgnore, DockerIgnoreError

MAX_MANIFEST_BYTES = 1 << 20
MAX_WALK_FILES = 20000
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
