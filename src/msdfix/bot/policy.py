"""When msdfix may touch its branch and pull request: it never overrides people.

The rules follow Renovate's and Dependabot's:

- msdfix force-pushes its branch only while the branch head is its own untouched commit: one
  parent, a ``msdfix-rewrite: <fingerprint>`` trailer, and a diff to that parent that still has
  this fingerprint. Anything else means someone pushed to the branch, and msdfix leaves it alone.
- A rewrite's fingerprint is a hash of the changed files' paths and blob ids before and after.
  After a pull request with a fingerprint was closed without merging, msdfix does not propose
  that rewrite again; a different rewrite (one of those files changed on the base branch, or
  msdfix rewrites them differently) opens a new pull request.
- When nothing is left to change, an open msdfix pull request is closed with a comment, and its
  branch deleted when it is msdfix's own untouched commit; when people pushed to the branch,
  msdfix only says so in a comment (once) and leaves the pull request open. A pull request
  msdfix closed itself gets " - autoclosed" in its title and loses its fingerprint: it declines
  nothing (if the base branch goes back, the rewrite is proposed again).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from msdfix.bot.git import Git

TRAILER = "msdfix-rewrite"
TRAILER_RE = re.compile(rf"^{TRAILER}: ([0-9a-f]{{8,64}})[ \t]*$", re.MULTILINE)
BODY_RE = re.compile(r"<!-- msdfix:rewrite=([0-9a-f]{8,64}) -->")
STALE_MARKER = "<!-- msdfix:stale -->"


@dataclass(frozen=True)
class Change:
    """One rewritten file: its path, mode, and blob ids before and after."""

    path: str
    mode: str
    old: str
    new: str


def fingerprint(changes: Iterable[Change]) -> str:
    """A short hash naming one rewrite (which files, from which content, to which content);
    a path that is not UTF-8 counts by its bytes (its surrogate escapes were an internal
    error)."""
    digest = hashlib.sha256()
    for change in sorted(changes, key=lambda c: c.path):
        digest.update(
            f"{change.path}\0{change.old}\0{change.new}\n".encode("utf-8", "surrogateescape")
        )
    return digest.hexdigest()[:24]


def body_marker(value: str) -> str:
    """The hidden line in a pull request's description that records its rewrite."""
    return f"<!-- msdfix:rewrite={value} -->"


def trailer(value: str) -> str:
    return f"{TRAILER}: {value}"


def commit_changes(git: Git, commit: str) -> list[Change] | None:
    """The files ``commit`` changed against its only parent; None for other commit shapes."""
    parents = git.out("rev-list", "--parents", "-n", "1", commit).split()[1:]
    if len(parents) != 1:
        return None
    raw = git.run("diff-tree", "-r", "-z", "--no-renames", parents[0], commit).stdout
    fields = raw.decode("utf-8", "surrogateescape").split("\0")[:-1]
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=True):
        old_mode, new_mode, old, new, status = meta.lstrip(":").split(" ")
        if status != "M" or old_mode != new_mode:
            return None
        changes.append(Change(path, new_mode, old, new))
    return changes


def is_own_commit(git: Git, commit: str) -> bool:
    """True when ``commit`` is a rewrite msdfix made that nobody changed since."""
    match = TRAILER_RE.findall(git.out("log", "-1", "--format=%B", commit))
    if not match:
        return False
    changes = commit_changes(git, commit)
    return bool(changes) and fingerprint(changes or []) == match[-1]


def autoclosed(title: str, body: str) -> tuple[str, str]:
    """Title and description for a pull request msdfix closes itself (no longer a decline)."""
    suffix = " - autoclosed"
    return title if title.endswith(suffix) else title + suffix, BODY_RE.sub("", body)


def declined(pulls: list[dict[str, Any]], value: str) -> dict[str, Any] | None:
    """The pull request with this rewrite that was closed without merging, if any."""
    for pull in pulls:
        if pull.get("state") != "closed" or pull.get("merged_at"):
            continue
        if BODY_RE.findall(str(pull.get("body") or ""))[:1] == [value]:
            return pull
    return None


def open_pull(pulls: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((p for p in pulls if p.get("state") == "open"), None)
