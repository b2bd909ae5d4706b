#!/usr/bin/env python3
"""Differential builds: real Dockerfiles built as written and as msdfix rewrites them.

    python bench/differential.py select             # -> bench/differential/selection.json
    python bench/differential.py run --limit 150 --jobs 2   # -> bench/differential/results.json
    python bench/differential.py render             # summary into README.md, table into results.md
    python bench/differential.py stale              # files whose results predate today's rewrite

``select`` keeps the files of ../shared/corpus and ../shared/bulk that can build offline with the
stand-in images (Debian-family bases, RUN steps with apt, pip and npm only), cheapest first.
``run`` builds each original, then the safe and the unsafe rewrite with empty cache mounts, and
rebuilds the safe rewrite from every cache-mounted RUN with empty mounts and earlier layers
cached (as CI with --cache-from does). Every build gets cache mounts of its own (a unique id), so
they start empty and concurrent builds cannot fill them. Results are written after every file; a file is
built again only when its text or msdfix's rewrite of it changed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from msdfix.engine import Settings
from msdfix.model import BuildContext
from msdfix.runner import process
from msdfix.verify.diffbuild import Harness, digest
from msdfix.verify.differential import make_context, screen
from msdfix.verify.docker import detect_client, empty_cache_mounts

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "differential"
SHARED = REPO.parent / "shared"
BULK = SHARED / "bulk" / "dinosaur-dev.tar.xz"
BULK_DIR = Path(tempfile.gettempdir()) / "msdfix-differential-bulk"
STANDINS = REPO / "tests" / "support" / "standins.sh"
START, END = "<!-- differential:start -->", "<!-- differential:end -->"


def standin_bases() -> frozenset[str]:
    """Stand-in tags of Debian-family images (not the busybox 'alpine' or distroless ones)."""
    out = subprocess.run(["bash", str(STANDINS), "--list"], capture_output=True, text=True)
    tags = out.stdout.split()
    return frozenset(t for t in tags if "alpine" not in t and "distroless" not in t)


def bulk_root() -> Path:
    """The bulk archive unpacked once into a temporary directory (never into the project)."""
    marker = BULK_DIR / ".complete"
    if not marker.exists():
        shutil.rmtree(BULK_DIR, ignore_errors=True)
        BULK_DIR.mkdir(parents=True)
        with tarfile.open(BULK) as archive:
            archive.extractall(BULK_DIR, filter="data")
        marker.touch()
    return BULK_DIR


def source_text(key: str) -> str:
    """Text of ``corpus/...`` or ``bulk/...`` keys."""
    kind, _, rel = key.partition("/")
    root = SHARED / "corpus" if kind == "corpus" else bulk_root()
    return (root / rel).read_bytes().decode("utf-8")


def select(args: argparse.Namespace) -> None:
    bases = standin_bases()
    roots = [("corpus", SHARED / "corpus"), ("bulk", bulk_root())]
    chosen, reasons = [], {}
    for kind, root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.name in ("MANIFEST.tsv", ".complete") or "invalid" in path.parts:
                continue
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
            result = screen(text, bases)
            key = f"{kind}/{path.relative_to(root)}"
            if result.ok:
                chosen.append(
                    {
                        "file": key,
                        "sha": digest(text),
                        "cost": result.cost,
                        "runs": result.manager_runs,
                    }
                )
            else:
                reason = result.reason.split(" ")[0] if "base" in result.reason else result.reason
                reasons[reason] = reasons.get(reason, 0) + 1
    chosen = interleave(chosen)
    top = dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:25])
    data = {"bases": sorted(bases), "files": chosen, "excluded_top_reasons": top}
    OUT.mkdir(exist_ok=True)
    (OUT / "selection.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(chosen)} files selected -> {OUT / 'selection.json'}")


def interleave(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cheapest first, alternating files with one package-manager RUN and files with several
    (those test cache independence: a later RUN may need what an earlier one left in a mount)."""
    key = lambda e: (e["cost"], e["sha"])  # noqa: E731
    several = sorted((e for e in files if e["runs"] > 1), key=key)
    one = sorted((e for e in files if e["runs"] <= 1), key=key)
    out = []
    for i in range(max(len(several), len(one))):
        out += several[i : i + 1] + one[i : i + 1]
    return out


