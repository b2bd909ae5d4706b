"""The text cache-mount adds: mount flags and the one-line reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems.base import PackageManager
from msdfix.fixes import Edit

# BuildKit splits --mount options on commas (CSV) and keys from values on "=": a target that
# contains either cannot be written without quoting that older parsers do not accept.
_UNSAFE_TARGET = set(",=\"' \t\\`$")


@dataclass
class Mount:
    """One cache mount to add."""

    target: str
    locked: bool
    store: bool
    index: bool
    manager: PackageManager
    uid: str | None = None
    unsafe: str | None = None  # why the mount may change the build (a dependency store)
    built: tuple[str, ...] = ()  # subdirectories kept out of the cache (a tmpfs each)


@dataclass
class Plan:
    """What cache-mount does to one RUN, and why it leaves the rest alone."""

    mounts: list[Mount] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def unsafe_reason(self) -> str | None:
        """Why the fix is unsafe, or None when it is safe."""
        return next((m.unsafe for m in self.mounts if m.unsafe), None)

    def note(self, text: str) -> None:
        """Add a reason once; one that only another directory begins joins its twin
        ("/var/cache/apt, /var/lib/apt/lists may hold ...")."""
        if text in self.notes:
            return
        path, _, rest = text.partition(" may ")
        for i, old in enumerate(self.notes):
            paths, _, old_rest = old.partition(" may ")
            if rest and old_rest == rest and _paths(paths) and _paths(path):
                self.notes[i] = f"{paths}, {path} may {rest}"
                return
        self.notes.append(text)


def _paths(text: str) -> bool:
    """True when ``text`` is a comma-separated list of absolute paths."""
    return all(p.startswith("/") and " " not in p for p in text.split(", "))


def writable_target(target: str) -> bool:
    """True when ``target`` can be written as a --mount option value as it is."""
    return not any(ch in _UNSAFE_TARGET for ch in target)


def flags_text(doc: Document, mounts: list[Mount], indent: str | None = None) -> str:
    """``--mount=...`` flags, one per line after the first when there are several; with
    ``indent``, each on a line of its own (the RUN's flags already stand one per line)."""
    parts = []
    for mount in mounts:
        text = f"--mount=type=cache,target={mount.target}"
        if mount.locked:
            text += ",sharing=locked"
        if mount.uid:
            uid, _, gid = mount.uid.partition(":")
            text += f",uid={uid},gid={gid or uid}"
        parts.append(text)
        parts += [f"--mount=type=tmpfs,target={mount.target}/{sub}" for sub in mount.built]
    if indent is not None:
        return "".join(f"{part} {doc.dockerfile.escape}{doc.newline}{indent}" for part in parts)
    if len(parts) == 1:
        return parts[0] + " "
    joiner = f" {doc.dockerfile.escape}{doc.newline}    "
    return joiner.join(parts) + joiner


def message(plan: Plan) -> str:
    """The fix's one-line reason."""
    managers = sorted({m.manager.id for m in plan.mounts})
    targets = ", ".join(m.target for m in plan.mounts)
    text = f"cache {'/'.join(managers)} downloads in {targets}"
    for mount in plan.mounts:
        for sub in mount.built:  # a wheel built without a -dev library's headers
            text += f"; {mount.target}/{sub} stays per build (tmpfs): it holds what {mount.manager.id} builds"
    if plan.notes:
        text += "; " + "; ".join(plan.notes)
    if plan.unsafe_reason:
        text += f" (unsafe: {plan.unsafe_reason})"
    return text
