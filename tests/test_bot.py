"""`msdfix pr` against a real git remote (a local bare repository) and a fake GitHub API.

The fake GitHub (tests/support/fake_github.py) is an http.server on 127.0.0.1 that implements
the endpoints the bot uses, serves the bare repository over smart HTTP with `git http-backend`
behind Basic auth when a test asks for it, and records every request, so the tests assert the
exact requests made and which credentials reached which server. A second server (`recorder`)
stands for another host. `msdfix pr` runs as a subprocess, as a user or CI would run it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from msdfix.bot import body as render
from msdfix.bot import outputs
from msdfix.bot.git import BotError, Git, scrub, write_askpass
from msdfix.bot.github import MAX_PAGES, GitHub
from msdfix.bot.hosts import TokenPolicy, api_url_for, parse_repo
from msdfix.bot.policy import STALE_MARKER, Change, fingerprint, is_own_commit
from msdfix.bot.pr import Options, Run
from msdfix.engine import rewrite_text
from support.fake_github import TOKEN, FakeGitHub, Recorder, basic, serve, step_outputs

PIP_DOCKERFILE = (
    "FROM python:3.12-slim\n"
    "WORKDIR /app\n"
    "COPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
    "COPY . .\n"
    'CMD ["python", "app.py"]\n'
)
NPM_DOCKERFILE = 'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
CLEAN_DOCKERFILE = 'FROM alpine:3.19\nCOPY app /app\nCMD ["/app"]\n'
PULLS_QUERY = "head=o%3Amsdfix%2Foptimize&state=all&per_page=100"


# --- the fake GitHub (tests/support/fake_github.py) ---


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serve(fake.handle) as url:
        fake.url = url
        yield fake


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A second host: the target of redirects, which must never see the token."""
    other = Recorder()
    with serve(other.handle) as url:
        other.url = url
        yield other


# --- git fixtures ---


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@dataclass
class Repo:
    root: Path
    work: Path
    bare: Path
    home: Path
    outputs: list[str] = field(default_factory=list)

    @property
    def github_output(self) -> Path:
        return self.root / "github_output"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
        env.update(HOME=str(self.home), GIT_CONFIG_NOSYSTEM="1", GITHUB_TOKEN=TOKEN, NO_COLOR="1")
        env.update(GITHUB_OUTPUT=str(self.github_output))
        env.update(extra)
        return env

    def step_outputs(self) -> dict[str, str]:
        """The step outputs the last run wrote (as a later workflow step would see them)."""
        return step_outputs(self.github_output.read_text())

    def pr(
        self, *args: str, cwd: Path | None = None, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        self.github_output.write_text("")
        proc = subprocess.run(
            [sys.executable, "-m", "msdfix.cli", "pr", *args],
            cwd=cwd or self.work,
            capture_output=True,
            text=True,
            env=self.env(**env),
            timeout=timeout,
        )
        self.outputs += [proc.stdout, proc.stderr, self.github_output.read_text()]
        return proc

    def remote_sha(self, branch: str = "msdfix/optimize") -> str | None:
        out = git(self.bare, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return out or None

    def remote_file(self, path: str, branch: str = "msdfix/optimize") -> str:
        return git(self.bare, "show", f"{branch}:{path}") + "\n"

    def pushes(self) -> list[str]:
        log = self.bare / "pushes.log"
        return log.read_text().splitlines() if log.exists() else []

    def commit_upstream(self, files: dict[str, str], message: str) -> str:
        """Commit to main from a second clone (someone else's push)."""
        other = self.root / "other"
        if not other.exists():
            git(self.root, "clone", "-q", str(self.bare), str(other))
            git(other, "config", "user.name", "Other")
            git(other, "config", "user.email", "other@example.com")
        git(other, "pull", "-q", "origin", "main")
        for name, text in files.items():
            (other / name).parent.mkdir(parents=True, exist_ok=True)
            (other / name).write_text(text)
        git(other, "add", "-A")
        git(other, "commit", "-qm", message)
        git(other, "push", "-q", "origin", "main")
        return git(other, "rev-parse", "HEAD")

    def snapshot(self) -> dict[str, str]:
        """Everything about the user's checkout that `msdfix pr` must leave as it was."""
        refs = git(self.work, "for-each-ref", "--format=%(refname) %(objectname)")
        return {
            "head": git(self.work, "rev-parse", "HEAD"),
            "branch": git(self.work, "symbolic-ref", "HEAD"),
            "status": git(self.work, "status", "--porcelain=v1", "--untracked-files=all"),
            "stage": git(self.work, "ls-files", "--stage"),
            "refs": refs,
            "worktrees": git(self.work, "worktree", "list", "--porcelain"),
            "config": (self.work / ".git" / "config").read_text(),
            "files": "\n".join(
                f"{p.relative_to(self.work)}:{p.read_bytes()!r}"
                for p in sorted(self.work.rglob("*"))
                if ".git" not in p.parts and p.is_file()
            ),
        }


HOOK_LOG = (
    '#!/bin/sh\nwhile read old new ref; do echo "$old $new $ref" >> "$GIT_DIR/pushes.log"; done\n'
)
HOOK_REJECT = (
    '#!/bin/sh\nif [ -e "$GIT_DIR/reject" ]; then echo "rejected by policy" >&2; exit 1; fi\n'
)


def make_repo(tmp_path: Path, files: dict[str, str]) -> Repo:
    home = tmp_path / "home"
    home.mkdir()
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    for name, text in (("post-receive", HOOK_LOG), ("pre-receive", HOOK_REJECT)):
        hook = bare / "hooks" / name
        hook.write_text(text)
        hook.chmod(0o755)
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", "-b", "main", str(seed))
    git(seed, "config", "user.name", "Seed")
    git(seed, "config", "user.email", "seed@example.com")
    for name, text in files.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_text(text)
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "initial")
    git(seed, "push", "-q", str(bare), "main")
    (bare / "pushes.log").unlink(missing_ok=True)
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    git(work, "config", "user.name", "Dev")
    git(work, "config", "user.email", "dev@example.com")
    return Repo(tmp_path, work, bare, home)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(
        tmp_path,
        {
            "app/Dockerfile": PIP_DOCKERFILE,
            "app/requirements.txt": "flask\n",
            "README.md": "hello\n",
        },
    )


def expected_output(text: str, context: Path | None = None) -> str:
    """What msdfix makes of ``text`` (context: a directory with the same build-context files)."""
    return rewrite_text(text, "Dockerfile", str(context) if context else None)


def api_args(api: FakeGitHub, *more: str) -> list[str]:
    return ["--repo", "o/r", "--api-url", api.url, *more]


# --- the main cycle ---


def test_opens_once_updates_on_next_change_and_pushes_nothing_when_identical(
    repo: Repo, api: FakeGitHub
) -> None:
    before = repo.snapshot()
    main_sha = git(repo.bare, "rev-parse", "main")

    first = repo.pr(*api_args(api, "--label", "msdfix", "--label", "docker"))
    assert first.returncode == 0, first.stderr
    assert "opened pull request #1: https://github.example/o/r/pull/1" in first.stderr
    assert api.calls() == [
        ("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"),
        ("POST", "/repos/o/r/pulls"),
        ("POST", "/repos/o/r/issues/1/labels"),
    ]
    created = api.requests[1].body
    assert set(created) == {"title", "body", "head", "base", "draft"}
    assert created["head"] == "msdfix/optimize" and created["base"] == "main"
    assert created["draft"] is False
    assert created["title"] == "msdfix: optimize app/Dockerfile (cache-mount)"
    pr_body = created["body"]
    assert "### `app/Dockerfile`" in pr_body
    assert "- `cache-mount` (line 4): cache pip downloads in /root/.cache/pip" in pr_body
    assert "-RUN pip install --no-cache-dir -r requirements.txt" in pr_body
    assert (
        "+RUN --mount=type=cache,target=/root/.cache/pip \\\n+    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n+    pip install -r requirements.txt"
        in pr_body
    )
    assert api.requests[2].body == {"labels": ["msdfix", "docker"]}
    # The branch on the remote: one commit on top of main with exactly the rewrite.
    bot_sha = repo.remote_sha()
    assert bot_sha is not None
    assert git(repo.bare, "rev-parse", f"{bot_sha}^") == main_sha
    assert git(repo.bare, "diff", "--name-only", main_sha, bot_sha) == "app/Dockerfile"
    assert repo.remote_file("app/Dockerfile") == expected_output(PIP_DOCKERFILE, repo.work / "app")
    assert git(repo.bare, "log", "-1", "--format=%s", bot_sha) == created["title"]
    assert len(repo.pushes()) == 1
    assert repo.snapshot() == before

    # Same base, same rewrite: nothing pushed, the pull request is left alone.
    api.requests.clear()
    second = repo.pr(*api_args(api))
    assert second.returncode == 0, second.stderr
    assert "pull request #1 already has this rewrite; nothing pushed" in second.stderr
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert repo.remote_sha() == bot_sha
    assert len(repo.pushes()) == 1

    # Someone adds another Dockerfile to main: the same pull request is updated.
    new_main = repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "add web")
    api.requests.clear()
    third = repo.pr(*api_args(api))
    assert third.returncode == 0, third.stderr
    assert "updated pull request #1" in third.stderr
    assert api.calls() == [
        ("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"),
        ("PATCH", "/repos/o/r/pulls/1"),
    ]
    patch = api.requests[1].body
    assert set(patch) == {"title", "body"}
    assert patch["title"] == "msdfix: optimize 2 Dockerfiles (cache-mount)"
    assert "### `web/Dockerfile`" in patch["body"] and "### `app/Dockerfile`" in patch["body"]
    new_bot = repo.remote_sha()
    assert new_bot not in (None, bot_sha)
    assert git(repo.bare, "rev-parse", f"{new_bot}^") == new_main
    assert repo.remote_file("web/Dockerfile") == expected_output(NPM_DOCKERFILE)
    assert repo.pushes()[-1] == f"{bot_sha} {new_bot} refs/heads/msdfix/optimize"
    assert len(api.pulls) == 1
    assert repo.snapshot() == before