def current_rewrite(key: str, text: str) -> str:
    """Digest of the safe and unsafe rewrites msdfix makes now (decides whether to rebuild)."""
    with tempfile.TemporaryDirectory() as tmp:
        make_context(text, Path(tmp))
        outs = []
        for unsafe in (False, True):
            report = process(key, text, BuildContext(Path(tmp)), Settings(unsafe=unsafe))
            outs.append(report.result.output if report.result else "")
    return digest("\0".join(outs))


def msdfix_revision() -> str:
    proc = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return proc.stdout.strip()


def _save(results: dict[str, Any]) -> None:
    tmp = OUT / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    tmp.replace(OUT / "results.json")


def needs_build(
    keys: list[str], results: dict[str, Any], force: bool = False
) -> list[tuple[str, str]]:
    """(key, text) of the files whose recorded results are not of msdfix's rewrite today."""
    todo = []
    for key in keys:
        text = source_text(key)
        old = results.get(key)
        skipped = old and any("skipped" in old.get(m, {}) for m in ("safe", "unsafe"))
        if (
            old
            and not force
            and not skipped  # the missing base image may be there now
            and old.get("input") == digest(text)
            and old.get("rewrite") == current_rewrite(key, text)
        ):
            continue
        todo.append((key, text))
    return todo


def stale(args: argparse.Namespace) -> None:
    """List the selected files whose results are not of today's rewrite; exit 1 if any."""
    selection = json.loads((OUT / "selection.json").read_text())["files"]
    results = json.loads((OUT / "results.json").read_text())
    todo = needs_build([e["file"] for e in selection], results)
    for key, _ in todo:
        print(key)
    print(f"{len(todo)} of {len(selection)} files need a build", file=sys.stderr)
    sys.exit(1 if todo else 0)


def run(args: argparse.Namespace) -> None:
    selection = json.loads((OUT / "selection.json").read_text())["files"]
    results_path = OUT / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    entries = [
        e
        for e in selection
        if not args.files or any(fnmatch.fnmatch(e["file"], g) for g in args.files)
    ]
    entries = entries[: args.limit] if args.limit else entries
    todo = needs_build([e["file"] for e in entries], results, args.force)
    print(f"{len(entries)} files, {len(todo)} to build", flush=True)
    harness = Harness(detect_client(), timeout=args.timeout)
    revision = msdfix_revision()
    with (
        tempfile.TemporaryDirectory(prefix="msdfix-diff-") as tmp,
        ThreadPoolExecutor(args.jobs) as pool,
    ):
        futures = {
            pool.submit(harness.run_file, key, text, Path(tmp) / f"f{i}"): key
            for i, (key, text) in enumerate(todo)
        }
        for n, future in enumerate(as_completed(futures), 1):
            key = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the harness's own failure: record it, keep going
                record = {"input": digest(source_text(key)), "harness_error": repr(exc)[:500]}
            record["msdfix"] = revision
            results[key] = record  # saved after every file: an interrupted run keeps its results
            _save(results)
            stamp = time.strftime("%H:%M:%S")
            print(f"{stamp} [{n}/{len(todo)}] {key}: {line_of(record)}", flush=True)
            _clean(harness, n)


def _clean(harness: Harness, n: int) -> None:
    """Every ten files drop the (private, now unused) cache mounts; prune when disk is short.

    A prune that fails or times out is reported and the run goes on: an exception here would
    leave the loop, and the results of every file still building would never be saved.
    """
    try:
        if n % 10 == 0:
            empty_cache_mounts(harness.client)
        if shutil.disk_usage(REPO).free < 15 * 2**30:
            harness.client.run("builder", "prune", "-f", "--keep-storage", "15GB", timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"cleanup after file {n} failed, going on: {exc!r}", flush=True)


