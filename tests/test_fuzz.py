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

import hostile_gen
from dockerfile_gen import DrawChooser, RandomChooser, dockerfile
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.render.report import FileReport, file_json
from msdfix.render.sarif import sarif_log
from msdfix.syntax import ParseError, parse
from msdfix.syntax.parser import MAX_LINE_BYTES
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


@st.composite
def hostile_dockerfiles(draw) -> str:  # type: ignore[no-untyped-def]
    return hostile_gen.dockerfile(DrawChooser(draw))


def _newlines(text: str) -> set[str]:
    crlf = text.count("\r\n")
    return {kind for kind, n in (("\r\n", crlf), ("\n", text.count("\n") - crlf)) if n}


def check_hostile(text: str, unsafe: bool) -> None:
    """Parity with BuildKit's parser line by line, and rewrites that keep what the file's
    author chose: directives, escape character, BOM and line endings."""
    try:
        nodes = oracle.parse_string(text)
    except oracle.GoParseError:
        nodes = None
    try:
        tree = parse(text)
    except ParseError as exc:
        unknown = exc.message.startswith("unknown instruction")  # BuildKit's next layer refuses
        assert nodes is None or unknown, exc.message
        return
    assert str(tree) == text
    if nodes is None:  # e.g. ENV without `=`: BuildKit's parser checks values, we do in validate
        with pytest.raises(ParseError):
            validate(tree)
        return
    ours = [(i.cmd, i.start_line, i.end_line) for i in tree.instructions]
    assert ours == [(n.cmd.lower(), n.start_line, n.end_line) for n in nodes]
    try:
        result = rewrite(text, "Dockerfile", BuildContext(None), Settings(unsafe=unsafe))
    except ParseError:
        return  # refused as `docker build` refuses it (arguments, stages)
    if not result.changed:
        return
    out = result.output
    after = oracle.parse_string(out)
    assert len(nodes) - 3 <= len(after) <= 3 * len(nodes) + 30
    rewritten = parse(out)
    assert (rewritten.directives, rewritten.escape) == (tree.directives, tree.escape)
    assert out.startswith("\ufeff") == text.startswith("\ufeff")
    assert _newlines(out) <= _newlines(text) or not _newlines(text)
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in out.split("\n"))
    again = rewrite(out, "Dockerfile", BuildContext(None), Settings(unsafe=unsafe))
    assert not again.changed, "a second run changes the output"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_dockerfiles(), st.booleans())
def test_hostile_dockerfiles(text: str, unsafe: bool) -> None:
    check_hostile(text, unsafe)


def test_the_hostile_generator_writes_what_it_promises() -> None:
    texts = [hostile_gen.dockerfile(RandomChooser(seed)) for seed in range(400)]
    joined = "\n".join(texts)
    for construct in ["\r\n", "# escape=`", "<<-", "\ufeff", "\u3000", "# foo", '["echo",',
                      "onbuild", "--mount=", "${X:-y}", " \\ \n", "z" * 65000]:  # fmt: skip
        assert construct.lower() in joined.lower(), construct