def test_nothing_to_change_does_nothing(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(tmp_path, {"Dockerfile": CLEAN_DOCKERFILE})
    before = repo.snapshot()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert "nothing to change in 1 Dockerfile(s) on 'main'" in proc.stderr
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]  # any stale PR to close?
    assert repo.remote_sha() is None and repo.pushes() == []
    assert repo.snapshot() == before


def test_utf16_dockerfile_is_committed_in_utf16(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(tmp_path, {"README.md": "hello\n"})
    other = tmp_path / "utf16"
    git(tmp_path, "clone", "-q", str(repo.bare), str(other))
    git(other, "config", "user.name", "Other")
    git(other, "config", "user.email", "other@example.com")
    (other / "Dockerfile").write_bytes(b"\xff\xfe" + PIP_DOCKERFILE.encode("utf-16-le"))
    git(other, "add", "-A")
    git(other, "commit", "-qm", "utf-16")
    git(other, "push", "-q", "origin", "main")
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    blob = subprocess.run(
        ["git", "show", "msdfix/optimize:Dockerfile"],
        cwd=repo.bare,
        capture_output=True,
        check=True,
    ).stdout
    assert blob.startswith(b"\xff\xfe")
    assert blob[2:].decode("utf-16-le") == expected_output(PIP_DOCKERFILE)


def test_branch_exists_without_open_pull_request(repo: Repo, api: FakeGitHub) -> None:
    """A merged PR (since reverted) left its branch: the identical branch is reused, a new PR
    opened, no push. Only a PR closed *without merging* declines a rewrite."""
    assert repo.pr(*api_args(api)).returncode == 0
    api.close_pull(1, merged=True)
    api.requests.clear()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"), ("POST", "/repos/o/r/pulls")]
    assert "opened pull request #2" in proc.stderr
    assert len(repo.pushes()) == 1


def test_rewrites_the_base_branch_not_the_dirty_checkout(repo: Repo, api: FakeGitHub) -> None:
    """Uncommitted edits and the current branch stay as they are and are not in the PR."""
    git(repo.work, "checkout", "-q", "-b", "feature")
    (repo.work / "app" / "Dockerfile").write_text(NPM_DOCKERFILE)
    (repo.work / "scratch.txt").write_text("untracked\n")
    before = repo.snapshot()
    proc = repo.pr(*api_args(api, "--draft"), cwd=repo.work / "app")
    assert proc.returncode == 0, proc.stderr
    assert api.requests[1].body["draft"] is True
    assert api.requests[1].body["base"] == "main"
    assert repo.remote_file("app/Dockerfile") == expected_output(PIP_DOCKERFILE, repo.work / "app")
    assert repo.snapshot() == before


def test_paths_limit_the_files_and_base_option(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(tmp_path, {"a/Dockerfile": PIP_DOCKERFILE, "b/Dockerfile": NPM_DOCKERFILE})
    git(repo.work, "push", "-q", "origin", "main:release")
    proc = repo.pr(*api_args(api, "--base", "release", "--branch", "bot/docker", "b"))
    assert proc.returncode == 0, proc.stderr
    body = api.requests[-1].body
    assert body["base"] == "release" and body["head"] == "bot/docker"
    assert "`b/Dockerfile`" in body["body"] and "`a/Dockerfile`" not in body["body"]
    assert api.calls()[0] == (
        "GET",
        "/repos/o/r/pulls?head=o%3Abot%2Fdocker&state=all&per_page=100",
    )
    assert git(repo.bare, "diff", "--name-only", "release", "bot/docker") == "b/Dockerfile"


def test_dry_run_pushes_nothing_and_calls_no_api(repo: Repo, api: FakeGitHub) -> None:
    before = repo.snapshot()
    proc = repo.pr(*api_args(api, "--dry-run"), GITHUB_TOKEN="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Title: msdfix: optimize app/Dockerfile (cache-mount)\n")
    assert "+RUN --mount=type=cache,target=/root/.cache/pip" in proc.stdout
    assert "Commit message:" in proc.stdout
    assert "dry run: would commit 1 file(s) on main" in proc.stderr
    assert api.requests == [] and repo.remote_sha() is None and repo.pushes() == []
    assert repo.snapshot() == before


def test_configuration_of_the_base_branch_applies(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(
        tmp_path, {"Dockerfile": PIP_DOCKERFILE, ".msdfix.toml": 'ignore = ["cache-mount"]\n'}
    )
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert "nothing to change" in proc.stderr
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    # A configuration outside the repository (here: above the bot's temporary directory) is not
    # the project's and is ignored.
    stray = tmp_path / "tmp"
    stray.mkdir()
    (stray / ".msdfix.toml").write_text('ignore = ["cache-mount"]\n')
    (tmp_path / "second").mkdir()
    other = make_repo(tmp_path / "second", {"Dockerfile": PIP_DOCKERFILE})
    proc = other.pr(*api_args(api), TMPDIR=str(stray))
    assert proc.returncode == 0, proc.stderr
    assert "opened pull request #1" in proc.stderr


def test_configured_exclusions_and_nested_configurations_apply(
    tmp_path: Path, api: FakeGitHub
) -> None:
    """The bot searched with the default exclusions only: a Dockerfile the project's
    ``extend-exclude`` skips for ``msdfix --check`` was rewritten in the pull request; and a
    folder's own configuration applies to its files, as for ``msdfix``."""
    repo = make_repo(
        tmp_path,
        {
            "app/Dockerfile": PIP_DOCKERFILE,
            "vendor/x/Dockerfile": PIP_DOCKERFILE,
            "quiet/Dockerfile": PIP_DOCKERFILE,
            "quiet/.msdfix.toml": 'ignore = ["cache-mount"]\n',
            "pyproject.toml": '[tool.msdfix]\nextend-exclude = ["vendor/"]\n',
        },
    )
    proc = repo.pr(*api_args(api, "--dry-run"), GITHUB_TOKEN="")
    assert proc.returncode == 0, proc.stderr
    assert "`app/Dockerfile`" in proc.stdout
    assert "vendor/x/Dockerfile" not in proc.stdout + proc.stderr
    assert "### `quiet/Dockerfile`" not in proc.stdout  # listed only for its unsafe fixes


def test_configuration_above_the_temporary_tree_is_never_read(tmp_path: Path) -> None:
    """The search for a configuration went on above the bot's temporary tree (``/tmp``,
    ``/``): a file found there was ignored, but a broken one (or, now, a directory named
    ``.msdfix.toml``) failed the run."""
    from msdfix.bot.rewrite import settings

    (tmp_path / ".msdfix.toml").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.msdfix]\nselect = 5\n")
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    chosen = settings(tree, Path("app"), None, None, None)
    assert chosen.select is None and not chosen.unsafe
    (tree / ".msdfix.toml").write_text('select = ["cache-mount"]\n')
    assert settings(tree, Path("app"), None, None, None).select == frozenset({"cache-mount"})


def test_invalid_configuration_is_an_error(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(
        tmp_path, {"Dockerfile": PIP_DOCKERFILE, ".msdfix.toml": 'select = ["nope"]\n'}
    )
    line = _error(repo.pr(*api_args(api)))
    assert line.startswith("msdfix pr: error: .msdfix.toml: unknown transform id(s) nope; known:")
    assert api.requests == [] and repo.remote_sha() is None


def test_unsafe_suggestions_are_listed_not_applied(tmp_path: Path, api: FakeGitHub) -> None:
    go = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nRUN ./configure-thing\n"
    repo = make_repo(tmp_path, {"Dockerfile": PIP_DOCKERFILE, "go/Dockerfile": go})
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    text = api.requests[1].body["body"]
    assert "### Not applied (unsafe)" in text
    assert "`go/Dockerfile` line 4, `cache-mount`: cache go downloads" in text
    assert repo.remote_file("go/Dockerfile") == go


# --- the token ---


def _all_bytes(path: Path) -> Iterator[tuple[Path, bytes]]:
    for item in path.rglob("*"):
        if item.is_file():
            yield item, item.read_bytes()


def test_token_never_leaks(repo: Repo, api: FakeGitHub) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "more")
    assert repo.pr(*api_args(api)).returncode == 0
    api.fail("GET", "/repos/o/r/pulls", 401, {"message": "Bad credentials"})
    assert repo.pr(*api_args(api)).returncode == 2
    assert repo.pr(*api_args(api, "--dry-run")).returncode == 0
    assert repo.pr(*api_args(api, "--api-url", "http://127.0.0.1:9")).returncode == 2
    assert repo.pr("--repo", "o/r", "--api-url", "http://evil.example").returncode == 2
    both = expected_output(PIP_DOCKERFILE, repo.work / "app"), expected_output(NPM_DOCKERFILE)
    repo.commit_upstream({"app/Dockerfile": both[0], "web/Dockerfile": both[1]}, "by hand")
    assert repo.pr(*api_args(api)).returncode == 0  # the stale pull request is closed
    assert api.pulls[1]["state"] == "closed" and api.comments[1]
    assert TOKEN not in json.dumps([api.pulls, api.comments, api.labels])
    for text in repo.outputs:  # stdout, stderr and $GITHUB_OUTPUT of every run
        assert TOKEN not in text
    for root in (repo.work / ".git", repo.bare, repo.home):
        for path, data in _all_bytes(root):
            assert TOKEN.encode() not in data, path
    for git_dir in (repo.work, repo.bare):  # objects are compressed: read them through git
        objects = subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"],
            cwd=git_dir,
            capture_output=True,
            check=True,
        ).stdout
        assert objects and TOKEN.encode() not in objects
    assert api.requests
    for request in api.requests:
        assert TOKEN not in request.path and TOKEN not in json.dumps(request.body)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        others = {k: v for k, v in request.headers.items() if k != "Authorization"}
        assert TOKEN not in json.dumps(others)


def test_token_reaches_https_git_remote_only_through_askpass(repo: Repo, api: FakeGitHub) -> None:
    """An http(s) remote gets the token via GIT_ASKPASS; a credential helper cannot store it."""
    git(repo.work, "remote", "set-url", "origin", f"{api.url}/git/o/r.git")
    git(repo.work, "remote", "set-head", "origin", "--delete")
    git(repo.home, "config", "--global", "credential.helper", "store")
    before = repo.snapshot()
    proc = repo.pr("--api-url", api.url)
    assert proc.returncode == 2
    assert proc.stderr.startswith("msdfix pr: error: git fetch failed:")
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert api.git_auth and set(api.git_auth) == {expected}
    # The repository came from the URL, the default branch from the API.
    assert api.calls() == [("GET", "/repos/o/r")]
    assert not (repo.home / ".git-credentials").exists()
    for text in repo.outputs:
        assert TOKEN not in text
    assert repo.snapshot() == before


def test_credential_helpers_cannot_store_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git asks our askpass (helpers disabled) and never hands the token to a helper to store."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(tmp_path, "config", "--global", "credential.helper", "store")
    repo = Git(tmp_path)
    repo.use_token(TOKEN, write_askpass(tmp_path), ["https://github.com/o/r.git"])
    query = b"protocol=https\nhost=github.com\npath=o/r.git\n\n"
    filled = repo.out("credential", "fill", stdin=query, network=True)
    assert f"password={TOKEN}" in filled.splitlines()
    repo.run("credential", "approve", stdin=filled.encode() + b"\n", network=True)
    assert not (home / ".git-credentials").exists()
    # Without the bot's settings the same helper would have written it to disk.
    repo.run("credential", "approve", stdin=filled.encode() + b"\n")
    assert TOKEN in (home / ".git-credentials").read_text()


def test_askpass_script_holds_no_secret(tmp_path: Path) -> None:
    script = write_askpass(tmp_path)
    assert TOKEN not in script.read_text()
    env = dict(os.environ, MSDFIX_GIT_ASKPASS_TOKEN=TOKEN)
    user = subprocess.run(
        [str(script), "Username for 'https://x': "], capture_output=True, text=True, env=env
    )
    password = subprocess.run(
        [str(script), "Password for 'https://x': "], capture_output=True, text=True, env=env
    )
    assert (user.stdout, password.stdout) == ("x-access-token\n", TOKEN + "\n")
    assert scrub(f"oops {TOKEN}!", [TOKEN]) == "oops ***!"


# --- the token goes only where it belongs ---


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_api_redirect_to_another_host_is_refused(
    repo: Repo, api: FakeGitHub, recorder: Recorder, status: int
) -> None:
    api.redirect("/repos/o/r/pulls", status, recorder.url + "/repos/o/r/pulls")
    # Control: urllib on its own carries the Authorization header to the other host.
    plain = urllib.request.Request(
        f"{api.url}/repos/o/r/pulls", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(plain) as resp:
        resp.read()
    assert recorder.saw(TOKEN)
    recorder.requests.clear()
    api.requests.clear()
    before = repo.snapshot()
    assert _error(repo.pr(*api_args(api))) == (
        f"msdfix pr: error: GitHub API redirected GET /pulls to {recorder.url}, another host: "
        f"not followed (the token is only sent to {api.url})"
    )
    assert recorder.requests == []
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert repo.remote_sha() is None and repo.pushes() == []
    assert repo.snapshot() == before


def test_api_redirect_within_the_api_keeps_the_token_and_the_method(
    repo: Repo, api: FakeGitHub
) -> None:
    """GitHub answers 307 for a renamed repository: followed on the same host, POST stays POST."""
    api.redirect("/repos/o/old/", 307, "/repos/o/r/")
    proc = repo.pr("--repo", "o/old", "--api-url", api.url, "--label", "docker")
    assert proc.returncode == 0, proc.stderr
    assert "opened pull request #1" in proc.stderr
    assert api.calls() == [
        ("GET", f"/repos/o/old/pulls?{PULLS_QUERY}"),
        ("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"),
        ("POST", "/repos/o/old/pulls"),
        ("POST", "/repos/o/r/pulls"),
        ("POST", "/repos/o/old/issues/1/labels"),
        ("POST", "/repos/o/r/issues/1/labels"),
    ]
    assert {r.headers.get("Authorization") for r in api.requests} == {f"Bearer {TOKEN}"}
    assert api.pulls[1]["head"] == {"ref": "msdfix/optimize"} and api.labels == {1: ["docker"]}


def test_git_follows_no_redirect_with_the_token(repo: Repo, api: FakeGitHub) -> None:
    other = FakeGitHub(git_root=repo.root)  # a git server on another host, asking for credentials
    with serve(other.handle) as other_url:
        api.redirect("/git/", 302, other_url + "/git/")
        git(repo.work, "remote", "set-url", "origin", f"{api.url}/git/remote.git")
        # A configuration may even ask for redirects to be followed everywhere.
        git(repo.work, "config", f"http.{api.url}/.followRedirects", "true")
        # Control: git on its own answers the other host's challenge with the askpass token.
        env = repo.env(
            GIT_ASKPASS=str(write_askpass(repo.root)),
            MSDFIX_GIT_ASKPASS_TOKEN=TOKEN,
            GIT_TERMINAL_PROMPT="0",
        )
        subprocess.run(["git", "ls-remote", "origin"], cwd=repo.work, env=env, capture_output=True)
        assert other.git_auth == [basic(TOKEN)] * len(other.git_auth) != []
        other.git_auth.clear()
        other.requests.clear()
        before = repo.snapshot()
        line = _error(repo.pr("--repo", "o/r", "--api-url", api.url))
        assert line.startswith("msdfix pr: error: git fetch failed: fatal: unable to access")
        assert line.endswith("The requested URL returned error: 302")
        assert other.requests == [] and other.git_auth == []
        assert repo.snapshot() == before


FOREIGN = (
    "msdfix sends the token only to github.com, $GITHUB_SERVER_URL or the host of --api-url; "
    "pass --api-url for a GitHub Enterprise host you trust"
)
PLAIN_HTTP = "the token is only sent over https (http only to 127.0.0.1, ::1 or localhost)"


@pytest.mark.parametrize(
    ("remote", "push_url", "args", "env", "expected"),
    [
        (
            "https://evil.example/o/r.git",
            None,
            ["--api-url", "{api}"],
            {},
            f"remote 'origin' is on https://evil.example: {FOREIGN}",
        ),
        (
            "{recorder}/git/o/r.git",  # loopback, but another port: another server
            None,
            ["--api-url", "{api}"],
            {},
            "remote 'origin' is on {recorder}: " + FOREIGN,
        ),
        (
            "{api}/git/o/r.git",
            "https://evil.example/o/r.git",  # only the push URL is elsewhere
            ["--api-url", "{api}"],
            {},
            f"remote 'origin' is on https://evil.example: {FOREIGN}",
        ),
        (
            "http://github.com/o/r.git",
            None,
            [],
            {},
            f"remote 'origin' uses plain http (http://github.com); {PLAIN_HTTP}",
        ),
        (
            "git@ghe.corp.example:o/r.git",  # ssh: git needs no token, but the API would get it
            None,
            [],
            {},
            "the remote is on ghe.corp.example, not github.com: msdfix sends the token only to "
            "github.com, $GITHUB_SERVER_URL or a host you name; pass --api-url (e.g. "
            "https://ghe.corp.example/api/v3 for GitHub Enterprise) if you trust it",
        ),
        (
            "https://ghe.corp.example/o/r.git",
            None,
            ["--api-url", "http://ghe.corp.example/api/v3"],
            {},
            f"--api-url uses plain http (http://ghe.corp.example); {PLAIN_HTTP}",
        ),
        (
            "https://github.com/o/r.git",
            None,
            [],
            {"GITHUB_API_URL": "http://ghe.corp.example/api/v3"},
            f"$GITHUB_API_URL uses plain http (http://ghe.corp.example); {PLAIN_HTTP}",
        ),
    ],
    ids=["foreign-host", "other-port", "push-url", "http", "ssh-api", "http-api", "http-env"],
)
def test_token_is_sent_to_no_host_nobody_named(
    repo: Repo,
    api: FakeGitHub,
    recorder: Recorder,
    remote: str,
    push_url: str | None,
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    def fill(text: str) -> str:
        return text.replace("{api}", api.url).replace("{recorder}", recorder.url)

    git(repo.work, "remote", "set-url", "origin", fill(remote))
    if push_url:
        git(repo.work, "remote", "set-url", "--push", "origin", fill(push_url))
    before = repo.snapshot()
    line = _error(repo.pr("--repo", "o/r", *[fill(a) for a in args], **env))
    assert line == "msdfix pr: error: " + fill(expected)
    assert api.requests == [] and recorder.requests == []
    assert repo.remote_sha() is None and repo.snapshot() == before


def test_token_policy() -> None:
    policy = TokenPolicy.build(None, {})
    for url in ("https://github.com/o/r.git", "https://api.github.com", "https://GitHub.com./o/r"):
        policy.check(url, "x")
    for url in ("https://github.com:8443/o/r", "https://gist.github.com/o", "http://github.com/o"):
        with pytest.raises(BotError):
            policy.check(url, "x")
    actions = TokenPolicy.build(
        None,
        {"GITHUB_SERVER_URL": "https://ghe.example", "GITHUB_API_URL": "https://ghe.example/api"},
    )
    actions.check("https://ghe.example/o/r.git", "x")
    named = TokenPolicy.build("https://api.acme.ghe.com", {})  # GHE.com: api.X and X
    named.check("https://acme.ghe.com/o/r.git", "x")
    with pytest.raises(BotError, match="is on https://evil.example:"):
        named.check("https://evil.example/o/r.git", "x")
    loopback = TokenPolicy.build("http://127.0.0.1:8080", {})
    loopback.check("http://127.0.0.1:8080/git/r.git", "x")
    with pytest.raises(BotError, match="is on http://127.0.0.1:8081:"):
        loopback.check("http://127.0.0.1:8081/git/r.git", "x")
    with pytest.raises(BotError, match="not an http"):
        policy.check("ftp://github.com/o/r", "x")


def test_persisted_checkout_credentials_do_not_replace_the_token(
    repo: Repo, api: FakeGitHub
) -> None:
    """actions/checkout leaves `http.<server>/.extraheader` in .git/config; git sends that header
    on every request, so the token would never be asked for. msdfix's own git commands reset it:
    the branch is pushed with the token msdfix was given, and the config stays as it was."""
    checkout_token = "ghs_CHECKOUTtoken000000000000000"
    api.git_root = repo.root
    git(repo.work, "remote", "set-url", "origin", f"{api.url}/git/remote.git")
    git(
        repo.work,
        "config",
        f"http.{api.url}/.extraheader",
        "AUTHORIZATION: " + basic(checkout_token),
    )
    # Control: plain git sends the persisted header, even with an askpass holding the token.
    env = repo.env(
        GIT_ASKPASS=str(write_askpass(repo.root)),
        MSDFIX_GIT_ASKPASS_TOKEN=TOKEN,
        GIT_TERMINAL_PROMPT="0",
    )
    plain = subprocess.run(
        ["git", "ls-remote", "origin"], cwd=repo.work, env=env, capture_output=True
    )
    assert plain.returncode != 0 and api.git_auth == [basic(checkout_token)]
    api.git_auth.clear()
    before = repo.snapshot()
    proc = repo.pr("--repo", "o/r", "--api-url", api.url)
    assert proc.returncode == 0, proc.stderr
    assert "opened pull request #1" in proc.stderr
    assert api.git_auth and set(api.git_auth) == {basic(TOKEN)}
    assert repo.remote_file("app/Dockerfile") == expected_output(PIP_DOCKERFILE, repo.work / "app")
    assert repo.snapshot() == before
    for text in repo.outputs:
        assert TOKEN not in text
    assert TOKEN not in (repo.work / ".git" / "config").read_text()


# --- it never overrides people ---


def reviewer_commit(repo: Repo, files: dict[str, str], message: str, amend: bool = False) -> str:
    """A person's commit on the bot branch, pushed from their own clone."""
    clone = repo.root / "reviewer"
    if not clone.exists():
        git(repo.root, "clone", "-q", str(repo.bare), str(clone))
        git(clone, "config", "user.name", "Reviewer")
        git(clone, "config", "user.email", "reviewer@example.com")
    git(clone, "fetch", "-q", "origin")
    git(clone, "checkout", "-q", "-B", "msdfix/optimize", "origin/msdfix/optimize")
    for name, text in files.items():
        (clone / name).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", *(["--amend", "--no-edit"] if amend else ["-m", message]))
    git(clone, "push", "-q", "-f", "origin", "msdfix/optimize")
    return git(clone, "rev-parse", "HEAD")


def test_commit_and_body_carry_the_rewrite_fingerprint(repo: Repo, api: FakeGitHub) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    bot = repo.remote_sha()
    assert bot is not None
    message = git(repo.bare, "log", "-1", "--format=%B", bot)
    value = re.findall(r"^msdfix-rewrite: ([0-9a-f]{24})$", message, re.MULTILINE)
    assert len(value) == 1
    assert (
        git(repo.bare, "log", "-1", "--format=%(trailers:key=msdfix-rewrite,valueonly)", bot)
        == (value[0])
    )
    assert f"<!-- msdfix:rewrite={value[0]} -->" in api.pulls[1]["body"].splitlines()[:2]
    bare = Git(repo.bare)
    assert is_own_commit(bare, bot)
    assert not is_own_commit(bare, git(repo.bare, "rev-parse", "main"))


def test_human_commit_on_the_branch_stops_the_bot(repo: Repo, api: FakeGitHub) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    title = api.pulls[1]["title"]
    human = reviewer_commit(repo, {"app/requirements.txt": "flask==3.0.0\n"}, "pin flask")
    repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "add web")  # msdfix has more to do
    pushes = repo.pushes()
    api.requests.clear()
    before = repo.snapshot()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert (
        f"branch 'msdfix/optimize' on 'origin' has commits msdfix did not make (head {human[:12]} "
        "by Reviewer <reviewer@example.com>); msdfix does not overwrite them and stopped: merge "
        "or close pull request #1 to let msdfix update it again, or pass --branch NAME"
    ) in proc.stderr
    assert repo.remote_sha() == human and repo.pushes() == pushes
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert api.pulls[1]["title"] == title
    assert repo.step_outputs() == {
        "result": "branch-modified",
        "pr-number": "1",
        "pr-url": "https://github.example/o/r/pull/1",
        "changed-files": "app/Dockerfile\nweb/Dockerfile",
    }
    assert repo.snapshot() == before
    # Without an open pull request the branch is still not overwritten.
    api.close_pull(1)
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert (
        "has commits msdfix did not make" in proc.stderr
        and "delete it to let msdfix" in proc.stderr
    )
    assert repo.remote_sha() == human and len(api.pulls) == 1


def test_amended_rewrite_is_a_human_change_a_reauthored_one_is_not(
    repo: Repo, api: FakeGitHub
) -> None:
    """The trailer alone proves nothing: the commit's diff must still be the rewrite it names."""
    assert repo.pr(*api_args(api)).returncode == 0
    amended = reviewer_commit(repo, {"app/Dockerfile": PIP_DOCKERFILE + "# note\n"}, "", amend=True)
    assert "msdfix-rewrite: " in git(repo.bare, "log", "-1", "--format=%B", amended)
    repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "add web")
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0 and "has commits msdfix did not make" in proc.stderr
    assert repo.remote_sha() == amended
    # Put msdfix's content back (same blobs, new commit by the reviewer): msdfix's again.
    original = expected_output(PIP_DOCKERFILE, repo.work / "app")
    restored = reviewer_commit(repo, {"app/Dockerfile": original}, "", amend=True)
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert "updated pull request #1" in proc.stderr
    assert repo.remote_sha() not in (restored, amended)


def test_closed_pull_request_is_not_reopened_for_the_same_rewrite(
    repo: Repo, api: FakeGitHub
) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    branch = repo.remote_sha()
    api.close_pull(1)
    repo.commit_upstream({"README.md": "changed\n"}, "unrelated")  # same rewrite, newer base
    pushes = repo.pushes()
    for _ in range(2):  # a weekly schedule does not bring it back
        api.requests.clear()
        proc = repo.pr(*api_args(api))
        assert proc.returncode == 0, proc.stderr
        assert (
            "pull request #1 proposed this same rewrite and was closed without merging: not "
            "opening it again (a different rewrite opens a new pull request; reopen #1 to get "
            "this one)"
        ) in proc.stderr
        assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
        assert len(api.pulls) == 1 and repo.pushes() == pushes and repo.remote_sha() == branch
        assert repo.step_outputs() == {
            "result": "declined",
            "pr-number": "1",
            "pr-url": "https://github.example/o/r/pull/1",
            "changed-files": "app/Dockerfile",
        }
    # A different rewrite (another Dockerfile to change) is proposed in a new pull request, on
    # the branch msdfix left (its own commit, so it may be replaced).
    new_main = repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "add web")
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert "opened pull request #2" in proc.stderr
    assert api.pulls[1]["state"] == "closed" and api.pulls[2]["state"] == "open"
    assert git(repo.bare, "rev-parse", "msdfix/optimize^") == new_main
    assert repo.pushes()[-1].startswith(f"{branch} ")


