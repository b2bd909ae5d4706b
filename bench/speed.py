"""Speed benchmark: per-core speed against BuildKit's parser, --jobs scaling, layouts, memory.

    python bench/speed.py                 # everything below on ../shared/corpus (a few minutes)
    python bench/speed.py --bulk          # the ratio on the 19,962-file archive in ../shared/bulk too
    python bench/speed.py --only ratio    # one part: ratio, jobs, layouts, version, hostile
    python bench/speed.py DIR             # any directory of Dockerfiles

- ratio: msdfix's full rewrite (all transforms and its own verification, in one process) against
  BuildKit's Go parser (PyPI ``dockerfile``) parsing the same texts, CPU time, in the same run;
  and msdfix's parser alone (``syntax.parse``) against the same;
- jobs: files/s of ``msdfix -q --jobs 1`` and ``--jobs <all usable CPUs>``, and the scaling;
- layouts: n bulk files in one folder vs one folder per file, n = 1,000 / 5,000 / 20,000
  (``msdfix -q --jobs 1``): flat must stay within 1.3x of per-folder and grow linearly;
- large (``--large``): 100,000 files with all CPUs, for the peak memory;
- hostile: generated files of 1,000 and 3,000 copies of one line (RUNs, stages, ENVs, COPYs,
  continuation lines): time and peak memory, which should grow about linearly;
- version: ``msdfix --version`` wall time (best of 10; must be under 150 ms);
- peak memory: the max RSS of every command run (the largest of msdfix's processes, its
  worker processes included; a --jobs N run uses at most N + 1 such processes).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import dockerfile

from msdfix.engine import InternalError, Settings, rewrite, tune_gc
from msdfix.model import BuildContext
from msdfix.parallel import usable_cpus
from msdfix.syntax import ParseError, parse

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
MSDFIX = [sys.executable, "-m", "msdfix"]
LAYOUT_SIZES = (1000, 5000, 20000)
VERSION_LIMIT = 0.150


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name != "MANIFEST.tsv" and "invalid" not in p.parts
    )


def _texts(paths: list[Path]) -> list[str]:
    texts = []
    for path in paths:
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return texts


def _buildkit(texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        try:
            dockerfile.parse_string(text)
        except dockerfile.GoParseError:
            pass
    return time.process_time() - start


def _parse(texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        try:
            parse(text)
        except ParseError:
            pass
    return time.process_time() - start


def _msdfix(texts: list[str]) -> tuple[int, float]:
    changed = 0
    start = time.process_time()
    for text in texts:
        try:
            changed += rewrite(text, None, BuildContext(None), Settings()).changed
        except (ParseError, InternalError):
            pass
    return changed, time.process_time() - start


def ratio(name: str, texts: list[str]) -> None:
    """msdfix files/s over BuildKit's parser's files/s on the same texts, one core."""
    tune_gc()  # as the CLI does
    _buildkit(texts[:200])  # warm both up
    first = _buildkit(texts)
    changed, ours = _msdfix(texts)
    parser = min(first, _buildkit(texts))
    n = len(texts)
    print(
        f"ratio {name}: {n} files ({changed} changed): msdfix {n / ours:.0f} files/s, "
        f"BuildKit parser {n / parser:.0f} files/s: ratio {parser / ours:.2f} (target >= 0.5)"
    )
    parsing = min(_parse(texts) for _ in range(3))  # msdfix's own parser alone, best of 3
    print(f"ratio {name}: msdfix's parser alone {n / parsing:.0f} files/s ({parsing:.2f} s): "
          f"{parser / parsing:.2f}x BuildKit's parser's speed")  # fmt: skip


# Started from a small process: a child forked from this (large) one would count its memory.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def _run(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB, worker processes included) of a command."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True)
    code, wall, cpu, peak = out.stdout.split()
    if int(code) not in (0, 1, 2):
        raise SystemExit(f"{' '.join(args)}: exit {code}")
    return float(wall), float(cpu), int(peak)


def jobs(root: Path) -> None:
    """files/s on one and on all usable CPUs."""
    count = sum(1 for p in root.rglob("*") if p.is_file() and _dockerfile_name(p.name))
    cpus = usable_cpus()
    one = _run([*MSDFIX, "-q", "--jobs", "1", str(root)])
    many = _run([*MSDFIX, "-q", "--jobs", str(cpus), str(root)])
    print(f"jobs: {count} files: --jobs 1 {count / one[0]:.0f} files/s "
          f"({one[0]:.1f} s, max RSS {one[2] / 1024:.0f} MiB); --jobs {cpus} {count / many[0]:.0f} files/s "
          f"({many[0]:.1f} s, max RSS {many[2] / 1024:.0f} MiB): scaling {one[0] / many[0]:.2f}x")  # fmt: skip
    # On a busy machine the wall-clock scaling shows the load; the CPU time shows the overhead.
    print(f"jobs: CPU time --jobs 1 {one[1]:.1f} s, --jobs {cpus} {many[1]:.1f} s (all processes): "
          f"{cpus} idle CPUs would give at most {cpus * one[1] / many[1]:.2f}x")  # fmt: skip


def _dockerfile_name(name: str) -> bool:
    from msdfix.files import is_dockerfile_name

    return is_dockerfile_name(name)


def layouts(bulk: Path, tmp: Path) -> None:
    """The same files in one folder and one folder per file."""
    files = _files(bulk)
    per_file = []
    for n in LAYOUT_SIZES:
        flat, per = tmp / f"flat{n}", tmp / f"per{n}"
        flat.mkdir()
        for i in range(n):  # the archive's 19,962 files, and again from the start
            path = files[i % len(files)]
            shutil.copyfile(path, flat / f"f{i:05}.Dockerfile")
            (per / f"f{i:05}").mkdir(parents=True)
            shutil.copyfile(path, per / f"f{i:05}" / "Dockerfile")
        flat_run = _run([*MSDFIX, "-q", "--jobs", "1", str(flat)])
        per_run = _run([*MSDFIX, "-q", "--jobs", "1", str(per)])
        per_file.append(flat_run[0] / n * 1000)
        print(f"layouts: {n} files: flat {flat_run[0]:.1f} s (max RSS {flat_run[2] / 1024:.0f} MiB), "
              f"per-folder {per_run[0]:.1f} s (max RSS {per_run[2] / 1024:.0f} MiB): "
              f"flat/per {flat_run[0] / per_run[0]:.2f} (target <= 1.3), "
              f"flat {per_file[-1]:.2f} s per 1,000 files")  # fmt: skip
        shutil.rmtree(flat)
        shutil.rmtree(per)


def large(bulk: Path, tmp: Path, total: int = 100_000) -> None:
    """Memory stays bounded: ``total`` files (the bulk archive repeated, hard links)."""
    files = _files(bulk)
    root = tmp / "large"
    for i in range(total):
        folder = root / f"{i // 1000:03}" / f"f{i % 1000:03}"
        folder.mkdir(parents=True)
        os.link(files[i % len(files)], folder / "Dockerfile")
    cpus = usable_cpus()
    wall, _, peak = _run([*MSDFIX, "-q", "--jobs", str(cpus), str(root)])
    print(f"large: {total} files, --jobs {cpus}: {wall:.0f} s ({total / wall:.0f} files/s), "
          f"max RSS {peak / 1024:.0f} MiB")  # fmt: skip
    shutil.rmtree(root)


HOSTILE_SIZES = (1_000, 3_000)
HOSTILE = {  # generated files: one repeated line (its number i substituted), with a head and tail
    "apt RUNs": (["FROM debian:12"], "RUN apt-get update && apt-get install -y pkg{i}", []),
    "pip RUNs that clean": (
        ["FROM python:3.11", "COPY . /app"],
        "RUN pip install pkg{i} && rm -rf /root/.cache/pip",
        ['CMD ["python", "app.py"]'],
    ),
    "stages": ([], "FROM python:3.11 AS s{i}\nRUN pip install pkg{i}", ["FROM python:3.11-slim"]),
    "ENV chain": (["FROM node:20"], "ENV V{i}=${{PATH}}:/opt/x{i}", ["COPY . .", "RUN npm ci"]),
    "COPYs": (["FROM node:20", "WORKDIR /app"], "COPY f{i} /app/f{i}", ["RUN npm install"]),
    "continued lines": (
        ["FROM debian:12", "RUN apt-get install -y \\"],
        "    pkg{i} \\",
        ["    x"],
    ),
    "one RUN: && chain": (["FROM debian:12", "RUN true \\"], "  && cd d{i} \\", ["  && true"]),
    "one RUN: sudo sudo ...": (["FROM debian:12", "RUN \\"], "  sudo \\", ["  pip install x"]),
    "one RUN: cleanups": (
        ["FROM debian:12", "RUN apt-get update && apt-get install -y x \\"],
        "  && rm -rf /var/lib/apt/lists/* \\",
        ["  && true"],
    ),
    "one COPY: sources": (["FROM node:20", "COPY \\"], "  f{i} \\", ["  /app/", "RUN npm ci"]),
}


def hostile(tmp: Path) -> None:
    """Generated files of 1,000 and 3,000 copies of one line, diff printed: time and memory
    should grow about linearly (a quadratic step costs 9x per 3x)."""
    for shape, (head, line, tail) in HOSTILE.items():
        results = []
        for n in HOSTILE_SIZES:
            path = tmp / "hostile.Dockerfile"
            body = [line.format(i=i) for i in range(n)]
            path.write_text("\n".join([*head, *body, *tail]) + "\n")
            wall, _, peak = _run([*MSDFIX, str(path)])
            results.append(f"{n}: {wall:.1f} s, {peak / 1024:.0f} MiB")
        print(f"hostile: {shape}: " + "; ".join(results))


def version() -> None:
    """``msdfix --version``: best and median of 10 runs."""
    times = sorted(_run([*MSDFIX, "--version"])[0] for _ in range(10))
    verdict = "ok" if times[0] < VERSION_LIMIT else "TOO SLOW"
    print(f"version: msdfix --version best {times[0] * 1000:.0f} ms, "
          f"median {times[5] * 1000:.0f} ms ({verdict}: limit {VERSION_LIMIT * 1000:.0f} ms)")  # fmt: skip


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {os.cpu_count()} CPUs ({usable_cpus()} usable), {model}, "
        f"Python {platform.python_version()}, {datetime.date.today()}, load {load:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=SHARED / "corpus")
    parser.add_argument("--bulk", action="store_true", help="the ratio on the bulk archive too")
    parser.add_argument(
        "--only", choices=["ratio", "jobs", "layouts", "version", "large", "hostile"]
    )
    parser.add_argument("--large", action="store_true", help="also 100,000 files (memory)")
    args = parser.parse_args()
    print(machine())
    parts = [args.only] if args.only else ["version", "ratio", "jobs", "layouts", "hostile"]
    parts += ["large"] if args.large else []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bulk = tmp / "bulk"
        if args.bulk or "layouts" in parts or "large" in parts:
            with tarfile.open(SHARED / "bulk" / "dinosaur-dev.tar.xz") as archive:
                archive.extractall(bulk, filter="data")
        if "version" in parts:
            version()
        if "ratio" in parts:
            ratio(args.directory.name, _texts(_files(args.directory)))
            if args.bulk:
                ratio("bulk", _texts(_files(bulk)))
        if "jobs" in parts:
            jobs(args.directory)
        if "layouts" in parts:
            layouts(bulk, tmp)
        if "large" in parts:
            large(bulk, tmp)
        if "hostile" in parts:
            hostile(tmp)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory: this process {peak / 1024:.0f} MiB (commands: see above)")


if __name__ == "__main__":
    main()
