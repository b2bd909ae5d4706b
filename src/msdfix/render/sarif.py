"""SARIF 2.1.0: one result per fix, with ``fixes`` computed against the ORIGINAL file.

Engine fixes are text edits against whatever text a transform saw (later passes see earlier
rewrites), so the replacements in ``fixes`` are recomputed here from the original and the
rewritten text: line blocks from difflib, each given to the applied fix nearest to it. Applying
the replacements of every result of a file to the original gives exactly the rewritten file.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import PurePath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from msdfix import __version__
from msdfix.engine import Result
from msdfix.fixes import Applicability, Fix
from msdfix.render.report import FileReport
from msdfix.transforms import all_transforms

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Block:
    """Original lines ``[old_start, old_end)`` (0-based) became ``[new_start, new_end)``."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int
    char_offset: int
    char_length: int
    inserted: str


def changed_blocks(original: str, output: str) -> list[Block]:
    """Changed line blocks between two texts, with character offsets into ``original``."""
    old, new = original.splitlines(keepends=True), output.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    blocks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            inserted = "".join(new[j1:j2])
            blocks.append(Block(i1, i2, j1, j2, starts[i1], starts[i2] - starts[i1], inserted))
    return blocks


def old_line(original: str, output: str, new_line: int) -> int:
    """The 1-based line of ``original`` that line ``new_line`` of ``output`` comes from."""
    old, new = original.splitlines(keepends=True), output.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    index = new_line - 1
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if j1 <= index < j2:
            return min(i1 + (index - j1), max(i2 - 1, i1)) + 1
    return max(1, min(new_line, len(old)))


def distance(fix: Fix, block: Block) -> int:
    """0 when the fix's lines touch the block's original lines, else the gap in lines."""
    lo, hi = block.old_start + 1, max(block.old_end, block.old_start + 1)
    if fix.end_line < lo:
        return lo - fix.end_line
    if fix.line > hi:
        return fix.line - hi
    return 0


def assign_blocks(applied: list[Fix], blocks: list[Block]) -> dict[int, list[Block]]:
    """Give every changed block to the nearest applied fix (index into ``applied``)."""
    owned: dict[int, list[Block]] = {i: [] for i in range(len(applied))}
    candidates = [i for i, f in enumerate(applied) if f.edits] or list(range(len(applied)))
    if not candidates:
        return owned
    for block in blocks:
        best = min(candidates, key=lambda i: (distance(applied[i], block), i))
        owned[best].append(block)
    return owned


def fix_region(fix: Fix, blocks: list[Block], line_count: int) -> tuple[int, int]:
    """1-based (start, end) lines of the original that a fix changed (its blocks when known)."""
    if blocks:
        start = min(b.old_start for b in blocks) + 1
        end = max(max(b.old_end, b.old_start + 1) for b in blocks)
    else:
        start, end = fix.line, fix.end_line
    top = max(line_count, 1)
    start = max(1, min(start, top))
    return start, max(start, min(end, top))


def suggestion_region(result: Result, fix: Fix) -> tuple[int, int]:
    """Original lines of a suggestion (its lines refer to the final text of the rewrite)."""
    lines = len(result.original.splitlines())
    if not result.changed:
        return fix_region(fix, [], lines)
    start = old_line(result.original, result.output, fix.line)
    end = max(start, old_line(result.original, result.output, fix.end_line))
    return start, min(end, max(lines, 1))


