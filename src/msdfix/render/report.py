"""Per-file summaries (stderr, coloured on a terminal) and the JSON report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from msdfix.engine import Result
from msdfix.fixes import Applicability, Finding
from msdfix.render.diff import files_diff, unified_diff
from msdfix.render.quoting import lossy, printable, shown_path
from msdfix.transforms import REGISTRY

JSON_VERSION = 3  # 3: explanations moved from ``fixes`` to ``notes`` (findings without a fix)


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
    encoding: str = "utf-8"  # the file's encoding, for writing the rewrite back

    @property
    def changed(self) -> bool:
        """True when the rewrite differs from the input."""
        return self.result is not None and self.result.changed

    def error_line_text(self) -> str:
        """The one-line error, ``path:line: error: message``."""
        return f"{shown_path(self.path)}:{self.error_line}: error: {printable(self.error or '')}"


def _tag(finding: Finding, applied: bool) -> tuple[str, str]:
    """The transform id with its status, and the colour it is shown in."""
    fix = finding.fix
    if applied:
        return finding.transform, "green"
    if fix is None:
        return f"{finding.transform} (left unchanged)", "dim"
    if fix.applicability is Applicability.UNSAFE:
        return f"{finding.transform} (unsafe, not applied)", "yellow"
    return f"{finding.transform} ({fix.applicability.value}, not applied)", "dim"


def fix_line(finding: Finding, applied: bool) -> str:
    """One summary line for a finding."""
    return _fix_text(finding, applied).plain


def _fix_text(finding: Finding, applied: bool) -> Text:
    tag, style = _tag(finding, applied)
    text = Text("  ")
    text.append(f"line {finding.line}", "cyan")
    text.append(": ")
    text.append(tag, style)
    text.append(f": {printable(finding.message)}")
    return text


def summary_text(report: FileReport, write: bool) -> list[Text]:
    """Human summary of one file for stderr: fixes and suggestions in line order."""
    if report.error:
        return [_diagnostic(report.path, report.error_line, "error", report.error)]
    assert report.result is not None
    result = report.result
    out = [_diagnostic(report.path, line, "warning", msg) for line, msg in result.warnings]
    if result.changed:
        verb = "rewritten" if report.written else "would be rewritten"
        ids = sorted({f.transform for f in result.applied})
        out.append(Text.assemble((shown_path(report.path), "bold"), f": {verb} ({', '.join(ids)})"))
    elif any(f.fix for f in result.suggestions):
        out.append(Text.assemble((shown_path(report.path), "bold"), ": suggestions not applied"))
    elif result.suggestions:  # only explanations: nothing was suggested
        out.append(Text.assemble((shown_path(report.path), "bold"), ": left unchanged"))
    entries = [(f.line, 0, f, True) for f in result.applied]
    entries += [(f.line, 1, f, False) for f in result.suggestions]
    out += [_fix_text(fix, applied) for _, _, fix, applied in sorted(entries, key=_entry_key)]
    out += [Text(f"  note: {printable(n)}", "dim") for n in report.notes]
    return out


def _entry_key(entry: tuple[int, int, Finding, bool]) -> tuple[int, int]:
    return entry[0], entry[1]


def _diagnostic(path: str, line: int, kind: str, message: str) -> Text:
    """``path:line: error: message`` (one line, grep-able, coloured by kind); control characters
    of the path and message (from file names and Dockerfile text) are escaped."""
    style = "bold red" if kind == "error" else "yellow"
    return Text.assemble(
        (f"{shown_path(path)}:{line}", "bold"), ": ", (kind, style), f": {printable(message)}"
    )


def summary_lines(report: FileReport, write: bool) -> list[str]:
    """The summary of one file as plain lines."""
    return [text.plain for text in summary_text(report, write)]


def unsafe_withheld(reports: list[FileReport]) -> int:
    """How many unsafe fixes were shown but not applied."""
    return sum(
        1
        for r in reports
        if r.result is not None
        for f in r.result.suggestions
        if f.fix is not None and f.fix.applicability is Applicability.UNSAFE
    )


def _title(finding: Finding) -> str:
    transform = REGISTRY.get(finding.transform)
    return transform.title if transform else finding.transform


def _note_json(finding: Finding) -> dict[str, Any]:
    """An explanation: a finding without a fix."""
    return {
        "transform": finding.transform,
        "title": _title(finding),
        "message": finding.message,
        "line": finding.line,
        "end_line": finding.end_line,
    }


def _fix_json(finding: Finding, applied: bool) -> dict[str, Any]:
    fix = finding.fix
    assert fix is not None
    edits = fix.original_edits or []
    return {
        "transform": finding.transform,
        "title": _title(finding),
        "applicability": fix.applicability.value,
        "applied": applied,
        "message": finding.message,
        "line": finding.line,
        "end_line": finding.end_line,
        "edits": [{"start": e.start, "end": e.end, "content": e.content} for e in edits],
    }


def file_json(report: FileReport) -> dict[str, Any]:
    """JSON object for one file; ``edits`` are offsets into the ORIGINAL input (see README)."""
    data: dict[str, Any] = {
        "path": lossy(report.path),
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
    data["warnings"] = [{"line": line, "message": msg} for line, msg in result.warnings]
    data["fixes"] = [_fix_json(f, True) for f in result.applied] + [
        _fix_json(f, False) for f in result.suggestions if f.fix is not None
    ]
    data["notes"] = [_note_json(f) for f in result.suggestions if f.fix is None]
    data["diff"] = (
        unified_diff(result.original, result.output, report.path, result.edits)
        if result.changed
        else ""
    )
    data["extra_files"] = [
        {
            "path": lossy(path),
            "created": old is None,
            "content": new,
            "diff": files_diff({path: (old, new)}),
        }
        for path, (old, new) in sorted(result.files.items())
    ]
    return data


def json_report(reports: list[FileReport]) -> str:
    """The whole run as JSON."""
    return json_text([file_json(r) for r in reports])


def json_text(files: list[dict[str, Any]]) -> str:
    """The whole run as JSON, from every file's ``file_json``."""
    return json.dumps({"version": JSON_VERSION, "files": files}, indent=2) + "\n"
