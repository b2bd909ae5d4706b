"""Fuzz the command line with generated Dockerfiles (tests/dockerfile_gen.py), as users run it.

    python bench/fuzz.py                     # 100,000 inputs, 2 worker processes
    python bench/fuzz.py --count 5000 --jobs 1 --out /tmp/fuzz

Each input is written to a file and run through ``msdfix --write --output-format json`` and
then ``msdfix --check`` (every other input with ``--unsafe-fixes``) in-process (the real command: reading, rewriting, rendering, writing),
in worker subprocesses that run batches of inputs with a time limit per input. Counted:
tracebacks (an exception escaping the command or "Traceback" on stderr), hangs (over the time
limit), exit 123 on inputs BuildKit's parser accepts / rejects, and broken promises: the parsers
disagree, the output is rejected by BuildKit's parser, the JSON edits do not reproduce the
written file, a second run still changes something. Failing inputs are saved under --out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

FAILURES = ("traceback", "hang", "exit-123-accepted", "parity", "output-rejected",
            "edits-mismatch", "unstable")  # fmt: skip


class Hang(Exception):
    """The per-input time limit passed."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def _cli(args: list[str]) -> tuple[int | None, str, str, BaseException | None]:
    """Run ``msdfix ARGS`` in-process: (exit code, stdout, stderr, escaped exception)."""
    from msdfix import cli

    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    escaped: BaseException | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except Hang:
            raise
        except BaseException as exc:  # exactly what is counted
            escaped = exc
    return code, out.getvalue(), err.getvalue(), escaped


def _apply(text: str, data: dict) -> str:  # type: ignore[type-arg]
    from test_corpus import apply_json_edits

    return apply_json_edits(text, data["files"][0])


def one(text: str, path: Path, oracle, unsafe: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """Outcome labels of one input (with --unsafe-fixes when ``unsafe``)."""
    from msdfix.syntax import ParseError, parse

    labels = []
    try:
        oracle.parse_string(text)
        accepted = True
    except oracle.GoParseError:
        accepted = False
    labels.append("accepted" if accepted else "rejected-by-buildkit")
    try:
        parse(text)  # structural; values are checked later (exit 2 when BuildKit rejects)
    except ParseError:
        if accepted:
            labels.append("parity")
    data = text.encode("utf-8")
    path.write_bytes(data)
    fixes = ["--unsafe-fixes"] if unsafe else []
    code, out, err, escaped = _cli([*fixes, "--write", "--output-format", "json", "-q", str(path)])
    if escaped is not None or "Traceback" in err:
        labels.append("traceback")
        return labels
    labels.append(f"exit-{code}")
    if code == 123:
        labels.append("exit-123-accepted" if accepted else "exit-123-rejected")
        return labels
    if code == 2 and accepted:
        labels.append("refused-like-docker-build")
    if code != 0:
        return labels
    written = path.read_bytes().decode("utf-8")
    if written != text:
        labels.append("changed")
        try:
            oracle.parse_string(written)
        except oracle.GoParseError:
            labels.append("output-rejected")
        if _apply(text, json.loads(out)) != written:
            labels.append("edits-mismatch")
        again, _, err2, escaped2 = _cli([*fixes, "--check", "-q", str(path)])
        if escaped2 is not None or "Traceback" in err2:
            labels.append("traceback")
        elif again != 0:
            labels.append("unstable")
    return labels


def worker(start: int, count: int, timeout: float, out_dir: Path) -> None:
    """Run inputs ``start .. start+count`` and print their label counts as JSON."""
    import dockerfile as oracle

    from dockerfile_gen import RandomChooser, dockerfile

    signal.signal(signal.SIGALRM, _alarm)
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(start, start + count):
            text = dockerfile(RandomChooser(seed))
            path = Path(tmp) / "Dockerfile"
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                labels = one(text, path, oracle, unsafe=seed % 2 == 1)
            except Hang:
                labels = ["hang"]
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            counts.update(labels)
            counts["inputs"] += 1
            if any(label in FAILURES for label in labels):
                failed = [label for label in labels if label in FAILURES]
                (out_dir / f"{seed}-{'-'.join(failed)}.Dockerfile").write_text(text)
    print(json.dumps(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "msdfix-fuzz")
    parser.add_argument("--worker", nargs=2, type=int, metavar=("START", "COUNT"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args.worker[0], args.worker[1], args.timeout, args.out)
        return
    started = time.monotonic()
    batches = [(s, min(args.batch, args.start + args.count - s))
               for s in range(args.start, args.start + args.count, args.batch)]  # fmt: skip
    totals: Counter[str] = Counter()
    running: list[tuple[subprocess.Popen[str], int, int, float]] = []
    while batches or running:
        while batches and len(running) < args.jobs:
            start, count = batches.pop(0)
            cmd = [sys.executable, __file__, "--worker", str(start), str(count),
                   "--timeout", str(args.timeout), "--out", str(args.out)]  # fmt: skip
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            running.append((proc, start, count, time.monotonic()))
        time.sleep(0.5)
        for item in list(running):
            proc, start, count, began = item
            limit = count * args.timeout + 60
            if proc.poll() is None and time.monotonic() - began < limit:
                continue
            running.remove(item)
            if proc.poll() is None:  # the whole batch is stuck: a hang the alarm missed
                proc.kill()
                proc.wait()
                totals["hung-batches"] += 1
                continue
            stdout = proc.stdout.read() if proc.stdout else ""
            if proc.returncode != 0 or not stdout.strip():
                totals["crashed-batches"] += 1
                continue
            totals.update(json.loads(stdout.strip().splitlines()[-1]))
            done = totals["inputs"]
            print(f"  {done} inputs, {time.monotonic() - started:.0f}s", file=sys.stderr)
    _table(totals, time.monotonic() - started, args.out)


def _table(totals: Counter[str], seconds: float, out: Path) -> None:
    rows = [
        ("inputs", totals["inputs"]),
        ("accepted by BuildKit's parser", totals["accepted"]),
        ("rejected by BuildKit's parser", totals["rejected-by-buildkit"]),
        ("rewritten (exit 0, file changed)", totals["changed"]),
        ("exit 0 / 2 / 123", f"{totals['exit-0']} / {totals['exit-2']} / {totals['exit-123']}"),
        (
            "exit 2 on accepted input (refused like docker build)",
            totals["refused-like-docker-build"],
        ),
        ("tracebacks", totals["traceback"]),
        ("hangs", totals["hang"] + totals["hung-batches"]),
        ("exit 123 on input BuildKit accepts", totals["exit-123-accepted"]),
        ("exit 123 on input BuildKit rejects", totals["exit-123-rejected"]),
        ("parser disagreements", totals["parity"]),
        ("output rejected by BuildKit's parser", totals["output-rejected"]),
        ("JSON edits do not reproduce the output", totals["edits-mismatch"]),
        ("second run changes something", totals["unstable"]),
        ("crashed worker batches", totals["crashed-batches"]),
    ]
    print("| measure | count |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"\n{seconds:.0f}s; failing inputs (if any) in {out}")


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main()
