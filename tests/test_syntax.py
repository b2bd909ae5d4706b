"""Lossless parsing: print(parse(text)) == text, and BuildKit's view of instructions."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msdfix.syntax import ParseError, parse
from msdfix.syntax.validate import validate
from msdfix.syntax.values import instruction_values, parse_words

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


def test_directive_value_with_a_long_run_of_spaces() -> None:
    """The directive regex tried the end of the value after every character, each time over all
    the spaces inside it: quadratic (300,000 spaces took minutes, a 5 MiB line days)."""
    from support.deadline import deadline

    value = "docker/dockerfile:1" + " " * 65_000 + "x"  # the longest line BuildKit reads
    with deadline():
        df = parse(f"# syntax={value}  \n# escape=`\nFROM alpine\n")
    assert df.directives == {"syntax": value, "escape": "`"}


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
            validate(parse(path.read_text(encoding="utf-8")))


# What `docker build` refuses before building (checked by hand against Docker 20.10's BuildKit,
# with the messages of moby/buildkit frontend/dockerfile/instructions/parse.go).
REFUSED = [
    ('FROM alpine:3.19\nWORKDIR\nCMD ["sh"]\n', 2, "WORKDIR requires exactly one argument"),
    ("FROM alpine\nUSER\n", 2, "USER requires exactly one argument"),
    ("FROM alpine\nSTOPSIGNAL \\\n\n", 2, "STOPSIGNAL requires exactly one argument"),
    ("FROM alpine\nMAINTAINER\n", 2, "MAINTAINER requires exactly one argument"),
    ("FROM alpine\nENV\n", 2, "ENV requires at least one argument"),
    ("FROM alpine\nLABEL\n", 2, "LABEL requires at least one argument"),
    ("FROM alpine\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
    ("FROM alpine\nVOLUME\n", 2, "VOLUME requires at least one argument"),
    ('FROM alpine\nVOLUME [""]\n', 2, "VOLUME specified can not be an empty string"),
    ("FROM alpine\nARG\n", 2, "ARG requires at least one argument"),
    ("FROM alpine\nARG =1\n", 2, "ARG names can not be blank"),
    ("FROM alpine\nENV =x\n", 2, "ENV names can not be blank"),
    ("FROM alpine\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
    ("FROM alpine\nONBUILD ONBUILD RUN x\n", 2, "ONBUILD isn't allowed as an ONBUILD trigger"),
    ("FROM alpine\nONBUILD FROM x\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
    ("FROM alpine\nHEALTHCHECK\n", 2, "HEALTHCHECK requires at least one argument"),
    ("FROM alpine\nHEALTHCHECK CMD\n", 2, "Missing command after HEALTHCHECK CMD"),
    ("FROM alpine\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
    ("FROM alpine\nHEALTHCHECK TCP 80\n", 2, "unknown type"),
    ("FROM alpine\nCOPY a\n", 2, "COPY requires at least two arguments"),
    ('FROM alpine\nADD ["a"]\n', 2, "ADD requires at least two arguments"),
    ("FROM alpine\nSHELL sh -c\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM alpine\nSHELL []\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM\n", 1, "FROM requires either one or three arguments"),
    ("FROM --platform=linux/amd64\n", 1, "FROM requires either one or three arguments"),
    ("FROM alpine AS\n", 1, "FROM requires either one or three arguments"),
    ("FROM alpine AS 1x\n", 1, "invalid name for build stage"),
    ("RUN echo hi\n", 1, "no build stage in current context"),
    ("ARG A=1\nMAINTAINER me\nFROM alpine\n", 2, "no build stage in current context"),
    ("ARG A=1\n# only an ARG\n", 1, "contains no stages to build"),
    ('CMD [ "echo", [ "nested json" ] ]\n', 1, "arrays must be comprised of strings only"),
]


@pytest.mark.parametrize("text, line, message", REFUSED)
def test_buildkit_refuses_these_before_building(text: str, line: int, message: str) -> None:
    df = parse(text)  # BuildKit's parser accepts them all ...
    with pytest.raises(ParseError, match=re.escape(message)) as exc:
        validate(df)  # ... its instruction parser does not
    assert exc.value.line == line


@pytest.mark.parametrize(
    "text",
    [
        "ARG V=1\nFROM alpine:$V AS Build\nRUN\nCMD\nENTRYPOINT\n",
        'FROM alpine\nONBUILD RUN make\nHEALTHCHECK NONE\nSHELL ["/bin/bash", "-c"]\n',
        'FROM alpine\nHEALTHCHECK --interval=5s CMD ["true"]\nCOPY <<EOF /a\nx\nEOF\n',
        "FROM alpine\nARG A\nENV A B\nLABEL a=\nEXPOSE 80/tcp\nVOLUME /data\n",
    ],
)
def test_what_buildkit_accepts_is_accepted(text: str) -> None:
    validate(parse(text))


def _oracle_refuses(nodes) -> bool:  # type: ignore[no-untyped-def]
    """BuildKit's argument and stage rules, read from its own parser's output."""
    cmds = [n.cmd.lower() for n in nodes]
    if "from" not in cmds or any(c not in ("arg", "from") for c in cmds[: cmds.index("from")]):
        return True
    for node in nodes:
        cmd, values = node.cmd.lower(), node.value
        if cmd in ("maintainer", "workdir", "user", "stopsignal") and len(values) != 1:
            return True
        if cmd in ("env", "label", "expose", "volume", "arg", "healthcheck") and not values:
            return True
        if cmd == "onbuild" and node.sub_cmd is None:
            return True
        if cmd in ("copy", "add") and len(values) < 2:
            return True
        if cmd == "healthcheck" and values[0].upper() == "CMD" and not values[1:]:
            return True
    return False


def test_corpus_verdicts_match_buildkit(corpus) -> None:
    """Every corpus file: refused by msdfix exactly when BuildKit's rules refuse it.

    The only corpus files refused are BuildKit's parser test files without FROM and a real
    Dockerfile with MAINTAINER above FROM, which `docker build` refuses too.
    """
    dockerfile = pytest.importorskip("dockerfile")
    refused = []
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        try:
            validate(parse(text))
            ours = False
        except ParseError:
            ours = True
        assert ours == _oracle_refuses(dockerfile.parse_string(text)), path
        if ours:
            refused.append(path)
    assert len(refused) < 10


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


@pytest.mark.parametrize("escapes", [1, 2, 3, 4])
def test_line_continuation_is_one_escape_not_an_odd_run(escapes: int) -> None:
    """BuildKit continues a line only on ONE trailing escape (`[^\\]\\[ \t]*$`), so three
    backslashes at the end of a line end the instruction."""
    dockerfile = pytest.importorskip("dockerfile")
    for escape, text in [
        ("\\", "FROM a\nRUN echo " + "\\" * escapes + " \nRUN x\n"),
        ("`", "# escape=`\nFROM a\nRUN echo " + "`" * escapes + "\nRUN x\n"),
    ]:
        oracle = [(i.cmd, i.start_line, i.end_line) for i in dockerfile.parse_string(text)]
        ours = [(i.keyword, i.start_line, i.end_line) for i in parse(text).instructions]
        assert ours == oracle, (escape, escapes)


def test_cached_views_are_fresh_copies() -> None:
    """Parsed trees and value lookups are cached; what callers get back is theirs to change."""
    text = 'FROM alpine\nENV A="x y" B=2\nCMD ["a", "b"]\n'
    df = parse(text)
    env, cmd = df.instructions[1], df.instructions[2]
    expected = (list(df.instructions), cmd.json_args(), instruction_values(env))
    words = parse_words(env.args, "\\")
    df.instructions.pop()
    args = cmd.json_args()
    assert args is not None
    args.append("c")
    instruction_values(env)[1].clear()
    parse_words(env.args, "\\").clear()
    again = parse(text)  # a second tree of the same text: values computed on it match
    assert (list(df.instructions), cmd.json_args(), instruction_values(env)) == expected
    assert instruction_values(again.instructions[1]) == expected[2]
    assert parse_words(env.args, "\\") == words
    assert [i.start for i in df] == [i.start for i in expected[0]]


def _buildkit_refuses(text: str) -> bool:
    """Whether BuildKit's parser (PyPI ``dockerfile``, the oracle) refuses ``text``."""
    dockerfile = pytest.importorskip("dockerfile")
    try:
        dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return True
    return False


