#!/usr/bin/env python3
"""Benchmark msdfix on the apps in bench/apps/: original, msdfix's rewrite and an expert's.

For every app directory (``bench/apps/<name>/`` with a ``Dockerfile``, an ``expert.Dockerfile``
written by hand and a ``smoke.txt``):

1. rewrite the Dockerfile with the msdfix engine (in-process ``msdfix.engine.rewrite_text``);
2. build original and rewritten with Docker (``msdfix.verify.run_verify``: cold build, size,
   layers, warm rebuild after a source edit, image config, smoke check);
3. build the expert Dockerfile the same way (cold build, size, warm rebuild after editing the
   same file, smoke check); every warm rebuild time is the best of three (verify's and two
   more edits of the same file): the machine is shared and single samples are noisy;
4. print one row with the targets: the rewrite builds, its smoke check passes, its image is no
   larger than the original and within 1.1x of the expert's, its warm rebuild is no slower
   than the original's (10% or 0.5 s of measurement noise, whichever is larger).

An app with a ``skip.txt`` is listed with that reason and not built (e.g. a base image that
cannot be built offline); its rewrite is checked statically by the tests.

``smoke.txt`` holds one line: ``http PORT [PATH]`` (expect an HTTP 2xx) or ``cmd ARGS...``
(run as ``docker run IMAGE ARGS...``, expect exit 0).

Needs a Docker daemon and the stand-in base images (no registry access here)::

    eval "$(tests/support/dockerd.sh start)"
    tests/support/standins.sh
    python bench/run_suite.py                    # all apps
    python bench/run_suite.py node-api go-api    # some apps
    python bench/run_suite.py --json bench-results.json --save-rewritten /tmp/rewritten

Stand-in images differ in size from the official ones: compare ratios, not absolute sizes.
Exit status: 0 when every built app meets its targets, 1 otherwise, 2 when Docker is unavailable.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from rich.text import Text  # noqa: E402

from msdfix.syntax import parse  # noqa: E402
from msdfix.verify import VerifyOptions, run_verify  # noqa: E402
from msdfix.verify import docker as dk  # noqa: E402
from msdfix.verify.context import copy_context, touch_file  # noqa: E402
from msdfix.verify.report import VerifyReport, human_seconds, human_size, ratio  # noqa: E402

SIZE_VS_EXPERT = 1.10
WARM_NOISE, WARM_SLACK_S = 1.10, 0.5


@dataclass
class Smoke:
    """Parsed smoke.txt."""

    kind: str  # "http" | "cmd" | "none"
    arg: str = ""

    @classmethod
    def load(cls, app: Path) -> Smoke:
        path = app / "smoke.txt"
        if not path.is_file():
            return cls("none")
        line = next(
            (
                ln.strip()
                for ln in path.read_text().splitlines()
                if ln.strip() and not ln.startswith("#")
            ),
            "",
        )
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        if kind == "http":
            port, _, url_path = rest.partition(" ")
            return cls("http", f"{port}:{url_path.strip() or '/'}")
        if kind == "cmd":
            return cls("cmd", rest)
        raise SystemExit(f"{path}: expected 'http PORT [PATH]' or 'cmd ARGS...', got {line!r}")


def base_images(dockerfile_text: str) -> list[str]:
    """FROM images of a Dockerfile that are not earlier stage names (no ARG expansion)."""
    stages: set[str] = set()
    images = []
    from_re = r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?"
    for m in re.finditer(from_re, dockerfile_text):
        image, alias = m.group(1), m.group(2)
        if image.lower() not in stages and image != "scratch" and "$" not in image:
            images.append(image)
        if alias:
            stages.add(alias.lower())
    return images


def rewrite(app: Path, unsafe: bool, ignore: frozenset[str] = frozenset()) -> str:
    """Rewritten Dockerfile text from the msdfix engine."""
    from msdfix.engine import Settings
    from msdfix.engine import rewrite as engine_rewrite
    from msdfix.model import BuildContext

    text = (app / "Dockerfile").read_text()
    settings = Settings(ignore=ignore, unsafe=unsafe)
    return engine_rewrite(text, str(app / "Dockerfile"), BuildContext(app), settings).output


@dataclass
class Expert:
    """The expert Dockerfile's build: size, warm rebuild, smoke check."""

    size: int | None = None
    warm: float | None = None
    smoke_ok: bool | None = None
    error: str = ""


