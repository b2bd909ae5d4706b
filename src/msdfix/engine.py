"""Run transforms to a fixed point, then prove the result: parses, stable, same config."""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from functools import lru_cache

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Fix, apply_edits, overlaps
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.syntax import Dockerfile, Instruction, ParseError, parse
from msdfix.syntax.validate import validate
from msdfix.transforms import Transform, all_transforms

MAX_PASSES = 5
PRAGMA_RE = re.compile(r"#\s*msdfix:\s*ignore(?:\[([^\]]*)\])?\s*$", re.IGNORECASE)
LINE_REF = re.compile(r"\b(line) (\d+)\b")  # "line N" in a message, N in the text it saw
FILE_PRAGMA_RE = re.compile(r"^\s*#\s*msdfix:\s*ignore-file\b", re.IGNORECASE | re.MULTILINE)


def tune_gc() -> None:
    """Make the cyclic GC cheaper for batch runs over many files.

    Rewriting allocates many short-lived objects while parse and shell caches stay alive, so
    with the default thresholds the collector keeps rescanning the caches (about a fifth of
    the run time over the corpus, see bench/speed.py). Freeze what exists at start-up and
    collect less often; memory stays bounded (cycles are still collected).
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


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


@lru_cache(maxsize=16)
def _parse_cached(text: str) -> Dockerfile:
    """Parse once per distinct text: passes and the stability check re-read the same text."""
    return parse(text)


def _reparse(result: Result) -> Dockerfile:
    """Parse the current output; a parse error after our own edits is our bug."""
    try:
        return _parse_cached(result.output)
    except ParseError as exc:
        if not result.changed:
            raise
        raise InternalError(f"rewrite does not parse: line {exc.line}: {exc.message}") from exc


def _wanted(fix: Fix, settings: Settings) -> bool:
    if fix.applicability is Applicability.SAFE:
        return True
    return fix.applicability is Applicability.UNSAFE and settings.unsafe


def _run(text: str, context: BuildContext, path: str | None, settings: Settings) -> Result:
    result = Result(text, text)
    if FILE_PRAGMA_RE.search(text):
        return result
    transforms = [t() for t in settings.enabled()]
    batches: list[list[Edit]] = []  # edits applied so far, to report lines of the original
    quiet_on: dict[str, str] = {}  # transform id -> a text it changed nothing in
    suggestions_of: dict[str, list[Fix]] = {}  # latest explanations and suggestions per transform
    declined: list[Fix] = []  # unsafe/display-only fixes not applied, from every pass
    for _ in range(MAX_PASSES):
        changed = False
        for transform in transforms:
            if quiet_on.get(transform.id) == result.output:
                continue  # deterministic: same text, same (empty) answer
            doc = Document(_reparse(result), context, path)
            taken: list[tuple[int, int]] = []
            edits = []
            suggestions: list[Fix] = []
            for fix in transform.check(doc):
                if _suppressed(doc.dockerfile, fix):
                    continue
                _locate_in_original(fix, doc.dockerfile, batches, text)
                if not fix.edits or not _wanted(fix, settings) or overlaps(fix, taken):
                    suggestions.append(fix)
                    if fix.edits and not _wanted(fix, settings):
                        declined.append(fix)
                    continue
                taken += [(e.start, e.end) for e in fix.edits]
                edits += fix.edits
                result.applied.append(fix)
            suggestions_of[transform.id] = suggestions
            if edits:
                result.output = apply_edits(result.output, edits)
                batches.append(sorted(edits, key=lambda e: (e.start, e.end)))
                changed = True
            else:
                quiet_on[transform.id] = result.output
        if not changed:
            # Explanations as of the final text; unsafe alternatives even when the text they
            # were proposed on has changed since (e.g. an unsafe split next to the safe one).
            final = [s for t in transforms for s in suggestions_of.get(t.id, []) if not s.edits]
            seen: set[tuple[str, str]] = set()
            result.suggestions = []
            told = [(f.transform, f.line, f.message) for f in result.applied]
            for fix in declined + final:
                if any(
                    t == fix.transform and line == fix.line and fix.message in message
                    for t, line, message in told
                ):
                    continue  # the applied fix of that line already says it
                if (fix.transform, fix.message) not in seen:
                    seen.add((fix.transform, fix.message))
                    result.suggestions.append(fix)
            return result
    raise InternalError(f"no fixed point after {MAX_PASSES} passes")


def _map_back(offset: int, batches: list[list[Edit]]) -> int:
    """An offset in the current text, as an offset in the original text."""
    for batch in reversed(batches):
        shift = 0
        for edit in batch:
            new_start = edit.start + shift
            if offset < new_start:
                break
            if offset < new_start + len(edit.content):
                offset = edit.start + shift
                break
            shift += len(edit.content) - (edit.end - edit.start)
        offset -= shift
    return offset


def _original_line(line: int, current: Dockerfile, batches: list[list[Edit]], original: str) -> int:
    """Line ``line`` of the current text, as a line number of the original text."""
    start = 0
    for _ in range(line - 1):  # offset of the line, without splitting the text
        start = current.text.find("\n", start) + 1
    return original.count("\n", 0, _map_back(start, batches)) + 1


def _locate_in_original(
    fix: Fix, current: Dockerfile, batches: list[list[Edit]], original: str
) -> None:
    """Make ``fix.line``/``end_line`` and the lines its message names refer to the original
    text, as users read it."""
    if not batches:
        return
    line = _original_line(fix.line, current, batches, original)
    fix.end_line, fix.line = line + fix.end_line - fix.line, line
    fix.message = LINE_REF.sub(
        lambda m: f"{m.group(1)} {_original_line(int(m.group(2)), current, batches, original)}",
        fix.message,
    )


def rewrite(
    text: str,
    path: str | None = None,
    context: BuildContext | None = None,
    settings: Settings | None = None,
) -> Result:
    """Rewrite ``text``; raise ParseError for bad input and InternalError for our bugs."""
    settings = settings or Settings()
    context = context or BuildContext(None)
    before = _parse_cached(text)
    validate(before)
    result = _run(text, context, path, settings)
    if not result.changed:
        return result
    _verify(before, result, context, settings)
    return result


def _verify(before: Dockerfile, result: Result, context: BuildContext, settings: Settings) -> None:
    try:
        after = _parse_cached(result.output)
        validate(after)
    except ParseError as exc:
        raise InternalError(f"rewrite does not parse: line {exc.line}: {exc.message}") from exc
    # Stability needs no second run: _run only returns after a full pass of every enabled
    # transform over the final output proposed nothing, which is exactly what a second run does.
    used = {f.transform for f in result.applied}
    allowed = set().union(*(t.changes_config for t in settings.enabled() if t.id in used))
    allowed.update(*(f.changes_config for f in result.applied))
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
