"""Lossless parsing: print(parse(text)) == text, and BuildKit's view of instructions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msdfix.syntax import ParseError, parse
from msdfix.syntax.values import instruction_values

EDGE_CASES = {
    "crlf": "FROM alpine\r\nRUN echo a \\\r\n  && echo b\r\n",
    "bom": "\ufeffFROM alpine\nRUN true\n",
    "no-final-newline": 'FROM alpine\nCMD ["sh"]',
    "tabs": "FROM alpine\n\tRUN\techo\t1\n",
    "escape-backtick": "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\\n",
    "comment-in-continuation": "FROM alpine\nRUN echo a \\\n# a comment\n  && echo b \\\n\n  && echo c\n",
    "heredoc": "FROM alpine\nRUN <<EOF\nset -e\necho hi\nEOF\n",
    "heredoc-chomp-quoted": "FROM alpine\nRUN <<-'EOT' sh\n\techo $HOME\n\tEOT\n",
    "two-heredocs": "FROM alpine\nCOPY <<A /a <<B /b\none\nA\ntwo\nB\n",
    "directives": "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM alpine\n",
    "lowercase": "from alpine as base\nrun echo hi\n",
    "flags": "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nCOPY --link --chown=1:1 --from=b /x /y\n",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_round_trip(name: str) -> None:
    text = EDGE_CASES[name]
    assert str(parse(text)) == text


def test_instruction_structure() -> None:
    df = parse(EDGE_CASES["comment-in-continuation"])
    run = df.instructions[1]
    assert (run.keyword, run.start_line, run.end_line) == ("RUN", 2, 6)
    assert run.args == "echo a   && echo b   && echo c"


def test_comments_are_owned_by_the_next_instruction() -> None:
    df = parse("FROM alpine\n\n# install curl\n# (needed by healthcheck)\nRUN apk add curl\n")
    run = df.instructions[1]
    assert df.comments_above(run) == ["# install curl", "# (needed by healthcheck)"]
    assert df.node_text(run).startswith("# install curl")


def test_flags_and_physical_offsets() -> None:
    text = "FROM alpine\nRUN --mount=type=cache,target=/root/.npm \\\n    --network=none npm ci\n"
    run = parse(text).instructions[1]
    assert [(f.name, f.value) for f in run.flags] == [
        ("mount", "type=cache,target=/root/.npm"),
        ("network", "none"),
    ]
    assert text[run.flags[1].start : run.flags[1].end] == "--network=none"
    assert run.args == "npm ci"


def test_heredoc_bodies() -> None:
    df = parse(EDGE_CASES["two-heredocs"])
    copy = df.instructions[1]
    assert [(h.name, h.content) for h in copy.heredocs] == [("A", "one\n"), ("B", "two\n")]
    chomp = parse(EDGE_CASES["heredoc-chomp-quoted"]).instructions[1].heredocs[0]
    assert chomp.chomp and chomp.quoted and chomp.name == "EOT"


def test_escape_directive_changes_continuation() -> None:
    df = parse(EDGE_CASES["escape-backtick"])
    assert df.escape == "`"
    assert df.instructions[1].end_line == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no instructions"),
        ("# only a comment\n", "no instructions"),
        ("FROM alpine\nRUN <<EOF\necho\n", "unterminated heredoc"),
        ("FROM alpine\nFORM x\n", "unknown instruction"),
    ],
)
def test_invalid_input(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text)


def test_corpus_round_trips_byte_for_byte(corpus) -> None:
    failures = []
    for path in corpus:
        text = path.read_bytes().decode("utf-8")
        if str(parse(text)) != text:
            failures.append(path.name)
    assert failures == []
    assert len(corpus) > 3000


def test_corpus_matches_buildkit_parser(corpus) -> None:
    dockerfile = pytest.importorskip("dockerfile")
    mismatches = []
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        oracle = dockerfile.parse_string(text)
        mine = parse(text).instructions
        if len(mine) != len(oracle):
            mismatches.append((path.name, "count"))
            continue
        for ours, theirs in zip(mine, oracle, strict=True):
            sub, values, is_json = instruction_values(ours)
            flags = tuple(
                f"--{f.name}" + (f"={f.value}" if f.value is not None else "") for f in ours.flags
            )
            got = (ours.keyword.upper(), ours.start_line, ours.end_line, is_json, sub)
            want = (
                theirs.cmd.upper(),
                theirs.start_line,
                theirs.end_line,
                theirs.json,
                theirs.sub_cmd,
            )
            # The Go binding cuts strings at NUL bytes; compare what it can represent.
            values = tuple(v.split("\x00")[0] for v in values)
            if (
                got != want
                or values != theirs.value
                or (theirs.cmd != "ONBUILD" and flags != theirs.flags)
            ):
                mismatches.append((path.name, ours.start_line))
                break
    assert mismatches == []


def test_invalid_corpus_files_are_rejected() -> None:
    from conftest import CORPUS

    folder = CORPUS / "invalid"
    if not folder.is_dir():
        pytest.skip("../shared/corpus is absent")
    for path in sorted(folder.iterdir()):
        with pytest.raises(ParseError):
            df = parse(path.read_text(encoding="utf-8"))
            for ins in df.instructions:
                instruction_values(ins)


_line = st.one_of(
    st.sampled_from(["FROM alpine", "RUN echo hi \\", "  && ls", "# comment", "", "   ", "\t",
                     "COPY . /app", "ENV A=1 B='x y'", "run apk add curl", "LABEL a=b \\", "CMD [\"a\"]",
                     "RUN <<EOF", "EOF", "# escape=`", "ARG V=1", "USER 1000"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=30).map(
        lambda s: "RUN " + s
    ),
    st.text(alphabet=" \t\\`#<-EOFRUN'\"", max_size=12),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_line, min_size=1, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_generated_dockerfiles_round_trip(lines: list[str], newline: str, final: bool) -> None:
    text = "FROM scratch" + newline + newline.join(lines) + (newline if final else "")
    try:
        df = parse(text)
    except ParseError:
        return
    assert str(df) == text
