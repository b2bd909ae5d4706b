#!/usr/bin/env python3
"""Behaviour snapshot: what msdfix does to every corpus file, to prove a refactor changes nothing.

    python bench/snapshot.py save before.json            # ../shared/corpus, safe and unsafe
    python bench/snapshot.py save after.json --bulk      # the bulk archive too
    python bench/snapshot.py diff before.json after.json # files whose output or messages differ

Per file and mode (safe, unsafe) it records a hash of the output and the list of
``(transform, applicability, line, message)`` of applied fixes and suggestions (applicability
``note`` for an explanation, which has no fix), or the error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from msdfix.engine import Settings, tune_gc
from msdfix.model import BuildContext
from msdfix.runner import process

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name != "MANIFEST.tsv" and "invalid" not in p.parts
    )


def _record(path: str, text: str, unsafe: bool) -> dict[str, Any]:
    report = process(path, text, BuildContext(None), Settings(unsafe=unsafe))
    if report.result is None:
        return {"error": report.error}
    result = report.result
    fixes = [
        [f.transform, f.fix.applicability.value if f.fix else "note", f.line, f.message]
        for f in result.applied + result.suggestions
    ]
    return {"output": hashlib.sha256(result.output.encode()).hexdigest()[:16], "fixes": fixes}


def save(out: Path, bulk: bool) -> None:
    tune_gc()
    roots = [SHARED / "corpus"]
    with tempfile.TemporaryDirectory() as tmp:
        if bulk:
            with tarfile.open(SHARED / "bulk" / "dinosaur-dev.tar.xz") as archive:
                archive.extractall(tmp, filter="data")
            roots.append(Path(tmp))
        snapshot: dict[str, Any] = {}
        for root in roots:
            for path in _files(root):
                try:
                    text = path.read_bytes().decode("utf-8")
                except UnicodeDecodeError:
                    continue
                key = str(path.relative_to(root))
                snapshot[key] = {m: _record(key, text, m == "unsafe") for m in ("safe", "unsafe")}
    out.write_text(json.dumps(snapshot, sort_keys=True))
    print(f"{len(snapshot)} files -> {out}")


def diff(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    for key in changed[:50]:
        for mode in ("safe", "unsafe"):
            a, b = (old.get(key) or {}).get(mode), (new.get(key) or {}).get(mode)
            if a != b:
                print(f"{key} [{mode}]\n  before: {a}\n  after:  {b}")
    print(f"{len(changed)} of {len(old.keys() | new.keys())} files differ")
    return 1 if changed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    save_cmd = sub.add_parser("save")
    save_cmd.add_argument("out", type=Path)
    save_cmd.add_argument("--bulk", action="store_true")
    diff_cmd = sub.add_parser("diff")
    diff_cmd.add_argument("before", type=Path)
    diff_cmd.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "save":
        save(args.out, args.bulk)
    else:
        sys.exit(diff(args.before, args.after))


if __name__ == "__main__":
    main()
