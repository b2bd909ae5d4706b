"""Shared test helpers: paths to fixtures and to the shared corpus (skipped when absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(Path(__file__).resolve().parent))
# Subprocesses (``python -m msdfix.cli`` in a temporary directory) import the msdfix under
# test: a relative PYTHONPATH=src (a worktree beside an editable install) no longer resolves
# there, and they ran the installed copy instead.
import msdfix  # noqa: E402

_SRC = str(Path(msdfix.__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_SRC, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
)


def corpus_files(include_invalid: bool = False) -> list[Path]:
    """Every corpus Dockerfile (empty when the corpus is absent, as on a user's clone)."""
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    return [p for p in files if include_invalid or "invalid" not in p.parts]


@pytest.fixture
def corpus() -> list[Path]:
    """Corpus files, or skip when ../shared/corpus is not there."""
    files = corpus_files()
    if not files:
        pytest.skip("../shared/corpus is absent (it is only on the project's machines)")
    return files


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print how many corpus files each transform changes (quoted in the README)."""
    counts = sys.modules.get("test_corpus")
    data = getattr(counts, "COUNTS", None)
    if data:
        terminalreporter.section("msdfix corpus counts")
        for key in sorted(data):
            terminalreporter.write_line(f"{key}: {data[key]}")