def test_stale_pull_request_is_closed_and_its_branch_deleted(repo: Repo, api: FakeGitHub) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    bot = repo.remote_sha()
    rewritten = expected_output(PIP_DOCKERFILE, repo.work / "app")
    repo.commit_upstream({"app/Dockerfile": rewritten}, "same change by hand")
    api.requests.clear()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert api.calls() == [
        ("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"),
        ("POST", "/repos/o/r/issues/1/comments"),
        ("PATCH", "/repos/o/r/pulls/1"),
    ]
    comment = api.comments[1][0]["body"]
    assert re.fullmatch(
        r"msdfix has nothing left to change on `main` \(at [0-9a-f]{12}\): these changes are "
        r"already there or no longer apply\. Closing this pull request and deleting its branch\.",
        comment,
    )
    assert api.pulls[1]["state"] == "closed"
    assert api.pulls[1]["title"].endswith(" - autoclosed")
    assert "msdfix:rewrite=" not in api.pulls[1]["body"]
    assert repo.remote_sha() is None
    assert repo.pushes()[-1] == f"{bot} {'0' * 40} refs/heads/msdfix/optimize"
    assert "closed pull request #1: nothing is left to change on 'main'" in proc.stderr
    assert "deleted branch 'msdfix/optimize' on 'origin'" in proc.stderr
    assert repo.step_outputs()["result"] == "closed"
    assert repo.step_outputs()["pr-number"] == "1"
    # Next week: nothing open, nothing to do.
    api.requests.clear()
    proc = repo.pr(*api_args(api))
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert repo.step_outputs()["result"] == "nothing-to-change"
    # msdfix closed #1 itself, so it declines nothing: if main goes back, the rewrite returns.
    repo.commit_upstream({"app/Dockerfile": PIP_DOCKERFILE}, "revert")
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0 and "opened pull request #2" in proc.stderr