def line_of(record: dict[str, Any]) -> str:
    """One-line status of a record."""
    if "harness_error" in record:
        return f"harness error {record['harness_error']}"
    if not record.get("original", {}).get("builds"):
        return "original fails"
    parts = []
    for mode in ("safe", "unsafe"):
        r = record.get(mode, {})
        if not r.get("changed", True) or r.get("same_as_safe"):
            parts.append(f"{mode}: {'unchanged' if not r.get('changed', True) else 'as safe'}")
        elif "msdfix_error" in r:
            parts.append(f"{mode}: msdfix error")
        elif "skipped" in r:
            parts.append(f"{mode}: skipped ({r['skipped']})")
        elif not r.get("builds"):
            parts.append(f"{mode}: FAILS")
        else:
            parts.append(
                f"{mode}: ok {r.get('size_ratio')}"
                + ("" if r.get("cache_independent", True) else " NOT cache-independent")
            )
    return "; ".join(parts)


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "0/0"


def _safe_breaks(r: dict[str, Any]) -> list[str]:
    """Targets a built safe rewrite misses."""
    out = []
    if not r.get("cache_independent", True):
        out.append(
            "not cache-independent (line "
            + ", ".join(str(b["line"]) for b in r["bust"] if not b["builds"])
            + ")"
        )
    if r.get("size_ratio", 1) > 1.01:
        out.append(f"{(r['size_ratio'] - 1) * 100:.0f}% larger")
    if r.get("config_diffs"):
        out.append("config: " + ", ".join(d["key"] for d in r["config_diffs"]))
    if r.get("fs", {}).get("unexpected_count"):
        out.append(f"{r['fs']['unexpected_count']} unexpected paths")
    if r.get("fs", {}).get("apt_config"):
        out.append("apt configuration changed")
    return out


def _built(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(results.items()) if v.get("original", {}).get("builds")}


def summary_lines(results: dict[str, Any]) -> list[str]:
    """The headline numbers, one per line."""
    built = _built(results)
    changed = [v["safe"] for v in built.values() if v.get("safe", {}).get("changed")]
    safe = [r for r in changed if "skipped" not in r]
    ok = [r for r in safe if r.get("builds")]
    unsafe = [
        v["unsafe"]
        for v in built.values()
        if v.get("unsafe", {}).get("changed") and not v["unsafe"].get("same_as_safe")
    ]
    skipped = [r for r in unsafe if "skipped" in r]
    unsafe = [r for r in unsafe if "skipped" not in r]
    busted = [r for r in ok if r.get("bust")]
    return [
        f"{len(built)} of {len(results)} files built as written; msdfix's safe fixes changed "
        f"{len(changed)} of them ({len(changed) - len(safe)} not built: their new base image "
        "is not available offline).",
        f"Safe rewrites built: {_pct(len(ok), len(safe))}; cache-independent: "
        f"{_pct(sum(r.get('cache_independent', True) for r in ok), len(ok))} "
        f"({len(busted)} rebuilt from a later cache-mounted RUN with empty mounts); "
        f"more than 1% larger: {sum(r.get('size_ratio', 1) > 1.01 for r in ok)}; "
        f"config differences: {sum(bool(r.get('config_diffs')) for r in ok)}; "
        f"unexpected filesystem differences: {sum(bool(r['fs']['unexpected_count']) for r in ok)}; "
        f"apt configuration changed: {sum(bool(r['fs']['apt_config']) for r in ok)}.",
        f"Unsafe rewrites (where they differ from the safe one) built: "
        f"{_pct(sum(bool(r.get('builds')) for r in unsafe), len(unsafe))} "
        f"({len(skipped)} not built: their new base image is not available offline).",
        f"msdfix errors: {sum('msdfix_error' in v.get(m, {}) for v in built.values() for m in ('safe', 'unsafe'))}.",
    ]


