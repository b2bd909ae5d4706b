"""GitHub Actions workflow commands: one annotation per finding, on the ORIGINAL file's lines.

``::warning file=F,line=L,endLine=E,title=T::message`` for applied fixes and unsafe
suggestions, ``::notice`` for things deliberately left unchanged, ``::error`` for files that
could not be processed. Lines are those of the ORIGINAL file (the same as in the summary),
so annotations land on the lines a pull request shows.
"""

from __future__ import annotations

import os

from msdfix.fixes import Applicability, FileChange, Finding
from msdfix.render.diff import split_lines
from msdfix.render.quoting import lossy, printable
from msdfix.render.regions import rewritten_lines
from msdfix.render.report import FileReport

MAX_SNIPPET_LINES = 20


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_path(path: str) -> str:
    """The ``file=`` of an annotation: relative to ``$GITHUB_WORKSPACE`` (the checkout, which
    the runner reads relative paths against) when the file is under it, as ruff writes it;
    otherwise as displayed (a run from a subfolder put its annotations on no file)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace or path == "-":
        return path
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(workspace))
    return path if relative.startswith(os.pardir) else relative.replace(os.sep, "/")


def command(kind: str, path: str, line: int, end_line: int, title: str, message: str) -> str:
    """One workflow command line. Control characters of the input (a path, a Dockerfile's
    words in a message or snippet) are escaped as in the summary (``printable``): an escape
    sequence acted in the terminal and in the log view; the message keeps its own newlines."""
    props = ",".join(
        [
            f"file={escape_property(printable(lossy(annotation_path(path))))}",
            f"line={line}",
            f"endLine={end_line}",
            f"title={escape_property(printable(title))}",
        ]
    )
    text = "\n".join(printable(part) for part in message.split("\n"))
    return f"::{kind} {props}::{escape_data(text)}\n"


def _snippet(text: str) -> str:
    lines = [line.removesuffix("\n").removesuffix("\r") for line in split_lines(text)]
    shown = lines[:MAX_SNIPPET_LINES]
    more = len(lines) - len(shown)
    return "\n".join(shown) + (f"\n... ({more} more lines)" if more > 0 else "")


def _files_snippet(changes: list[FileChange]) -> str:
    """What a fix that only writes other files (``.dockerignore``) adds to each: such a fix is
    shown on the first FROM, whose own text it leaves alone ("msdfix rewrites these lines to:
    FROM ..." said otherwise)."""
    out = ""
    for change in changes:
        old = change.old or ""
        added = change.new[len(old) :] if change.new.startswith(old) else change.new
        verb = "creates" if change.old is None else "adds to"
        out += f"\n\nmsdfix {verb} {lossy(change.path)}:\n" + _snippet(added)
    return out


def _suggestion(path: str, finding: Finding) -> str:
    region = (finding.line, finding.end_line)
    fix = finding.fix
    if fix is None:
        return command("notice", path, *region, f"msdfix {finding.transform}",
                       f"left unchanged: {finding.message}")  # fmt: skip
    unsafe = fix.applicability is Applicability.UNSAFE
    hint = "use --unsafe-fixes to apply" if unsafe else "display-only: shown, never applied"
    kind = "warning" if unsafe else "notice"
    title = f"msdfix {finding.transform} ({fix.applicability.value}, not applied)"
    return command(kind, path, *region, title, f"{finding.message} ({hint})")


def file_annotations(report: FileReport) -> list[str]:
    """Annotations for one file."""
    if report.error:
        return [command("error", report.path, report.error_line, report.error_line, "msdfix",
                        report.error)]  # fmt: skip
    if report.result is None:
        return []
    result = report.result
    out = []
    for fix in result.applied:
        message = fix.message
        new = rewritten_lines(result, fix.line, fix.end_line)
        if fix.fix is not None and fix.fix.file_changes and not fix.fix.edits:
            message += _files_snippet(fix.fix.file_changes)  # not the FROM it is shown on
        elif new:
            message += "\n\nmsdfix rewrites these lines to:\n" + _snippet(new)
        else:
            message += "\n\nmsdfix removes these lines."
        out.append(command("warning", report.path, fix.line, fix.end_line,
                           f"msdfix {fix.transform}", message))  # fmt: skip
    out += [_suggestion(report.path, fix) for fix in result.suggestions]
    return out


def github_report(reports: list[FileReport]) -> str:
    """Workflow annotations for ``msdfix --output-format github``."""
    return "".join(line for report in reports for line in file_annotations(report))