def test_stale_pull_request_with_human_commits_gets_one_comment(
    repo: Repo, api: FakeGitHub
) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    human = reviewer_commit(repo, {"NOTES.md": "why\n"}, "notes")
    rewritten = expected_output(PIP_DOCKERFILE, repo.work / "app")
    repo.commit_upstream({"app/Dockerfile": rewritten}, "same change by hand")
    for _ in range(2):
        proc = repo.pr(*api_args(api))
        assert proc.returncode == 0, proc.stderr
        assert (
            "nothing left to change, but branch 'msdfix/optimize' has commits msdfix did not "
            "make: pull request #1 left open"
        ) in proc.stderr
        assert repo.step_outputs()["result"] == "branch-modified"
    assert len(api.comments[1]) == 1
    assert api.comments[1][0]["body"].startswith(STALE_MARKER + "\nmsdfix has nothing left")
    assert api.pulls[1]["state"] == "open" and repo.remote_sha() == human


def test_stale_note_past_the_first_page_of_comments_is_found(repo: Repo, api: FakeGitHub) -> None:
    """``comments()`` read the first 100 comments only: on a pull request with 120 comments
    before msdfix's note, every weekly run posted the note again. It follows GitHub's Link
    header (the fake serves 100 a page, as GitHub does)."""
    assert repo.pr(*api_args(api)).returncode == 0
    api.comments[1] = [{"id": i, "body": f"review {i}"} for i in range(1, 121)]
    reviewer_commit(repo, {"NOTES.md": "why\n"}, "notes")
    repo.commit_upstream(
        {"app/Dockerfile": expected_output(PIP_DOCKERFILE, repo.work / "app")}, "by hand"
    )
    for _ in range(2):
        assert repo.pr(*api_args(api)).returncode == 0
    notes = [c for c in api.comments[1] if STALE_MARKER in c["body"]]
    assert len(notes) == 1 and len(api.comments[1]) == 121
    assert ("GET", "/repos/o/r/issues/1/comments?per_page=100&page=2") in api.calls()


