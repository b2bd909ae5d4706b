"""cache-mount: fixtures for every package manager, no-op rules, and targeted checks."""

from __future__ import annotations

import pytest

from fixture_cases import cases, check_case
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext

CASES = cases("cache-mount")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    changed = [c for c in CASES if c.expected is not None]
    unchanged = [c for c in CASES if c.expected is None]
    assert len(changed) >= 25 and len(unchanged) >= 10


def _run(text: str, unsafe: bool = False) -> str:
    return rewrite(
        text, None, BuildContext(None), Settings(frozenset({"cache-mount"}), unsafe=unsafe)
    ).output


def test_apt_docker_clean_added_once_per_stage() -> None:
    text = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n\nFROM debian:12\nRUN apt-get update\n"
    out = _run(text)
    assert out.count("docker-clean") == 2
    assert out.count("target=/var/lib/apt,sharing=locked") == 3


def test_never_adds_syntax_directive() -> None:
    assert "# syntax" not in _run("FROM python:3.12\nRUN pip install flask\n")


def test_cleanup_kept_when_it_is_about_the_image() -> None:
    out = _run(
        "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /tmp/build\n"
    )
    assert "rm -rf /tmp/build" in out


def test_cleanup_next_to_a_comment_line_is_kept() -> None:
    text = "FROM node:18\nRUN npm ci \\\n# keep the image small\n && npm cache clean --force\n"
    out = _run(text)
    assert "# keep the image small" in out and "npm cache clean" in out


def test_non_root_numeric_user_without_home_is_left_alone() -> None:
    text = "FROM python:3.12\nUSER 1000\nRUN pip install flask\n"
    assert _run(text) == text


def test_user_root_again_uses_root_home() -> None:
    text = "FROM python:3.12\nUSER app\nUSER root\nRUN pip install flask\n"
    assert "target=/root/.cache/pip" in _run(text)


def test_go_without_golang_image_uses_home_gopath() -> None:
    out = _run("FROM debian:12\nRUN go build ./...\n")
    assert "target=/root/go/pkg/mod" in out and "target=/root/.cache/go-build" in out


def test_cargo_home_from_env() -> None:
    out = _run("FROM debian:12\nENV CARGO_HOME=/opt/cargo\nRUN cargo fetch\n")
    assert "target=/opt/cargo/registry" in out and "target=/opt/cargo/git/db" in out


def test_maven_repo_local_flag_wins() -> None:
    out = _run("FROM maven:3.9\nRUN mvn -Dmaven.repo.local=/m2 package\n")
    assert "target=/m2 " in out


def test_sudo_and_env_prefixes_are_seen_through() -> None:
    out = _run("FROM ubuntu:22.04\nRUN sudo apt-get install -y vim\n")
    assert "target=/var/cache/apt" in out


def test_removing_the_last_command_takes_its_continuation_along() -> None:
    """Regression: `make\\` + `&& rm -rf lists` left a dangling backslash that swallowed the next line."""
    text = "FROM debian:12\nRUN apt-get update\\\n && apt-get install -y make\\\n && rm -rf /var/lib/apt/lists/*\nWORKDIR /opt\n"
    out = _run(text)
    assert out.endswith("apt-get install -y make\nWORKDIR /opt\n")


def test_removing_a_flag_keeps_the_line_layout() -> None:
    text = "FROM python:3.12\nRUN pip install \\\n    --no-cache-dir flask\n"
    assert _run(text).endswith("pip install \\\n    flask\n")
