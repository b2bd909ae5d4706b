"""``msdfix pr``: rewrite the Dockerfiles of the base branch and open or update one pull request.

Steps: resolve the remote, repository and base branch; fetch the base commit; check its files
out into a temporary directory through a temporary index; rewrite; build the commit with
plumbing; push it by object id to the bot branch (``--force-with-lease`` against what the remote
had); open the pull request, or update the open one. Nothing in the user's checkout changes,
so every error leaves it as it was; a push whose pull request then fails is rolled back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from msdfix.bot import body as render
from msdfix.bot.git import (
    BotError,
    Git,
    api_url_for,
    first_line,
    is_http_url,
    parse_repo,
    scrub,
    write_askpass,
)
from msdfix.bot.github import GitHub
from msdfix.config import ConfigError, FileConfig, find_config
from msdfix.engine import Settings
from msdfix.files import InputError, discover, read
from msdfix.model import BuildContext
from msdfix.render.report import FileReport, summary_lines
from msdfix.runner import UnknownTransformError, parse_ids, process

EXIT_OK, EXIT_VERIFY_FAILED, EXIT_ERROR = 0, 1, 2
FALLBACK_IDENTITY = ("msdfix", "msdfix@users.noreply.github.com")
ACTIONS_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


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


def say(message: str) -> None:
    """Status for the user (stderr)."""
    click.echo(f"msdfix pr: {message}", err=True)


VerifyRunner = Callable[[Path, Path, bool, tuple[str, ...]], tuple[int, str, str]]


def run_verify_subprocess(
    dockerfile: Path, rewritten: Path, unsafe: bool, extra: tuple[str, ...]
) -> tuple[int, str, str]:
    """``msdfix verify --output-format json --rewritten FILE PATH`` in a subprocess."""
    argv = [sys.executable, "-m", "msdfix.cli", "verify", "--output-format", "json",
            "--rewritten", str(rewritten), *(["--unsafe-fixes"] if unsafe else []), *extra,
            str(dockerfile)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


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
        if git.run("check-ref-format", "--branch", o.branch, check=False).returncode != 0:
            raise BotError(f"--branch {o.branch!r} is not a valid branch name")
        url = git.remote_url(o.remote)
        password = urlsplit(url).password if "://" in url else None
        if password:
            git.secrets.append(password)
        owner, name = self._repo(url)
        if not self.token and not o.dry_run:
            raise BotError(f"no GitHub token: set {o.token_env} (or pass --token-env NAME)")
        with tempfile.TemporaryDirectory(prefix="msdfix-pr-") as tmp_name:
            tmp = Path(tmp_name)
            if self.token and is_http_url(url):
                git.use_token(self.token, write_askpass(tmp))
            elif self.token:
                git.secrets.append(self.token)
            github = GitHub(self._api_url(url), self.token, owner, name, max_wait=o.max_wait)
            base = o.base or git.remote_head(o.remote)
            if not base:
                if o.dry_run and not self.token:
                    raise BotError("cannot tell the default branch; pass --base BRANCH")
                base = github.default_branch()
            base_sha = git.fetch(o.remote, base)
            return self._rewrite_and_publish(tmp, github, base, base_sha)

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

    def _api_url(self, url: str) -> str:
        return (self.o.api_url or os.environ.get("GITHUB_API_URL") or api_url_for(url)
                or "https://api.github.com")  # fmt: skip

    def _rewrite_and_publish(self, tmp: Path, github: GitHub, base: str, base_sha: str) -> int:
        o, git = self.o, self.git
        index, tree = tmp / "index", tmp / "tree"
        git.run("read-tree", base_sha, index=index)
        git.run("checkout-index", "--all", f"--prefix={tree}/", index=index)
        settings = self._settings(tree)
        reports = self._rewrite(tree, settings)
        changed = [r for r in reports if r.changed]
        for report in reports:
            for line in summary_lines(report, write=False):
                click.echo(line, err=True)
        if not changed:
            say(f"nothing to change in {len(reports)} Dockerfile(s) on '{base}'; "
                "no pull request opened or updated")  # fmt: skip
            return EXIT_OK
        verifications = self._verify(tmp, tree, changed, settings) if o.verify else []
        if any(v.data is not None and not v.data.get("passed") for v in verifications):
            failed = [v.path for v in verifications if v.data and not v.data.get("passed")]
            say(f"verification failed for {', '.join(failed)}; no pull request opened")
            for v in verifications:
                if v.data is not None:
                    click.echo("\n".join(render.verify_table(v.data)), err=True)
            return EXIT_VERIFY_FAILED
        title = render.title(reports)
        text = render.body(reports, verifications, _settings_note(settings))
        message = render.commit_message(reports)
        if o.dry_run:
            say(
                f"dry run: would commit {len(changed)} file(s) on {base} ({base_sha[:12]}), push "
                f"to branch '{o.branch}' and open or update a pull request into '{base}'"
            )
            click.echo(f"Title: {title}\n\n{text}\nCommit message:\n\n{message}", nl=False)
            return EXIT_OK
        commit = self._commit(index, base_sha, changed, message)
        return self._publish(github, base, commit, title, text)

    def _settings(self, tree: Path) -> Settings:
        """Flags, else the base branch's own configuration (never a file outside its tree)."""
        o = self.o
        first = (tree / self._relative(o.paths[0] if o.paths else ".")).resolve()
        start = first if first.is_dir() else first.parent
        try:
            config = find_config(start)
        except ConfigError as exc:
            raise BotError(str(exc)) from exc
        if config.path is not None and tree.resolve() not in config.path.parents:
            config = FileConfig()
        where = config.path.relative_to(tree.resolve()) if config.path else None
        try:
            for configured in (config.select, config.ignore):
                if configured:
                    parse_ids(",".join(configured))  # unknown ids in the configuration are errors
        except UnknownTransformError as exc:
            raise BotError(f"{where}: {exc}") from exc
        try:
            select = parse_ids(o.select) if o.select is not None else config.select
            ignore = parse_ids(o.ignore) if o.ignore is not None else config.ignore
        except UnknownTransformError as exc:
            raise BotError(f"--select/--ignore: {exc}") from exc
        unsafe = o.unsafe_fixes if o.unsafe_fixes is not None else bool(config.unsafe_fixes)
        chosen = frozenset(select) if select is not None else None
        return Settings(chosen, frozenset(ignore or ()), unsafe)

    def _relative(self, raw: str) -> Path:
        """A command-line PATH relative to the repository root."""
        root = self.git.root.resolve()
        try:
            return (self.o.cwd / raw).resolve().relative_to(root)
        except ValueError:
            raise BotError(f"{raw}: outside the repository {root}") from None

    def _rewrite(self, tree: Path, settings: Settings) -> list[FileReport]:
        reports = []
        for path in self._dockerfiles(tree):
            rel = path.relative_to(tree).as_posix()
            if path.is_symlink():
                reports.append(FileReport(rel, notes=["symbolic link: left alone"]))
                continue
            try:
                text = read(path)
            except InputError as exc:
                reports.append(FileReport(rel, error=exc.message, error_line=exc.line))
                continue
            reports.append(process(rel, text, BuildContext(path.parent), settings))
        return reports

    def _dockerfiles(self, tree: Path) -> list[Path]:
        found: list[Path] = []
        for raw in self.o.paths or (".",):
            target = tree / self._relative(raw)
            if target.is_dir():
                found += [p for p in discover(target) if p not in found]
            elif target.exists() or target.is_symlink():
                found += [] if target in found else [target]
            else:
                raise BotError(f"{raw}: not in the base branch's files")
        return found

    def _verify(
        self, tmp: Path, tree: Path, changed: list[FileReport], settings: Settings
    ) -> list[render.Verification]:
        out = []
        for i, report in enumerate(changed):
            assert report.result is not None
            rewritten = tmp / "rewritten" / str(i) / Path(report.path).name
            rewritten.parent.mkdir(parents=True)
            rewritten.write_text(report.result.output, encoding="utf-8")
            say(f"verifying {report.path} with Docker (msdfix verify)...")
            code, stdout, stderr = self.verify_runner(
                tree / report.path, rewritten, settings.unsafe, self.o.verify_options
            )
            data = _json_object(stdout)
            if code == 2 or data is None or "error" in data:
                detail = (data or {}).get("detail") or _last_line(stderr) or "no output"
                reason = "Docker is not available" if code == 2 else "msdfix verify failed"
                say(f"{report.path}: {reason} ({detail}); not verified")
                out.append(render.Verification(report.path, None, f"{reason} ({detail})"))
                continue
            out.append(render.Verification(report.path, data))
        return out

    def _commit(self, index: Path, base_sha: str, changed: list[FileReport], message: str) -> str:
        git = self.git
        for report in changed:
            assert report.result is not None
            listing = git.out("ls-files", "--stage", "--", report.path, index=index)
            mode = listing.split(" ", 1)[0] if listing else "100644"
            blob = git.out("hash-object", "-w", "--stdin", f"--path={report.path}",
                           stdin=report.result.output.encode("utf-8"))  # fmt: skip
            git.run("update-index", "--cacheinfo", f"{mode},{blob},{report.path}", index=index)
        tree = git.out("write-tree", index=index)
        name, email = _identity(git)
        for role in ("AUTHOR", "COMMITTER"):
            git.extra_env.update({f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email})
        return git.out("commit-tree", tree, "-p", base_sha, stdin=message.encode("utf-8"))

    def _publish(self, github: GitHub, base: str, commit: str, title: str, text: str) -> int:
        o, git = self.o, self.git
        pull = github.open_pull(o.branch)
        remote_sha = git.remote_branch(o.remote, o.branch)
        same = False
        if remote_sha is not None:
            fetched = git.fetch(o.remote, o.branch)
            same = git.out("rev-parse", f"{fetched}^{{tree}}") == git.out(
                "rev-parse", f"{commit}^{{tree}}"
            )
        if same and pull is not None:
            say(f"pull request #{pull.get('number')} already has this rewrite; nothing pushed "
                f"({pull.get('html_url', '')})")  # fmt: skip
            return EXIT_OK
        pushed = False
        if not same:
            self._push(commit, remote_sha)
            pushed = True
        try:
            if pull is not None:
                number = int(pull["number"])
                result = github.update_pull(number, title, text)
                verb = "updated"
            else:
                result = github.create_pull(title, text, o.branch, base, o.draft)
                number = int(result["number"])
                verb = "opened"
            if o.labels:
                github.add_labels(number, list(o.labels))
        except BotError:
            if pushed:
                self._rollback(commit, remote_sha)
            raise
        url = result.get("html_url", "") if isinstance(result, dict) else ""
        say(f"{verb} pull request #{number}: {url}".rstrip(": "))
        return EXIT_OK

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


def _identity(git: Git) -> tuple[str, str]:
    name = git.run("config", "user.name", check=False).stdout.decode().strip()
    email = git.run("config", "user.email", check=False).stdout.decode().strip()
    if name and email:
        return name, email
    return ACTIONS_IDENTITY if os.environ.get("GITHUB_ACTIONS") == "true" else FALLBACK_IDENTITY


def _settings_note(settings: Settings) -> str:
    parts = []
    if settings.unsafe:
        parts.append("unsafe fixes on")
    if settings.select is not None:
        parts.append("select " + ",".join(sorted(settings.select)))
    if settings.ignore:
        parts.append("ignore " + ",".join(sorted(settings.ignore)))
    return f" ({'; '.join(parts)})" if parts else ""


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _safe_url(url: str) -> str:
    """A remote URL without any user:password part."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