def test_comments_are_read_up_to_a_bound_and_only_from_the_api_origin(
    api: FakeGitHub, recorder: Recorder
) -> None:
    """At most MAX_PAGES pages; a next page on another host is refused, not fetched with
    the token."""
    github = GitHub(api.url, TOKEN, "o", "r")
    api.comments[1] = [{"id": i, "body": str(i)} for i in range(1, 1201)]
    assert len(github.comments(1)) == MAX_PAGES * 100
    link = f'<{recorder.url}/repos/o/r/issues/1/comments?page=2>; rel="next"'
    api.fail("GET", "/repos/o/r/issues/1/comments", 200, [], {"Link": link})
    with pytest.raises(BotError, match="another host: not followed"):
        github.comments(1)
    assert not recorder.requests


def test_unreadable_file_never_closes_a_pull_request(repo: Repo, api: FakeGitHub) -> None:
    """Unknown is not absent: a file msdfix could not read may still need the open PR."""
    assert repo.pr(*api_args(api)).returncode == 0
    rewritten = expected_output(PIP_DOCKERFILE, repo.work / "app")
    repo.commit_upstream({"app/Dockerfile": rewritten, "web/Dockerfile": "\0\0"}, "by hand")
    api.requests.clear()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert "some files could not be read: an open pull request is left as it is" in proc.stderr
    assert api.requests == [] and api.pulls[1]["state"] == "open"
    assert repo.remote_sha() is not None


def test_step_outputs(repo: Repo, api: FakeGitHub) -> None:
    proc = repo.pr(*api_args(api, "--dry-run"))
    assert proc.returncode == 0, proc.stderr
    assert repo.step_outputs() == {
        "result": "dry-run",
        "pr-number": "",
        "pr-url": "",
        "changed-files": "app/Dockerfile",
    }
    assert repo.pr(*api_args(api)).returncode == 0
    opened = {
        "pr-number": "1",
        "pr-url": "https://github.example/o/r/pull/1",
        "changed-files": "app/Dockerfile",
    }
    assert repo.step_outputs() == {"result": "opened", **opened}
    assert repo.pr(*api_args(api)).returncode == 0
    assert repo.step_outputs() == {"result": "up-to-date", **opened}
    repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "add web")
    assert repo.pr(*api_args(api)).returncode == 0
    assert repo.step_outputs() == {
        "result": "updated",
        **opened,
        "changed-files": "app/Dockerfile\nweb/Dockerfile",
    }
    # Outside GitHub Actions (no $GITHUB_OUTPUT) nothing is written anywhere.
    proc = repo.pr(*api_args(api), GITHUB_OUTPUT="")
    assert proc.returncode == 0 and repo.github_output.read_text() == ""


def test_github_output_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outputs.write({"a": "1", "files": "x\ny z"}, {"GITHUB_OUTPUT": str(out)})
    outputs.write({"a": "2"}, {"GITHUB_OUTPUT": str(out)})
    assert step_outputs(out.read_text()) == {"a": "2", "files": "x\ny z"}
    report = json.dumps({"version": 1, "files": [
        {"path": "a/Dockerfile", "changed": True}, {"path": "b/Dockerfile", "changed": False}]})  # fmt: skip
    assert outputs.from_json_report(report) == {
        "result": "changes",
        "changed-files": "a/Dockerfile",
    }
    assert outputs.from_json_report('{"files": []}') == {"result": "clean", "changed-files": ""}


# --- errors leave everything as it was ---


def _error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("msdfix pr: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (
            401,
            {"message": "Bad credentials"},
            "GitHub API 401 on GET /pulls (bad credentials: check the token): Bad credentials",
        ),
        (
            403,
            {"message": "Resource not accessible by integration"},
            "GitHub API 403 on GET /pulls (forbidden: the token may not write pull requests in"
            " o/r): Resource not accessible by integration",
        ),
        (
            404,
            {"message": "Not Found"},
            "GitHub API 404 on GET /pulls (not found: o/r does not exist or the token cannot"
            " see it): Not Found",
        ),
    ],
)
def test_api_errors_before_push(
    repo: Repo, api: FakeGitHub, status: int, payload: Any, expected: str
) -> None:
    before = repo.snapshot()
    api.fail("GET", "/repos/o/r/pulls", status, payload)
    assert _error(repo.pr(*api_args(api))) == f"msdfix pr: error: {expected}"
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert repo.remote_sha() is None and repo.pushes() == []
    assert repo.snapshot() == before


