"""Result model and rendering (rich table / JSON) for ``msdfix verify``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from msdfix.verify.configdiff import ConfigDiff, has_errors
from msdfix.verify.docker import BuildOutcome, CheckOutcome
from msdfix.verify.tolerance import Tolerances

JSON_SCHEMA_VERSION = 1


def human_size(n: int | None) -> str:
    """Bytes in binary units with one decimal: ``1536 -> '1.5 KiB'``; None -> ``'-'``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_seconds(s: float | None) -> str:
    """Seconds with one decimal, ``'-'`` for None."""
    return "-" if s is None else f"{s:.1f}s"


def ratio(before: float | None, after: float | None) -> float | None:
    """after/before, None when undefined."""
    if before is None or after is None or before == 0:
        return None
    return after / before


@dataclass
class ImageResult:
    """Everything measured for one variant (original or rewritten)."""

    label: str
    tag: str
    build: BuildOutcome | None = None
    size: int | None = None
    layers: int | None = None
    warm: BuildOutcome | None = None  # the fastest successful warm rebuild (or the failed one)
    warm_runs: list[float] = field(default_factory=list)  # seconds of every warm rebuild
    replaced_ids: list[str] = field(default_factory=list)  # images a later rebuild re-tagged
    config: dict[str, Any] | None = None
    smoke: CheckOutcome | None = None
    smoke_http: CheckOutcome | None = None

    def to_dict(self) -> dict[str, Any]:
        def build_dict(b: BuildOutcome | None) -> dict[str, Any] | None:
            if b is None:
                return None
            return {
                "ok": b.ok,
                "seconds": round(b.seconds, 3),
                "log_tail": None if b.ok else b.tail(),
            }

        def check_dict(c: CheckOutcome | None) -> dict[str, Any] | None:
            if c is None:
                return None
            out = {"ok": c.ok, "detail": c.detail, "seconds": round(c.seconds, 3)}
            return out if c.host_port is None else {**out, "host_port": c.host_port}

        return {
            "tag": self.tag,
            "build": build_dict(self.build),
            "size_bytes": self.size,
            "size_human": human_size(self.size) if self.size is not None else None,
            "layers": self.layers,
            "warm_build": build_dict(self.warm),
            "warm_runs": [round(x, 3) for x in self.warm_runs],
            "smoke": check_dict(self.smoke),
            "smoke_http": check_dict(self.smoke_http),
        }


