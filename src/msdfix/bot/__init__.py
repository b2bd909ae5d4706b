"""``msdfix pr``: open (or update) a pull request with msdfix's rewrites of a repository."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from msdfix.bot.git import BotError
from msdfix.bot.pr import EXIT_ERROR, Options, Run
from msdfix.options import Command, select_and_ignore
from msdfix.render.quoting import printable

__all__ = ["pr_command"]


@click.command("pr", cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(readable=False))  # as msdfix (cli.py)
@click.option(
    "--base",
    metavar="BRANCH",
    help="Branch to rewrite and to open the pull request into (default: the remote's "
    "default branch).",
)
@click.option(
    "--branch",
    default="msdfix/optimize",
    show_default=True,
    help="Branch that carries the rewrite (reused and force-pushed on later runs).",
)
@click.option("--remote", default="origin", show_default=True, help="Git remote to push to.")
@click.option(
    "--repo", metavar="OWNER/NAME", help="GitHub repository (default: taken from the remote URL)."
)
@click.option(
    "--api-url",
    metavar="URL",
    help="GitHub REST API base (default: $GITHUB_API_URL, else https://api.github.com for a "
    "github.com remote, $GITHUB_SERVER_URL/api/v3 for a remote on that host). Naming it also "
    "allows the token to go to its host: otherwise only github.com and $GITHUB_SERVER_URL.",
)
@click.option(
    "--token-env",
    default="GITHUB_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the token (never printed or stored).",
)
@click.option("--draft", is_flag=True, help="Open the pull request as a draft.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="NAME",
    help="Label to add to the pull request (repeatable).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the commit and pull request it would make; push nothing, call no API.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Build before/after with `msdfix verify` and put the measurements in the pull "
    "request; a failed verification opens nothing.",
)
@click.option(
    "--verify-option",
    "verify_options",
    multiple=True,
    metavar="ARG",
    help="Extra argument for `msdfix verify` (repeatable), e.g. --verify-option=--smoke-http=8080.",
)
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply fixes marked unsafe (default: the configuration's unsafe-fixes).",
)
@select_and_ignore
@click.option(
    "--max-wait",
    type=float,
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest wait honouring a GitHub rate limit's Retry-After.",
)
def pr_command(
    paths: tuple[str, ...],
    base: str | None,
    branch: str,
    remote: str,
    repo: str | None,
    api_url: str | None,
    token_env: str,
    draft: bool,
    labels: tuple[str, ...],
    dry_run: bool,
    verify: bool,
    verify_options: tuple[str, ...],
    unsafe_fixes: bool | None,
    select: str | None,
    ignore: str | None,
    max_wait: float,
) -> None:
    """Rewrite the Dockerfiles of the base branch and open a pull request with the changes,
    or update the open one. Run inside a git checkout; PATH limits the files (default: all).
    Your checkout is never modified. msdfix never overwrites commits people pushed to its
    branch, does not reopen a rewrite whose pull request was closed without merging, and
    closes its pull request when nothing is left to change. Exit 0 done (including: nothing
    to change, or left alone for one of those reasons), 1 verification failed, 2 error."""
    options = Options(
        paths=paths, remote=remote, repo=repo, base=base, branch=branch, api_url=api_url,
        token_env=token_env, draft=draft, labels=labels, dry_run=dry_run, verify=verify,
        verify_options=verify_options, unsafe_fixes=unsafe_fixes, select=select, ignore=ignore,
        max_wait=max_wait, cwd=Path.cwd(),
    )  # fmt: skip
    try:
        code = Run(options).main()
    except BotError as exc:
        click.echo(f"msdfix pr: error: {printable(str(exc))}", err=True)
        code = EXIT_ERROR
    sys.exit(code)
