"""Run transforms to a fixed point, then prove the result: parses, stable, same config."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.fixes import Applicability, Fix, apply_edits, overlaps
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.syntax import Dockerfile, Instruction, ParseError, parse
from msdfix.transforms import Transform, all_transforms

MAX_PASSES = 5
PRAGMA_RE = re.compile(r"#\s*msdfix:\s*ignore(?:\[([^\]]*)\])?\s*$", re.IGNORECASE)
FILE_PRAGMA_RE = re.compile(r"^\s*#\s*msdfix:\s*ignore-file\b", re.IGNORECASE | re.MULTILINE)


class InternalError(Exception):
    """A rewrite failed our own checks: a bug in msdfix, never the user's fault."""


@dataclass
class Settings:
    """Which transforms run and whether unsafe fixes are applied."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    unsafe: bool = False

    def enabled(self) -> list[type[Transform]]:
        """Enabled transforms in run order."""
        return [
            t
            for t in all_transforms()
            if (self.select is None or t.id in self.select) and t.id not in self.ignore
        ]


@dataclass
class Result:
    """Outcome of rewriting one file."""

    original: str
    output: str
    applied: list[Fix] = field(default_factory=list)
    suggestions: list[Fix] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the output differs from the input."""
        return self.output != self.original


def _suppressed(dockerfile: Dockerfile, fix: Fix) -> bool:
    start = fix.span[0] if fix.edits else None
    for ins in dockerfile.instructions:
        inside = start is not None and ins.comment_start <= start < ins.end
        if inside or (start is None and ins.start_line == fix.line):
            return _ignored_here(dockerfile, ins, fix.transform)
    return False


def _ignored_here(dockerfile: Dockerfile, ins: Instruction, transform: str) -> bool:
    for comment in dockerfile.comments_above(ins):
        match = PRAGMA_RE.search(comment)
        if match:
            ids = match.group(1)
            if ids is None or transform in {i.strip() for i in ids.split(",")}:
                return True
    return False


def _wanted(fix: Fix, settings: Settings) -> bool:
    if fix.applicability is Applicability.SAFE:
        return True
    return fix.applicability is Applicability.UNSAFE and settings.unsafe


def _run(text: str, context: BuildContext, path: str | None, settings: Settings) -> Result:
    result = Result(text, text)
    if FILE_PRAGMA_RE.search(text):
        return result
    transforms = [t() for t in settings.enabled()]
    for _ in range(MAX_PASSES):
        changed = False
        suggestions: list[Fix] = []
        for transform in transforms:
            doc = Document(parse(result.output), context, path)
            taken: list[tuple[int, int]] = []
            edits = []
            for fix in transform.check(doc):
                if not fix.edits or _suppressed(doc.dockerfile, fix):
                    continue
                if not _wanted(fix, settings) or overlaps(fix, taken):
                    suggestions.append(fix)
                    continue
                taken += [(e.start, e.end) for e in fix.edits]
                edits += fix.edits
                result.applied.append(fix)
            if edits:
                result.output = apply_edits(result.output, edits)
                changed = True
        result.suggestions = [s for s in suggestions if not _wanted(s, settings)]
        if not changed:
            return result
    raise InternalError(f"no fixed point after {MAX_PASSES} passes")


def rewrite(
    text: str,
    path: str | None = None,
    context: BuildContext | None = None,
    settings: Settings | None = None,
) -> Result:
    """Rewrite ``text``; raise ParseError for bad input and InternalError for our bugs."""
    settings = settings or Settings()
    context = context or BuildContext(None)
    before = parse(text)
    result = _run(text, context, path, settings)
    if not result.changed:
        return result
    _verify(before, result, context, path, settings)
    return result


def _verify(
    before: Dockerfile, result: Result, context: BuildContext, path: str | None, settings: Settings
) -> None:
    try:
        after = parse(result.output)
    except ParseError as exc:
        raise InternalError(f"rewrite does not parse: line {exc.line}: {exc.message}") from exc
    again = _run(result.output, context, path, settings)
    if again.changed:
        raise InternalError("rewrite is not stable: a second run changes it again")
    allowed = set().union(*(t.changes_config for t in settings.enabled()
                            if t.id in {f.transform for f in result.applied}))  # fmt: skip
    old = final_config(Document(before, context).model)
    new = final_config(Document(after, context).model)
    for key in sorted(set(old) | set(new)):
        if key not in allowed and old.get(key) != new.get(key):
            raise InternalError(f"rewrite changed the final image's {key.upper()}")


def rewrite_text(
    text: str, path: str | None = None, context_dir: str | None = None, unsafe: bool = False
) -> str:
    """Convenience wrapper: the rewritten text with default settings."""
    return rewrite(text, path, BuildContext(context_dir), Settings(unsafe=unsafe)).output