@dataclass
class VerifyReport:
    """The complete outcome of one ``msdfix verify`` run."""

    dockerfile: str
    context: str
    builder: str
    original: ImageResult
    rewritten: ImageResult
    touched_file: str | None = None
    touched_reason: str | None = None
    unchanged: bool = False
    tolerances: Tolerances = field(default_factory=Tolerances)
    cold_cache_mounts_emptied: bool = False
    config_diffs: list[ConfigDiff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Why the rewritten Dockerfile does not pass (empty list = pass)."""
        out = []
        rw, orig = self.rewritten, self.original
        if orig.build is not None and not orig.build.ok:  # a pass would have compared nothing
            out.append("original image does not build: nothing to compare the rewrite with")
        if rw.build is None or not rw.build.ok:
            out.append("rewritten image does not build")
        if rw.warm is not None and not rw.warm.ok:
            out.append("rewritten image warm rebuild failed")
        if rw.smoke is not None and not rw.smoke.ok:
            out.append("smoke command failed on rewritten image" + _also(orig.smoke))
        if rw.smoke_http is not None and not rw.smoke_http.ok:
            out.append("HTTP smoke check failed on rewritten image" + _also(orig.smoke_http))
        if has_errors(self.config_diffs):
            out.append(
                "image config differs: "
                + ", ".join(d.key for d in self.config_diffs if d.severity == "error")
            )
        return out + self.regressions()

    def regressions(self) -> list[str]:
        """Size and warm-rebuild regressions beyond the tolerances."""
        out = []
        orig, rw, tol = self.original, self.rewritten, self.tolerances
        if orig.size and rw.size is not None and rw.size > tol.size_limit(orig.size):
            out.append(
                f"image is larger: {human_size(rw.size)} vs {human_size(orig.size)} "
                f"({_change(orig.size, rw.size)}, tolerance +{tol.size_pct:g}%)"
            )
        ow, rww = _ok_seconds(orig.warm), _ok_seconds(rw.warm)
        if ow is not None and rww is not None and rww > tol.warm_limit(ow):
            out.append(
                f"warm rebuild is slower: {rww:.1f}s vs {ow:.1f}s ({_change(ow, rww)}, "
                f"tolerance +{tol.warm_pct:g}% +{tol.warm_seconds:g}s)"
            )
        return out

    @property
    def passed(self) -> bool:
        return not self.failures()

    def to_dict(self) -> dict[str, Any]:
        o, r = self.original, self.rewritten
        return {
            "version": JSON_SCHEMA_VERSION,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "builder": self.builder,
            "unchanged": self.unchanged,
            "touched_file": self.touched_file,
            "touched_reason": self.touched_reason,
            "tolerances": self.tolerances.to_dict(),
            "cold_builds": {
                "layer_cache": False,
                "cache_mounts_emptied": self.cold_cache_mounts_emptied,
            },
            "images": {"original": o.to_dict(), "rewritten": r.to_dict()},
            "ratios": {
                "size": ratio(o.size, r.size),
                "cold_build": ratio(
                    o.build.seconds if o.build else None, r.build.seconds if r.build else None
                ),
                "warm_build": ratio(
                    o.warm.seconds if o.warm else None, r.warm.seconds if r.warm else None
                ),
            },
            "config": {
                "equivalent": not has_errors(self.config_diffs),
                "differences": [d.to_dict() for d in self.config_diffs],
            },
            "notes": self.notes,
            "regressions": self.regressions(),
            "failures": self.failures(),
            "passed": self.passed,
        }


def _also(original: CheckOutcome | None) -> str:
    """Says when a check failed on the original too: the check (an env var the app needs, a
    port other than the one it listens on), not the rewrite, is then the first suspect."""
    if original is not None and not original.ok:
        return " (and on the original: check the smoke check itself)"
    return ""


def _ok_seconds(build: BuildOutcome | None) -> float | None:
    return build.seconds if build is not None and build.ok else None


def _change(before: float, after: float) -> str:
    return f"{(after / before - 1) * 100:+.0f}%"


def render_json(report: VerifyReport) -> str:
    """Stable, indented JSON."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str)


def _ok(b: BuildOutcome | CheckOutcome | None, extra: str = "") -> Text:
    if b is None:
        return Text("-", style="dim")
    if b.ok:
        return Text("ok" + extra, style="green")
    return Text("FAILED" + extra, style="bold red")


def _ratio_text(before: float | None, after: float | None) -> str:
    r = ratio(before, after)
    return "-" if r is None else f"{r:.2f}x"


def render_table(report: VerifyReport, console: Console) -> None:
    """Side-by-side table plus config differences and failure logs."""
    o, r = report.original, report.rewritten
    table = Table(title=f"msdfix verify: {report.dockerfile}", title_justify="left")
    table.add_column("")
    table.add_column("original", justify="right")
    table.add_column("rewritten", justify="right")
    table.add_column("after/before", justify="right")
    table.add_row("build", _ok(o.build), _ok(r.build), "")
    size_ratio = _ratio_text(o.size, r.size) + f" (max {1 + report.tolerances.size_pct / 100:.2f}x)"
    table.add_row("image size", human_size(o.size), human_size(r.size), size_ratio)
    table.add_row("size (bytes)", str(o.size or "-"), str(r.size or "-"), "")
    table.add_row("layers", str(o.layers or "-"), str(r.layers or "-"), "")
    ob, rb = (o.build.seconds if o.build else None), (r.build.seconds if r.build else None)
    table.add_row(
        "cold build (no cache)", human_seconds(ob), human_seconds(rb), _ratio_text(ob, rb)
    )
    ow, rw = (o.warm.seconds if o.warm else None), (r.warm.seconds if r.warm else None)
    label = (
        f"warm rebuild ({escape(report.touched_file)})" if report.touched_file else "warm rebuild"
    )
    limit = f" (max {report.tolerances.warm_limit(ow):.1f}s)" if o.warm and o.warm.ok and ow else ""
    table.add_row(
        label,
        human_seconds(ow) if o.warm and o.warm.ok else _ok(o.warm),
        human_seconds(rw) if r.warm and r.warm.ok else _ok(r.warm),
        _ratio_text(ow, rw) + limit,
    )
    if o.smoke or r.smoke:
        table.add_row("smoke command", _ok(o.smoke), _ok(r.smoke), "")
    if o.smoke_http or r.smoke_http:
        table.add_row("smoke http", _ok(o.smoke_http), _ok(r.smoke_http), "")
    errors = [d for d in report.config_diffs if d.severity == "error"]
    warns = [d for d in report.config_diffs if d.severity == "warning"]
    cfg = (
        Text("equivalent", style="green")
        if not errors
        else Text(f"{len(errors)} difference(s)", style="bold red")
    )
    if warns:
        cfg.append(f" (+{len(warns)} from base image)", style="yellow")
    table.add_row("image config", "", cfg, "")
    console.print(table)
    if report.config_diffs:
        dt = Table(title="image config differences", title_justify="left")
        dt.add_column("key")
        dt.add_column("original")
        dt.add_column("rewritten")
        dt.add_column("severity")
        for d in report.config_diffs:
            style = "red" if d.severity == "error" else "yellow"
            dt.add_row(
                escape(d.key),
                escape(json.dumps(d.original)),
                escape(json.dumps(d.rewritten)),
                Text(d.severity, style=style),
            )
        console.print(dt)
    for res in (o, r):
        for what, b in (("build", res.build), ("warm rebuild", res.warm)):
            if b is not None and not b.ok:
                console.print(f"[bold red]{res.label} {what} failed[/]; last lines:")
                console.print(Text(b.tail()))
        for what, c in (("smoke command", res.smoke), ("smoke http", res.smoke_http)):
            if c is not None and not c.ok:
                console.print(
                    f"[bold red]{res.label} {what} failed[/]: {escape(str(c.detail))}",
                    markup=True,
                    highlight=False,
                )
    console.print(f"build context: {escape(report.context)}", highlight=False)
    console.print(f"tolerances: {report.tolerances.describe()}", highlight=False)
    if report.touched_reason:
        console.print(
            f"edited for the warm rebuild: {escape(report.touched_reason)}", highlight=False
        )
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if report.passed:
        console.print("[bold green]PASS[/]: rewritten image builds and passes every check")
    else:
        console.print("[bold red]FAIL[/]: " + escape("; ".join(report.failures())))
