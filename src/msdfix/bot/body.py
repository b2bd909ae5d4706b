"""Pull-request title, body and commit message: every change with its transform, reason, hunk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from msdfix import __version__
from msdfix.bot.policy import body_marker, trailer
from msdfix.fixes import Applicability, Finding
from msdfix.render.diff import split_lines, unified_diff
from msdfix.render.quoting import printable, quote_path
from msdfix.render.report import FileReport

MARKER = "<!-- msdfix:pull-request -->"
BODY_LIMIT = 60000  # GitHub refuses bodies over 65536 characters
TITLE_LIMIT = 256  # and titles over 256
HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
# What GitHub turns into an action: @mentions (notifications), #123 references (and "fixes #1"
# closes an issue on merge), HTML tags. Text from a Dockerfile (paths, package and user names)
# reaches the body through the messages; a zero-width space after the sign keeps it plain text.
_ACTIVE_RE = re.compile(r"([@#])(?=[\w-])|(<)(?=[A-Za-z/!?])")


def code(text: str) -> str:
    """``text`` as an inline code span it cannot leave: newlines and other control characters
    quoted as git quotes a path, and a fence of more backticks than any run inside it (a path
    named ``x<newline>### Verification`` forged a heading, a backtick ended the span)."""
    text = quote_path(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    fence = "`" * (longest + 1)
    return f"{fence}{pad}{text}{pad}{fence}"


def plain(text: str) -> str:
    """``text`` with mentions, issue references and HTML tags made inert for GitHub."""
    return _ACTIVE_RE.sub(lambda m: (m.group(1) or m.group(2)) + "\u200b", text)


@dataclass
class Verification:
    """What ``msdfix verify`` said about one file (``data`` is its JSON, None when skipped)."""

    path: str
    data: dict[str, Any] | None = None
    skipped: str | None = None


@dataclass
class Hunk:
    """One diff hunk with the original lines it covers."""

    text: str
    start: int
    end: int
    fixes: list[Finding] = field(default_factory=list)


def hunks(report: FileReport) -> list[Hunk]:
    """The file's diff split in hunks, each with the applied fixes whose lines it touches."""
    assert report.result is not None
    diff = unified_diff(
        report.result.original, report.result.output, report.path, report.result.edits
    )
    found: list[Hunk] = []
    for line in split_lines(diff):
        match = HUNK_RE.match(line)
        if match:
            start = int(match.group(1))
            count = int(match.group(2) or 1)
            found.append(Hunk(line, max(start, 1), max(start, 1) + max(count, 1) - 1))
        elif found:
            found[-1].text += line
    for fix in report.result.applied:
        for hunk in found:
            if fix.line <= hunk.end and fix.end_line >= hunk.start:
                hunk.fixes.append(fix)
                break
    return found


def title(reports: list[FileReport]) -> str:
    """``msdfix: optimize Dockerfile (cache-mount)``; a path that would make the title longer
    than GitHub takes (256 characters: 422 "title is too long", so no pull request at all) is
    left for the description: ``msdfix: optimize 1 Dockerfile (...)``."""
    changed = [r for r in reports if r.changed]
    ids = sorted({f.transform for r in changed if r.result for f in r.result.applied})
    what = f"{len(changed)} Dockerfile{'s' if len(changed) != 1 else ''}"
    named = f"msdfix: optimize {plain(quote_path(changed[0].path))} ({', '.join(ids)})"
    if len(changed) == 1 and len(named) <= TITLE_LIMIT:
        return named
    return f"msdfix: optimize {what} ({', '.join(ids)})"


def _change(finding: Finding) -> str:
    return f"- `{finding.transform}` (line {finding.line}): {plain(printable(finding.message))}"


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}diff\n{text.rstrip(chr(10))}\n{ticks}"


def _file_section(report: FileReport, with_diffs: bool) -> list[str]:
    assert report.result is not None
    out = [f"### {code(plain(report.path))}", ""]
    if with_diffs:
        parts = hunks(report)
        shown = {id(f) for h in parts for f in h.fixes}
        for hunk in parts:
            out += [_change(f) for f in hunk.fixes] or ["- related change:"]
            out += ["", _fence(hunk.text), ""]
        rest = [f for f in report.result.applied if id(f) not in shown]
        if rest:
            out += ["Also in this file (see the diffs above):", *[_change(f) for f in rest], ""]
    else:
        out += [_change(f) for f in report.result.applied] + [""]
    return out


def _suggestions(reports: list[FileReport]) -> list[str]:
    unsafe, left = [], []
    for report in reports:
        for finding in report.result.suggestions if report.result else []:
            line = (
                f"- {code(plain(report.path))} line {finding.line}, `{finding.transform}`: "
                f"{plain(printable(finding.message))}"
            )
            if finding.fix is None:
                left.append(line)
            elif finding.fix.applicability is Applicability.UNSAFE:
                unsafe.append(line)
            else:
                left.append(line + " (shown only)")
    out = []
    if unsafe:
        out += ["### Not applied (unsafe)", "",
                "These changes are possible but may change behaviour; they are listed, not made. "
                "Apply them with `msdfix --unsafe-fixes` (or `unsafe-fixes = true` in the "
                "configuration) after checking the reason.", "", *unsafe, ""]  # fmt: skip
    if left:
        out += ["### Left unchanged", "", *left, ""]
    return out


def _verify_section(verifications: list[Verification]) -> list[str]:
    if not verifications:
        return []
    out = ["### Verification (`msdfix verify`)", ""]
    for item in verifications:
        if item.data is None:
            out += [f"- {code(plain(item.path))}: not verified: {item.skipped}", ""]
            continue
        out += [code(plain(item.path)), "", *verify_table(item.data), ""]
    return out


def verify_table(data: dict[str, Any]) -> list[str]:
    """Markdown table of a ``msdfix verify --output-format json`` report."""
    images = data.get("images") or {}
    orig, new = images.get("original") or {}, images.get("rewritten") or {}
    ratios = data.get("ratios") or {}

    def seconds(image: dict[str, Any], key: str) -> str:
        build = image.get(key) or {}
        if not build:
            return "-"
        ok = "" if build.get("ok") else " (failed)"
        return f"{build.get('seconds', 0):.1f}s{ok}"

    def check(image: dict[str, Any], key: str) -> str:
        item = image.get(key)
        if not item:
            return "-"
        return "pass" if item.get("ok") else f"FAIL: {item.get('detail', '')}"

    def change(key: str) -> str:
        value = ratios.get(key)
        return "-" if value is None else f"{(value - 1) * 100:+.0f}%"

    rows = [
        ("image size", orig.get("size_human") or "-", new.get("size_human") or "-", change("size")),
        ("layers", str(orig.get("layers") or "-"), str(new.get("layers") or "-"), ""),
        ("cold build", seconds(orig, "build"), seconds(new, "build"), change("cold_build")),
        ("rebuild after a source edit", seconds(orig, "warm_build"), seconds(new, "warm_build"),
         change("warm_build")),
        ("smoke command", check(orig, "smoke"), check(new, "smoke"), ""),
        ("HTTP smoke check", check(orig, "smoke_http"), check(new, "smoke_http"), ""),
    ]  # fmt: skip
    out = ["| | original | rewritten | change |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows if (b, c) != ("-", "-")]
    config = data.get("config") or {}
    out += ["", f"Image config equivalent: {'yes' if config.get('equivalent') else 'NO'}."]
    failures = data.get("failures") or []
    out.append("Result: " + ("passed." if data.get("passed") else "FAILED: " + "; ".join(failures)))
    return out


def body(
    reports: list[FileReport],
    verifications: list[Verification],
    settings_note: str = "",
    rewrite: str = "",
) -> str:
    """The pull request's description (``rewrite``: the fingerprint, in a hidden line first)."""
    changed = [r for r in reports if r.changed]
    for with_diffs in (True, False):
        lines = [MARKER, *([body_marker(rewrite)] if rewrite else []), "",
                 f"msdfix rewrote {len(changed)} Dockerfile{'s' if len(changed) != 1 else ''} to "
                 "make images smaller and rebuilds faster. Each change names the transform that "
                 "made it and why; `msdfix --explain ID` describes a transform.", ""]  # fmt: skip
        for report in changed:
            lines += _file_section(report, with_diffs)
        if not with_diffs:
            lines += [
                "_Diffs omitted: too long for a pull request description; see the commit._",
                "",
            ]
        lines += _suggestions(reports) + _verify_section(verifications)
        lines += ["---", f"Generated by msdfix {__version__}{settings_note}. This pull request "
                  "is updated in place when msdfix runs again, and closed when nothing is left "
                  "to change. If you push to its branch, msdfix stops updating it; if you close "
                  "it without merging, msdfix will not propose this same rewrite again."]  # fmt: skip
        text = "\n".join(lines) + "\n"
        if len(text) <= BODY_LIMIT:
            return text
    return text[:BODY_LIMIT] + "\n\n_(truncated)_\n"


def commit_message(reports: list[FileReport], rewrite: str = "") -> str:
    """Subject like the PR title, one line per change, then the ``msdfix-rewrite`` trailer."""
    lines = [title(reports), ""]
    for report in reports:
        if report.changed and report.result:
            lines.append(f"{plain(quote_path(report.path))}:")
            lines += [
                f"  - line {f.line}: {f.transform}: {plain(printable(f.message))}"
                for f in report.result.applied
            ]
    if rewrite:
        lines += ["", trailer(rewrite)]
    return "\n".join(lines) + "\n"