def test_422_after_push_rolls_the_branch_back(repo: Repo, api: FakeGitHub) -> None:
    before = repo.snapshot()
    api.fail(
        "POST",
        "/repos/o/r/pulls",
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "No commits between main and msdfix/optimize",
                }
            ],
        },
    )
    line = _error(repo.pr(*api_args(api)))
    assert line == (
        "msdfix pr: error: GitHub API 422 on POST /pulls (validation failed): "
        "Validation Failed; No commits between main and msdfix/optimize"
    )
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}"), ("POST", "/repos/o/r/pulls")]
    pushes = repo.pushes()
    assert len(pushes) == 2 and pushes[1].endswith(
        " 0000000000000000000000000000000000000000 refs/heads/msdfix/optimize"
    )
    assert repo.remote_sha() is None
    assert repo.snapshot() == before


def test_failed_update_restores_previous_branch(repo: Repo, api: FakeGitHub) -> None:
    assert repo.pr(*api_args(api)).returncode == 0
    old = repo.remote_sha()
    repo.commit_upstream({"web/Dockerfile": NPM_DOCKERFILE}, "more")
    api.fail("PATCH", "/repos/o/r/pulls/1", 403, {"message": "Must have admin rights"})
    _error(repo.pr(*api_args(api)))
    assert repo.remote_sha() == old


def test_push_rejected(repo: Repo, api: FakeGitHub) -> None:
    before = repo.snapshot()
    (repo.bare / "reject").write_text("")
    line = _error(repo.pr(*api_args(api)))
    assert line == (
        "msdfix pr: error: push to 'origin' rejected: [remote rejected] "
        "(pre-receive hook declined); remote says: rejected by policy"
    )
    assert api.calls() == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")]
    assert repo.remote_sha() is None
    assert repo.snapshot() == before


