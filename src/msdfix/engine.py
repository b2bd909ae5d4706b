"""Run transforms to a fixed point, then prove the result: parses, stable, same config."""

from __future__ import annotations

import bisect
import gc
import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Finding, Fix, Taken, makes_long_line
from msdfix.foreign_context import foreign_context
from msdfix.ledger import Ledger
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.model.context import ContextTooLarge
from msdfix.model.pending import PendingIgnore, ignore_path
from msdfix.syntax import Dockerfile, ParseError, parse
from msdfix.syntax.parser import MAX_LINE_BYTES
from msdfix.syntax.pragmas import PRAGMA_RE, ignored_here, ignores_file
from msdfix.syntax.validate import validate
from msdfix.transforms import Transform, all_transforms

MAX_PASSES = 5
# Stages built FROM one another in one chain (real files: at most 8 of 23,664 in the corpus
# and bulk). Analyses walk each stage's chain, so a chain of thousands is quadratic.
MAX_CHAIN = 64
LINE_REF = re.compile(r"\b(line) (\d+)\b")  # "line N" in a message, N in the text it saw


def tune_gc() -> None:
    """Make the cyclic GC cheaper for batch runs over many files.

    Rewriting allocates many short-lived objects while parse and shell caches stay alive; they
    are freed by reference counting (a parsed file makes no cycles), so a collection mostly
    rescans live objects: one file's work in flight and the caches. Freeze what exists at
    start-up and collect rarely (every 100,000 net new objects: 0.1 s of GC over the corpus
    instead of 1.1 s at 10,000, see bench/speed.py); memory stays bounded (cycles are still
    collected).
    """
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)


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
    applied: list[Finding] = field(default_factory=list)  # each with its fix
    # Fixes not applied (unsafe or display-only) and explanations (findings without a fix).
    suggestions: list[Finding] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    # Other files the applied fixes create or extend: path -> (old text or None, new text).
    files: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)  # composed: the original into the output

    @property
    def changed(self) -> bool:
        """True when the output differs from the input, or another file changes."""
        return self.output != self.original or bool(self.files)


def _suppressed(dockerfile: Dockerfile, finding: Finding) -> bool:
    fix = finding.fix
    if fix and fix.edits:
        ins = dockerfile.instruction_at(fix.span[0])
    else:
        ins = dockerfile.instruction_on_line(finding.line)
    return ins is not None and ignored_here(dockerfile, ins, finding.transform)


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


def _apply_files(result: Result, fix: Fix, context: BuildContext) -> BuildContext:
    """Record the fix's file changes; the context later passes see (the ignore file's text)."""
    for change in fix.file_changes:
        old = result.files[change.path][0] if change.path in result.files else change.old
        result.files[change.path] = (old, change.new)
        if str(ignore_path(context)) == change.path:
            context = PendingIgnore(context, change.new)
    return context


def _check(transform: Transform, doc: Document) -> list[Finding]:
    """The transform's findings, or why it left the file alone when its context is too
    large to list (a file missing from a partial list is unknown, not absent)."""
    try:
        return list(transform.check(doc))
    except ContextTooLarge as exc:
        return [Finding(transform.id, f"{exc}, so this transform left the file alone", 1, 1)]


FOREIGN = "msdfix reads none of its files (give the context with --context DIR)"
WINDOWS = (
    "a Windows Dockerfile (backtick escape, PowerShell or cmd SHELL, or a Windows base image): "
    "only build-checks apply to it"
)


def _wanted(fix: Fix, settings: Settings) -> bool:
    if fix.applicability is Applicability.SAFE:
        return True
    return fix.applicability is Applicability.UNSAFE and settings.unsafe


def _long_line(finding: Finding) -> Finding:
    """Why a fix whose rewrite would hold a line BuildKit cannot read is not applied."""
    message = (
        f"not applied ({finding.message}): it would make a line longer than "
        f'{MAX_LINE_BYTES:,} bytes, which BuildKit refuses ("dockerfile line greater than '
        'max allowed size")'
    )
    return Finding(finding.transform, message, finding.line, finding.end_line)