def artifact_uri(path: str) -> str:
    """A URI reference for a displayed path (relative stays relative, / separators)."""
    if path == "-":
        return "stdin"
    if sys.platform == "win32":  # pragma: no cover
        path = PureWindowsPath(path).as_posix()
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def doc_sections(doc: str) -> dict[str, str]:
    """A transform docstring's sections ("What it does", "Why", ...) as single-line texts."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in doc.splitlines()[1:]:
        if line and not line[0].isspace():
            current = line.strip()
            sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line.strip())
    return {name: " ".join(words) for name, words in sections.items()}


def _rules() -> tuple[list[dict[str, Any]], dict[str, int]]:
    rules, index = [], {}
    for position, transform in enumerate(all_transforms()):
        doc = (sys.modules[transform.__module__].__doc__ or "").strip()
        sections = doc_sections(doc)
        full = " ".join(sections[k] for k in ("What it does", "Why") if sections.get(k))
        help_text = "\n\n".join(f"{name}: {text}" for name, text in sections.items())
        rules.append(
            {
                "id": transform.id,
                "name": "".join(part.title() for part in transform.id.split("-")),
                "shortDescription": {"text": transform.title},
                "fullDescription": {"text": full or transform.title},
                "help": {"text": help_text or transform.title},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"tags": ["dockerfile", "optimization"]},
            }
        )
        index[transform.id] = position
    return rules, index


def _location(uri: str, start: int, end: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": start, "endLine": end},
        }
    }


def _replacement(offset: int, length: int, inserted: str) -> dict[str, Any]:
    replacement: dict[str, Any] = {"deletedRegion": {"charOffset": offset, "charLength": length}}
    if inserted:
        replacement["insertedContent"] = {"text": inserted}
    return replacement


def _result(
    fix: Fix, rule_index: dict[str, int], uri: str, region: tuple[int, int], applied: bool
) -> dict[str, Any]:
    if applied:
        text = f"{fix.message} (fixed by msdfix)"
        level = "warning"
    elif not fix.edits:
        text = f"left unchanged: {fix.message}"
        level = "note"
    else:
        text = f"{fix.message} ({fix.applicability.value} fix, not applied; use --unsafe-fixes)"
        level = "warning" if fix.applicability is Applicability.UNSAFE else "note"
    result: dict[str, Any] = {
        "ruleId": fix.transform,
        "level": level,
        "message": {"text": text},
        "locations": [_location(uri, *region)],
        "properties": {"applicability": fix.applicability.value, "applied": applied},
    }
    if fix.transform in rule_index:
        result["ruleIndex"] = rule_index[fix.transform]
    return result


def _fix(fix: Fix, uri: str, replacements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    change = {"artifactLocation": {"uri": uri}, "replacements": replacements}
    description = {"text": f"{fix.transform}: {fix.message}"}
    return [{"description": description, "artifactChanges": [change]}]


def file_results(report: FileReport, rule_index: dict[str, int]) -> list[dict[str, Any]]:
    """SARIF results for one file (applied fixes, then suggestions)."""
    if report.result is None:
        return []
    result = report.result
    uri = artifact_uri(report.path)
    lines = len(result.original.splitlines())
    blocks = changed_blocks(result.original, result.output)
    owned = assign_blocks(result.applied, blocks)
    out = []
    for i, fix in enumerate(result.applied):
        item = _result(fix, rule_index, uri, fix_region(fix, owned[i], lines), True)
        if owned[i]:
            reps = [_replacement(b.char_offset, b.char_length, b.inserted) for b in owned[i]]
            item["fixes"] = _fix(fix, uri, reps)
        out.append(item)
    for fix in result.suggestions:
        item = _result(fix, rule_index, uri, suggestion_region(result, fix), False)
        if fix.edits and not result.changed:
            # Unchanged file: the suggestion's edits are offsets into the original itself.
            edits = sorted(fix.edits, key=lambda e: e.start)
            item["fixes"] = _fix(fix, uri, [_replacement(e.start, e.end - e.start, e.content)
                                            for e in edits])  # fmt: skip
        out.append(item)
    return out


def _notification(report: FileReport) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": report.error or "error"},
        "locations": [_location(artifact_uri(report.path), report.error_line, report.error_line)],
    }


def sarif_log(reports: list[FileReport]) -> dict[str, Any]:
    """The SARIF log object for a run over ``reports``."""
    rules, rule_index = _rules()
    results = [r for report in reports for r in file_results(report, rule_index)]
    errors = [_notification(r) for r in reports if r.error]
    invocation: dict[str, Any] = {"executionSuccessful": not any(r.internal for r in reports)}
    if errors:
        invocation["toolExecutionNotifications"] = errors
    run = {
        "tool": {
            "driver": {
                "name": "msdfix",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def sarif_report(reports: list[FileReport]) -> str:
    """SARIF 2.1.0 JSON text for ``msdfix --output-format sarif``."""
    return json.dumps(sarif_log(reports), indent=2) + "\n"


def apply_replacements(original: str, replacements: list[dict[str, Any]]) -> str:
    """Apply SARIF replacements (charOffset/charLength regions) to ``original``; for tests/tools."""
    out, pos = [], 0
    for rep in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"]):
        start = rep["deletedRegion"]["charOffset"]
        if start < pos:
            raise ValueError("overlapping replacements")
        out.append(original[pos:start])
        out.append(rep.get("insertedContent", {}).get("text", ""))
        pos = start + rep["deletedRegion"]["charLength"]
    out.append(original[pos:])
    return "".join(out)