def warm_best(
    client: Any, app: Path, dockerfile_text: str, tag: str, touched: str | None, runs: int = 2
) -> list[float]:
    """Warm rebuild times: ``runs`` times, edit ``touched`` (a fresh comment) and rebuild.

    The machine is shared, so one sample is noisy: callers take the best of these and
    verify's own sample. The first build only primes the context copy (layers are cached).
    """
    import tempfile

    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="msdfix-bench-") as tmp:
        ctx = copy_context(app, Path(tmp) / "context")
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(dockerfile_text)
        if not dk.build(client, ctx, dockerfile, tag).ok:
            return times
        for _ in range(runs):
            if touched and (ctx / touched).is_file():
                touch_file(ctx / touched)
            result = dk.build(client, ctx, dockerfile, tag)
            if result.ok:
                times.append(result.seconds)
    return times


def measure_expert(client: Any, app: Path, smoke: Smoke, touched: str | None) -> Expert:
    """Cold build, size, warm rebuilds after editing ``touched``, smoke check; image removed."""
    import shlex
    import tempfile

    expert = app / "expert.Dockerfile"
    if not expert.is_file():
        return Expert(error="no expert.Dockerfile")
    tag = f"msdfix-bench/{app.name}:expert"
    with tempfile.TemporaryDirectory(prefix="msdfix-bench-") as tmp:
        ctx = copy_context(app, Path(tmp) / "context")
        try:
            cold = dk.build(client, ctx, expert, tag, no_cache=True)
            if not cold.ok:
                return Expert(error="expert build failed: " + cold.tail(5))
            size = int(dk.inspect_image(client, tag).get("Size", 0))
            warm = warm_best(client, app, expert.read_text(), tag, touched, runs=3)
            if smoke.kind == "http":
                port, _, path = smoke.arg.partition(":")
                ok = dk.smoke_http(client, tag, int(port), path or "/", timeout=45).ok
            elif smoke.kind == "cmd":
                ok = dk.smoke_cmd(client, tag, shlex.split(smoke.arg)).ok
            else:
                ok = None
            return Expert(size, min(warm) if warm else None, ok)
        finally:
            dk.remove_images(client, [tag])


def best_warm(result: Any, extra: list[float]) -> float | None:
    """The best of verify's warm rebuild and the extra samples."""
    samples = list(extra)
    if result.warm is not None and result.warm.ok:
        samples.append(result.warm.seconds)
    return min(samples) if samples else None


def targets(rep: VerifyReport, expert: Expert, warms: dict[str, list[float]]) -> list[str]:
    """The targets the rewrite misses (empty: all met)."""
    o, r = rep.original, rep.rewritten
    missed = list(rep.failures())
    if r.size and o.size and r.size > o.size:
        missed.append("larger than the original")
    if r.size and expert.size and r.size > expert.size * SIZE_VS_EXPERT:
        missed.append(f"over {SIZE_VS_EXPERT:.1f}x the expert's size")
    ow = best_warm(o, warms.get("original", []))
    rw = best_warm(r, warms.get("rewritten", []))
    if ow is not None and rw is not None and rw > max(ow * WARM_NOISE, ow + WARM_SLACK_S):
        missed.append("warm rebuild slower than the original's")
    return missed