def _run(text: str, context: BuildContext, path: str | None, settings: Settings) -> Result:
    result = Result(text, text, warnings=_pragma_warnings(_parse_cached(text)))
    if ignores_file(text):
        return result
    transforms = [t() for t in settings.enabled()]
    run_mounts = "cache-mount" not in settings.ignore  # how users say the builder lacks them
    mounting = any(t.id == "cache-mount" for t in transforms)
    if Document(_reparse(result), context, path, run_mounts).is_windows:
        result.warnings.append((1, WINDOWS))
    ledger = Ledger(text)  # edits applied so far, as edits of the original
    quiet_on: dict[str, str] = {}  # transform id -> a text it changed nothing in
    suggestions_of: dict[str, list[Finding]] = {}  # latest explanations and suggestions
    declined: list[Finding] = []  # unsafe/display-only fixes not applied, from every pass
    # (transform, line) -> the first pass that declined a fix there: a later pass proposes
    # the same fix again on msdfix's own rewrite, with reasons about that text (a split seen
    # after reorder-copy's mounts: "the install at line 4 mounts files")
    declined_in: dict[tuple[str, int], int] = {}
    for pass_no in range(MAX_PASSES):
        changed = False
        for transform in transforms:
            if quiet_on.get(transform.id) == result.output:
                continue  # deterministic: same text, same (empty) answer
            doc = Document(
                _reparse(result), context, path, run_mounts, ledger.original_of, mounting
            )
            taken = Taken()
            edits: list[tuple[Edit, Fix]] = []
            suggestions: list[Finding] = []
            for finding in _check(transform, doc):
                if _suppressed(doc.dockerfile, finding):
                    continue
                _locate_in_original(finding, doc.dockerfile, ledger)
                fix = finding.fix
                if fix is None:
                    suggestions.append(finding)  # an explanation
                    continue
                if fix.file_changes and not fix.edits and _wanted(fix, settings):
                    context = _apply_files(result, fix, context)
                    result.applied.append(finding)
                    quiet_on.clear()  # the context changed: every transform looks again
                    changed = True
                    continue
                if not _wanted(fix, settings) or taken.overlaps(fix):
                    fix.original_edits = _in_original(fix.edits, ledger)
                    suggestions.append(finding)
                    if not _wanted(fix, settings):
                        first = declined_in.setdefault((transform.id, finding.line), pass_no)
                        if first == pass_no:
                            declined.append(finding)
                    continue
                if makes_long_line(result.output, fix.edits + taken.near(fix, result.output)):
                    suggestions.append(_long_line(finding))
                    continue
                taken.add(fix)
                edits += [(e, fix) for e in fix.edits]
                result.applied.append(finding)
            suggestions_of[transform.id] = suggestions
            if edits:
                ledger.record(edits)
                result.output = ledger.current
                changed = True
            elif not any(
                f.fix and f.fix.file_changes for f in result.applied if f.transform == transform.id
            ):
                quiet_on[transform.id] = result.output
        if not changed:
            # Explanations as of the final text; unsafe alternatives even when the text they
            # were proposed on has changed since (e.g. an unsafe split next to the safe one).
            final = [s for t in transforms for s in suggestions_of.get(t.id, []) if s.fix is None]
            seen: set[tuple[str, str]] = set()
            result.suggestions = []
            told: dict[tuple[str, int], list[str]] = {}  # one lookup per finding: linear
            for f in result.applied:
                told.setdefault((f.transform, f.line), []).append(f.message)
            for finding in declined + final:
                if any(
                    finding.message in message
                    for message in told.get((finding.transform, finding.line), ())
                ):
                    continue  # the applied fix of that line already says it
                if (finding.transform, finding.message) not in seen:
                    seen.add((finding.transform, finding.message))
                    result.suggestions.append(finding)
            _settle(result, ledger)
            return result
    raise InternalError(f"no fixed point after {MAX_PASSES} passes")


def line_count(text: str) -> int:
    """Lines of ``text`` as BuildKit and editors count them (``\n``-separated, at least 1)."""
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def _original_line(line: int, current: Dockerfile, ledger: Ledger) -> int:
    """Line ``line`` of the current text, as a line number of the original text."""
    starts = _line_starts(current.text)
    start = starts[line - 1] if 0 < line <= len(starts) else 0
    return _line_of(ledger.original, ledger.original_line_start(start))


def _line_of(text: str, offset: int) -> int:
    """The line number of ``offset`` >= 0 (``text.count("\\n", 0, offset) + 1``, by bisection)."""
    return bisect.bisect_right(_line_starts(text), offset)


