"""One ``msdfix verify`` run: build both Dockerfiles the same way and measure them.

For each variant: empty the cache mounts, cold build (``--no-cache``), size and layers, edit one
source file, warm rebuild, image config, smoke checks. Images get tags unique to the run and are
removed afterwards unless ``keep_images``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from msdfix.files import read_regular
from msdfix.model.context import BuildContext
from msdfix.verify import docker as dk
from msdfix.verify.configdiff import diff_configs
from msdfix.verify.context import copy_context, touch_file
from msdfix.verify.report import ImageResult, VerifyReport
from msdfix.verify.tolerance import Tolerances
from msdfix.verify.touch import choose_touch_file

_STEP_RE = re.compile(r"^#\d+ (\[[^\]]+\] .*)$")


class TouchError(ValueError):
    """``--touch`` names no file of the build context."""


@dataclass
class VerifyOptions:
    """Inputs of one verify run (explicit, so bench/ and tests can call it in-process)."""

    dockerfile: Path
    context: Path
    rewritten_text: str
    rewritten_ignore: str | None = None  # the rewrite's new .dockerignore text, if it has one
    smoke: str | None = None
    smoke_http: str | None = None
    keep_images: bool = False
    network: str | None = None
    docker_cli: str | None = None
    touch: str | None = None
    http_timeout: float = 30.0
    tolerances: Tolerances = field(default_factory=Tolerances)
    build_flags: tuple[str, ...] = ()  # e.g. ("--secret", "id=npm_token,env=NPM_TOKEN")


def image_name(context: Path) -> str:
    """Repository name for the verify images, derived from the context directory name."""
    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip(".-_")
    return f"msdfix-verify/{name or 'app'}"


def run_verify(opts: VerifyOptions, console: Console) -> VerifyReport:
    """Do the builds and checks; raises dk.DockerUnavailable when there is no daemon."""
    client = dk.detect_client(opts.docker_cli, opts.network)
    client.build_flags = opts.build_flags
    original_text = read_regular(opts.dockerfile)[0].decode("utf-8", "surrogateescape")
    run_id = uuid.uuid4().hex[:10]
    repo = image_name(opts.context)
    orig = ImageResult("original", f"{repo}:original-{run_id}")
    rew = ImageResult("rewritten", f"{repo}:rewritten-{run_id}")
    report = VerifyReport(
        str(opts.dockerfile),
        str(opts.context),
        client.mode,
        orig,
        rew,
        unchanged=original_text == opts.rewritten_text,
        tolerances=opts.tolerances,
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
        ctx = copy_context(opts.context, tmp / "context", opts.dockerfile)
        _choose_touch(opts, ctx, original_text, report)
        dockerfiles = _write_dockerfiles(opts, tmp, original_text)
        try:
            _measure(opts, client, ctx, dockerfiles, report, console)
        finally:
            _remove_images(client, report, opts.keep_images)
    if orig.config is not None and rew.config is not None:
        report.config_diffs = diff_configs(orig.config, rew.config, original_text)
    if opts.keep_images:
        report.notes.append(f"images kept: {orig.tag} {rew.tag}")
    return report


def _choose_touch(opts: VerifyOptions, ctx: Path, text: str, report: VerifyReport) -> None:
    """Set the file the warm rebuild edits; it must be a regular file inside the copy."""
    path: str | None
    if opts.touch is not None:
        path, reason = opts.touch, f"{opts.touch}: given by --touch"
    else:
        choice = choose_touch_file(BuildContext(ctx, opts.dockerfile), text)
        path, reason = choice.path, choice.reason
    if path is not None:
        target = ctx / path
        if target.is_symlink() or not target.resolve().is_relative_to(ctx.resolve()):
            raise TouchError(f"{path}: a symbolic link; edit a regular file of the context")
        if not target.is_file():
            raise TouchError(f"{path}: not a file in the build context")
    report.touched_file, report.touched_reason = path, reason
    if path is None:
        report.notes.append("no source file to edit; warm rebuild measured without any change")


def _write_dockerfiles(opts: VerifyOptions, tmp: Path, original_text: str) -> dict[str, Path]:
    """Both Dockerfiles in their own directories, each with the per-Dockerfile ignore file."""
    paths = {}
    for label, text in (("original", original_text), ("rewritten", opts.rewritten_text)):
        directory = tmp / "dockerfiles" / label
        directory.mkdir(parents=True)
        paths[label] = directory / opts.dockerfile.name
        paths[label].write_text(text, encoding="utf-8", errors="surrogateescape")
        ignore = opts.dockerfile.with_name(opts.dockerfile.name + ".dockerignore")
        if label == "rewritten" and opts.rewritten_ignore is not None:
            (directory / ignore.name).write_text(opts.rewritten_ignore, encoding="utf-8")
        elif ignore.is_file():
            shutil.copy2(ignore, directory / ignore.name)
    return paths


def _measure(
    opts: VerifyOptions,
    client: dk.Client,
    ctx: Path,
    dockerfiles: dict[str, Path],
    report: VerifyReport,
    console: Console,
) -> None:
    touched = ctx / report.touched_file if report.touched_file else None
    backup = touched.read_bytes() if touched else b""
    http = dk.parse_http_spec(opts.smoke_http) if opts.smoke_http else None
    smoke_argv = shlex.split(opts.smoke) if opts.smoke else None
    ports = dk.free_ports(2)  # one host port per image for --smoke-http
    emptied = True
    with _progress(console) as progress:
        for res, host_port in zip((report.original, report.rewritten), ports, strict=True):
            if touched:
                touched.write_bytes(backup)  # both cold builds see the same files
            why = dk.empty_cache_mounts(client)  # a cold build starts with empty cache mounts
            if why is not None:
                emptied = False
                report.notes.append(f"cache mounts not emptied before a cold build: {why}")
            st = _Step(progress, f"{res.label}: cold build")
            res.build = dk.build(
                client, ctx, dockerfiles[res.label], res.tag, no_cache=True, on_line=st.on_line
            )
            st.done(res.build.ok)
            if not res.build.ok:
                continue
            info = dk.inspect_image(client, res.tag)
            res.size = int(info.get("Size", 0))
            res.layers = len((info.get("RootFS") or {}).get("Layers") or [])
            res.config = dict(info.get("Config") or {})
            _warm(client, ctx, dockerfiles[res.label], res, touched, progress)
            if smoke_argv is not None:
                st = _Step(progress, f"{res.label}: smoke {opts.smoke}")
                res.smoke = dk.smoke_cmd(client, res.tag, smoke_argv)
                st.done(res.smoke.ok)
            if http is not None:
                st = _Step(progress, f"{res.label}: smoke http :{http[0]}{http[1]}")
                res.smoke_http = dk.smoke_http(
                    client,
                    res.tag,
                    http[0],
                    http[1],
                    opts.http_timeout,
                    host_port,
                    dk.health_argv(res.config),
                )
                st.done(res.smoke_http.ok)
        if any(r.startswith("warm rebuild") for r in report.regressions()):
            for res in (report.original, report.rewritten):  # confirm it: measure both again
                _warm(client, ctx, dockerfiles[res.label], res, touched, progress)
    report.cold_cache_mounts_emptied = emptied


def _warm(
    client: dk.Client,
    ctx: Path,
    dockerfile: Path,
    res: ImageResult,
    touched: Path | None,
    progress: Progress,
) -> None:
    """Edit the chosen file (a new random comment each time) and rebuild with the cache."""
    if touched:
        touch_file(touched)
    st = _Step(progress, f"{res.label}: warm rebuild")
    before = dk.image_id(client, res.tag)
    outcome = dk.build(client, ctx, dockerfile, res.tag, on_line=st.on_line)
    if before is not None and dk.image_id(client, res.tag) != before:
        res.replaced_ids.append(before)  # now untagged: removed at the end
    st.done(outcome.ok)
    res.warm_runs.append(outcome.seconds)
    best = res.warm
    if best is None or (outcome.ok and (not best.ok or outcome.seconds < best.seconds)):
        res.warm = outcome


def _remove_images(client: dk.Client, report: VerifyReport, keep: bool) -> None:
    """Remove this run's tags (unless kept) and the cold-build images the warm builds replaced."""
    results = (report.original, report.rewritten)
    current = {dk.image_id(client, r.tag) for r in results}
    stale = [i for r in results for i in r.replaced_ids if i not in current]
    dk.remove_images(client, stale + ([] if keep else [r.tag for r in results]))


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[step]}", style="dim"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


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
