"""Speed benchmark: msdfix's full rewrite (all transforms + its own verification) in one process.

    python bench/speed.py                 # ../shared/corpus
    python bench/speed.py --bulk          # the 19,962-file archive in ../shared/bulk
    python bench/speed.py DIR             # any directory of Dockerfiles

Prints files per second on one core (the process is single-threaded), with the same garbage
collector settings as the ``msdfix`` command.
"""

from __future__ import annotations

import argparse
import platform
import tarfile
import tempfile
import time
from pathlib import Path

from msdfix.engine import InternalError, Settings, rewrite, tune_gc
from msdfix.model import BuildContext
from msdfix.syntax import ParseError

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name != "MANIFEST.tsv" and "invalid" not in p.parts
    )


def run(paths: list[Path]) -> tuple[int, int, float]:
    texts = []
    for path in paths:
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            continue
    changed = 0
    tune_gc()  # as the CLI does
    start = time.process_time()
    for text in texts:
        try:
            changed += rewrite(text, None, BuildContext(None), Settings()).changed
        except (ParseError, InternalError):
            pass
    return len(texts), changed, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=SHARED / "corpus")
    parser.add_argument(
        "--bulk", action="store_true", help="use ../shared/bulk/dinosaur-dev.tar.xz"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.directory
        if args.bulk:
            with tarfile.open(SHARED / "bulk" / "dinosaur-dev.tar.xz") as archive:
                archive.extractall(tmp, filter="data")
            root = Path(tmp)
        count, changed, seconds = run(_files(root))
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"{count} files, {changed} changed, {seconds:.1f} s CPU: {count / seconds:.0f} files/s")


if __name__ == "__main__":
    main()