@lru_cache(maxsize=8)
def _line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts (no match object per line)."""
    return list(itertools.accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))


def _locate_in_original(finding: Finding, current: Dockerfile, ledger: Ledger) -> None:
    """Make ``finding.line``/``end_line`` and the lines its message names refer to the
    original text, as users read it."""
    if not ledger.changes:
        return
    line = _original_line(finding.line, current, ledger)
    finding.end_line, finding.line = line + finding.end_line - finding.line, line
    finding.message = LINE_REF.sub(
        lambda m: f"{m.group(1)} {_original_line(int(m.group(2)), current, ledger)}",
        finding.message,
    )


def _in_original(edits: list[Edit], ledger: Ledger) -> list[Edit] | None:
    """Edits of the current text as edits of the original, or None when they touch changes."""
    if not all(ledger.untouched(e.start, e.end) for e in edits):
        return None
    return [Edit(ledger.to_original(e.start), ledger.to_original(e.end), e.content) for e in edits]


def _settle(result: Result, ledger: Ledger) -> None:
    """Final bookkeeping: each applied fix's edits of the original; lines within the file."""
    if not ledger.check():
        raise InternalError("composed edits do not reproduce the rewrite")
    original = result.original
    result.edits = [Edit(c.start, c.end, c.content) for c in ledger.changes]
    owned = ledger.edits_by_owner()
    for finding in result.applied:
        assert finding.fix is not None
        finding.fix.original_edits = owned.get(id(finding.fix), [])
    last = line_count(original)
    applied = {id(f) for f in result.applied}
    for finding in result.applied + result.suggestions:
        fix = finding.fix
        spans = list(ledger.spans.get(id(fix), [])) if id(finding) in applied else []
        spans += [(e.start, e.end) for e in fix.original_edits or []] if fix else []
        lines = [finding.line, finding.end_line]
        for start, end in spans:  # the lines the fix edits, as well as its instruction's
            lines += [_line_of(original, start), _line_of(original, max(start, end - 1))]
        finding.line = max(1, min(min(lines), last))
        finding.end_line = max(finding.line, min(max(lines), last))


def _pragma_warnings(dockerfile: Dockerfile) -> list[tuple[int, str]]:
    """Pragmas that name a transform no transform has (a typo silently ignores nothing)."""
    if "msdfix" not in dockerfile.text.lower():
        return []
    known = {t.id for t in all_transforms()}
    heredoc_lines = {
        line
        for ins in dockerfile.instructions
        for doc in ins.heredocs
        for line in range(
            dockerfile.text.count("\n", 0, doc.body_start) + 1,
            dockerfile.text.count("\n", 0, doc.body_end) + 1,
        )
    }
    warnings = []
    for number, line in enumerate(dockerfile.text.split("\n"), 1):
        stripped = line.lstrip(" \t\ufeff")
        match = PRAGMA_RE.match(stripped) if stripped.startswith("#") else None
        if match is None or match.group(1) is None or number in heredoc_lines:
            continue
        for name in (i.strip() for i in match.group(1).split(",")):
            if name not in known:
                warnings.append((number, f"unknown transform id '{name}' in pragma"))
    return warnings


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
    deep = _too_deep(before)
    if deep is not None:
        return Result(text, text, warnings=[deep])
    foreign = foreign_context(Document(before, context).model, context)
    if foreign is not None:  # what the folder holds says nothing about what the build sees
        context = BuildContext(None)
    result = _run(text, context, path, settings)
    if foreign is not None:
        line, why = foreign
        result.warnings.insert(
            0, (line, f"{why}, so that folder is not the build context: {FOREIGN}")
        )
    if not result.changed:
        return result
    _verify(before, result, context, settings)
    return result


def _too_deep(dockerfile: Dockerfile) -> tuple[int, str] | None:
    """Why the file is left unchanged when a stage sits on a chain longer than MAX_CHAIN."""
    depth: dict[int, int] = {}
    for stage in Document(dockerfile, BuildContext(None)).model.stages:
        parent = stage.parent  # always an earlier stage
        depth[id(stage)] = 1 + (depth.get(id(parent), 0) if parent is not None else 0)
        if depth[id(stage)] > MAX_CHAIN:
            return stage.from_.start_line, (
                f"left unchanged: stage {stage.name} is built on a chain of more than "
                f"{MAX_CHAIN} stages (each FROM the one before), more than msdfix analyses"
            )
    return None


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
    allowed.update(*(f.fix.changes_config for f in result.applied if f.fix))
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
