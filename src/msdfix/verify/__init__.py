"""``msdfix verify``: build the original and the rewritten Dockerfile and compare them.

For each variant: cold build (``--no-cache``), image size and layer count, warm rebuild after
editing one source file (in a private copy of the context), image config, and optional smoke
checks. Exit codes: 0 pass, 1 rewritten image fails a check, 2 Docker unavailable / usage.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from msdfix.verify import docker as dk
from msdfix.verify.configdiff import diff_configs
from msdfix.verify.context import choose_touch_file, copy_context, touch_file
from msdfix.verify.report import ImageResult, VerifyReport, render_json, render_table

__all__ = ["verify_command", "run_verify", "VerifyOptions"]

EXIT_PASS, EXIT_FAIL, EXIT_NO_DOCKER = 0, 1, 2
_STEP_RE = re.compile(r"^#\d+ (\[[^\]]+\] .*)$")


def image_name(context: Path) -> str:
    """Repository name for the verify images, derived from the context directory name."""
    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip(".-_")
    return f"msdfix-verify/{name or 'app'}"


def get_rewritten(text: str, path: Path, context: Path, unsafe: bool) -> str:
    """Rewritten Dockerfile text from the msdfix engine (imported lazily)."""
    from msdfix.engine import rewrite_text  # type: ignore[attr-defined]

    return str(rewrite_text(text, path=str(path), context_dir=str(context), unsafe=unsafe))


class VerifyOptions:
    """Inputs of one verify run (kept explicit so it can be called in-process)."""

    def __init__(
        self,
        dockerfile: Path,
        context: Path,
        rewritten_text: str,
        *,
        smoke: str | None = None,
        smoke_http: str | None = None,
        keep_images: bool = False,
        network: str | None = None,
        docker_cli: str | None = None,
        touch: str | None = None,
        http_timeout: float = 30.0,
    ) -> None:
        self.dockerfile = dockerfile
        self.context = context
        self.rewritten_text = rewritten_text
        self.smoke = smoke
        self.smoke_http = smoke_http
        self.keep_images = keep_images
        self.network = network
        self.docker_cli = docker_cli
        self.touch = touch
        self.http_timeout = http_timeout


def run_verify(opts: VerifyOptions, console: Console) -> VerifyReport:
    """Do the builds and checks; raises dk.DockerUnavailable when there is no daemon."""
    client = dk.detect_client(opts.docker_cli, opts.network)
    original_text = opts.dockerfile.read_text(encoding="utf-8", errors="surrogateescape")
    http = dk.parse_http_spec(opts.smoke_http) if opts.smoke_http else None
    smoke_argv = shlex.split(opts.smoke) if opts.smoke else None
    repo = image_name(opts.context)
    orig = ImageResult("original", f"{repo}:original")
    rew = ImageResult("rewritten", f"{repo}:rewritten")
    report = VerifyReport(
        str(opts.dockerfile),
        str(opts.context),
        client.mode,
        orig,
        rew,
        unchanged=original_text == opts.rewritten_text,
    )
    if report.unchanged:
        report.notes.append("msdfix leaves this Dockerfile unchanged; both builds are identical")
    if client.mode == "legacy":
        report.notes.append(
            "docker client has no BuildKit (no buildx, client >= 23): "
            "RUN --mount and other BuildKit features will fail"
        )

    with tempfile.TemporaryDirectory(prefix="msdfix-verify-") as tmp_s:
        tmp = Path(tmp_s)
        ctx = copy_context(opts.context, tmp / "context")
        touched = opts.touch or choose_touch_file(ctx, [original_text, opts.rewritten_text])
        report.touched_file = touched
        if touched is None:
            report.notes.append(
                "no source file to edit found in the context; warm rebuild "
                "measured without any change"
            )
        elif not (ctx / touched).is_file():
            raise click.UsageError(f"--touch {touched}: not a file in the build context")
        backup = (ctx / touched).read_bytes() if touched else b""
        dfs = {}
        for label, text in (("original", original_text), ("rewritten", opts.rewritten_text)):
            d = tmp / "dockerfiles" / label
            d.mkdir(parents=True)
            dfs[label] = d / opts.dockerfile.name
            dfs[label].write_text(text, encoding="utf-8", errors="surrogateescape")
            ign = opts.dockerfile.with_name(opts.dockerfile.name + ".dockerignore")
            if ign.is_file():
                shutil.copy2(ign, d / ign.name)

        cold_ids: list[str] = []
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[step]}", style="dim"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        try:
            with progress:
                for res in (orig, rew):
                    if touched:
                        (ctx / touched).write_bytes(backup)

                    st = _Step(progress, f"{res.label}: cold build")
                    res.build = dk.build(
                        client, ctx, dfs[res.label], res.tag, no_cache=True, on_line=st.on_line
                    )
                    st.done(res.build.ok)
                    if not res.build.ok:
                        continue
                    info = dk.inspect_image(client, res.tag)
                    cold_ids.append(str(info.get("Id", "")))
                    res.size = int(info.get("Size", 0))
                    res.layers = len((info.get("RootFS") or {}).get("Layers") or [])
                    res.config = dict(info.get("Config") or {})
                    if touched:
                        touch_file(ctx / touched)
                    st = _Step(progress, f"{res.label}: warm rebuild")
                    res.warm = dk.build(client, ctx, dfs[res.label], res.tag, on_line=st.on_line)
                    st.done(res.warm.ok)
                    if smoke_argv is not None:
                        st = _Step(progress, f"{res.label}: smoke {opts.smoke}")
                        res.smoke = dk.smoke_cmd(client, res.tag, smoke_argv)
                        st.done(res.smoke.ok)
                    if http is not None:
                        st = _Step(progress, f"{res.label}: smoke http :{http[0]}{http[1]}")
                        res.smoke_http = dk.smoke_http(
                            client, res.tag, http[0], http[1], timeout=opts.http_timeout
                        )
                        st.done(res.smoke_http.ok)
        finally:
            # The warm rebuild re-tags; drop the superseded cold-build images (left dangling).
            stale = [i for i in cold_ids if i and i not in _current_ids(client, orig, rew)]
            dk.remove_images(client, stale + ([] if opts.keep_images else [orig.tag, rew.tag]))
    if orig.config is not None and rew.config is not None:
        report.config_diffs = diff_configs(orig.config, rew.config, original_text)
    if orig.build is not None and not orig.build.ok:
        report.notes.append("the ORIGINAL Dockerfile does not build either")
    if opts.keep_images:
        report.notes.append(f"images kept: {orig.tag} {rew.tag}")
    return report


def _current_ids(client: dk.Client, *results: ImageResult) -> set[str]:
    ids = set()
    for res in results:
        proc = client.run("image", "inspect", "-f", "{{.Id}}", res.tag, timeout=60)
        if proc.returncode == 0:
            ids.add(proc.stdout.strip())
    return ids


class _Step:
    """One progress line; BuildKit step names ("[2/5] RUN ...") are shown as they start."""

    def __init__(self, progress: Progress, description: str) -> None:
        self.progress = progress
        self.task = progress.add_task(description, step="")

    def on_line(self, line: str) -> None:
        m = _STEP_RE.match(line)
        if m:
            self.progress.update(self.task, step=m.group(1)[:70])

    def done(self, ok: bool) -> None:
        self.progress.update(self.task, step="[green]ok[/]" if ok else "[red]FAILED[/]")
        self.progress.stop_task(self.task)


@click.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--context",
    "context",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Build context (default: the Dockerfile's directory).",
)
@click.option(
    "--rewritten",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this file as the rewritten Dockerfile instead of running msdfix.",
)
@click.option("--unsafe-fixes", is_flag=True, help="Let msdfix apply unsafe fixes.")
@click.option(
    "--smoke",
    metavar="CMD",
    help="Command to run in both images (words passed to `docker run IMAGE`); passes on exit 0.",
)
@click.option(
    "--smoke-http",
    metavar="PORT[:PATH]",
    help="Start the container and expect an HTTP 2xx on PORT[:PATH] within the --http-timeout.",
)
@click.option(
    "--http-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for --smoke-http.",
)
@click.option(
    "--touch",
    metavar="FILE",
    help="Context-relative file to edit for the warm rebuild (default: chosen).",
)
@click.option(
    "--network", metavar="MODE", help="Passed as --network to docker build/run (e.g. host)."
)
@click.option("--docker", "docker_cli", metavar="PATH", help="docker client binary.")
@click.option("--keep-images", is_flag=True, help="Keep msdfix-verify/<name>:original|rewritten.")
@click.option(
    "--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def verify_command(
    path: Path,
    context: Path | None,
    rewritten: Path | None,
    unsafe_fixes: bool,
    smoke: str | None,
    smoke_http: str | None,
    http_timeout: float,
    touch: str | None,
    network: str | None,
    docker_cli: str | None,
    keep_images: bool,
    output_format: str,
) -> None:
    """Build PATH and its msdfix rewrite with Docker and compare size, build times, config.

    Exit 0 when the rewritten image builds and passes every check, 1 when not, 2 when Docker
    is not available.
    """
    err = Console(stderr=True)
    ctx = context or path.resolve().parent
    if smoke_http:
        try:
            dk.parse_http_spec(smoke_http)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--smoke-http") from None
    if rewritten is not None:
        new_text = rewritten.read_text(encoding="utf-8", errors="surrogateescape")
    else:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            new_text = get_rewritten(text, path, ctx, unsafe_fixes)
        except ImportError as exc:
            err.print(f"[red]error:[/] msdfix engine unavailable ({exc}); pass --rewritten FILE")
            sys.exit(EXIT_NO_DOCKER)
    opts = VerifyOptions(
        path,
        ctx,
        new_text,
        smoke=smoke,
        smoke_http=smoke_http,
        keep_images=keep_images,
        network=network,
        docker_cli=docker_cli,
        touch=touch,
        http_timeout=http_timeout,
    )
    try:
        report = run_verify(opts, err)
    except dk.DockerUnavailable as exc:
        if output_format == "json":
            click.echo(f'{{"error": "docker unavailable", "detail": {_json_str(str(exc))}}}')
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_NO_DOCKER)
    if output_format == "json":
        click.echo(render_json(report))
    else:
        render_table(report, Console())
    sys.exit(EXIT_PASS if report.passed else EXIT_FAIL)


def _json_str(s: str) -> str:
    import json

    return json.dumps(s)
