"""Git plumbing for the bot: everything happens on a temporary index and directory.

The user's checkout (HEAD, index, working tree, branches, config) is never touched: files come
from the base commit via ``checkout-index`` into a temporary directory, the commit is built with
``hash-object``/``update-index``/``write-tree``/``commit-tree`` on a temporary index, and pushed
by object id. The token never appears on a command line or on disk: git asks for it through a
``GIT_ASKPASS`` script that reads it from the environment, with credential helpers disabled so
none of them can store it. For those commands git follows no redirect (it would hand the token
to the redirect's host) and sends no ``http.<url>.extraheader`` from the local configuration
(actions/checkout persists its own credentials there, which would win over the token).
No hook and no ``core.fsmonitor`` command of the checkout runs.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ASKPASS_TOKEN_VAR = "MSDFIX_GIT_ASKPASS_TOKEN"
ASKPASS_SCRIPT = f"""#!/bin/sh
case "$1" in
  [Uu]sername*) echo x-access-token ;;
  *) printf '%s\\n' "${ASKPASS_TOKEN_VAR}" ;;
esac
"""
# Every command: no hook (pre-push, post-index-change...) and no fsmonitor command that the
# checkout's configuration names runs; the bot's plumbing needs none of them.
NO_REPOSITORY_CODE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")


class BotError(Exception):
    """A failure reported to the user as one line; the checkout is left as it was."""


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def first_line(text: str) -> str:
    """The most useful line of git's stderr (an ``error:``/``fatal:`` line if any)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:", "remote: error", " ! [")):
            return line
    for line in lines:
        if "rejected" in line:
            return line
    return lines[-1] if lines else "no output"


def write_askpass(directory: Path) -> Path:
    """Write the askpass script (it holds no secret: it reads the environment)."""
    path = directory / "msdfix-askpass.sh"
    path.write_text(ASKPASS_SCRIPT, encoding="utf-8")
    path.chmod(stat.S_IRWXU)
    return path


def is_http_url(url: str) -> bool:
    """True for http(s) remotes, the only ones that take the token."""
    return url.lower().startswith(("http://", "https://"))


def _without_userinfo(url: str) -> str:
    """``scheme://host/path`` of an http(s) URL, without ``user:password@``."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"


@dataclass
class Git:
    """Runs git in ``root`` with a clean, non-interactive environment."""

    root: Path
    secrets: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    network_config: list[str] = field(default_factory=list)

    def env(self, index: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0",
                    "GIT_LITERAL_PATHSPECS": "1"})  # fmt: skip
        env.update(self.extra_env)
        if index is not None:
            env["GIT_INDEX_FILE"] = str(index)
        return env

    def run(
        self,
        *args: str,
        index: Path | None = None,
        stdin: bytes | None = None,
        network: bool = False,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``git args``; raise :class:`BotError` with git's message on failure."""
        config = self.network_config if network else []
        argv = ["git", *NO_REPOSITORY_CODE, *config, *args]
        try:
            proc = subprocess.run(
                argv, cwd=self.root, env=self.env(index), input=stdin,
                capture_output=True, check=False,
            )  # fmt: skip
        except OSError as exc:
            raise BotError(f"cannot run git: {exc.strerror or exc}") from exc
        if check and proc.returncode != 0:
            message = first_line(proc.stderr.decode("utf-8", "replace"))
            raise BotError(scrub(f"git {args[0]} failed: {message}", self.secrets))
        return proc

    def out(self, *args: str, **kwargs: object) -> str:
        """Stripped stdout of ``git args``."""
        proc = self.run(*args, **kwargs)  # type: ignore[arg-type]
        return proc.stdout.decode("utf-8", "replace").strip()

    def use_token(self, token: str, askpass: Path, urls: Sequence[str]) -> None:
        """Let network commands to ``urls`` authenticate with ``token`` and nothing else.

        Credential helpers are reset (none can store or supply a credential), redirects are not
        followed, and extra headers are reset for each URL: an empty ``http.<url>.extraheader``
        clears the list, and only a key at least as specific as the configured one does, so the
        key is the remote's own URL (without user information).
        """
        self.secrets.append(token)
        self.extra_env.update({"GIT_ASKPASS": str(askpass), ASKPASS_TOKEN_VAR: token})
        config = ["credential.helper=", "http.followRedirects=false"]
        for url in dict.fromkeys(_without_userinfo(u) for u in urls):
            config += [f"http.{url}.extraheader=", f"http.{url}.followRedirects=false"]
        self.network_config = [arg for item in config for arg in ("-c", item)]

    # --- queries -------------------------------------------------------------------------

    def remote_url(self, remote: str) -> str:
        proc = self.run("remote", "get-url", remote, check=False)
        if proc.returncode != 0:
            raise BotError(f"no git remote named '{remote}' (add one, or pass --remote NAME)")
        return proc.stdout.decode("utf-8", "replace").strip()

    def remote_urls(self, remote: str) -> list[str]:
        """Every fetch and push URL of ``remote`` (after ``insteadOf`` rewriting)."""
        urls: list[str] = []
        for extra in ((), ("--push",)):
            proc = self.run("remote", "get-url", "--all", *extra, remote, check=False)
            urls += [
                u.strip() for u in proc.stdout.decode("utf-8", "replace").splitlines() if u.strip()
            ]
        return list(dict.fromkeys(urls))

    def remote_head(self, remote: str) -> str | None:
        """The remote's default branch as recorded locally, or asked from the remote."""
        proc = self.run("symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD", check=False)
        prefix = f"refs/remotes/{remote}/"
        ref = proc.stdout.decode().strip()
        if proc.returncode == 0 and ref.startswith(prefix):
            return ref[len(prefix) :]
        proc = self.run("ls-remote", "--symref", remote, "HEAD", network=True, check=False)
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        return None

    def remote_branch(self, remote: str, branch: str) -> str | None:
        """The object id of ``branch`` on the remote, or None."""
        out = self.out("ls-remote", "--heads", remote, f"refs/heads/{branch}", network=True)
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                return sha
        return None

    def fetch(self, remote: str, branch: str) -> str:
        """Fetch one branch, updating no ref (only git's scratch FETCH_HEAD); return its commit."""
        proc = self.run("fetch", "--quiet", "--no-tags", "--refmap=", remote,
                        f"refs/heads/{branch}", network=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            message = first_line(proc.stderr.decode("utf-8", "replace"))
            if "couldn't find remote ref" in message:
                raise BotError(f"branch '{branch}' does not exist on remote '{remote}'")
            raise BotError(scrub(f"git fetch failed: {message}", self.secrets))
        return self.out("rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}")
