"""The .dockerignore matcher against the cases of Docker's own tests.

The tables are ported from moby/patternmatcher (patternmatcher_test.go: TestMatches,
TestMatch, TestCompile, the exclusion and error tests) and ignorefile_test.go (ReadAll).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from msdfix.model.context import BuildContext
from msdfix.model.dockerignore import (
    DockerIgnore,
    DockerIgnoreError,
    Pattern,
    _Automaton,
    _pieces,
    go_clean,
    ignore_file,
    read_patterns,
)

# TestMatches: (pattern, text, pass) with MatchesOrParentMatches.
MATCHES = [
    ("**", "file", True),
    ("**", "file/", True),
    ("**/", "file", True),
    ("**/", "file/", True),
    ("**", "/", True),
    ("**/", "/", True),
    ("**", "dir/file", True),
    ("**/", "dir/file", True),
    ("**", "dir/file/", True),
    ("**/", "dir/file/", True),
    ("**/**", "dir/file", True),
    ("**/**", "dir/file/", True),
    ("dir/**", "dir/file", True),
    ("dir/**", "dir/file/", True),
    ("dir/**", "dir/dir2/file", True),
    ("dir/**", "dir/dir2/file/", True),
    ("**/dir", "dir", True),
    ("**/dir", "dir/file", True),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/*", "dir/dir2/file/", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file/", True),
    ("**file", "file", True),
    ("**file", "dir/file", True),
    ("**/file", "dir/file", True),
    ("**file", "dir/dir/file", True),
    ("**/file", "dir/dir/file", True),
    ("**/file*", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True),
    ("**/file*txt", "dir/dir/file.txt", True),
    ("**/file*.txt", "dir/dir/file.txt", True),
    ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True),
    ("**/**/*.txt", "file.txt", True),
    ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/file.txt", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True),
    ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False),
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    (".*", ".foo", True),
    (".*", "foo", False),
    ("abc.def", "abcdef", False),
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True),
    ("abc?def", "abcdef", False),
    ("a\\\\", "a\\", True),
    ("**/foo/bar", "foo/bar", True),
    ("**/foo/bar", "dir/foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("abc/**", "abc", False),
    ("abc/**", "abc/def", True),
    ("abc/**", "abc/def/ghi", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        True,
    ),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("a\\*b", "a*b", True),
]

MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (
        ["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        False,
    ),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    # the exclusion tests at the top of patternmatcher_test.go
    (["*"], "fileutils.go", True),
    (["*.go"], "fileutils.go", True),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    ([], "/any/path/there", False),
]

# TestMatch (Go's filepath.Match cases): (pattern, text, match, bad pattern).
GLOBS = [
    ("abc", "abc", True, False),
    ("*", "abc", True, False),
    ("*c", "abc", True, False),
    ("a*", "a", True, False),
    ("a*", "abc", True, False),
    ("a*", "ab/c", True, False),
    ("a*/b", "abc/b", True, False),
    ("a*/b", "a/c/b", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True, False),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False),
    ("ab[c]", "abc", True, False),
    ("ab[b-d]", "abc", True, False),
    ("ab[e-g]", "abc", False, False),
    ("ab[^c]", "abc", False, False),
    ("ab[^b-d]", "abc", False, False),
    ("ab[^e-g]", "abc", True, False),
    ("a\\*b", "a*b", True, False),
    ("a\\*b", "ab", False, False),
    ("a?b", "a☺b", True, False),
    ("a[^a]b", "a☺b", True, False),
    ("a???b", "a☺b", False, False),
    ("a[^a][^a][^a]b", "a☺b", False, False),
    ("[a-ζ]*", "α", True, False),
    ("*[a-ζ]", "A", False, False),
    ("a?b", "a/b", False, False),
    ("a*b", "a/b", False, False),
    ("[\\]a]", "]", True, False),
    ("[\\-]", "-", True, False),
    ("[x\\-]", "x", True, False),
    ("[x\\-]", "-", True, False),
    ("[x\\-]", "z", False, False),
    ("[\\-x]", "x", True, False),
    ("[\\-x]", "-", True, False),
    ("[\\-x]", "a", False, False),
    ("[]a]", "]", False, True),
    ("[-]", "-", False, True),
    ("[x-]", "x", False, True),
    ("[x-]", "-", False, True),
    ("[x-]", "z", False, True),
    ("[-x]", "x", False, True),
    ("[-x]", "-", False, True),
    ("[-x]", "a", False, True),
    ("\\", "a", False, True),
    ("[a-b-c]", "a", False, True),
    ("[", "a", False, True),
    ("[^", "a", False, True),
    ("[^bc", "a", False, True),
    ("a[", "a", False, True),
    ("a[", "ab", False, True),
    ("*x", "xxx", True, False),
]

# TestCompile: (pattern, kind, regular expression for "regexp").
COMPILED = [
    ("*", "regexp", "^[^/]*$"),
    ("file*", "regexp", "^file[^/]*$"),
    ("*file", "regexp", "^[^/]*file$"),
    ("a*/b", "regexp", "^a[^/]*/b$"),
    ("**", "suffix", None),
    ("**/**", "regexp", "^(.*/)?.*$"),
    ("dir/**", "prefix", None),
    ("**/dir", "suffix", None),
    ("**/dir2/*", "regexp", "^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", "regexp", "^(.*/)?dir2/.*$"),
    ("**file", "suffix", None),
    ("**/file*txt", "regexp", "^(.*/)?file[^/]*txt$"),
    ("**/**/*.txt", "regexp", "^(.*/)?(.*/)?[^/]*\\.txt$"),
    ("a[b-d]e", "regexp", "^a[b-d]e$"),
    (".*", "regexp", "^\\.[^/]*$"),
    ("abc.def", "exact", None),
    ("abc?def", "regexp", "^abc[^/]def$"),
    ("**/foo/bar", "suffix", None),
    ("a(b)c/def", "exact", None),
    ("a.|)$(}+{bc", "exact", None),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "exact", None),
]


@pytest.mark.parametrize(("pattern", "text", "expected"), MATCHES)
def test_matches_or_parent_matches(pattern: str, text: str, expected: bool) -> None:
    ignore = DockerIgnore.from_patterns([pattern])
    assert ignore.matches_or_parent_matches(text) is expected
    if text.strip("/"):  # the cleaned form gives the same answer (the root is never excluded)
        assert ignore.excludes(text) is expected


@pytest.mark.parametrize(("patterns", "text", "expected"), MULTI)
def test_several_patterns(patterns: list[str], text: str, expected: bool) -> None:
    assert DockerIgnore.from_patterns(patterns).matches_or_parent_matches(text) is expected


@pytest.mark.parametrize(("pattern", "text", "expected", "bad"), GLOBS)
def test_go_filepath_match_cases(pattern: str, text: str, expected: bool, bad: bool) -> None:
    if bad:
        with pytest.raises(DockerIgnoreError):
            DockerIgnore.from_patterns([pattern])
        return
    assert DockerIgnore.from_patterns([pattern]).excludes(text) is expected


@pytest.mark.parametrize(("pattern", "kind", "regex"), COMPILED)
def test_compile(pattern: str, kind: str, regex: str | None) -> None:
    compiled = Pattern.compile(go_clean(pattern), exclusion=False)
    assert compiled.kind == kind
    if regex is not None:
        assert compiled.regex is not None
        assert compiled.regex.pattern == regex.removesuffix("$") + r"\Z"


def test_malformed_and_single_exclamation_are_errors() -> None:
    for patterns in (["["], ["!"], ["docs", "!"]):
        with pytest.raises(DockerIgnoreError):
            DockerIgnore.from_patterns(patterns)
    # valid for filepath.Match, but not a valid regular expression (moby/moby#52203)
    with pytest.raises(DockerIgnoreError):
        DockerIgnore.from_patterns(["[Local-Only]/"])


def test_clean_patterns_and_exceptions_flag() -> None:
    assert len(DockerIgnore.from_patterns(["docs", "config", ""]).patterns) == 2
    for patterns in (["docs", "!docs/README.md"], ["docs", "  !docs/README.md"]):
        assert DockerIgnore.from_patterns(patterns).has_exceptions
    assert DockerIgnore.from_patterns(["docs", "!docs/README.md  "]).has_exceptions
    assert not DockerIgnore.from_patterns(["docs"]).has_exceptions


def test_the_context_root_is_never_excluded() -> None:
    assert not DockerIgnore.from_patterns(["*.go"]).excludes(".")
    assert not DockerIgnore.from_patterns(["**"]).excludes("./")


# ignorefile_test.go: ReadAll
def test_read_all() -> None:
    text = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n"
    assert read_patterns(text) == [
        "test1",
        "test2",
        "a/file/here",
        "lastfile",
        "!inverted/abs/path",
        "!",
        "!",
    ]


def test_read_all_details() -> None:
    # BOM on the first line only; '#' only in column 1; CRLF; Clean; "/" alone stays
    text = "\ufeffnode_modules\r\n  # not a comment\r\n./a/../b/\r\n/\r\n!/keep//me/\r\n"
    assert read_patterns(text) == ["node_modules", "# not a comment", "b", "/", "!keep/me"]
    ignore = DockerIgnore.from_text(text)
    assert ignore.excludes("node_modules/x/y.js") and ignore.excludes("b/c")
    assert ignore.excludes("# not a comment") and not ignore.excludes("a/b")


def test_docker_semantics_differ_from_gitignore() -> None:
    ignore = DockerIgnore.from_text("node_modules\n*.log\n")
    assert ignore.excludes("node_modules/pkg/index.js")
    assert not ignore.excludes("packages/a/node_modules/x.js")  # anchored at the root
    assert not ignore.excludes("logs/debug.log")  # "*" stays within one directory
    assert ignore.excludes("debug.log") and ignore.excludes("/debug.log")
    assert DockerIgnore.from_text("**/node_modules\n").excludes("packages/a/node_modules/x.js")
    # a re-included file below an excluded directory
    ignore = DockerIgnore.from_text("docs\n!docs/keep.md\n")
    assert ignore.excludes("docs/x.md") and not ignore.excludes("docs/keep.md")


def test_go_clean() -> None:
    for raw, cleaned in [
        ("", "."),
        ("a//b/./c/..", "a/b"),
        ("//a", "/a"),
        ("///a/", "/a"),
        ("../a", "../a"),
        ("/..", "/"),
        ("a/", "a"),
    ]:
        assert go_clean(raw) == cleaned, raw


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    context, elsewhere = tmp_path / "ctx", tmp_path / "df"
    context.mkdir()
    elsewhere.mkdir()
    (context / ".dockerignore").write_text("a.txt\n")
    (context / "a.txt").write_text("a")
    (context / "b.txt").write_text("b")
    dockerfile = elsewhere / "app.Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    assert ignore_file(context, dockerfile) == context / ".dockerignore"
    assert BuildContext(context, dockerfile).is_ignored("a.txt")
    (elsewhere / "app.Dockerfile.dockerignore").write_text("b.txt\n")
    assert ignore_file(context, dockerfile) == elsewhere / "app.Dockerfile.dockerignore"
    ctx = BuildContext(context, dockerfile)
    assert not ctx.is_ignored("a.txt") and ctx.exists("a.txt")
    assert ctx.is_ignored("b.txt") and not ctx.exists("b.txt")
    assert BuildContext(context).is_ignored("a.txt")  # without a Dockerfile: the context's


def test_rejected_ignore_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("src/[\n")
    (tmp_path / "a.txt").write_text("a")
    ctx = BuildContext(tmp_path)
    assert not ctx.is_ignored("a.txt") and ctx.exists("a.txt")
    assert ctx.dockerignore_error is not None and "src/[" in ctx.dockerignore_error


# --- patterns that make a backtracking regex engine explode -----------------------------------

_GLOB_PARTS = ["*", "**", "?", "a", "b", "/", ".", "[ab]", "[^a]", "\\\\*"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_GLOB_PARTS), min_size=1, max_size=8).map("".join),
    st.lists(st.text("ab/.\n*", max_size=12), min_size=1, max_size=10),
)
def test_the_matcher_without_backtracking_agrees_with_the_regex(
    glob: str, paths: list[str]
) -> None:
    """Patterns with many wildcards are matched by a simulation that cannot backtrack; it
    answers exactly as the regular expression Docker's matcher compiles, also when it reuses
    the state it kept for a directory another path shares."""
    try:
        pattern = Pattern.compile(glob, False)
    except DockerIgnoreError:
        return
    if pattern.regex is None:
        return
    pieces = _pieces(pattern.regex.pattern[1:-2])
    assume(pieces is not None)
    assert pieces is not None
    automaton = _Automaton(pieces)
    for path in [*paths, *(p + "/" + q for p in paths for q in paths)]:
        assert automaton.matches(path) == (pattern.regex.match(path) is not None)


def test_a_pattern_that_backtracks_exponentially_is_matched_in_linear_time() -> None:
    """``*a*a...*b`` against a long name of ``a``s: Python's re needs exponential time (a
    hostile .dockerignore hung msdfix); RE2, which Docker uses, and msdfix now do not."""
    rules = DockerIgnore.from_text("*a" * 14 + "*b\n")
    assert rules.patterns[0].backtracks
    start = time.process_time()
    assert not rules.excludes("a" * 200)
    assert rules.excludes("a" * 200 + "b")
    assert time.process_time() - start < 5  # the regex takes hours


@pytest.mark.parametrize("rule, excluded", [("*a*", True), ("*a*b", False), ("[ab]*a*", True)])
def test_a_long_path_is_matched_in_linear_time(rule: str, excluded: bool) -> None:
    """A COPY source (or a probe path made of a .dockerignore line) can be far longer than any
    file path; with up to two wildcards the regex backtracked over every split of it: quadratic
    (20,000 characters against ``*a*`` took 10 s, 300,000 hours)."""
    from support.deadline import deadline

    with deadline():
        assert DockerIgnore.from_text(rule).excludes("a" * 300_000 + "/x") is excluded


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_GLOB_PARTS), min_size=1, max_size=6).map("".join),
    st.lists(st.text("ab/.", min_size=1100, max_size=1300), min_size=1, max_size=3),
)
def test_long_paths_get_the_regex_answers(glob: str, paths: list[str]) -> None:
    """Paths longer than any file path are matched without the regex, with its answers."""
    try:
        pattern = Pattern.compile(glob, False)
    except DockerIgnoreError:
        return
    assume(pattern.regex is not None and pattern.pieces is not None)
    assert pattern.regex is not None
    for path in paths:
        assert pattern.matches(path) == (pattern.regex.match(path) is not None)


def test_a_long_pattern_compiles_in_linear_time() -> None:
    """The regex was built with one ``str +`` per character (quadratic: 400,000 characters of
    ``*a`` took 10 s, 1.6 million 173 s), and the automaton's masks with a sum of ``1 << i``."""
    from support.deadline import deadline

    with deadline():
        pattern = Pattern.compile("*a" * 400_000, False)
        assert pattern.backtracks and pattern.automaton is not None
        assert pattern.matches("a" * 1000 + "/x") is False
        assert not pattern.matches("b")


def test_a_pattern_that_is_not_utf8_matches_the_name_of_the_same_bytes(tmp_path: Path) -> None:
    """Docker matches a Windows-1252 ``.dockerignore`` line ``caf\\xe9.txt`` byte for byte
    (built: the file ``caf\\xe9.txt`` was not sent); msdfix read the line as ``caf\\ufffd.txt``,
    which matches no name (Python lists the file as ``caf\\udce9.txt``), so it counted the
    file as sent."""
    (tmp_path / ".dockerignore").write_bytes(b"# caf\xe9\ncaf\xe9.txt\n")
    rules = DockerIgnore.read(tmp_path / ".dockerignore")
    assert rules.excludes(os.fsdecode(b"caf\xe9.txt"))
    assert not rules.excludes("cafe.txt")
