"""``msdfix pr``: rewrite the Dockerfiles of the base branch and open or update one pull request.

Steps: resolve the remote, repository and base branch; check that the token would only go to an
allowed host; fetch the base commit; check its files out into a temporary directory through a
temporary index; rewrite; build the commit with plumbing; push it by object id to the bot branch
(``--force-with-lease`` against what the remote had); open the pull request, or update the open
one. Nothing in the user's checkout changes, so every error leaves it as it was; a push whose
pull request then fails is rolled back. :mod:`msdfix.bot.policy` decides when msdfix keeps its
hands off (someone pushed to the branch, the same rewrite was declined) and when it closes a
pull request that is no longer needed.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from msdfix.bot import body as render
from msdfix.bot import outputs
from msdfix.bot import rewrite as files
from msdfix.bot.git import BotError, Git, first_line, is_http_url, scrub, write_askpass
from msdfix.bot.github import GitHub
from msdfix.bot.hosts import TokenPolicy, api_url_for, parse_repo
from msdfix.bot.policy import (
    STALE_MARKER,
    Change,
    autoclosed,
    declined,
    fingerprint,
    is_own_commit,
    open_pull,
)
from msdfix.bot.rewrite import VerifyRunner, run_verify_subprocess, say
from msdfix.files import Source
from msdfix.options import writing_stdout
from msdfix.render.report import FileReport, summary_lines

EXIT_OK, EXIT_VERIFY_FAILED, EXIT_ERROR = 0, 1, 2
FALLBACK_IDENTITY = ("msdfix", "msdfix@users.noreply.github.com")
ACTIONS_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")

__all__ = ["EXIT_ERROR", "Options", "Run", "run_verify_subprocess"]


@dataclass
class Options:
    """Everything ``msdfix pr`` was asked to do."""

    paths: tuple[str, ...] = ()
    remote: str = "origin"
    repo: str | None = None
    base: str | None = None
    branch: str = "msdfix/optimize"
    api_url: str | None = None
    token_env: str = "GITHUB_TOKEN"
    draft: bool = False
    labels: tuple[str, ...] = ()
    dry_run: bool = False
    verify: bool = False
    verify_options: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    select: str | None = None
    ignore: str | None = None
    max_wait: float = 60.0
    cwd: Path = field(default_factory=Path.cwd)


@dataclass
class Rewrite:
    """The commit msdfix would make: its files, fingerprint and texts."""

    reports: list[FileReport]
    changes: list[Change]
    fingerprint: str
    title: str
    body: str
    message: str

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


class Run:
    """One ``msdfix pr`` invocation."""

    def __init__(self, options: Options, verify_runner: VerifyRunner = run_verify_subprocess):
        self.o = options
        self.verify_runner = verify_runner
        self.token = os.environ.get(options.token_env, "")
        self.git = Git(self._toplevel())

    def _toplevel(self) -> Path:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=self.o.cwd,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            raise BotError(f"{self.o.cwd} is not inside a git checkout")
        return Path(proc.stdout.strip())

    # --- steps ------------------------------------------------------------------------------

    def main(self) -> int:
        o, git = self.o, self.git
        _check_branch(git, o.branch, "--branch")
        if o.base is not None:
            _check_branch(git, o.base, "--base")
        url = git.remote_url(o.remote)
        password = urlsplit(url).password if "://" in url else None
        if password:
            git.secrets.append(password)
        owner, name = self._repo(url)
        if not self.token and not o.dry_run:
            raise BotError(f"no GitHub token: set {o.token_env} (or pass --token-env NAME)")
        with tempfile.TemporaryDirectory(prefix="msdfix-pr-") as tmp_name:
            tmp = Path(tmp_name)
            github = self._connect(url, owner, name, tmp) if self.token else None
            base = o.base or git.remote_head(o.remote)
            if not base:
                if github is None:
                    raise BotError("cannot tell the default branch; pass --base BRANCH")
                base = github.default_branch()
            if not o.base:
                _check_branch(git, base, "the remote's default branch")
            base_sha = git.fetch(o.remote, base)
            return self._rewrite_and_publish(tmp, github, base, base_sha)

    def _connect(self, url: str, owner: str, name: str, tmp: Path) -> GitHub:
        """Check every place the token would go, then hand it to git and the API client."""
        o, git = self.o, self.git
        policy = TokenPolicy.build(o.api_url, os.environ)
        env_api = os.environ.get("GITHUB_API_URL")
        api = o.api_url or env_api or api_url_for(url, os.environ)
        policy.check(api, "--api-url" if o.api_url else "$GITHUB_API_URL" if env_api else "the API")
        urls = [u for u in git.remote_urls(o.remote) if is_http_url(u)]
        if urls:
            policy.check_all(urls, f"remote '{o.remote}'")
            git.use_token(self.token, write_askpass(tmp), urls)
        else:
            git.secrets.append(self.token)
        return GitHub(api, self.token, owner, name, max_wait=o.max_wait)

    def _repo(self, url: str) -> tuple[str, str]:
        if self.o.repo:
            owner, _, name = self.o.repo.partition("/")
            if not owner or not name or "/" in name:
                raise BotError(f"--repo {self.o.repo!r}: expected OWNER/NAME")
            return owner, name
        parsed = parse_repo(url)
        if parsed is None:
            raise BotError(f"cannot tell the GitHub repository from remote '{self.o.remote}' "
                           f"({_safe_url(url)}); pass --repo OWNER/NAME")  # fmt: skip
        return parsed

    def _rewrite_and_publish(
        self, tmp: Path, github: GitHub | None, base: str, base_sha: str
    ) -> int:
        o, git = self.o, self.git
        index, tree = tmp / "index", tmp / "tree"
        git.run("read-tree", base_sha, index=index)
        git.run("checkout-index", "--all", f"--prefix={tree}/", index=index)
        root, cwd = git.root, o.cwd
        targets = [(raw, files.relative(root, cwd, raw)) for raw in o.paths or (".",)]
        chosen = files.settings(tree, targets[0][1], o.select, o.ignore, o.unsafe_fixes)
        settings_at = files.settings_of(tree, o.select, o.ignore, o.unsafe_fixes)
        reports = files.rewrite(tree, files.dockerfiles(tree, targets), settings_at)
        changed = [r for r in reports if r.changed]
        for report in reports:
            for line in summary_lines(report, write=False):
                click.echo(line, err=True)
        if not changed:
            say(f"nothing to change in {len(reports)} Dockerfile(s) on '{base}'")
            if github is None or o.dry_run:
                return self._finish("nothing-to-change")
            if any(r.error for r in reports):
                say("some files could not be read: an open pull request is left as it is")
                return self._finish("nothing-to-change")
            return self._close_stale(github, base, base_sha)
        paths = [r.path for r in changed]
        checks = []
        if o.verify:
            checks = files.verify(self.verify_runner, tmp, tree, changed, settings_at,
                                  o.verify_options)  # fmt: skip
        failed = [v.path for v in checks if v.data is not None and not v.data.get("passed")]
        if failed:
            say(f"verification failed for {', '.join(failed)}; no pull request opened")
            for v in checks:
                if v.data is not None:
                    click.echo("\n".join(render.verify_table(v.data)), err=True)
            return self._finish("verify-failed", paths=paths, code=EXIT_VERIFY_FAILED)
        changes = self._changes(index, changed, write=not o.dry_run)
        value = fingerprint(changes)
        rewrite = Rewrite(
            reports, changes, value, render.title(reports),
            render.body(reports, checks, files.settings_note(chosen), value),
            render.commit_message(reports, value),
        )  # fmt: skip
        if o.dry_run or github is None:
            say(f"dry run: would commit {len(changed)} file(s) on {base} ({base_sha[:12]}), "
                f"push to branch '{o.branch}' and open or update a pull request into '{base}'")  # fmt: skip
            with writing_stdout():
                click.echo(f"Title: {rewrite.title}\n\n{rewrite.body}\nCommit message:\n\n"
                           f"{rewrite.message}", nl=False)  # fmt: skip
            return self._finish("dry-run", paths=paths)
        return self._publish(github, base, base_sha, index, rewrite)

    def _changes(self, index: Path, changed: list[FileReport], write: bool) -> list[Change]:
        """Blob ids before and after for each rewritten file (objects written when ``write``)."""
        out = []
        for report in changed:
            assert report.result is not None
            listing = self.git.out("ls-files", "--stage", "--", report.path, index=index)
            mode, old = listing.split(" ")[:2]
            new = self.git.out("hash-object", *(["-w"] if write else []), "--stdin",
                               f"--path={report.path}",
                               stdin=Source("", report.encoding).encode(report.result.output))  # fmt: skip
            out.append(Change(report.path, mode, old, new))
        return out

    def _commit(self, index: Path, base_sha: str, rewrite: Rewrite) -> str:
        git = self.git
        for change in rewrite.changes:
            cacheinfo = f"{change.mode},{change.new},{change.path}"
            git.run("update-index", "--cacheinfo", cacheinfo, index=index)
        tree = git.out("write-tree", index=index)
        name, email = _identity(git)
        for role in ("AUTHOR", "COMMITTER"):
            git.extra_env.update({f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email})
        return git.out("commit-tree", tree, "-p", base_sha, stdin=rewrite.message.encode("utf-8"))

    # --- the branch and the pull request ----------------------------------------------------

    def _publish(
        self, github: GitHub, base: str, base_sha: str, index: Path, rewrite: Rewrite
    ) -> int:
        o, git = self.o, self.git
        pulls = github.pulls(o.branch)
        pull = open_pull(pulls)
        if pull is None:
            closed = declined(pulls, rewrite.fingerprint)
            if closed is not None:
                number = closed.get("number")
                say(f"pull request #{number} proposed this same rewrite and was closed without "
                    "merging: not opening it again (a different rewrite opens a new pull "
                    f"request; reopen #{number} to get this one)")  # fmt: skip
                return self._finish("declined", closed, rewrite.paths)
        head = self._branch_head()
        if head is not None and not is_own_commit(git, head):
            say(self._not_ours(head, pull))
            return self._finish("branch-modified", pull, rewrite.paths)
        commit = self._commit(index, base_sha, rewrite)
        same = head is not None and _tree(git, head) == _tree(git, commit)
        if same and pull is not None:
            say(f"pull request #{pull.get('number')} already has this rewrite; nothing pushed "
                f"({pull.get('html_url', '')})")  # fmt: skip
            return self._finish("up-to-date", pull, rewrite.paths)
        if not same:
            self._push(commit, head)
        try:
            if pull is not None:
                number = int(pull["number"])
                result = github.update_pull(number, rewrite.title, rewrite.body)
                verb = "updated"
            else:
                result = github.create_pull(rewrite.title, rewrite.body, o.branch, base, o.draft)
                number = int(result["number"])
                verb = "opened"
            if o.labels:
                github.add_labels(number, list(o.labels))
        except BotError:
            if not same:
                self._rollback(commit, head)
            raise
        url = result.get("html_url", "") if isinstance(result, dict) else ""
        say(f"{verb} pull request #{number}: {url}".rstrip(": "))
        return self._finish(verb, result if isinstance(result, dict) else pull, rewrite.paths)

    def _close_stale(self, github: GitHub, base: str, base_sha: str) -> int:
        """Nothing left to change: close msdfix's open pull request, or comment if people pushed."""
        o, git = self.o, self.git
        pull = open_pull(github.pulls(o.branch))
        if pull is None:
            return self._finish("nothing-to-change")
        number = int(pull["number"])
        head = self._branch_head()
        where = f"`{base}` (at {base_sha[:12]})"
        if head is not None and not is_own_commit(git, head):
            if not any(STALE_MARKER in str(c.get("body")) for c in github.comments(number)):
                github.comment(number, f"{STALE_MARKER}\nmsdfix has nothing left to change on "
                               f"{where}, but this branch has commits msdfix did not make, so "
                               "msdfix leaves this pull request open. Close it if it is no "
                               "longer needed.")  # fmt: skip
            say(f"nothing left to change, but branch '{o.branch}' has commits msdfix did not "
                f"make: pull request #{number} left open")  # fmt: skip
            return self._finish("branch-modified", pull)
        deleting = " and deleting its branch" if head is not None else ""
        github.comment(number, f"msdfix has nothing left to change on {where}: these changes "
                       f"are already there or no longer apply. Closing this pull request"
                       f"{deleting}.")  # fmt: skip
        title, text = autoclosed(str(pull.get("title") or ""), str(pull.get("body") or ""))
        github.close_pull(number, title, text)
        say(f"closed pull request #{number}: nothing is left to change on '{base}'")
        if head is not None:
            self._delete_branch(head)
        return self._finish("closed", pull)

    def _branch_head(self) -> str | None:
        """The bot branch's commit on the remote, fetched; None when there is no branch."""
        if self.git.remote_branch(self.o.remote, self.o.branch) is None:
            return None
        return self.git.fetch(self.o.remote, self.o.branch)

    def _not_ours(self, head: str, pull: dict[str, Any] | None) -> str:
        author = self.git.out("log", "-1", "--format=%an <%ae>", head)
        then = f"merge or close pull request #{pull.get('number')}" if pull else "delete it"
        return (f"branch '{self.o.branch}' on '{self.o.remote}' has commits msdfix did not make "
                f"(head {head[:12]} by {author}); msdfix does not overwrite them and stopped: "
                f"{then} to let msdfix update it again, or pass --branch NAME")  # fmt: skip

    def _finish(
        self,
        result: str,
        pull: dict[str, Any] | None = None,
        paths: list[str] | None = None,
        code: int = EXIT_OK,
    ) -> int:
        """Write the step outputs (under GitHub Actions) and return the exit code."""
        outputs.write({
            "result": result,
            "pr-number": str(pull.get("number", "")) if pull else "",
            "pr-url": str(pull.get("html_url", "")) if pull else "",
            "changed-files": outputs.path_lines(paths or []),
        })  # fmt: skip
        return code

    def _push(self, commit: str, remote_sha: str | None) -> None:
        ref = f"refs/heads/{self.o.branch}"
        lease = f"--force-with-lease={ref}:{remote_sha or ''}"
        # Push to the URL, not the remote's name, so no remote-tracking ref changes locally.
        proc = self.git.run("push", "--quiet", "--porcelain", lease, self._push_url(),
                            f"{commit}:{ref}", network=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            reason = push_failure(proc.stdout.decode("utf-8", "replace"),
                                  proc.stderr.decode("utf-8", "replace"))  # fmt: skip
            raise BotError(scrub(f"push to '{self.o.remote}' rejected: {reason}", self.git.secrets))

    def _push_url(self) -> str:
        return self.git.out("remote", "get-url", "--push", self.o.remote)

    def _delete_branch(self, head: str) -> None:
        """Delete the bot branch if it is still ``head`` (best effort: said, not fatal)."""
        ref = f"refs/heads/{self.o.branch}"
        proc = self.git.run("push", "--quiet", "--porcelain", f"--force-with-lease={ref}:{head}",
                            self._push_url(), f":{ref}", network=True, check=False)  # fmt: skip
        if proc.returncode == 0:
            say(f"deleted branch '{self.o.branch}' on '{self.o.remote}'")
            return
        reason = push_failure(proc.stdout.decode("utf-8", "replace"),
                              proc.stderr.decode("utf-8", "replace"))  # fmt: skip
        say(scrub(f"could not delete branch '{self.o.branch}': {reason}", self.git.secrets))

    def _rollback(self, commit: str, previous: str | None) -> None:
        """Put the remote branch back as it was before our push (best effort)."""
        ref = f"refs/heads/{self.o.branch}"
        source = f"{previous}:{ref}" if previous else f":{ref}"
        proc = self.git.run("push", "--quiet", f"--force-with-lease={ref}:{commit}",
                            self._push_url(), source, network=True, check=False)  # fmt: skip
        if proc.returncode == 0:
            say(f"restored branch '{self.o.branch}' on '{self.o.remote}' as it was")


def push_failure(stdout: str, stderr: str) -> str:
    """Why a ``git push --porcelain`` failed, in one line (its status and the remote's words)."""
    parts = [line.split("\t")[-1].strip() for line in stdout.splitlines() if line.startswith("!")]
    remote = [line[len("remote:"):].strip() for line in stderr.splitlines()
              if line.startswith("remote:") and line[len("remote:"):].strip()]  # fmt: skip
    if remote:
        parts.append(f"remote says: {remote[0]}")
    return "; ".join(parts) or first_line(stderr)


def _tree(git: Git, commit: str) -> str:
    return git.out("rev-parse", f"{commit}^{{tree}}")


def _check_branch(git: Git, name: str, what: str) -> None:
    """Refuse a name that is not one plain branch: it goes into refspecs (``refs/heads/NAME``),
    where ``main:refs/heads/x`` would also write a local ref and ``*`` fetch every branch, and
    ``@{-1}`` is not expanded (``check-ref-format --branch`` would expand it)."""
    proc = git.run("check-ref-format", f"refs/heads/{name}", check=False)
    if proc.returncode != 0 or name.startswith("-"):
        raise BotError(f"{what} {name!r} is not a valid branch name")


def _identity(git: Git) -> tuple[str, str]:
    name = git.run("config", "user.name", check=False).stdout.decode().strip()
    email = git.run("config", "user.email", check=False).stdout.decode().strip()
    if name and email:
        return name, email
    return ACTIONS_IDENTITY if os.environ.get("GITHUB_ACTIONS") == "true" else FALLBACK_IDENTITY


def _safe_url(url: str) -> str:
    """A remote URL without any user:password part."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
