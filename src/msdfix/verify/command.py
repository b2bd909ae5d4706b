"""The ``msdfix verify`` command line (click)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from msdfix.config import ConfigError, find_config
from msdfix.files import InputError, read_regular
from msdfix.model.context import BuildContext
from msdfix.options import Command, Directory, select_and_ignore, writing_stdout
from msdfix.runner import (
    UnknownTransformError,
    context_note,
    default_context,
    process,
    settings_for,
)
from msdfix.syntax import ParseError, parse
from msdfix.verify import docker as dk
from msdfix.verify.report import render_json, render_table
from msdfix.verify.run import TouchError, VerifyOptions, run_verify
from msdfix.verify.tolerance import Tolerances, parse_percent, parse_warm

EXIT_PASS, EXIT_FAIL, EXIT_NO_DOCKER, EXIT_INTERNAL = 0, 1, 2, 123
DEFAULTS = Tolerances()


def rewritten_text(
    path: Path,
    context: Path,
    select: str | None,
    ignore: str | None,
    unsafe: bool | None,
) -> str:
    """msdfix's rewrite of ``path`` with the project's settings (``[tool.msdfix]``, flags win).

    Raises click.UsageError for bad settings or input (exit 2); exits 123 on an internal error.
    """
    return msdfix_rewrite(path, context, select, ignore, unsafe)[0]


def msdfix_rewrite(
    path: Path,
    context: Path,
    select: str | None,
    ignore: str | None,
    unsafe: bool | None,
) -> tuple[str, str | None]:
    """The rewrite of ``path`` and the new text of its ignore file (None: unchanged)."""
    try:
        settings = settings_for(find_config(path.resolve().parent), select, ignore, unsafe)
    except (ConfigError, UnknownTransformError) as exc:
        raise click.UsageError(str(exc)) from None
    text = read_dockerfile(path)
    report = process(str(path), text, BuildContext(context, path), settings)
    if report.internal:
        click.echo(f"{path}: {report.error}", err=True)
        sys.exit(EXIT_INTERNAL)
    if report.error or report.result is None:
        raise click.UsageError(f"{path}:{report.error_line or 1}: error: {report.error}")
    ignore_text = next((new for _, new in report.result.files.values()), None)
    return report.result.output, ignore_text


def read_dockerfile(path: Path) -> str:
    """A Dockerfile through the bounded reader (a regular file of at most 5 MB: a FIFO hung
    verify, ``/dev/zero`` ran it out of memory); a usage error otherwise."""
    try:
        return read_regular(path)[0].decode("utf-8", "surrogateescape")
    except InputError as exc:
        raise click.UsageError(f"{path}:{exc.line}: error: {exc.message}") from None


def _tolerances(size: str, warm: str) -> Tolerances:
    try:
        size_pct = parse_percent(size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--size-tolerance") from None
    try:
        warm_pct, warm_seconds = parse_warm(warm)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--warm-tolerance") from None
    return Tolerances(size_pct, warm_pct, warm_seconds)


@click.command(
    "verify", cls=Command, context_settings={"help_option_names": ["-h", "--help"]}
)  # as msdfix
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--context",
    "context",
    type=Directory(path_type=Path),
    help="Build context (default: as msdfix, the folder a compose file builds the "
    "Dockerfile from, else its directory).",
)
@click.option(
    "--rewritten",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this file as the rewritten Dockerfile instead of running msdfix.",
)
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Let msdfix apply unsafe fixes (default: from [tool.msdfix], else no).",
)
@select_and_ignore
@click.option(
    "--smoke",
    metavar="CMD",
    help="Command to run in both images (words passed to `docker run IMAGE`); passes on exit 0.",
)
@click.option(
    "--smoke-http",
    metavar="PORT[:PATH]",
    help="Start each image (on its own free host port) and expect an HTTP 2xx on PORT[:PATH].",
)
@click.option(
    "--http-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for --smoke-http.",
)
@click.option(
    "--size-tolerance",
    metavar="PCT",
    default=f"{DEFAULTS.size_pct:g}%",
    show_default=True,
    help="Fail when the rewritten image is more than PCT larger.",
)
@click.option(
    "--warm-tolerance",
    metavar="PCT%+SECs",
    default=f"{DEFAULTS.warm_pct:g}%+{DEFAULTS.warm_seconds:g}s",
    show_default=True,
    help="Fail when the rewritten image's warm rebuild is slower by more than this.",
)
@click.option(
    "--touch",
    metavar="FILE",
    help="Context-relative file to edit for the warm rebuild (default: chosen, see the report).",
)
@click.option(
    "--network", metavar="MODE", help="Passed as --network to docker build/run (e.g. host)."
)
@click.option(
    "--build-arg",
    "build_args",
    metavar="KEY=VALUE",
    multiple=True,
    help="Passed as --build-arg to both builds (repeatable).",
)
@click.option(
    "--target",
    "target",
    metavar="STAGE",
    help="Build this stage of both Dockerfiles (passed as --target) instead of the last one.",
)
@click.option(
    "--secret",
    "secrets",
    metavar="SPEC",
    multiple=True,
    help="Passed as --secret to both builds, e.g. id=npm_token,env=NPM_TOKEN (repeatable); "
    "build-secrets' rewrites need it.",
)
@click.option(
    "--ssh",
    "ssh",
    metavar="SPEC",
    multiple=True,
    help="Passed as --ssh to both builds, e.g. default (repeatable): for RUN --mount=type=ssh.",
)
@click.option("--docker", "docker_cli", metavar="PATH", help="docker client binary.")
@click.option("--keep-images", is_flag=True, help="Keep the two images (tags in the report).")
@click.option(
    "--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def verify_command(
    path: Path,
    context: Path | None,
    rewritten: Path | None,
    unsafe_fixes: bool | None,
    select: str | None,
    ignore: str | None,
    smoke: str | None,
    smoke_http: str | None,
    http_timeout: float,
    size_tolerance: str,
    warm_tolerance: str,
    touch: str | None,
    network: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    secrets: tuple[str, ...],
    ssh: tuple[str, ...],
    docker_cli: str | None,
    keep_images: bool,
    output_format: str,
) -> None:
    """Build PATH and its msdfix rewrite with Docker and compare size, build times, config.

    Exit 0 when the rewritten image builds, passes every check and is neither larger nor
    slower to rebuild beyond the tolerances; 1 when not or when the original does not build;
    2 when Docker is not available.
    """
    err = Console(stderr=True)
    ctx = context or default_context(path.resolve())
    tolerances = _tolerances(size_tolerance, warm_tolerance)
    if smoke_http:
        try:
            dk.parse_http_spec(smoke_http)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--smoke-http") from None
    if not 0 < http_timeout <= 86400:  # also refuses nan, which float() and ranges take
        raise click.BadParameter(f"{http_timeout}: expected seconds in (0, 86400]",
                                 param_hint="--http-timeout")  # fmt: skip
    if smoke is not None:
        try:  # split again after the builds: an unclosed quote there was an internal error
            shlex.split(smoke)
        except ValueError as exc:
            raise click.BadParameter(f"{smoke!r}: {exc}", param_hint="--smoke") from None
    new_ignore = None
    if rewritten is not None:
        try:  # the original is read to choose the file to edit: reject it before building
            parse(read_dockerfile(path))
        except ParseError as exc:
            raise click.UsageError(f"{path}:{exc.line}: error: {exc.message}") from None
        new_text = read_dockerfile(rewritten)
    else:
        new_text, new_ignore = msdfix_rewrite(path, ctx, select, ignore, unsafe_fixes)
    opts = VerifyOptions(
        path,
        ctx,
        new_text,
        rewritten_ignore=new_ignore,
        smoke=smoke,
        smoke_http=smoke_http,
        keep_images=keep_images,
        network=network,
        docker_cli=docker_cli,
        touch=touch,
        http_timeout=http_timeout,
        tolerances=tolerances,
        build_flags=tuple(
            [f for a in build_args for f in ("--build-arg", a)]
            + [f for s in secrets for f in ("--secret", s)]
            + [f for s in ssh for f in ("--ssh", s)]
            + (["--target", target] if target else [])
        ),
    )
    try:
        report = run_verify(opts, err)
    except TouchError as exc:
        raise click.BadParameter(str(exc), param_hint="--touch") from None
    except InputError as exc:  # the Dockerfile was replaced since it was read above
        raise click.UsageError(f"{path}:{exc.line}: error: {exc.message}") from None
    except ParseError as exc:
        raise click.UsageError(f"{path}:{exc.line}: error: {exc.message}") from None
    except (dk.DockerUnavailable, subprocess.TimeoutExpired) as exc:  # a daemon gone mid-run
        if output_format == "json":
            with writing_stdout():
                click.echo(json.dumps({"error": "docker unavailable", "detail": str(exc)}))
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_NO_DOCKER)
    except (Exception, RecursionError) as exc:  # our bug, never the user's: exit 123
        click.echo(
            f"{path}: internal error: {type(exc).__name__}: {exc} (a bug in msdfix)", err=True
        )
        sys.exit(EXIT_INTERNAL)
    note = None if context else context_note(path.resolve(), ctx)
    report.notes += [note] if note else []
    with writing_stdout():  # `> /dev/full` was exit 123, a closed pipe exit 1 ("failed")
        if output_format == "json":
            click.echo(render_json(report))
        else:
            render_table(report, Console())
    sys.exit(EXIT_PASS if report.passed else EXIT_FAIL)
