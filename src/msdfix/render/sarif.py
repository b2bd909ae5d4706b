"""SARIF 2.1.0: one result per finding, with ``fixes`` as replacements in the ORIGINAL file.

A finding without a fix (an explanation of what msdfix left unchanged) is an ``informational``
result (level ``none``, SARIF's rule for any kind but ``fail``) without ``fixes`` or properties.

The replacements are the engine's edits of the original (:mod:`msdfix.ledger`), the same as
the JSON ``edits``: applying those of every applied fix of a file gives the rewritten file.

Every result has ``partialFingerprints`` (:data:`FINGERPRINT_KEY`): code scanning matches
results across runs by them, and without them an upload through the REST API (no upload-sarif
to compute ``primaryLocationLineHash`` from the sources) opened every result again as a new
alert each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from msdfix import __version__
from msdfix.discovery import git_root
from msdfix.fixes import Applicability, Finding
from msdfix.render.report import FileReport
from msdfix.transforms import all_transforms

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


SRCROOT = "%SRCROOT%"
# Our own key: ``primaryLocationLineHash`` is upload-sarif's, which recomputes it from the
# sources and warns about any value it did not compute itself.
FINGERPRINT_KEY = "msdfixFindingHash/v1"
_LINE_NUMBERS = re.compile(r"\b(lines?) \d+(?:\s*(?:-|to|and)\s*\d+)?")


def artifact_location(path: str) -> dict[str, Any]:
    """The ``artifactLocation`` of a displayed path: relative to the source root (``%SRCROOT%``)
    when the file is under it, else an absolute ``file://`` URI (SARIF allows no ``uriBaseId``
    with one). Code scanning resolves a relative URI against the repository's root: a path
    relative to the current directory named another file when msdfix ran in a subfolder."""
    if path == "-":
        return {"uri": "stdin"}
    absolute = Path(os.path.abspath(path))
    root = source_root()
    try:
        return {"uri": _uri_of(absolute.relative_to(root)), "uriBaseId": SRCROOT}
    except ValueError:  # outside the checkout: only an absolute URI names it
        return {"uri": absolute.as_uri()}


def _uri_of(path: PurePath) -> str:
    """A relative path as a URI reference: / separators, a name that is not UTF-8 by its
    bytes, percent-encoded."""
    return quote(os.fsencode(path.as_posix()))


def source_root() -> Path:
    """What relative URIs are relative to: the root of the git checkout that holds the current
    directory (the repository code scanning shows), else the current directory."""
    return _source_root(os.getcwd())


@lru_cache(maxsize=4)
def _source_root(cwd: str) -> Path:
    return git_root(Path(cwd)) or Path(cwd)


def _root_location() -> dict[str, Any]:
    """``originalUriBaseIds``' entry: the source root as an absolute URI ending in ``/``."""
    return {"uri": source_root().as_uri().rstrip("/") + "/"}


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


def _location(artifact: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {"startLine": start, "endLine": end},
        }
    }


def _replacement(offset: int, length: int, inserted: str) -> dict[str, Any]:
    replacement: dict[str, Any] = {"deletedRegion": {"charOffset": offset, "charLength": length}}
    if inserted:
        replacement["insertedContent"] = {"text": inserted}
    return replacement


def _result(
    finding: Finding,
    rule_index: dict[str, int],
    artifact: dict[str, Any],
    applied: bool,
    written: bool,
) -> dict[str, Any]:
    fix = finding.fix
    level = "warning"
    if fix is None:
        text, level = f"left unchanged: {finding.message}", "none"
    elif applied and written:
        text = f"{finding.message} (fixed by msdfix)"
    elif applied:
        how = "msdfix --write" + (
            " --unsafe-fixes" if fix.applicability is Applicability.UNSAFE else ""
        )
        text = f"{finding.message} (msdfix can fix this: run {how})"
    elif fix.applicability is Applicability.UNSAFE:
        text = f"{finding.message} (unsafe fix, not applied; use --unsafe-fixes to apply it)"
    else:
        text, level = f"{finding.message} (display-only fix: shown, never applied)", "note"
    result: dict[str, Any] = {
        "ruleId": finding.transform,
        "level": level,
        "message": {"text": text},
        "locations": [_location(artifact, finding.line, finding.end_line)],
    }
    if fix is None:
        result["kind"] = "informational"
    else:
        result["properties"] = {"applicability": fix.applicability.value, "applied": applied}
    if finding.transform in rule_index:
        result["ruleIndex"] = rule_index[finding.transform]
    if fix is not None and fix.original_edits:
        reps = [_replacement(e.start, e.end - e.start, e.content) for e in fix.original_edits]
        result["fixes"] = _fix(finding, artifact, reps)
    return result


