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
    if not any(f.changes_config for f in result.applied):
        assert before == after
