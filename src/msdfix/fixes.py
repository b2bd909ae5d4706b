"""Findings with an optional fix; fixes are text edits with an applicability (ruff's model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Applicability(str, Enum):
    """How sure we are that a fix keeps the build's meaning."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class FileChange:
    """Create (``old`` None) or replace a file beside the Dockerfile, e.g. ``.dockerignore``."""

    path: str
    old: str | None
    new: str


@dataclass
class Fix:
    """The text edits (and other files) that resolve a finding, with how safe they are."""

    applicability: Applicability
    edits: list[Edit] = field(default_factory=list)
    # Other files this fix creates or extends (absolute paths), applied with the Dockerfile.
    file_changes: list[FileChange] = field(default_factory=list)
    # Final-image settings this fix changes on purpose (e.g. {"cmd", "expose"}); the engine
    # refuses any other change of the final stage's observable configuration.
    changes_config: frozenset[str] = frozenset()
    # Set by the engine: the edits as offsets into the file's ORIGINAL text (None when a fix
    # not applied touches text that other fixes rewrote, so it has no such form).
    original_edits: list[Edit] | None = None

    def __post_init__(self) -> None:
        if not self.edits and not self.file_changes:
            raise ValueError("a fix changes something: report an explanation without a fix")

    @property
    def span(self) -> tuple[int, int]:
        """Smallest range covering all edits."""
        return min(e.start for e in self.edits), max(e.end for e in self.edits)


@dataclass
class Finding:
    """What a transform reports about some lines: a one-line message and maybe a fix.

    A finding without a fix is an explanation: why the transform left those lines as they are.
    """

    transform: str
    message: str
    line: int
    end_line: int
    fix: Fix | None = None


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (any order) to ``text``."""
    out = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def overlaps(fix: Fix, taken: list[tuple[int, int]]) -> bool:
    """True when an edit of ``fix`` intersects or touches (for insertions) a taken range."""
    for edit in fix.edits:
        for start, end in taken:
            if edit.start < end and start < edit.end:
                return True
            if (edit.start == edit.end or start == end) and start <= edit.end and edit.start <= end:
                return True
    return False
