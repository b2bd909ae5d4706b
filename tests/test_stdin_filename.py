"""``--stdin-filename PATH``: an editor's buffer on stdin, checked as the file PATH (ruff's and
black's flag): PATH's configuration, exclusions, build context and name, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# reorder-copy moves the install before `COPY . .` only when the context shows the manifests
# (no scripts, no local paths): without a context the same fix is unsafe.
NODE = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
NODE_MANIFEST = '{"name": "x", "version": "1.0.0"}\n'
NODE_LOCK = '{"lockfileVersion": 3, "packages": {}}\n'


def msdfix(*args: str, cwd: Path, stdin: str = NODE) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": ""}
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args],
        cwd=cwd,
        input=stdin.encode(),
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with a Node service in ``svc/`` (the Dockerfile on disk is the buffer's)."""
    (tmp_path / ".git").mkdir()
    svc = tmp_path / "svc"
    svc.mkdir()
    for name, text in {
        "Dockerfile": NODE,
        "package.json": NODE_MANIFEST,
        "package-lock.json": NODE_LOCK,
        "index.js": "console.log(1)\n",
        ".env": "SECRET=1\n",
    }.items():
        (svc / name).write_text(text)
    return tmp_path


def test_the_build_context_is_the_folder_of_path(repo: Path) -> None:
    """Stdin has no context, so reorder-copy was unsafe; the buffer of svc/Dockerfile reads
    svc/ and the fix is safe, as for the file itself. ``--context`` still wins."""
    plain = msdfix("-", cwd=repo)
    assert b"RUN --mount=type=bind,source=package.json" not in plain.stdout
    assert b"reorder-copy (unsafe, not applied)" in plain.stderr
    named = msdfix("--stdin-filename", "svc/Dockerfile", cwd=repo)
    assert named.returncode == 0, named.stderr
    assert b"RUN --mount=type=bind,source=package.json" in named.stdout
    assert b"reorder-copy (unsafe" not in named.stderr
    assert msdfix("--write", "svc/Dockerfile", cwd=repo).returncode == 0
    assert named.stdout.decode() == (repo / "svc" / "Dockerfile").read_text()  # the file's own
    (repo / "elsewhere").mkdir()
    other = msdfix("--context", "elsewhere", "--stdin-filename", "svc/Dockerfile", cwd=repo)
    assert b"RUN --mount=type=bind,source=package.json" not in other.stdout


def test_the_configuration_is_that_of_path(repo: Path) -> None:
    """The nearest configuration file of PATH's folder applies, not the current directory's."""
    (repo / "svc" / ".msdfix.toml").write_text('select = ["cache-mount"]\n')
    proc = msdfix("--stdin-filename", "svc/Dockerfile", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert b"cache-mount" in proc.stderr and b"reorder-copy" not in proc.stderr
    assert proc.stdout.decode() == NODE.replace(
        "RUN npm ci", "RUN --mount=type=cache,target=/root/.npm npm ci"
    )


def test_path_names_the_file_in_every_output_format(repo: Path) -> None:
    name = "svc/Dockerfile"
    text = msdfix("--stdin-filename", name, cwd=repo)
    assert text.stderr.decode().startswith(f"{name}: rewritten")
    diff = msdfix("--diff", "--stdin-filename", name, cwd=repo)
    assert diff.stdout.decode().startswith(f"--- {name}\n+++ {name}\n")
    check = msdfix("--check", "--stdin-filename", name, cwd=repo)
    assert check.returncode == 1 and check.stdout.decode() == f"would rewrite {name}\n"
    report = json.loads(
        msdfix("--output-format", "json", "--stdin-filename", name, cwd=repo).stdout
    )
    assert [f["path"] for f in report["files"]] == [name]
    github = msdfix("--output-format", "github", "--stdin-filename", name, cwd=repo)
    lines = github.stdout.decode().splitlines()
    assert lines and all(f" file={name}," in line for line in lines)
    sarif = json.loads(
        msdfix("--output-format", "sarif", "--stdin-filename", name, cwd=repo).stdout
    )
    results = sarif["runs"][0]["results"]
    assert results and all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        == {"uri": name, "uriBaseId": "%SRCROOT%"}
        for r in results
    )


def test_nothing_is_written_to_path(repo: Path) -> None:
    """``--write`` of a buffer prints it (ruff writes stdin's fix to stdout), and the
    .dockerignore it would create stays a display-only suggestion: only the Dockerfile is
    output, so a rewrite relying on another file would reach the editor without it."""
    proc = msdfix("--write", "--stdin-filename", "svc/Dockerfile", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert b"npm ci" in proc.stdout and proc.stdout != NODE.encode()
    assert (repo / "svc" / "Dockerfile").read_text() == NODE
    assert not (repo / "svc" / ".dockerignore").exists()
    assert b"dockerignore (display-only, not applied)" in proc.stderr
    assert b"unsafe, not applied): create .dockerignore" not in proc.stderr
    on_disk = msdfix("--unsafe-fixes", "--diff", "svc/Dockerfile", cwd=repo)
    assert b"  line 1: dockerignore: create .dockerignore" in on_disk.stderr  # a file: applied


def test_check_of_a_buffer_gives_no_hint_to_write(repo: Path) -> None:
    proc = msdfix("--check", "--stdin-filename", "svc/Dockerfile", cwd=repo)
    assert proc.returncode == 1
    assert b"hint: run with --write" not in proc.stderr


def test_an_excluded_path_under_force_exclude_is_echoed_unchanged(repo: Path) -> None:
    """ruff: with --force-exclude an excluded --stdin-filename is not checked; where the output
    is the file itself it is echoed as it came; exit 0. Without --force-exclude a named file
    is processed whatever the exclusions say."""
    args = ["--exclude", "svc", "--stdin-filename", "svc/Dockerfile"]
    echoed = msdfix("--force-exclude", *args, cwd=repo)
    assert (echoed.returncode, echoed.stdout, echoed.stderr) == (0, NODE.encode(), b"")
    checked = msdfix("--force-exclude", "--check", *args, cwd=repo)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b"")
    report = msdfix("--force-exclude", "--output-format", "json", *args, cwd=repo)
    assert report.returncode == 0 and json.loads(report.stdout)["files"] == []
    processed = msdfix(*args, cwd=repo)
    assert processed.returncode == 0 and processed.stdout != NODE.encode()
    (repo / "svc" / ".msdfix.toml").write_text('force-exclude = true\nextend-exclude = ["*.j2"]\n')
    configured = msdfix("--check", "--stdin-filename", "svc/Dockerfile.j2", cwd=repo)
    assert (configured.returncode, configured.stdout) == (0, b"")


def test_other_paths_are_ignored_with_a_warning(repo: Path) -> None:
    proc = msdfix("--check", "--stdin-filename", "svc/Dockerfile", "svc", "-", cwd=repo)
    assert proc.stdout == b"would rewrite svc/Dockerfile\n"
    assert b"warning: ignoring svc in favor of standard input\n" in proc.stderr


def test_an_empty_stdin_filename_is_a_usage_error(repo: Path) -> None:
    proc = msdfix("--stdin-filename", "", cwd=repo)
    assert proc.returncode == 2 and b"an empty PATH names no file" in proc.stderr
