"""Property-based: realistic generated Dockerfiles (tests/dockerfile_gen.py) through the pipeline.

For every generated file: printing the parse gives the same bytes; BuildKit's parser and ours
agree on what is a Dockerfile; msdfix never fails with anything but a parse error, and never
with an internal error on a file BuildKit accepts; its output parses with BuildKit's parser; a
second run changes nothing; the JSON edits reproduce the output. bench/fuzz.py runs the same
checks on 100,000+ inputs; the example count here stays modest to keep the suite fast.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerfile_gen import DrawChooser, RandomChooser, dockerfile
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.render.report import FileReport, file_json
from msdfix.render.sarif import sarif_log
from msdfix.syntax import ParseError, parse
from msdfix.syntax.validate import validate
from test_corpus import apply_json_edits

oracle = pytest.importorskip("dockerfile")


@st.composite
def dockerfiles(draw) -> str:  # type: ignore[no-untyped-def]
    return dockerfile(DrawChooser(draw))


def check(text: str, unsafe: bool) -> None:
    """Every property of one input (shared with bench/fuzz.py through the assertions)."""
    try:
        oracle.parse_string(text)
        accepted = True
    except oracle.GoParseError:
        accepted = False
    try:
        tree = parse(text)
    except ParseError:
        assert not accepted, "BuildKit's parser accepts what ours rejects"
        return
    assert str(tree) == text
    if not accepted:  # e.g. ENV without `=`: BuildKit's parser checks values, we do in validate
        with pytest.raises(ParseError):
            validate(tree)
        return
    try:
        result = rewrite(text, "Dockerfile", BuildContext(None), Settings(unsafe=unsafe))
    except ParseError:
        return  # argument-less instructions, no FROM, ...: refused like `docker build` does
    # Any other exception (InternalError included) fails the test here.
    report = FileReport("Dockerfile", result)
    sarif_log([report])
    if not result.changed:
        return
    oracle.parse_string(result.output)
    assert apply_json_edits(text, file_json(report)) == result.output
    again = rewrite(result.output, "Dockerfile", BuildContext(None), Settings(unsafe=unsafe))
    assert not again.changed, "a second run changes the output"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles(), st.booleans())
def test_generated_dockerfiles(text: str, unsafe: bool) -> None:
    check(text, unsafe)


def test_the_generator_writes_what_it_promises() -> None:
    """Seeded samples contain the constructs the generator exists for, and most are valid."""
    texts = [dockerfile(RandomChooser(seed)) for seed in range(400)]
    joined = "\n".join(texts)
    for construct in ["\r\n", "# escape=`", "<<EOF", "\\ ", "--mount=type=cache", "--from=",
                      "apt-get install", "rm -rf /var/lib/apt/lists/*", "npm ci", "\\\n",
                      " AS stage", "msdfix: ignore", '"a b"', "$HOME", "\t"]:  # fmt: skip
        assert construct in joined, construct
    valid = 0
    for text in texts:
        try:
            oracle.parse_string(text)
            valid += 1
        except oracle.GoParseError:
            pass
    assert valid > 0.9 * len(texts)
