"""All transforms together on every fixture (with its build context): valid, stable output."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.model.stages import build_model
from msdfix.syntax import parse

CASES = sorted(p for p in FIXTURES.glob("*/*") if (p / "Dockerfile").is_file())


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_whole_pipeline_on_fixture(case, unsafe: bool) -> None:
    dockerfile = pytest.importorskip("dockerfile")
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    settings = Settings(unsafe=unsafe)
    result = rewrite(text, str(case / "Dockerfile"), BuildContext(case), settings)
    if not result.changed:
        return
    dockerfile.parse_string(result.output)
    assert not rewrite(result.output, None, BuildContext(case), settings).changed
    before, after = (final_config(build_model(parse(t))) for t in (text, result.output))
    if not any(f.fix and f.fix.changes_config for f in result.applied):
        assert before == after


def test_every_fixture_snapshots_its_reasons() -> None:
    """Each fixture keeps the summary of its run in <case>.messages.txt beside it, so every reason msdfix gives
    is regression-tested (fixture_cases.check_case compares it)."""
    missing = [
        str(c.relative_to(FIXTURES))
        for c in CASES
        if not c.with_name(c.name + ".messages.txt").is_file()
    ]
    assert not missing, f"run python tests/fixture_cases.py --update; missing: {missing}"
    assert any(c.with_name(c.name + ".messages.txt").read_text(encoding="utf-8") for c in CASES)