def row_for(
    name: str,
    rep: VerifyReport | None,
    smoke: Smoke,
    expert: Expert | None,
    error: str = "",
    warms: dict[str, list[float]] | None = None,
) -> list[Any]:
    """One table row."""
    if rep is None:
        return [name, *["-"] * 10, Text(error or "skipped", style="yellow")]
    o, r = rep.original, rep.rewritten
    expert = expert or Expert()

    def secs(b: Any) -> float | None:
        return b.seconds if b is not None and b.ok else None

    def rat(a: float | None, b: float | None) -> str:
        x = ratio(a, b)
        return "-" if x is None else f"{x:.2f}x"

    def smoke_text() -> Text:
        if smoke.kind == "none":
            return Text("-", style="dim")
        res_o = o.smoke_http if smoke.kind == "http" else o.smoke
        res_r = r.smoke_http if smoke.kind == "http" else r.smoke
        mark = lambda c: "-" if c is None else ("ok" if c.ok else "FAIL")  # noqa: E731
        ex = "-" if expert.smoke_ok is None else ("ok" if expert.smoke_ok else "FAIL")
        style = "green" if res_r is not None and res_r.ok else "red"
        return Text(f"{mark(res_o)}/{mark(res_r)}/{ex}", style=style)

    warms = warms or {}
    missed = targets(rep, expert, warms)
    if expert.error:
        missed.append(expert.error)
    verdict = (
        Text("all targets met", style="green")
        if not missed
        else Text("MISSED: " + "; ".join(missed), style="red")
    )
    return [
        name,
        human_size(o.size),
        human_size(r.size),
        human_size(expert.size),
        rat(o.size, r.size),
        rat(expert.size, r.size),
        human_seconds(best_warm(o, warms.get("original", []))),
        human_seconds(best_warm(r, warms.get("rewritten", []))),
        human_seconds(expert.warm),
        rat(best_warm(o, warms.get("original", [])), best_warm(r, warms.get("rewritten", []))),
        smoke_text(),
        verdict,
    ]


