"""The build context a compose file gives a Dockerfile kept in a subfolder (``docker/``,
``services/api/``): ``context: ..`` with ``dockerfile: docker/Dockerfile`` builds from the
repository's root, where the Dockerfile's own folder lacks every file it copies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

APP = (
    "FROM python:3.12-slim\n"
    "WORKDIR /app\n"
    "COPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
    "COPY . .\n"
    'CMD ["python", "app.py"]\n'
)
COMPOSE = (
    "services:\n  web:\n    build:\n      context: {context}\n      dockerfile: {dockerfile}\n"
)


def msdfix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": ""},
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(APP)
    (tmp_path / "docker" / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("import flask\n")
    return tmp_path


def test_a_compose_file_in_the_subfolder_names_the_root_as_context(repo: Path) -> None:
    """Read with its own folder, docker/ (no requirements.txt), the file's context was
    "not the build context" and msdfix read nothing; compose builds it from the root."""
    compose = COMPOSE.format(context="..", dockerfile="docker/Dockerfile")
    (repo / "docker" / "compose.yaml").write_text(compose)
    proc = msdfix("docker/Dockerfile", cwd=repo)
    assert "not the build context" not in proc.stderr, proc.stderr
    assert "note: build context: ./, the folder a compose file builds it from" in proc.stderr
    assert "no build context" not in proc.stderr
    before = msdfix("--context", "docker", "docker/Dockerfile", cwd=repo)
    assert "not the build context" in before.stderr


def test_a_compose_file_at_the_root_names_it_too(repo: Path) -> None:
    (repo / "compose.yaml").write_text(COMPOSE.format(context=".", dockerfile="docker/Dockerfile"))
    proc = msdfix("Dockerfile", cwd=repo / "docker")
    assert "not the build context" not in proc.stderr, proc.stderr
    assert f"note: build context: {repo}/, the folder" in proc.stderr


@pytest.mark.parametrize(
    "second",
    [
        COMPOSE.format(context=".", dockerfile="Dockerfile"),  # also built from docker/
        COMPOSE.format(context="${CONTEXT:-..}", dockerfile="docker/Dockerfile"),
        "services: [unreadable\n",
    ],
)
def test_another_or_an_unknown_context_keeps_the_own_folder(repo: Path, second: str) -> None:
    """Two folders that build it, a variable, or a compose file msdfix cannot read: which
    context the build has is unknown, so the Dockerfile's own folder is read, as before
    (and found not to be the context)."""
    (repo / "compose.yaml").write_text(COMPOSE.format(context=".", dockerfile="docker/Dockerfile"))
    (repo / "docker" / "compose.dev.yaml").write_text(second)
    proc = msdfix("docker/Dockerfile", cwd=repo)
    assert "not the build context" in proc.stderr and "note: build context" not in proc.stderr


def test_context_option_wins(repo: Path) -> None:
    (repo / "compose.yaml").write_text(COMPOSE.format(context=".", dockerfile="docker/Dockerfile"))
    proc = msdfix("--context", "docker", "docker/Dockerfile", cwd=repo)
    assert "not the build context" in proc.stderr and "note: build context" not in proc.stderr


@pytest.mark.parametrize("context", ["/", "../.."])
def test_a_context_outside_the_checkout_is_never_read(repo: Path, context: str) -> None:
    """``context: /`` with the Dockerfile's absolute path would have made msdfix read the
    whole file system (names of its files in the reasons) from a repository's compose file."""
    dockerfile = repo / "docker" / "Dockerfile"
    named = os.path.relpath(dockerfile, (repo / "docker" / context).resolve())
    compose = COMPOSE.format(context=context, dockerfile=named)
    (repo / "docker" / "compose.yaml").write_text(compose)
    proc = msdfix("docker/Dockerfile", cwd=repo)
    assert "note: build context" not in proc.stderr and "not the build context" in proc.stderr


# --- one context for msdfix, `msdfix verify` and `msdfix pr` ---

NODE_APP = 'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
NODE_FILES = {
    "package.json": '{"name": "ctxapp", "version": "1.0.0", "private": true}\n',
    "package-lock.json": '{"name": "ctxapp", "version": "1.0.0", "lockfileVersion": 3, '
    '"requires": true, "packages": {"": {"name": "ctxapp", "version": "1.0.0"}}}\n',
    "index.js": 'console.log("ctxapp up");\n',
}


