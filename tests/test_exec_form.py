"""exec-form: shell-form CMD/ENTRYPOINT to JSON only when sh -c would run exactly that argv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.shell.plain import plain_argv
from newtransform_support import copy_app, messages, run, sd, serve_and_get, stop_seconds, tag

CASES = cases("exec-form")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    assert len([c for c in CASES if c.expected is not None]) >= 4
    assert len([c for c in CASES if c.expected is None]) >= 5


PLAIN = [
    "node server.js",
    "gunicorn -b 0.0.0.0:8000 'app:create_app()'",
    'nginx -g "daemon off;"',
    "java -Dx=1 -jar /app/app.jar",
    "exec python -m http.server 8000",
    "printf '%s\\n' a\\ b \"\" ''",
    "run --opt=a,b@c+d^e %f",
    "echo a#b",
]
SHELLY = [
    "echo $HOME", "a && b", "a; b", "a | b", "a > f", "a < f", "ls *.txt", "ls ?", "ls [ab]",
    "echo ~", "echo {a,b}", "X=1 app", "cd /app", "export A", "(a)", "a &", "echo `id`",
    'echo "$A"', "echo #c", "! a", "if true", "echo 'unterminated",
]  # fmt: skip


@pytest.mark.parametrize("command", PLAIN)
def test_plain_argv_is_what_sh_runs(command: str) -> None:
    """Oracle: /bin/sh itself, printing the argv it would execute."""
    argv = plain_argv(command).argv
    assert argv is not None
    script = "exec_form_probe() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \"$@\"; }\n"
    words = command[len("exec ") :] if command.startswith("exec ") else command
    out = subprocess.run(
        ["sh", "-c", script + "exec_form_probe " + words],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == argv


@pytest.mark.parametrize("command", SHELLY)
def test_commands_that_need_the_shell_are_not_plain(command: str) -> None:
    assert plain_argv(command).argv is None


def test_json_escaping_round_trips_through_buildkit_parser() -> None:
    dockerfile = pytest.importorskip("dockerfile")
    out = run('FROM python:3\nCMD app --name "a\'b" \'say "hi"\' é\n', "exec-form").output
    parsed = dockerfile.parse_string(out)
    assert list(parsed[-1].value) == ["app", "--name", "a'b", 'say "hi"', "é"]
    assert parsed[-1].json


def test_entrypoint_with_cmd_of_a_child_stage_is_declined() -> None:
    text = "FROM debian:12 AS base\nENTRYPOINT /run.sh\nFROM base\nCMD x\n"
    result = run(text, "exec-form")
    assert not result.changed and "would take the CMD" in messages(result)


def test_node_base_entrypoint_runs_commands_as_they_are() -> None:
    assert run("FROM node:20\nCMD npm start\n", "exec-form").changed
    assert not run("FROM node:20\nCMD --version\n", "exec-form").changed


def test_temurin_base_entrypoint_runs_commands_as_they_are() -> None:
    """eclipse-temurin's images start /__cacert_entrypoint.sh, which ends in exec "$@": a CMD
    is its arguments, so one starting with "-" stays as it is (adoptium/containers)."""
    assert run("FROM eclipse-temurin:21-jre\nCMD java -jar /app.jar\n", "exec-form").changed
    result = run("FROM eclipse-temurin:21-jre\nCMD -jar /app.jar\n", "exec-form")
    assert not result.changed and "entrypoint" in messages(result)


def test_unsafe_and_declares_the_config_change() -> None:
    result = run("FROM python:3\nCMD python app.py\n", "exec-form", unsafe=False)
    assert not result.changed
    fix = result.suggestions[0].fix
    assert fix and fix.applicability.value == "unsafe" and fix.changes_config == frozenset({"cmd"})


@pytest.mark.docker
def test_bench_app_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    sd.require_images("python:3.12-slim")
    app = copy_app("python-notes", tmp_path)
    original = (app / "Dockerfile").read_text()
    rewritten = run(original, "exec-form", context=app).output
    assert 'CMD ["python", "server.py"]' in rewritten
    (app / "Dockerfile.exec").write_text(rewritten)
    before, after = tag("exec-before"), tag("exec-after")
    try:
        assert sd.build(app, app / "Dockerfile", before).ok
        assert sd.build(app, app / "Dockerfile.exec", after).ok
        body, _ = serve_and_get(after, 8080)
        assert json.loads(body)["service"] == "python-notes"
        slow, fast = stop_seconds(before), stop_seconds(after)
        print(f"docker stop: shell form {slow:.1f}s, exec form {fast:.1f}s")
        assert fast < 5
    finally:
        sd.remove_image(before, after)


def test_a_declined_command_names_what_needs_the_shell() -> None:
    """ "it uses the shell: '&'" said "shell" twice and left '&' hanging."""
    said = messages(run("FROM debian:12\nCMD a & b\n", "exec-form"))
    assert "CMD stays in shell form: it needs the shell for '&'" in said, said