@pytest.mark.parametrize(
    "args",
    [
        "[" * 2 + "]" * 2,
        "[" * 5000 + "]" * 5000,  # too deep for Python's decoder, not for Go's
        "[" * 10001 + "]" * 10001,  # too deep for Go's too: the shell form
        '["a", ' + "[" * 12000 + "]" * 12000 + "]",
        '["x\\"[[", ' + "[" * 9990 + "]" * 9990 + "]",  # brackets in a string do not count
    ],
)
def test_deeply_nested_exec_form_is_read_as_buildkit_reads_it(args: str) -> None:
    """Nested arrays are refused as BuildKit refuses them, at any depth (they used to
    raise RecursionError, an internal error), and beyond Go's depth limit are shell form."""
    text = f"FROM debian\nCMD {args}\nHEALTHCHECK CMD {args}\n"
    refused = _buildkit_refuses(text)
    try:
        validate(parse(text))
        assert not refused
    except ParseError as exc:
        assert refused and exc.message.startswith("when using JSON array syntax")


def test_a_word_of_millions_of_characters_is_read_in_linear_time() -> None:
    """The word grew one character at a time (``str +=``): quadratic, minutes at 5 MiB."""
    from support.deadline import deadline

    word = "a" * 2_000_000
    with deadline(30, cpu=True):
        assert parse_words(f'X={word} "b c"', "\\") == [f"X={word}", '"b c"']


