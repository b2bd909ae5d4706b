"""msdfix over the real-world corpus: no crash, valid and stable output, counts per transform.

The counts are printed at the end of the test run (see conftest.py) and quoted in the README.
"""

from __future__ import annotations

import collections
import tarfile
from pathlib import Path

import pytest

from conftest import CORPUS, corpus_files
from msdfix.engine import InternalError, Settings, rewrite
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.model.stages import build_model
from msdfix.render.report import FileReport, file_json
from msdfix.syntax import ParseError, parse
from msdfix.transforms import all_transforms

COUNTS: dict[str, int] = {}
# Transforms whose every fix is unsafe: they change corpus files only with --unsafe-fixes.
UNSAFE_ONLY = frozenset({"exec-form", "non-root", "build-secrets", "test-stage"})
# Safe on no corpus file without its build context: reorder-copy (without one every move is
# unsafe) and split-stages (the corpus's one safe split without a context, golang's tip server, runs the
# Go toolchain the runtime would lack; the bulk archive still has safe splits).
SAFE_WITH_CONTEXT = frozenset({"reorder-copy", "split-stages"})
# Transforms that act only on a build context (the corpus has none): see their own tests.
CONTEXT_ONLY = frozenset({"dockerignore"})
BULK = CORPUS.parent / "bulk" / "dinosaur-dev.tar.xz"


def _entry_cmd(text: str):  # type: ignore[no-untyped-def]
    config = final_config(build_model(parse(text)))
    return config.get("entrypoint"), config.get("cmd")


def apply_json_edits(text: str, entry: dict) -> str:  # type: ignore[type-arg]
    """What a client of ``--output-format json`` gets by applying every applied fix's edits."""
    edits = sorted(
        (e["start"], e["end"], e["content"])
        for f in entry["fixes"]
        if f["applied"]
        for e in f["edits"]
    )
    out, pos = [], 0
    for start, end, content in edits:
        if start < pos or end < start or end > len(text):
            raise ValueError(f"edit {start}..{end} overlaps or leaves the input")
        out += [text[pos:start], content]
        pos = end
    return "".join(out) + text[pos:]


def _check_all(paths: list[Path], unsafe: bool) -> collections.Counter[str]:
    dockerfile = pytest.importorskip("dockerfile")
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="strict")
        try:
            result = rewrite(text, str(path), BuildContext(None), Settings(unsafe=unsafe))
        except InternalError as exc:
            problems.append(f"{path}: internal error: {exc}")
            continue
        except ParseError:
            counts["rejected"] += 1
            continue
        if not result.changed:
            continue
        counts["changed"] += 1
        for transform_id in {f.transform for f in result.applied}:
            counts[transform_id] += 1
        try:
            dockerfile.parse_string(result.output)
        except dockerfile.GoParseError as exc:
            problems.append(f"{path}: BuildKit rejects the output: {exc}")
        if apply_json_edits(text, file_json(FileReport(str(path), result))) != result.output:
            problems.append(f"{path}: the JSON edits do not reproduce the output")
        declared = set().union(*(f.fix.changes_config for f in result.applied if f.fix))
        if not declared & {"cmd", "entrypoint"} and _entry_cmd(result.output) != _entry_cmd(text):
            problems.append(f"{path}: final ENTRYPOINT/CMD changed")
        again = rewrite(result.output, str(path), BuildContext(None), Settings(unsafe=unsafe))
        if again.changed:
            problems.append(f"{path}: second run changes the output")
    assert problems == []
    return counts


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_corpus_rewrites_are_valid_and_stable(corpus, unsafe: bool) -> None:
    counts = _check_all(corpus, unsafe)
    label = "unsafe" if unsafe else "safe"
    COUNTS.update({f"{label}:{k}": v for k, v in counts.items()})
    COUNTS[f"{label}:files"] = len(corpus)
    for transform in all_transforms():
        safe_here = transform.id not in UNSAFE_ONLY | SAFE_WITH_CONTEXT
        if (unsafe or safe_here) and transform.id not in CONTEXT_ONLY:
            assert counts[transform.id] > 0, f"{transform.id} changes no corpus file"


def test_bulk_archive_round_trips_and_rewrites(tmp_path: Path) -> None:
    """Volume: ~20,000 more Dockerfiles: byte-identical round trip, no internal error, stable."""
    if not BULK.is_file():
        pytest.skip("../shared/bulk is absent")
    with tarfile.open(BULK) as archive:
        archive.extractall(tmp_path, filter="data")
    paths = sorted(p for p in tmp_path.rglob("Dockerfile") if p.is_file())
    assert len(paths) > 19000
    readable = []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        try:
            assert str(parse(text)) == text, path
        except ParseError:
            continue
        readable.append(path)
    counts = _check_all(readable, unsafe=False)
    COUNTS.update({f"bulk:{k}": v for k, v in counts.items()})
    COUNTS["bulk:files"] = len(paths)
    assert counts["split-stages"] > 0, "split-stages splits no bulk file safely"


def test_corpus_files_are_found() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    assert len(corpus_files()) > 3600
