"""build-secrets: tokens from build arguments to secret mounts; history keeps no token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.ecosystems.secrets import is_secret_name
from newtransform_support import copy_app, messages, run, sd, serve_and_get, tag

CASES = cases("build-secrets")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    assert len([c for c in CASES if c.expected is not None]) >= 3
    assert len([c for c in CASES if c.expected is None]) >= 5


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("NPM_TOKEN", True), ("GITHUB_TOKEN", True), ("PIP_PASSWORD", True), ("API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True), ("DB_PASSWD", True), ("GITLAB_PAT", True),
        ("GPG_KEY", False), ("PIP_INDEX_URL", False), ("PATH", False), ("TOKENIZER_DIR", False),
        ("NODE_ENV", False),
    ],
)  # fmt: skip
def test_secret_names_come_from_the_table(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_every_run_that_may_read_it_gets_the_mount_and_inert_ones_do_not() -> None:
    text = (
        "FROM python:3.12\nARG PIP_TOKEN\nRUN mkdir /x && ls /x\n"
        'RUN pip install --index-url "https://u:$PIP_TOKEN@h/simple" a\nRUN ./configure\n'
        "RUN scripts/install\n"  # the build's own script, not install(1)
    )
    out = run(text, "build-secrets").output
    lines = out.splitlines()
    assert "ARG PIP_TOKEN" not in out
    assert lines[1] == "RUN mkdir /x && ls /x"
    assert lines[2].startswith("RUN --mount=type=secret,id=pip_token,required=true ")
    assert lines[3].startswith("RUN --mount=type=secret,id=pip_token,required=true ")
    assert lines[4].startswith("RUN --mount=type=secret,id=pip_token,required=true ")


def test_summary_prints_the_build_flag() -> None:
    text = 'FROM node:20\nARG NPM_TOKEN\nRUN echo "x:${NPM_TOKEN}" > .npmrc && npm ci\n'
    assert "docker build --secret id=npm_token,env=NPM_TOKEN" in messages(
        run(text, "build-secrets")
    )


def test_declarations_nothing_reads_go_with_the_fix() -> None:
    """An ARG of the same secret that another stage declares but never reads (as split-stages
    repeats it in the runtime) is deleted too; one that a stage reads keeps its own fix."""
    text = (
        'FROM node:20 AS build\nARG NPM_TOKEN\nRUN echo "x:${NPM_TOKEN}" > .npmrc && npm ci\n'
        "FROM node:20-slim AS runtime\nARG NPM_TOKEN\nCOPY --from=build /app /app\n"
    )
    out = run(text, "build-secrets").output
    assert "ARG NPM_TOKEN" not in out
    assert out.count("--mount=type=secret,id=npm_token") == 1
    alone = "FROM node:20\nARG NPM_TOKEN\nCOPY . .\n"
    assert not run(alone, "build-secrets").changed  # nothing moved: the ARG stays


@pytest.mark.docker
def test_bench_app_builds_with_the_secret_and_keeps_it_out_of_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sd.require_images("node:18")
    token = "npm-token-not-for-history-7f3a"
    app = copy_app("node-npm-token", tmp_path)
    original = (app / "Dockerfile").read_text()
    out = run(original, "build-secrets", context=app).output
    assert "ARG NPM_TOKEN" not in out and "--mount=type=secret,id=npm_token" in out
    (app / "Dockerfile.secret").write_text(out)
    before, after = tag("secrets-before"), tag("secrets-after")
    monkeypatch.setenv("NPM_TOKEN", token)
    try:
        assert sd.build(app, app / "Dockerfile", before, build_args={"NPM_TOKEN": token}).ok
        history = sd.docker("history", "--no-trunc", before, check=True).stdout
        assert token in history  # the leak this transform fixes
        argv = ["build", "--progress=plain", "-t", after, "-f", str(app / "Dockerfile.secret")]
        built = sd.docker(*argv, "--secret", "id=npm_token,env=NPM_TOKEN", str(app))
        assert built.returncode == 0, built.stderr[-2000:]
        assert token not in sd.docker("history", "--no-trunc", after, check=True).stdout
        body, _ = serve_and_get(after, 3000)
        assert json.loads(body)["service"] == "node-npm-token"
        without = ["build", "--no-cache", "-f", str(app / "Dockerfile.secret"), str(app)]
        assert sd.docker(*without).returncode != 0  # required=true: never built without it
    finally:
        sd.remove_image(before, after)


def test_a_run_that_already_mounts_the_secret_is_declined() -> None:
    text = 'FROM node:20\nARG NPM_TOKEN\nRUN --mount=type=secret,id=npm_token echo "$NPM_TOKEN"\n'
    result = run(text, "build-secrets")
    assert not result.changed and "already mounts" in messages(result)


@pytest.mark.parametrize("name", ["(_TOKEN", "(a*)*b_TOKEN"])
def test_a_name_with_regex_characters_is_looked_for_as_written(name: str) -> None:
    """The ARG name went into a regex unescaped: ``(_TOKEN`` was an internal error and
    ``(a*)*b_TOKEN`` backtracked exponentially on ``$aaa...`` (28 letters: half a minute)."""
    from support.deadline import deadline

    text = f"FROM alpine\nARG {name}\nRUN echo ${'a' * 40}! && echo {name}\n"
    with deadline():
        result = run(text, "build-secrets", unsafe=True)
    assert not result.changed and not messages(result)


def test_an_npmrc_msdfix_cannot_read_is_not_called_absent(tmp_path: Path) -> None:
    """An .npmrc over 1 MiB (or in a link loop) was read as none, and the reason said "no
    .npmrc ... in the build context" reads the token: untrue. It names the file now."""
    (tmp_path / ".npmrc").write_text("; generated\n" * (1 << 17) + "//r/:_authToken=${NPM_TOKEN}\n")
    text = "FROM node:20\nARG NPM_TOKEN\nRUN npm ci\n"
    said = messages(run(text, "build-secrets", context=tmp_path))
    assert "no RUN names NPM_TOKEN and .npmrc is over 1 MiB, so whether it does is unknown" in said
    assert "no .npmrc" not in said
