"""test-stage: tests and linters move to a `test` stage; unsafe, and the message says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.shell.checks import Check, check_of
from newtransform_support import copy_app, messages, run, sd, serve_and_get, tag

CASES = cases("test-stage")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    assert len([c for c in CASES if c.expected is not None]) >= 4
    assert len([c for c in CASES if c.expected is None]) >= 5


SCRIPTS = {"test": "jest --coverage", "lint": "eslint . && tsc --noEmit", "test:build": "tsc"}


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["pytest", "-q"], "test"),
        (["go", "test", "./..."], "test"),
        (["go", "vet", "./..."], "lint"),
        (["cargo", "clippy", "--", "-D", "warnings"], "lint"),
        (["mvn", "-B", "-f", "pom.xml", "clean", "test"], "test"),
        (["./gradlew", "check", "-x", "integrationTest"], "test"),
        (["ruff", "check", "."], "lint"),
        (["black", "--check", "."], "lint"),
        (["npm", "test"], "test"),
        (["yarn", "lint"], "lint"),
        (["pnpm", "run", "lint"], "lint"),
        (["pip", "install", "--no-cache-dir", "pytest==8.0", "pytest-cov"], "install"),
    ],
)
def test_checks_are_recognised(argv: list[str], kind: str) -> None:
    found = check_of(argv, lambda: SCRIPTS)
    assert isinstance(found, Check) and found.kind == kind


@pytest.mark.parametrize(
    "argv",
    [
        ["go", "build", "./..."],
        ["go", "test", "-c", "-o", "/bin/t", "."],
        ["mvn", "package"],
        ["gradle", "build"],
        ["eslint", "--fix", "."],
        ["ruff", "check", "--fix", "."],
        ["black", "."],
        ["tsc"],
        ["npm", "run", "build"],
        ["pip", "install", "-r", "requirements-dev.txt"],
        ["pip", "install", "flask", "pytest"],
    ],
)
def test_other_commands_are_not_checks(argv: list[str]) -> None:
    assert check_of(argv, lambda: SCRIPTS) is None


def test_unknown_npm_scripts_are_unknown_not_absent() -> None:
    assert "cannot read package.json" in str(check_of(["npm", "test"], lambda: None))
    assert "does not know" in str(check_of(["npm", "run", "test:build"], lambda: SCRIPTS))
    assert "also packages" in str(check_of(["mvn", "verify"], lambda: SCRIPTS))


def test_fix_is_unsafe_and_prints_the_target_command() -> None:
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go test ./...\nCMD ["go", "run", "."]\n'
    result = run(text, "test-stage", unsafe=False)
    assert not result.changed
    finding = result.suggestions[0]
    assert finding.fix is not None and finding.fix.applicability.value == "unsafe"
    assert "docker build --target test ." in finding.message
    assert "failing tests no longer fail the build" in finding.message
    again = run(run(text, "test-stage").output, "test-stage")
    assert not again.changed and not again.suggestions


def _pip_has(image: str, module: str) -> bool:
    return sd.run(image, ["python", "-c", f"import {module}"]).returncode == 0


@pytest.mark.docker
def test_bench_app_builds_tests_run_with_target_and_leave_production(tmp_path: Path) -> None:
    sd.require_images("python:3.12-slim")
    app = copy_app("python-tested", tmp_path)
    original = (app / "Dockerfile").read_text()
    result = run(original, "test-stage", context=app)
    assert "FROM build AS test" in result.output, messages(result)
    (app / "Dockerfile.test-stage").write_text(result.output)
    before, after, tests = tag("tests-before"), tag("tests-after"), tag("tests-target")
    try:
        assert sd.build(app, app / "Dockerfile", before).ok
        built = sd.build(app, app / "Dockerfile.test-stage", after)
        assert built.ok, built.tail()
        assert "pytest" not in built.output  # the default build skips the test stage
        checked = sd.build(app, app / "Dockerfile.test-stage", tests, target="test", no_cache=True)
        assert checked.ok, checked.tail()
        assert "2 passed" in checked.output
        assert _pip_has(before, "pytest") and not _pip_has(after, "pytest")
        body, _ = serve_and_get(after, 8080, "/ada")
        assert "hello, ada" in body
        # Why the fix is unsafe: a failing test fails the original and the --target test
        # build, but no longer the default build.
        broken = tmp_path / "broken"
        shutil.copytree(app, broken)
        test_file = broken / "test_server.py"
        test_file.write_text(test_file.read_text().replace('"hello, ada"', '"bye"'))
        assert not sd.build(broken, broken / "Dockerfile", tag("tests-broken")).ok
        assert sd.build(broken, broken / "Dockerfile.test-stage", after).ok
        assert not sd.build(broken, broken / "Dockerfile.test-stage", tests, target="test").ok
    finally:
        sd.remove_image(before, after, tests)


def test_stage_with_onbuild_is_declined() -> None:
    text = 'FROM golang:1.22\nONBUILD COPY . /src\nRUN go test ./...\nCMD ["sh"]\n'
    result = run(text, "test-stage")
    assert not result.changed
    assert "ONBUILD" in messages(result)
