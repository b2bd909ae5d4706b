"""The ignore file a build reads, a pending new text of it, and every path of the context.

A rewrite that extends ``.dockerignore`` makes the engine run again on a ``PendingIgnore``
context: later transforms see the exclusions before ``--write`` puts them on disk.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from msdfix.files import walk
from msdfix.model.context import BuildContext, Folder, View
from msdfix.model.dockerignore import DEFAULT_NAME, DockerIgnore, Pattern, ignore_file

MAX_ALL_PATHS = 200_000


def ignore_path(context: BuildContext) -> Path | None:
    """The ignore file BuildKit reads, existing or not (``<Dockerfile>.dockerignore`` first)."""
    if not context.present:
        return None
    assert context.root is not None
    return ignore_file(context.root, context.dockerfile) or context.root / DEFAULT_NAME


class PendingIgnore(BuildContext):
    """``base`` with ``text`` as its ignore file (appended exclusions, not yet written): every
    query (ignored, exists, glob, holds) sees the pending rules, over the base's one walk."""

    def __init__(self, base: BuildContext, text: str) -> None:
        self.base: BuildContext = base.base if isinstance(base, PendingIgnore) else base
        super().__init__(self.base.root, self.base.dockerfile, stdin=self.base.stdin)
        self.ignore_text = text
        self.rules = DockerIgnore.from_text(text)

    @cached_property
    def _folder(self) -> Folder | None:
        return self.base._folder

    @cached_property
    def view(self) -> View:
        """The base's folder through the pending rules."""
        return View.with_rules(self._folder or Folder(None), self.rules)


def all_paths(context: BuildContext) -> list[str] | None:
    """Every file and directory of the context, relative, ``.git`` itself but not inside it,
    nor inside directories the on-disk ignore file excludes (when it has no ``!`` rule, an
    appended exclusion cannot re-include them); None when there are more than MAX_ALL_PATHS.
    Walked once per folder and ignore file: every Dockerfile of the folder, and a pending
    context, share the walk of the on-disk view."""
    base = context.base if isinstance(context, PendingIgnore) else context
    return base.view.memo("all_paths", lambda: _walk(base))


def excluded_by(context: BuildContext, line: str) -> frozenset[str]:
    """The paths of ``all_paths`` that the ignore line alone excludes: matched once per folder,
    ignore file and line, since every Dockerfile of the folder, and each pass of the engine,
    judges the same conventional lines (``.git``, ``**/*.pyc``) against the same paths."""
    base = context.base if isinstance(context, PendingIgnore) else context

    def compute() -> frozenset[str]:
        alone = DockerIgnore([Pattern.compile(line, False)])
        return frozenset(p for p in all_paths(base) or [] if alone.excludes(p))

    return base.view.memo(("excluded_by", line), compute)


def _walk(context: BuildContext) -> list[str] | None:
    if not context.present:
        return []
    assert context.root is not None
    rules = context.dockerignore
    prune = not rules.has_exceptions
    found: list[str] = []
    for dirpath, dirnames, filenames in walk(context.root):
        rel_dir = os.path.relpath(dirpath, context.root)
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