def _cell(r: dict[str, Any] | None, safe: bool) -> list[str]:
    if r is None or "msdfix_error" in r:
        return ["msdfix error", "", "", ""]
    if not r.get("changed", True):
        return ["unchanged", "", "", ""]
    if r.get("same_as_safe"):
        return ["= safe", "", "", ""]
    if "skipped" in r:
        return ["not built: no offline base", "", "", ""]
    if not r.get("builds"):
        return ["**fails**", "", "", ""]
    indep = "" if not safe else ("yes" if r.get("cache_independent", True) else "**no**")
    breaks = (
        _safe_breaks(r)
        if safe
        else (
            []
            if not r.get("config_diffs")
            else ["config: " + ", ".join(d["key"] for d in r["config_diffs"])]
        )
    )
    return [
        "yes",
        indep,
        f"{r.get('size_ratio', 1):.3f}",
        "; ".join(b for b in breaks if not b.startswith("not cache")),
    ]


def render(results: dict[str, Any], selected: int | None = None) -> str:
    """Markdown for the README: the summary and the safe rewrites that miss a target."""
    built = _built(results)
    lines = [*(f"- {line}" for line in summary_lines(results)), ""]
    if selected is not None:
        lines[:0] = [
            f"- {selected:,} files of the corpus and the bulk archive pass the selection; the "
            f"first {len(results)} in its order were built."
        ]
    misses = []
    for key, v in built.items():
        r = v.get("safe", {})
        why = ["does not build"] if r.get("changed") and r.get("builds") is False else []
        why += _safe_breaks(r) if r.get("builds") else []
        if why:
            misses.append(f"- `{key}`: {'; '.join(why)}")
    if misses:
        lines += ["Safe rewrites that miss a target:", "", *misses, ""]
    return "\n".join(lines) + "\n"


def render_table(results: dict[str, Any]) -> str:
    """Markdown: one row per built original (bench/differential/results.md)."""
    lines = [
        "# Differential builds: one row per file",
        "",
        "Written by `python bench/differential.py render` from `results.json`; the method and the",
        "summary are in the README's Differential builds section.",
        "",
        "| file | safe builds | cache-independent | size ratio | differences | unsafe builds | unsafe size ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, v in _built(results).items():
        s, u = _cell(v.get("safe"), True), _cell(v.get("unsafe"), False)
        lines.append(f"| `{key}` | {s[0]} | {s[1]} | {s[2]} | {s[3]} | {u[0]} | {u[2]} |")
    return "\n".join(lines) + "\n"


def write_section(readme: Path, body: str) -> None:
    """Replace what is between the markers (appended as a new section when they are absent)."""
    text = readme.read_text()
    if START not in text:
        text = text.rstrip("\n") + f"\n\n## Differential builds\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{body}{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("select", help="choose the files (selection.json)")
    p_run = sub.add_parser("run", help="build and record (results.json)")
    p_run.add_argument("--limit", type=int, default=0, help="first N selected files")
    p_run.add_argument("--jobs", type=int, default=2, help="files built concurrently")
    p_run.add_argument("--files", nargs="*", help="only keys matching these globs")
    p_run.add_argument("--timeout", type=float, default=600, help="seconds per build")
    p_run.add_argument("--force", action="store_true", help="rebuild files with cached results")
    sub.add_parser("stale", help="list the files whose results are not of today's rewrite")
    p_render = sub.add_parser("render", help="summary into the README, table into results.md")
    p_render.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args()
    if args.command == "render":
        results = json.loads((OUT / "results.json").read_text())
        selected = len(json.loads((OUT / "selection.json").read_text())["files"])
        write_section(args.readme, render(results, selected))
        (OUT / "results.md").write_text(render_table(results))
        print(summary_lines(results)[0])
    else:
        {"select": select, "run": run, "stale": stale}[args.command](args)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