@pytest.fixture
def node_repo(tmp_path: Path) -> Path:
    """A Node app at the root, its Dockerfile in docker/, built by compose from the root."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text(NODE_APP)
    (root / "docker" / "compose.yaml").write_text(
        COMPOSE.format(context="..", dockerfile="docker/Dockerfile")
    )
    for name, text in NODE_FILES.items():
        (root / name).write_text(text)
    return root


def cli_rewrite(repo: Path, *args: str) -> str:
    """What ``msdfix --write`` makes of docker/Dockerfile (in a copy of ``repo``)."""
    copy = repo.parent / f"copy{len(list(repo.parent.iterdir()))}"
    shutil.copytree(repo, copy)
    proc = msdfix("--write", *args, "docker/Dockerfile", cwd=copy)
    assert proc.returncode in (0, 1), proc.stderr
    return (copy / "docker" / "Dockerfile").read_text()


def verify_inputs(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Path, str]:
    """The context and rewrite ``msdfix verify`` would build (stopped before Docker)."""
    import msdfix.verify.command as command
    from msdfix.verify import docker as dk

    seen = []

    def fake(opts, err):  # type: ignore[no-untyped-def]
        seen.append((opts.context, opts.rewritten_text))
        raise dk.DockerUnavailable("stop here")

    monkeypatch.setattr(command, "run_verify", fake)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(command.verify_command, [*args, "docker/Dockerfile"])
    assert result.exit_code == 2 and seen, result.output
    return seen[0]


def test_verify_builds_the_context_and_rewrite_msdfix_judged(
    node_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify took the Dockerfile's own folder, docker/, while msdfix judged the rewrite
    with the root that compose.yaml names: it built another rewrite, and an original that
    fails there (npm ci finds no package.json in docker/)."""
    context, text = verify_inputs(node_repo, monkeypatch)
    assert context == node_repo.resolve()
    assert text == cli_rewrite(node_repo) != NODE_APP
    assert "package-lock.json,target=/app/package-lock.json" in text


def test_verify_context_option_still_wins(node_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context, text = verify_inputs(node_repo, monkeypatch, "--context", "docker")
    assert context == Path("docker")
    assert text == cli_rewrite(node_repo, "--context", "docker") != cli_rewrite(node_repo)


@pytest.mark.docker
def test_verify_builds_both_from_the_compose_context_and_names_it(node_repo: Path) -> None:
    """Real builds: the original and the rewrite build from the repository's root (in
    docker/ the original's npm ci finds no package.json and fails), and the report says so."""
    from support import docker as sd

    sd.require_images("node:18-slim")
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "verify", "--output-format", "json",
         "--smoke", "node index.js", "docker/Dockerfile"],
        cwd=node_repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] and data["context"] == str(node_repo.resolve())
    assert any("the folder a compose file builds it from" in n for n in data["notes"])


def test_a_compose_file_that_is_a_fifo_when_read_is_not_read(tmp_path: Path) -> None:
    """A compose file swapped for a FIFO after the folder was listed: ``read_text`` read what
    a writer sent (and with none, waited without end). It is opened without blocking and
    refused as not a regular file, like every other input."""
    import threading

    from msdfix.model.compose import _read

    fifo = tmp_path / "compose.yaml"
    os.mkfifo(fifo)

    def writer() -> None:
        try:
            with open(fifo, "w") as out:
                out.write("services:\n  web:\n    build: .\n")
        except OSError:  # the reader closed it unread
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert _read(fifo) is None
    finally:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # a writer still waiting opens
        thread.join(5)


def test_a_folder_of_dockerfiles_is_listed_once_and_a_new_compose_file_is_seen(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose_context listed the Dockerfile's folder (and two above) for every Dockerfile:
    a folder of 3,700 listed 3,700 times, a third of a corpus run. A folder unchanged for
    RACY_NS is listed once; one changed as recently is listed again, so a compose file just
    written is seen (its mtime may not have moved yet)."""
    from msdfix.model import compose

    docker = repo / "docker"
    for n in range(20):
        (docker / f"svc{n}.Dockerfile").write_text(APP)
    old = 1_000_000_000  # 2001: long past the racy window
    for folder in (docker, repo, repo.parent):
        os.utime(folder, ns=(old, old))
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: Path) -> object:
        listed.append(str(path))
        return scandir(path)

    monkeypatch.setattr(compose.os, "scandir", counting)
    compose._compose_names.cache_clear()
    for n in range(20):
        assert compose.compose_context(docker / f"svc{n}.Dockerfile") is None
    assert listed.count(str(docker)) == 1, listed
    (docker / "compose.yaml").write_text(
        COMPOSE.format(context="..", dockerfile="docker/Dockerfile")
    )
    assert compose.compose_context(docker / "Dockerfile") == repo.resolve()
