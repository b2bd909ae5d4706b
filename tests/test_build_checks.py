"""build-checks: FromAsCasing and LegacyKeyValueFormat, fixed exactly as BuildKit reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from newtransform_support import run, sd, tag

CASES = cases("build-checks")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    assert len([c for c in CASES if c.expected is not None]) >= 4
    assert len([c for c in CASES if c.expected is None]) >= 4


def test_as_takes_the_case_of_from_and_mixed_case_from_is_left_alone() -> None:
    assert run("FROM a as b\n", "build-checks").output == "FROM a AS b\n"
    assert run("from a AS b\n", "build-checks").output == "from a as b\n"
    assert not run("From a as b\n", "build-checks").changed
    assert not run("FROM a AS b\n", "build-checks").changed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ENV A b", "ENV A=b"),
        ("ENV A b c", 'ENV A="b c"'),
        ('ENV A "b c"', 'ENV A="b c"'),
        ("ENV A b\\ c  d", "ENV A=b\\ c\\ \\ d"),
        ("ENV A 'x' y", "ENV A='x'\\ y"),
        ("ENV A ${B:-x y}", 'ENV A="${B:-x y}"'),
        ("LABEL a.b-c some text", 'LABEL a.b-c="some text"'),
    ],
)
def test_legacy_values_keep_their_meaning(line: str, expected: str) -> None:
    assert run(f"FROM scratch\n{line}\n", "build-checks").output == f"FROM scratch\n{expected}\n"


def test_arg_has_no_legacy_form() -> None:
    assert not run("FROM scratch\nARG A B\n", "build-checks").changed


def test_safe_and_needs_no_unsafe_flag() -> None:
    result = run("FROM a as b\nENV X y\n", "build-checks", unsafe=False)
    assert result.changed and all(
        f.fix and f.fix.applicability.value == "safe" for f in result.applied
    )


@pytest.mark.docker
def test_buildkit_builds_the_same_config(tmp_path: Path) -> None:
    """The real BuildKit gives the same Env and Labels before and after (FROM scratch)."""
    sd.require_docker()
    text = (
        "FROM scratch as base\nENV B base\nENV A hello   world\n"
        "ENV Q \"quoted value\" \nENV E x\\ y  z\nENV M 'a b' c\nENV V ${B}-${MISSING:-dflt x}\n"
        'LABEL maintainer "Jane Doe <jane@example.com>"\nLABEL desc some text here\n'
    )
    out = run(text, "build-checks", unsafe=False).output
    assert out != text and " as " not in out
    configs = []
    tags = []
    try:
        for i, content in enumerate((text, out)):
            folder = tmp_path / str(i)
            folder.mkdir()
            (folder / "Dockerfile").write_text(content)
            image = tag("build-checks")
            tags.append(image)
            built = sd.build(folder, tag=image)
            assert built.ok, built.tail()
            config = sd.image_config(image)
            configs.append((sorted(config.get("Env") or []), config.get("Labels")))
    finally:
        sd.remove_image(*tags)
    assert configs[0] == configs[1]
    assert "A=hello   world" in configs[0][0] and "V=base-dflt x" in configs[0][0]