def test_push_uses_a_lease(repo: Repo, api: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """--force-with-lease: if the bot branch moved after we looked, the push is refused."""
    assert repo.pr(*api_args(api)).returncode == 0
    current = repo.remote_sha()
    assert current is not None
    monkeypatch.setenv("HOME", str(repo.home))
    run = Run(Options(repo="o/r", api_url=api.url, cwd=repo.work))
    stale = git(repo.work, "rev-parse", "HEAD")  # what we would wrongly believe the branch is
    with pytest.raises(BotError, match=r"^push to 'origin' rejected: \[rejected\] \(stale info\)$"):
        run._push(git(repo.work, "rev-parse", "HEAD"), stale)
    assert repo.remote_sha() == current


def test_rate_limit_waits_for_retry_after(repo: Repo, api: FakeGitHub) -> None:
    api.fail(
        "GET",
        "/repos/o/r/pulls",
        403,
        {"message": "API rate limit exceeded"},
        {"Retry-After": "1", "X-RateLimit-Remaining": "0"},
    )
    start = time.monotonic()
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start >= 1.0
    assert api.calls()[:3] == [("GET", f"/repos/o/r/pulls?{PULLS_QUERY}")] * 2 + [
        ("POST", "/repos/o/r/pulls")
    ]


def test_rate_limit_longer_than_max_wait_is_an_error(repo: Repo, api: FakeGitHub) -> None:
    before = repo.snapshot()
    api.fail("GET", "/repos/o/r/pulls", 429, {"message": "slow down"}, {"Retry-After": "120"})
    start = time.monotonic()
    line = _error(repo.pr(*api_args(api, "--max-wait", "2")))
    assert time.monotonic() - start < 30
    assert line == (
        "msdfix pr: error: GitHub API rate limit on GET /pulls: retry after 120s"
        " (waited at most 2s)"
    )
    assert repo.remote_sha() is None and repo.snapshot() == before


def test_network_failure(repo: Repo) -> None:
    before = repo.snapshot()
    line = _error(repo.pr("--repo", "o/r", "--api-url", "http://127.0.0.1:9"))
    assert line.startswith("msdfix pr: error: cannot reach the GitHub API at http://127.0.0.1:9:")
    assert repo.remote_sha() is None and repo.snapshot() == before


def test_no_remote(tmp_path: Path, api: FakeGitHub) -> None:
    repo = make_repo(tmp_path, {"Dockerfile": PIP_DOCKERFILE})
    git(repo.work, "remote", "remove", "origin")
    before = repo.snapshot()
    assert _error(repo.pr(*api_args(api))) == (
        "msdfix pr: error: no git remote named 'origin' (add one, or pass --remote NAME)"
    )
    assert api.requests == [] and repo.snapshot() == before


@pytest.mark.parametrize(
    ("option", "name"),
    [("--base", "main:refs/heads/hijack"), ("--base", "*"), ("--base", "-x"),
     ("--branch", "@{-1}"), ("--branch", "x:refs/heads/main")],
)  # fmt: skip
def test_a_branch_name_that_is_more_than_a_name_is_refused(
    repo: Repo, api: FakeGitHub, option: str, name: str
) -> None:
    """A base or bot branch goes into refspecs: ``main:refs/heads/hijack`` made git fetch write
    a local branch, ``*`` fetched every branch; ``@{-1}`` passed ``check-ref-format --branch``."""
    git(repo.work, "checkout", "-q", "-b", "other")
    git(repo.work, "checkout", "-q", "main")
    before = repo.snapshot()
    proc = repo.pr(*api_args(api, "--dry-run", option, name), GITHUB_TOKEN="")
    assert proc.returncode == 2
    assert _error(proc) == f"msdfix pr: error: {option} {name!r} is not a valid branch name"
    assert repo.snapshot() == before and api.requests == []


def test_usage_errors(repo: Repo, api: FakeGitHub, tmp_path: Path) -> None:
    assert _error(repo.pr(*api_args(api), GITHUB_TOKEN="")) == (
        "msdfix pr: error: no GitHub token: set GITHUB_TOKEN (or pass --token-env NAME)"
    )
    assert "cannot tell the GitHub repository from remote 'origin'" in _error(
        repo.pr("--api-url", api.url)
    )
    assert "is not inside a git checkout" in _error(repo.pr(*api_args(api), cwd=repo.home))
    assert _error(repo.pr(*api_args(api, "--branch", "bad..name"))) == (
        "msdfix pr: error: --branch 'bad..name' is not a valid branch name"
    )
    assert (
        _error(repo.pr(*api_args(api, "nope")))
        == "msdfix pr: error: nope: not in the base branch's files"
    )
    assert _error(repo.pr(*api_args(api, "--base", "nope"))) == (
        "msdfix pr: error: branch 'nope' does not exist on remote 'origin'"
    )
    assert _error(repo.pr(*api_args(api, "--select", "nope"))).startswith(
        "msdfix pr: error: --select/--ignore: unknown transform id(s) nope"
    )
    # --token-env reads another variable.
    proc = repo.pr(*api_args(api, "--token-env", "MY_TOKEN"), GITHUB_TOKEN="", MY_TOKEN=TOKEN)
    assert proc.returncode == 0, proc.stderr
    assert api.requests == [
        r for r in api.requests if r.headers["Authorization"] == f"Bearer {TOKEN}"
    ]


# --- --verify (verification runner replaced in-process) ---


def _verify_json(passed: bool) -> str:
    def image(size: int, human: str, ok: bool) -> dict[str, Any]:
        return {
            "size_bytes": size,
            "size_human": human,
            "layers": 5,
            "build": {"ok": ok, "seconds": 20.0},
            "warm_build": {"ok": ok, "seconds": 8.0},
            "smoke": None,
            "smoke_http": {"ok": ok, "detail": "HTTP 200", "seconds": 1.0},
        }

    return json.dumps(
        {
            "version": 1,
            "images": {
                "original": image(200 << 20, "200.0 MiB", True),
                "rewritten": image(150 << 20, "150.0 MiB", passed),
            },
            "ratios": {"size": 0.75, "cold_build": 1.0, "warm_build": 0.5},
            "config": {"equivalent": True, "differences": []},
            "failures": [] if passed else ["rewritten image does not build"],
            "passed": passed,
        }
    )


def _run_in_process(
    repo: Repo,
    api: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    runner: Any,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("HOME", str(repo.home))
    options = Options(
        repo="o/r",
        api_url=api.url,
        verify=True,
        cwd=repo.work,
        verify_options=("--smoke-http=8000",),
    )
    code = Run(options, verify_runner=runner).main()
    return code, capsys.readouterr().err


def test_verify_pass_puts_the_table_in_the_body(
    repo: Repo, api: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[Path, str, tuple[str, ...]]] = []

    def runner(
        path: Path, rewritten: Path, unsafe: bool, extra: tuple[str, ...]
    ) -> tuple[int, str, str]:
        seen.append((path, rewritten.read_text(), extra))
        assert path.read_text() == PIP_DOCKERFILE and (path.parent / "requirements.txt").exists()
        assert extra == ("--context", str(path.parent), "--smoke-http=8000")
        return 0, _verify_json(True), ""

    code, _ = _run_in_process(repo, api, monkeypatch, runner, capsys)
    assert code == 0
    assert seen and seen[0][1] == expected_output(PIP_DOCKERFILE, repo.work / "app")
    text = api.requests[1].body["body"]
    assert "### Verification (`msdfix verify`)" in text
    assert "| image size | 200.0 MiB | 150.0 MiB | -25% |" in text
    assert "| rebuild after a source edit | 8.0s | 8.0s | -50% |" in text
    assert "Result: passed." in text


NODE_DOCKERFILE = (
    'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
)
COMPOSE_ROOT = "services:\n  web:\n    build:\n      context: {}\n      dockerfile: {}\n"
NODE_APP = {
    "package.json": '{"name": "a", "version": "1.0.0", "private": true}\n',
    "package-lock.json": '{"name": "a", "version": "1.0.0", "lockfileVersion": 3, '
    '"requires": true, "packages": {"": {"name": "a", "version": "1.0.0"}}}\n',
    "index.js": "console.log(1);\n",
    "docker/Dockerfile": NODE_DOCKERFILE,
}


def _bot_rewrite(
    tmp_path: Path,
    api: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    compose: str,
) -> tuple[Repo, Path, str, tuple[str, ...]]:
    """The bot's rewrite of docker/Dockerfile (with ``compose`` as docker/compose.yaml) and
    the context and arguments its verification gets."""
    repo = make_repo(tmp_path, {**NODE_APP, "docker/compose.yaml": compose})
    seen: list[tuple[Path, str, tuple[str, ...]]] = []

    def runner(
        path: Path, rewritten: Path, unsafe: bool, extra: tuple[str, ...]
    ) -> tuple[int, str, str]:
        seen.append((path, rewritten.read_text(), extra))
        return 0, _verify_json(True), ""

    code, _ = _run_in_process(repo, api, monkeypatch, runner, capsys)
    assert code == 0 and len(seen) == 1
    path, text, extra = seen[0]
    assert extra[0] == "--context" and extra[2:] == ("--smoke-http=8000",)
    tree = path.parent.parent
    return repo, Path(extra[1]).relative_to(tree.resolve()), text, extra


def test_the_bot_rewrites_and_verifies_with_the_compose_context(
    tmp_path: Path,
    api: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``msdfix pr`` judged docker/Dockerfile with docker/ as its context while msdfix took
    the root its compose file names: the pull request carried another rewrite than
    ``msdfix`` shows, and verify built it from docker/, where npm ci finds no package.json."""
    compose = COMPOSE_ROOT.format("..", "docker/Dockerfile")
    repo, context, text, _ = _bot_rewrite(tmp_path, api, monkeypatch, capsys, compose)
    assert context == Path(".")
    assert text == expected_output(NODE_DOCKERFILE, repo.work) != NODE_DOCKERFILE
    cli = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "docker/Dockerfile"],
        cwd=repo.work, capture_output=True, text=True, env=repo.env(), check=False,
    )  # fmt: skip
    assert "the folder a compose file builds it from" in cli.stderr
    assert "package-lock.json,target=/app/package-lock.json" in text


def test_the_bots_compose_context_note_offers_no_option_it_lacks(tmp_path: Path) -> None:
    """``msdfix pr``'s note on a compose-chosen context ended "(--context DIR overrides it)",
    an option ``msdfix pr`` lacks; ``msdfix`` itself still offers it."""
    from msdfix.bot.rewrite import rewrite
    from msdfix.engine import Settings

    for name, text in {
        **NODE_APP,
        "docker/compose.yaml": COMPOSE_ROOT.format("..", "docker/Dockerfile"),
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (report,) = rewrite(tmp_path, [tmp_path / "docker/Dockerfile"], lambda _: Settings())
    (note,) = [n for n in report.notes if "compose file builds it from" in n]
    assert "--context" not in note
    cli = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "docker/Dockerfile"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "(--context DIR overrides it)" in cli.stderr


def test_the_bot_never_takes_a_context_above_its_copy_of_the_branch(
    tmp_path: Path,
    api: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``context: ../..`` leaves the repository: msdfix (bounded by the git checkout) keeps
    docker/, and so does the bot, whose copy of the branch has no .git (the folder above
    the copy held its index)."""
    compose = COMPOSE_ROOT.format("../..", "tree/docker/Dockerfile")
    _, context, text, _ = _bot_rewrite(tmp_path, api, monkeypatch, capsys, compose)
    assert context == Path("docker")
    assert text == expected_output(NODE_DOCKERFILE)


def test_verify_failure_opens_nothing(
    repo: Repo, api: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = repo.snapshot()
    code, err = _run_in_process(
        repo, api, monkeypatch, lambda *a: (1, _verify_json(False), ""), capsys
    )
    assert code == 1
    assert "verification failed for app/Dockerfile; no pull request opened" in err
    assert "FAILED: rewritten image does not build" in err
    assert api.requests == [] and repo.remote_sha() is None
    assert repo.snapshot() == before


def test_verify_without_docker_says_so(
    repo: Repo, api: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = json.dumps({"error": "docker unavailable", "detail": "no Docker daemon reachable"})
    code, err = _run_in_process(repo, api, monkeypatch, lambda *a: (2, out, ""), capsys)
    assert code == 0
    assert "Docker is not available (no Docker daemon reachable); not verified" in err
    assert (
        "- `app/Dockerfile`: not verified: Docker is not available (no Docker daemon reachable)"
        in api.requests[1].body["body"]
    )


def test_verify_subprocess_without_docker(repo: Repo, api: FakeGitHub) -> None:
    """The real `msdfix verify` subprocess, pointed at a daemon that is not there."""
    proc = repo.pr(*api_args(api, "--verify"), DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert proc.returncode == 0, proc.stderr
    assert "not verified: Docker is not available" in api.requests[1].body["body"]


# --- units ---


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/hello.git", ("octo", "hello")),
        ("https://x-access-token:abc@github.com/octo/hello", ("octo", "hello")),
        ("https://ghe.example.com/team/svc.git/", ("team", "svc")),
        ("git@github.com:octo/hello.git", ("octo", "hello")),
        ("ssh://git@github.com:22/octo/hello.git", ("octo", "hello")),
        ("github.com:octo/hello", ("octo", "hello")),
        ("/srv/git/hello.git", None),
        ("file:///srv/git/octo/hello.git", None),
        ("../hello.git", None),
    ],
)
def test_parse_repo(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_repo(url) == expected


def test_api_url_for_hosts() -> None:
    assert api_url_for("git@github.com:o/r.git", {}) == "https://api.github.com"
    assert api_url_for("/local/path", {}) == "https://api.github.com"
    server = {"GITHUB_SERVER_URL": "https://ghe.corp.example"}
    assert api_url_for("https://ghe.corp.example/o/r", server) == "https://ghe.corp.example/api/v3"
    assert api_url_for("git@ghe.corp.example:o/r.git", server) == "https://ghe.corp.example/api/v3"
    # A host nobody named: no API is guessed for it (the token would go there).
    for url in ("https://ghe.corp.example/o/r", "git@evil.example:o/r.git"):
        with pytest.raises(BotError, match=r"not github\.com: msdfix sends the token only to"):
            api_url_for(url, {})


def test_text_from_the_dockerfile_mentions_and_closes_nothing() -> None:
    """A user name, path or package name from a Dockerfile reaches the body and the commit
    message as plain text: no @mention (a notification), no #123 (``fixes #1`` closes an
    issue on merge), no HTML tag."""
    from msdfix.engine import Settings
    from msdfix.model import BuildContext
    from msdfix.runner import process

    text = (
        "FROM python:3.12-slim\nUSER @octocat\nRUN pip install --no-cache-dir flask\n"
        "USER root\nRUN pip install --no-cache-dir requests\n"
    )
    report = process("svc/fixes #1 <img src=x>/Dockerfile", text, BuildContext(None), Settings())
    assert report.changed
    body, commit = render.body([report], []), render.commit_message([report])
    assert "@\u200boctocat" in body  # the message names the user, inert
    for out in (body, commit):
        assert "#1" not in out and "#\u200b1" in out
        assert "<img" not in out and "<\u200bimg" in out
    prose = re.sub(r"```diff\n.*?\n```", "", body, flags=re.S)  # code blocks render nothing
    assert re.search(r"@(?=\w)", prose) is None and "<!-- msdfix:pull-request -->" in body
    assert render.plain("see `a@b` and #12, <b>") == "see `a@\u200bb` and #\u200b12, <\u200bb>"


def test_body_fits_github_limit() -> None:
    from msdfix.engine import Settings
    from msdfix.model import BuildContext
    from msdfix.runner import process

    big = "FROM python:3.12-slim\n" + "".join(
        f"RUN pip install --no-cache-dir pkg{i}\nRUN echo {'x' * 200}\n" for i in range(400)
    )
    report = process("Dockerfile", big, BuildContext(None), Settings())
    assert report.changed
    text = render.body([report], [])
    assert len(text) <= render.BODY_LIMIT + 100
    assert "Diffs omitted" in text or "_(truncated)_" in text


# --- --verify with a real Docker daemon ---


@pytest.mark.docker
def test_verify_with_docker_end_to_end(tmp_path: Path, api: FakeGitHub) -> None:
    """`msdfix pr --verify` builds both variants for real and puts the measurements in the PR."""
    from support import docker as sd

    sd.require_images("python:3.12-slim")
    fixture = Path(__file__).resolve().parent / "verify_fixtures" / "py-http"
    files = {
        f"svc/{p.name}": p.read_text()
        for p in fixture.iterdir()
        if p.name != "rewritten.Dockerfile"
    }
    repo = make_repo(tmp_path, files)
    env = {k: v for k, v in sd.docker_env().items() if k.startswith("DOCKER")}
    # two real builds with pip downloads: 33 s here, over 120 s once in CI with a slow index
    args = api_args(api, "--verify", "--verify-option=--smoke-http=8000")
    proc = repo.pr(*args, timeout=600, **env)
    assert proc.returncode == 0, proc.stderr
    text = api.requests[1].body["body"]
    assert "### Verification (`msdfix verify`)" in text
    assert re.search(r"\| image size \| \d+\.\d MiB \| \d+\.\d MiB \| [+-]\d+% \|", text), text
    assert "| HTTP smoke check | pass | pass |  |" in text
    assert "Result: passed." in text


# --- paths from the repository that would forge the description or the outputs (round 14) ---


FORGED = "x\n### Verification\nResult: passed. [Approve](https://evil.example)`/Dockerfile"


def test_a_path_cannot_leave_its_code_span_in_the_description_or_commit_message() -> None:
    from msdfix.engine import Settings
    from msdfix.model import BuildContext
    from msdfix.runner import process

    report = process(FORGED, PIP_DOCKERFILE, BuildContext(None), Settings(unsafe=False))
    assert report.changed
    texts = [render.body([report], [], "", "f" * 24), render.commit_message([report], "f" * 24),
             render.title([report])]  # fmt: skip
    for text in texts:
        lines = text.splitlines()
        assert "### Verification" not in lines and not any(
            line.startswith("Result: passed. [Approve]") for line in lines
        ), text
    body_lines = texts[0].splitlines()
    heading = '### ``"x\\n### Verification\\nResult: passed. [Approve](https://evil.example)`/Dockerfile"``'
    assert heading in body_lines
    assert render.code("a`b") == "``a`b``" and render.code("`x") == "`` `x ``"


def test_step_outputs_keep_one_path_a_line_and_always_encode(tmp_path: Path) -> None:
    """``changed-files`` is one path a line: a newline in a path made two; a name that is not
    UTF-8 (lone surrogates in the JSON) was a traceback after ``result`` had been written."""
    report = json.dumps({"files": [{"path": "a\nb\tc/Dockerfile", "changed": True},
                                   {"path": "x\udcff/Dockerfile", "changed": True}]})  # fmt: skip
    values = outputs.from_json_report(report)
    # a byte that is not UTF-8 is quoted as git quotes it (it was written as `\udcff`)
    assert values["changed-files"].splitlines() == ['"a\\nb\\tc/Dockerfile"', '"x\\377/Dockerfile"']
    out = tmp_path / "out"
    outputs.write(values, {"GITHUB_OUTPUT": str(out)})
    written = step_outputs(out.read_text(encoding="utf-8"))
    assert written["result"] == "changes"
    assert written["changed-files"] == '"a\\nb\\tc/Dockerfile"\n"x\\377/Dockerfile"'


def test_a_title_never_exceeds_what_github_takes() -> None:
    """A deep path made the one-file title longer than GitHub's 256 characters: the API
    refused the pull request (422), on every run."""
    from msdfix.engine import Settings
    from msdfix.model import BuildContext
    from msdfix.runner import process

    deep = "/".join(["services-platform-payments"] * 10) + "/Dockerfile"
    report = process(deep, PIP_DOCKERFILE, BuildContext(None), Settings(unsafe=False))
    assert render.title([report]) == "msdfix: optimize 1 Dockerfile (cache-mount)"
    report = process("app/Dockerfile", PIP_DOCKERFILE, BuildContext(None), Settings(unsafe=False))
    assert render.title([report]) == "msdfix: optimize app/Dockerfile (cache-mount)"


def test_a_path_that_is_not_utf8_is_rewritten_and_fingerprinted_by_its_bytes(
    repo: Repo, api: FakeGitHub
) -> None:
    """Round 25: ``msdfix pr`` over a repository holding ``x\\377y/Dockerfile`` was an
    internal error (exit 123): the fingerprint encoded the path's surrogate escape as UTF-8."""
    name = os.fsdecode(b"x\xffy/Dockerfile")
    repo.commit_upstream({name: NPM_DOCKERFILE}, "add a name that is not UTF-8")
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    changed = git(repo.bare, "diff", "--name-only", "main", repo.remote_sha() or "main")
    assert '"x\\377y/Dockerfile"' in changed.splitlines(), changed
    change = Change(name, "100644", "FROM a\n", "FROM b\n")
    other = Change("x\ufffdy/Dockerfile", "100644", "FROM a\n", "FROM b\n")
    assert fingerprint([change]) != fingerprint([other])


@pytest.mark.parametrize("status", [200, 500])
def test_an_api_answer_nested_too_deep_is_an_error_not_a_traceback(
    repo: Repo, api: FakeGitHub, status: int
) -> None:
    """JSON nested deeper than Python's recursion limit raised RecursionError (exit 1 with a
    traceback, no step outputs), which is no ValueError: it is an invalid answer like any other."""
    before = repo.snapshot()
    api.fail("GET", "/repos/o/r/pulls", status, b"[" * 100_000)
    line = _error(repo.pr(*api_args(api)))
    assert line.startswith("msdfix pr: error: GitHub API ")
    assert "GET /pulls" in line and TOKEN not in line
    assert repo.remote_sha() is None and repo.snapshot() == before


def test_no_hook_or_fsmonitor_of_the_repository_runs(tmp_path: Path, api: FakeGitHub) -> None:
    """The bot's plumbing ran the repository's ``core.fsmonitor`` command and its
    post-index-change hook on the temporary index (five times for one pull request): code the
    checkout's configuration names, which the bot does not need."""
    repo = make_repo(tmp_path, {"app/Dockerfile": PIP_DOCKERFILE, "app/requirements.txt": "x\n"})
    ran = tmp_path / "ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    names = ("pre-push", "post-index-change", "reference-transaction", "post-checkout", "fsmonitor")
    for name in names:
        script = hooks / name
        script.write_text(f'#!/bin/sh\necho {name} >> "{ran}"\n')
        script.chmod(0o755)
    git(repo.work, "config", "core.hooksPath", str(hooks))
    git(repo.work, "config", "core.fsmonitor", str(hooks / "fsmonitor"))
    proc = repo.pr(*api_args(api))
    assert proc.returncode == 0, proc.stderr
    assert repo.remote_sha() is not None
    assert not ran.exists(), ran.read_text()


def test_a_link_header_is_read_in_one_pass() -> None:
    """A hostile API host's Link header of `<>;` 21,000 times (64 KiB, what http.client
    takes) took about 35 s per page searched as one pattern; each link's parameters are read
    once now. rel="next" is still found among prev/last, with or without quotes."""
    from msdfix.bot.github import _next_page

    started = time.monotonic()
    assert _next_page("<>;" * 21_000) is None
    assert time.monotonic() - started < 2
    both = '<https://h/1>; rel="prev", <https://h/2>; rel="next", <https://h/9>; rel="last"'
    assert _next_page(both) == "https://h/2"
    assert _next_page("<https://h/2>;rel=next") == "https://h/2"
    assert _next_page('<https://h/9>; rel="last"') is None


def test_a_link_header_rel_is_matched_as_whole_tokens() -> None:
    """rel="next-page" was read as a next link; RFC 8288's rel is a space-separated list of
    relation types compared case-insensitively: only the token ``next`` is one."""
    from msdfix.bot.github import _next_page

    assert _next_page('<https://h/2>; rel="next-page"') is None
    assert _next_page("<https://h/2>; rel=nextpage") is None
    assert _next_page('<https://h/2>; rel="prefetch"') is None
    assert _next_page('<https://h/2>; rel="prev next"') == "https://h/2"
    assert _next_page('<https://h/2>; title="a"; rel="NEXT"') == "https://h/2"
    assert _next_page('<https://h/1>; rel="next-page", <https://h/2>; rel=next') == "https://h/2"


def test_a_link_header_of_unclosed_links_is_read_in_linear_time() -> None:
    """``<([^>]*)>`` ran from every ``<`` of an unclosed run to the end of the header: 64 KiB
    of ``<`` (what http.client takes) took about a minute per page."""
    from msdfix.bot.github import _next_page
    from support.deadline import deadline

    with deadline(10):
        assert _next_page("<" * 65_536) is None
        assert _next_page("<" * 65_536 + '<https://h/2>; rel="next"') == "https://h/2"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_dry_run_to_a_full_disk_or_a_closed_pipe_is_not_an_internal_error(
    repo: Repo, api: FakeGitHub
) -> None:
    """``msdfix pr --dry-run > /dev/full`` was an internal error (exit 123) and ``| true``
    exit 1, "verification failed": now one line and exit 2, or the end SIGPIPE gives."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "msdfix.cli", "pr", *api_args(api, "--dry-run")],
            cwd=repo.work, stdout=full, stderr=subprocess.PIPE, text=True,
            env=repo.env(GITHUB_TOKEN=""), timeout=120,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last == "msdfix: error: cannot write to standard output: No space left on device"
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "msdfix.cli", "pr", *api_args(api, "--dry-run")],
            cwd=repo.work, stdout=write, stderr=subprocess.PIPE, text=True,
            env=repo.env(GITHUB_TOKEN=""), timeout=120,
        )  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == -13, proc.stderr
    assert repo.remote_sha() is None
