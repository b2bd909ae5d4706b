"""Per-file summaries (stderr) and the JSON report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from msdfix.engine import Result
from msdfix.fixes import Fix
from msdfix.render.diff import unified_diff
from msdfix.transforms import REGISTRY


@dataclass
class FileReport:
    """What happened to one input."""

    path: str
    result: Result | None = None
    error: str | None = None
    error_line: int = 1
    internal: bool = False
    written: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the rewrite differs from the input."""
        return self.result is not None and self.result.changed

    def error_line_text(self) -> str:
        """The one-line error, ``path:line: error: message``."""
        return f"{self.path}:{self.error_line}: error: {self.error}"


def fix_line(fix: Fix, applied: bool) -> str:
    """One summary line for a fix."""
    if applied:
        tag = fix.transform
    elif not fix.edits:
        tag = f"{fix.transform} (left unchanged)"
    else:
        tag = f"{fix.transform} ({fix.applicability.value}, not applied)"
    return f"  line {fix.line}: {tag}: {fix.message}"


def summary_lines(report: FileReport, write: bool) -> list[str]:
    """Human summary of one file for stderr."""
    if report.error:
        return [report.error_line_text()]
    assert report.result is not None
    lines: list[str] = []
    result = report.result
    if result.changed:
        verb = "rewritten" if report.written else "would be rewritten"
        ids = sorted({f.transform for f in result.applied})
        lines.append(f"{report.path}: {verb} ({', '.join(ids)})")
        lines += [fix_line(f, True) for f in result.applied]
    if result.suggestions:
        if not result.changed:
            lines.append(f"{report.path}: suggestions not applied")
        lines += [fix_line(f, False) for f in result.suggestions]
        if any(f.applicability.value == "unsafe" for f in result.suggestions):
            lines.append("  (use --unsafe-fixes to apply the unsafe ones)")
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def _fix_json(fix: Fix, applied: bool) -> dict[str, Any]:
    transform = REGISTRY.get(fix.transform)
    return {
        "transform": fix.transform,
        "title": transform.title if transform else fix.transform,
        "applicability": fix.applicability.value,
        "applied": applied,
        "message": fix.message,
        "line": fix.line,
        "end_line": fix.end_line,
        "edits": [{"start": e.start, "end": e.end, "content": e.content} for e in fix.edits],
    }


def file_json(report: FileReport) -> dict[str, Any]:
    """JSON object for one file (edits are offsets into the text each fix was computed on)."""
    data: dict[str, Any] = {
        "path": report.path,
        "changed": report.changed,
        "written": report.written,
    }
    if report.error:
        data["error"] = {
            "line": report.error_line,
            "message": report.error,
            "internal": report.internal,
        }
        return data
    assert report.result is not None
    result = report.result
    data["fixes"] = [_fix_json(f, True) for f in result.applied] + [
        _fix_json(f, False) for f in result.suggestions
    ]
    data["diff"] = (
        unified_diff(result.original, result.output, report.path) if result.changed else ""
    )
    return data


def json_report(reports: list[FileReport]) -> str:
    """The whole run as JSON."""
    return json.dumps({"version": 1, "files": [file_json(r) for r in reports]}, indent=2) + "\n"
