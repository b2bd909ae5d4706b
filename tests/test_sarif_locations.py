"""SARIF for code scanning: URIs GitHub resolves to the right file, and an honest
``executionSuccessful``.

GitHub resolves a relative ``artifactLocation.uri`` against the repository's root (absolute
``file://`` URIs against upload-sarif's ``checkout_path``): a URI relative to the current
directory named another file, or none, when msdfix ran in a subfolder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import pytest

from test_integrations import validate

PIP = "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"


def sarif(*args: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "--output-format", "sarif", "-q", *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, "NO_COLOR": ""},
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout)


def locations(log: dict[str, Any]) -> list[dict[str, Any]]:
    """Every artifactLocation of the run's results and notifications."""
    run = log["runs"][0]
    found = [loc for r in run["results"] for loc in r["locations"]]
    for invocation in run["invocations"]:
        found += [
            loc for n in invocation.get("toolExecutionNotifications", []) for loc in n["locations"]
        ]
    return [loc["physicalLocation"]["artifactLocation"] for loc in found]


def resolved(log: dict[str, Any], artifact: dict[str, Any]) -> Path:
    """The file an artifactLocation names, resolved as the SARIF spec says (§3.4.4)."""
    uri = artifact["uri"]
    if "uriBaseId" in artifact:
        uri = urljoin(log["runs"][0]["originalUriBaseIds"][artifact["uriBaseId"]]["uri"], uri)
    parsed = urlparse(uri)
    assert parsed.scheme == "file", uri
    return Path(unquote(parsed.path))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "svc" / "api").mkdir(parents=True)
    (root / "svc" / "api" / "Dockerfile").write_text(PIP)
    return root


def test_a_run_in_a_subfolder_names_files_from_the_repository_root(checkout: Path) -> None:
    code, log = sarif(".", cwd=checkout / "svc")
    assert code == 1
    assert log["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": checkout.as_uri() + "/"}}
    found = locations(log)
    assert found and all(
        a == {"uri": "svc/api/Dockerfile", "uriBaseId": "%SRCROOT%"} for a in found
    )
    assert resolved(log, found[0]) == checkout / "svc" / "api" / "Dockerfile"
    validate(log)  # last: it skips where the schema is absent


def test_an_absolute_path_in_the_checkout_is_relative_to_its_root(checkout: Path) -> None:
    _, log = sarif(str(checkout / "svc" / "api" / "Dockerfile"), cwd=checkout / "svc" / "api")
    assert set(map(json.dumps, locations(log))) == {
        json.dumps({"uri": "svc/api/Dockerfile", "uriBaseId": "%SRCROOT%"})
    }
    validate(log)  # last: it skips where the schema is absent


def test_a_file_outside_the_checkout_gets_an_absolute_uri(checkout: Path, tmp_path: Path) -> None:
    """SARIF allows no uriBaseId with an absolute URI; GitHub keeps one outside its checkout
    path as it is (it names no file of the repository)."""
    outside = tmp_path / "other dir" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(PIP)
    _, log = sarif(str(outside), cwd=checkout)
    found = locations(log)
    assert found and all(a == {"uri": outside.as_uri()} for a in found)
    assert "%20" in found[0]["uri"] and resolved(log, found[0]) == outside
    validate(log)  # last: it skips where the schema is absent


def test_outside_git_uris_are_relative_to_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(PIP)
    _, log = sarif("a", cwd=tmp_path)
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    assert locations(log)[0] == {"uri": "a/Dockerfile", "uriBaseId": "%SRCROOT%"}
    validate(log)  # last: it skips where the schema is absent


def test_execution_is_unsuccessful_when_a_file_failed(checkout: Path) -> None:
    """SARIF 2.1.0 appendix I: executionSuccessful false means the tool "terminated with an
    exit code that denotes failure"; an unreadable file is msdfix's exit 2, and the log,
    missing that file's results, said true."""
    code, log = sarif(".", cwd=checkout)
    assert code == 1 and log["runs"][0]["invocations"][0]["executionSuccessful"] is True
    (checkout / "bin.Dockerfile").write_bytes(b"\x00")
    code, log = sarif(".", cwd=checkout)
    invocation = log["runs"][0]["invocations"][0]
    assert code == 2 and invocation["executionSuccessful"] is False
    assert [n["level"] for n in invocation["toolExecutionNotifications"]] == ["error"]
    assert log["runs"][0]["results"]  # the other file's results are still there
    validate(log)  # last: it skips where the schema is absent


TWO_PIPS = (
    "FROM python:3.12-slim\n"
    "RUN pip install --no-cache-dir flask\n"
    "RUN pip install --no-cache-dir flask\n"
    'CMD ["python", "-m", "flask"]\n'
)


def fingerprints(log: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(ruleId, startLine, fingerprint) of every result."""
    return [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["msdfixFindingHash/v1"],
        )
        for r in log["runs"][0]["results"]
    ]


def test_every_result_has_a_fingerprint_that_survives_lines_added_above(checkout: Path) -> None:
    """Code scanning matches alerts across runs by partialFingerprints; without them an
    upload through the REST API made each run's results new alerts. Identical findings
    are told apart by their occurrence, and a line added above moves no fingerprint."""
    dockerfile = checkout / "svc" / "api" / "Dockerfile"
    dockerfile.write_text(TWO_PIPS)
    _, before = sarif(".", cwd=checkout)
    dockerfile.write_text("# a comment\n\n" + TWO_PIPS)
    _, after = sarif(".", cwd=checkout)
    first, second = fingerprints(before), fingerprints(after)
    assert first and len({f for _, _, f in first}) == len(first)
    assert [(rule, line + 2, f) for rule, line, f in first] == second
    pips = [f for rule, line, f in first if rule == "cache-mount" and line in (2, 3)]
    assert len(pips) == 2 and pips[0].rsplit(":", 1)[0] == pips[1].rsplit(":", 1)[0]
    validate(after)  # last: it skips where the schema is absent


def test_a_changed_instruction_changes_its_own_fingerprint_only(checkout: Path) -> None:
    dockerfile = checkout / "svc" / "api" / "Dockerfile"
    dockerfile.write_text(TWO_PIPS)
    _, before = sarif(".", cwd=checkout)
    dockerfile.write_text(TWO_PIPS.replace("flask\nCMD", "django\nCMD"))
    _, after = sarif(".", cwd=checkout)
    old = {(rule, line): f for rule, line, f in fingerprints(before)}
    new = {(rule, line): f for rule, line, f in fingerprints(after)}
    assert old.keys() == new.keys()
    assert old[("cache-mount", 2)] == new[("cache-mount", 2)]
    assert old[("cache-mount", 3)] != new[("cache-mount", 3)]


def test_a_byte_order_mark_or_crlf_moves_no_fingerprint(checkout: Path) -> None:
    """An editor adding a UTF-8 byte-order mark (BuildKit drops it) or CRLF line ends changes
    no instruction: the fingerprints, line 1's included, stay."""
    dockerfile = checkout / "svc" / "api" / "Dockerfile"
    dockerfile.write_text(TWO_PIPS)
    _, before = sarif(".", cwd=checkout)
    assert any(line == 1 for _, line, _ in fingerprints(before))
    for text in ("\ufeff" + TWO_PIPS, TWO_PIPS.replace("\n", "\r\n")):
        dockerfile.write_bytes(text.encode("utf-8"))
        _, after = sarif(".", cwd=checkout)
        assert fingerprints(after) == fingerprints(before), text[:3]