def markdown_table(table: Table) -> str:
    """The rich table as a Markdown table (for the README)."""
    columns = [str(c.header) for c in table.columns]
    cells = [[str(cell) for cell in column.cells] for column in table.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in zip(*cells, strict=True):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def dummy_secrets(text: str, folder: Path) -> tuple[str, ...]:
    """``--secret`` flags with a placeholder value for every secret the Dockerfile mounts
    (build-secrets' rewrites require them; the originals read an empty build argument)."""
    flags: list[str] = []
    for ins in parse(text).instructions:
        for mount in ins.flags_named("mount"):
            fields = dict(f.partition("=")[::2] for f in (mount.value or "").split(","))
            if fields.get("type") == "secret" and fields.get("id"):
                path = folder / fields["id"]
                path.write_text("placeholder\n")
                flags += ["--secret", f"id={fields['id']},src={path}"]
    return tuple(flags)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("apps", nargs="*", help="app names (default: every dir in bench/apps)")
    ap.add_argument("--json", type=Path, help="write all verify reports to this JSON file")
    ap.add_argument(
        "--save-rewritten",
        type=Path,
        metavar="DIR",
        help="write each rewritten Dockerfile to DIR/<app>.Dockerfile",
    )
    ap.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    ap.add_argument("--unsafe-fixes", action="store_true")
    ap.add_argument("--ignore", default="", help="transform ids to leave out, comma-separated")
    ap.add_argument("--keep-images", action="store_true")
    ap.add_argument("--http-timeout", type=float, default=45.0)
    args = ap.parse_args(argv)

    names = args.apps or sorted(p.name for p in APPS.iterdir() if (p / "Dockerfile").is_file())
    err = Console(stderr=True)
    out = Console(width=None if sys.stdout.isatty() else 180)
    try:
        client = dk.detect_client()
    except dk.DockerUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2

    table = Table(
        title="msdfix bench (stand-in base images: compare ratios, not sizes)", title_justify="left"
    )
    for col in (
        "app",
        "size original",
        "size msdfix",
        "size expert",
        "msdfix/original",
        "msdfix/expert",
        "warm original",
        "warm msdfix",
        "warm expert",
        "warm msdfix/original",
        "smoke o/m/e",
        "targets",
    ):
        table.add_column(col, justify="left" if col in ("app", "result") else "right")
    results: dict[str, Any] = {}
    all_ok = True
    started = time.monotonic()
    secrets_dir = Path(tempfile.mkdtemp(prefix="msdfix-bench-secrets-"))
    for name in names:
        app = APPS / name
        if not (app / "Dockerfile").is_file():
            err.print(f"[red]no such app:[/] {name}")
            all_ok = False
            continue
        smoke = Smoke.load(app)
        if (app / "skip.txt").is_file():
            reason = " ".join((app / "skip.txt").read_text().split())
            err.print(f"[yellow]{name}: not built: {reason}[/]")
            table.add_row(*row_for(name, None, smoke, None, f"not built here: {reason}"))
            results[name] = {"skipped": reason}
            continue
        text = (app / "Dockerfile").read_text()
        missing = [
            img
            for img in base_images(text)
            + base_images(
                (app / "expert.Dockerfile").read_text()
                if (app / "expert.Dockerfile").is_file()
                else ""
            )
            if client.run("image", "inspect", img, timeout=30).returncode != 0
        ]
        if missing:
            imgs = " ".join(missing)
            msg = f"missing base image(s) {imgs}: tests/support/standins.sh {imgs}"
            err.print(f"[yellow]{name}: {msg}[/]")
            table.add_row(*row_for(name, None, smoke, None, "missing base image"))
            results[name] = {"error": msg}
            all_ok = False
            continue
        err.rule(f"[bold]{name}")
        try:
            new_text = rewrite(
                app, args.unsafe_fixes, frozenset(filter(None, args.ignore.split(",")))
            )
        except Exception as exc:  # noqa: BLE001 - report any engine failure per app
            err.print(f"[red]{name}: msdfix failed: {exc!r}[/]")
            table.add_row(*row_for(name, None, smoke, None, f"msdfix error: {exc}"))
            results[name] = {"error": f"msdfix: {exc!r}"}
            all_ok = False
            continue
        if args.save_rewritten:
            args.save_rewritten.mkdir(parents=True, exist_ok=True)
            (args.save_rewritten / f"{name}.Dockerfile").write_text(new_text)
        client.build_flags = dummy_secrets(new_text, secrets_dir)
        opts = VerifyOptions(
            app / "Dockerfile",
            app,
            new_text,
            smoke=smoke.arg if smoke.kind == "cmd" else None,
            smoke_http=smoke.arg if smoke.kind == "http" else None,
            keep_images=args.keep_images,
            http_timeout=args.http_timeout,
            build_flags=client.build_flags,
        )
        rep = run_verify(opts, err)
        err.print(f"{name}: more warm rebuilds, expert build")
        warms = {
            label: warm_best(client, app, body, f"msdfix-bench/{name}:{label}", rep.touched_file)
            for label, body in (("original", text), ("rewritten", new_text))
        }
        dk.remove_images(client, [f"msdfix-bench/{name}:{label}" for label in warms])
        expert = measure_expert(client, app, smoke, rep.touched_file)
        missed = targets(rep, expert, warms) + ([expert.error] if expert.error else [])
        all_ok &= not missed
        table.add_row(*row_for(name, rep, smoke, expert, warms=warms))
        results[name] = {
            **rep.to_dict(),
            "rewritten_dockerfile": new_text,
            "expert": {"size": expert.size, "warm": expert.warm, "smoke_ok": expert.smoke_ok},
            "warm_samples": warms,
            "missed": missed,
        }
        if not rep.passed:
            for res in (rep.original, rep.rewritten):
                for what, b in (("build", res.build), ("warm", res.warm)):
                    if b is not None and not b.ok:
                        err.print(f"[red]{name} {res.label} {what} failed:[/]")
                        err.print(b.tail(15), markup=False, highlight=False)
    out.print(table)
    out.print(f"total {time.monotonic() - started:.0f}s")
    if args.markdown:
        args.markdown.write_text(markdown_table(table))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