def _fix(
    finding: Finding, artifact: dict[str, Any], replacements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    change = {"artifactLocation": artifact, "replacements": replacements}
    description = {"text": f"{finding.transform}: {finding.message}"}
    return [{"description": description, "artifactChanges": [change]}]


def _finding_hash(finding: Finding, uri: str, lines: list[str]) -> str:
    """What identifies a finding from run to run whatever moved: its rule, file, the text of
    its lines (whitespace aside) and its message with line numbers left out, as lines above
    it come and go. A line number in the fingerprint made every result below an added line
    a new alert."""
    region = "\n".join(
        " ".join(line.split()) for line in lines[finding.line - 1 : finding.end_line]
    )
    message = _LINE_NUMBERS.sub(r"\1", finding.message)
    text = "\0".join((finding.transform, uri, region, message))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _fingerprints(findings: list[Finding], uri: str, original: str) -> list[str]:
    """One fingerprint per finding: its hash and which occurrence of that hash in the file it
    is (``:1``, ``:2``), as upload-sarif numbers identical lines."""
    # BuildKit's lines: LF only, a byte-order mark dropped (an editor adding one moved line 1's)
    lines, seen = original.removeprefix("\ufeff").split("\n"), Counter[str]()
    out = []
    for finding in findings:
        digest = _finding_hash(finding, uri, lines)
        seen[digest] += 1
        out.append(f"{digest}:{seen[digest]}")
    return out


def file_results(report: FileReport, rule_index: dict[str, int]) -> list[dict[str, Any]]:
    """SARIF results for one file (applied fixes, then suggestions), each fingerprinted."""
    if report.result is None:
        return []
    artifact = artifact_location(report.path)
    result = report.result
    out = [_result(f, rule_index, artifact, True, report.written) for f in result.applied]
    out += [_result(f, rule_index, artifact, False, False) for f in result.suggestions]
    findings = [*result.applied, *result.suggestions]
    prints = _fingerprints(findings, artifact["uri"], result.original)
    for entry, fingerprint in zip(out, prints, strict=True):
        entry["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    return out


def _notification(artifact: dict[str, Any], level: str, line: int, message: str) -> dict[str, Any]:
    return {
        "level": level,
        "message": {"text": message},
        "locations": [_location(artifact, line, line)],
    }


def notifications(report: FileReport) -> list[dict[str, Any]]:
    """The file's error, or its warnings (a folder that is not the build context, an unknown
    id in a pragma), as tool notifications: a run uploaded as SARIF lost the warnings, so
    nothing said that msdfix had read no build context or that a pragma suppressed nothing."""
    artifact = artifact_location(report.path)
    if report.error:
        return [_notification(artifact, "error", report.error_line, report.error)]
    warnings = report.result.warnings if report.result is not None else []
    return [_notification(artifact, "warning", line, message) for line, message in warnings]


SarifPart = tuple[list[dict[str, Any]], list[dict[str, Any]], bool]


def sarif_part(report: FileReport) -> SarifPart:
    """One file's part of the log: its results, its notifications, whether it failed (could
    not be read, parsed or written, or an internal error: exit 2 or 123)."""
    return file_results(report, _rule_index()), notifications(report), bool(report.error)


@cache
def _rule_index() -> dict[str, int]:
    return _rules()[1]


def sarif_log(reports: list[FileReport]) -> dict[str, Any]:
    """The SARIF log object for a run over ``reports``."""
    return sarif_log_of([sarif_part(report) for report in reports])


def sarif_log_of(parts: list[SarifPart]) -> dict[str, Any]:
    """The SARIF log object from every file's ``sarif_part``, in order."""
    rules, _ = _rules()
    results = [r for part in parts for r in part[0]]
    notes = [note for part in parts for note in part[1]]
    # SARIF 2.1.0 appendix I: false when the tool "terminated with an exit code that denotes
    # failure"; msdfix's is 2 (123) for any file that failed. It was false only for an internal
    # error, so a log missing the results of an unreadable file claimed a complete run.
    invocation: dict[str, Any] = {"executionSuccessful": not any(part[2] for part in parts)}
    if notes:
        invocation["toolExecutionNotifications"] = notes
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
        "originalUriBaseIds": {SRCROOT: _root_location()},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def sarif_report(reports: list[FileReport]) -> str:
    """SARIF 2.1.0 JSON text for ``msdfix --output-format sarif``."""
    return json.dumps(sarif_log(reports), indent=2) + "\n"


def sarif_text(parts: list[SarifPart]) -> str:
    """SARIF 2.1.0 JSON text from every file's ``sarif_part``."""
    return json.dumps(sarif_log_of(parts), indent=2) + "\n"


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