def test_logical_offsets_map_to_the_file_in_linear_time() -> None:
    """Each offset was found by a scan of every continuation line before it: an instruction of
    tens of thousands of lines with an edit on each (an apt install per ``case`` arm) spent
    minutes here. Every logical character maps to the same character of the file, and the end
    of the line to the end of the last segment."""
    from support.deadline import deadline

    text = "FROM a\nRUN x \\\n" + "".join(f"  # c\n  w{i} \\\n\n" for i in range(40_000)) + "  y\n"
    run = parse(text).instructions[1]
    with deadline(10, cpu=True):
        mapped = [run.physical(at) for at in range(len(run.logical) + 1)]
    assert all(text[mapped[at]] == ch for at, ch in enumerate(run.logical))
    assert mapped[-1] == mapped[-2] + 1 and text[mapped[-1]] == "\n"


@pytest.mark.parametrize(
    "text, escape, runs",
    [
        # BuildKit's DirectiveParser stops at a name it does not know: the escape is a comment
        ("# foo=x\n# escape=`\nFROM a\nRUN echo `\nRUN b\n", "\\", [(4, 4), (5, 5)]),
        ("#Escape = `\n# CHECK=skip=all\nFROM a\nRUN echo `\n  b\n", "`", [(4, 5)]),
        ("# check=skip=all\n# escape=`\nFROM a\nRUN echo `\n  b\n", "`", [(4, 5)]),
        # Go's unicode.IsSpace before a keyword, a comment or an empty continuation line
        ("FROM a\n\u3000RUN x\n", "\\", [(2, 2)]),
        ("FROM a\nRUN x \\\n\u2003# c\n\u205f\n y\n", "\\", [(2, 5)]),
    ],
)
def test_directives_and_spaces_as_buildkit_reads_them(
    text: str, escape: str, runs: list[tuple[int, int]]
) -> None:
    df = parse(text)
    assert df.escape == escape
    assert [(i.start_line, i.end_line) for i in df.instructions if i.cmd == "run"] == runs
    assert str(df) == text


@pytest.mark.parametrize("text", ["# foo=1\n# foo=2\nFROM a\n", "# escape=`\xa0\nFROM a\n"])
def test_directive_quirks(text: str) -> None:
    """A repeated unknown name is a comment (it ended the directives); a no-break space after
    the value is part of it (Go's \\s is ASCII), so the escape is invalid."""
    refused = _buildkit_refuses(text)
    try:
        parse(text)
        assert not refused
    except ParseError:
        assert refused


@pytest.mark.parametrize(
    "line, refused",
    [("RUN " + "x" * 65531, False), ("RUN " + "x" * 65532, True), ("RUN " + "\u00e9" * 32766, True),
     ("RUN " + "x" * 65530 + "\r", False), ("RUN " + "x" * 65531 + "\r", True)],
)  # fmt: skip
def test_a_line_longer_than_buildkits_scanner_buffer_is_refused(line: str, refused: bool) -> None:
    """BuildKit reads lines with bufio.Scanner's 64 KiB buffer: 65,535 bytes of UTF-8 at most
    ("dockerfile line greater than max allowed size of 65535"; Docker 20.10 refuses it too)."""
    dockerfile = pytest.importorskip("dockerfile")
    text = f"FROM a\n{line}\nCMD x\n"
    try:
        dockerfile.parse_string(text)
        assert not refused
    except dockerfile.GoParseError as exc:
        assert refused and "max allowed size" in str(exc)
    if refused:
        with pytest.raises(ParseError, match="max allowed size of 65535") as error:
            parse(text)
        assert error.value.line == 2
    else:
        assert str(parse(text)) == text


def test_lines_just_under_the_long_line_check_are_checked_in_linear_time() -> None:
    """The check for lines over 65,535 bytes looked for 16,385 characters without a newline
    from every position: a line just shorter cost its length squared (a 5 MB file of
    16,000-character comment lines took 40 s before the parse began). It starts at line
    starts now; a long line later in the file is still refused, with its line number."""
    from support.deadline import deadline

    lines = ("# " + "x" * 15_998 + "\n") * 160  # 2.5 MB
    with deadline(5, cpu=True):
        assert len(parse(f"FROM a\n{lines}CMD x\n").instructions) == 2
        with pytest.raises(ParseError, match="max allowed size") as error:
            parse(f"FROM a\n{lines}RUN {'x' * 65_532}\n")
    assert error.value.line == 162


@pytest.mark.parametrize(
    "line, heredoc",
    [
        ('RUN <<"E OF"', True),  # quoted or escaped blanks are part of the name
        ("RUN <<E\\ OF", True),
        ('RUN <<EOF "x', False),  # an open quote: BuildKit's lexer fails, no heredoc at all
        ("RUN <<EOF 'x", False),
        ("RUN <<EOF ${x", False),  # an open ${
        ("RUN ${ <<EOF", False),  # no name and no modifier after ${
        ('RUN <<EOF ${x:-y ${x:-"}"}', False),  # a quoted } closes nothing
        ('RUN <<EOF ${x:-"}"} $(a', True),
        ("RUN <<EOF 'a\"' \"b'\" ${x:-${y}}", True),
    ],
)
def test_heredocs_on_lines_buildkit_cannot_lex(line: str, heredoc: bool) -> None:
    """BuildKit's heredocsFromLine ignores its lexer's error, and then finds no heredoc: the
    lines after such a line are instructions (`echo` refused as `docker build` refuses it)."""
    dockerfile = pytest.importorskip("dockerfile")
    name = "E OF" if "OF" in line and "EOF" not in line else "EOF"
    text = f"FROM a\n{line}\necho\n{name}\nRUN end\n"
    oracle = [(n.cmd.lower(), n.start_line, n.end_line) for n in dockerfile.parse_string(text)]
    assert (oracle[1][2] == 4) == heredoc
    if heredoc:
        assert [(i.cmd, i.start_line, i.end_line) for i in parse(text).instructions] == oracle
    else:
        with pytest.raises(ParseError, match="unknown instruction: echo"):
            parse(text)


@pytest.mark.parametrize(
    "trigger, values",
    [
        ('RUN --mount="type=cache,target=/a b" npm ci', ("npm ci",)),
        ("CMD --a='b c' ", ()),
        ("RUN -- --x y", ("--x y",)),  # `--` ends the flags
    ],
)
def test_onbuild_trigger_flags_are_read_as_buildkit_reads_them(
    trigger: str, values: tuple[str, ...]
) -> None:
    """An ONBUILD trigger's flag ends at a blank outside quotes (extractBuilderFlags): the
    trigger read `c" npm ci` as the command of `--mount="type=cache,target=/a b" npm ci`."""
    text = f"FROM a\nONBUILD {trigger}\n"
    assert tuple(instruction_values(parse(text).instructions[1])[1]) == values
    dockerfile = pytest.importorskip("dockerfile")
    assert dockerfile.parse_string(text)[1].value == values
