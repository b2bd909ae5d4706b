"""The engine: ordering, applicability, overlaps, fixed point, and its own verification."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msdfix.document import Document
from msdfix.engine import InternalError, Settings, rewrite
from msdfix.fixes import Applicability, Edit, Finding, Fix, Taken, apply_edits
from msdfix.model import BuildContext
from msdfix.syntax import parse
from msdfix.transforms import REGISTRY, Transform, all_transforms


@pytest.fixture
def register_transform():
    added: list[str] = []

    def add(cls: type[Transform]) -> type[Transform]:
        REGISTRY[cls.id] = cls
        added.append(cls.id)
        return cls

    yield add
    for transform_id in added:
        REGISTRY.pop(transform_id, None)


def _only(*ids: str, unsafe: bool = False) -> Settings:
    return Settings(frozenset(ids), unsafe=unsafe)


def test_transforms_run_in_declared_order() -> None:
    ids = [t.id for t in all_transforms()]
    orders = [t.order for t in all_transforms()]
    assert orders == sorted(orders) and "cache-mount" in ids
    assert len(set(ids)) == len(ids)


def test_every_transform_documents_itself() -> None:
    import sys

    for transform in all_transforms():
        doc = sys.modules[transform.__module__].__doc__ or ""
        for section in ("What it does", "Why", "Example", "Fix safety"):
            assert section in doc, f"{transform.id} lacks {section}"
        assert transform.id == transform.id.lower() and " " not in transform.id


def test_changing_the_final_config_is_refused(register_transform) -> None:
    @register_transform
    class ChangeCmd(Transform):
        """What it does / Why / Example / Fix safety: test only."""

        id, title, order = "test-change-cmd", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[-1]
            if "b" not in ins.args:
                yield doc.fix(self.id, ins, "change", [Edit(ins.end - 5, ins.end - 1, '"b"]')])

    with pytest.raises(InternalError, match="CMD"):
        rewrite('FROM alpine\nCMD ["a"]\n', settings=_only("test-change-cmd"))

    ChangeCmd.changes_config = frozenset({"cmd"})
    assert rewrite('FROM alpine\nCMD ["a"]\n', settings=_only("test-change-cmd")).output.endswith(
        '"b"]\n'
    )


def test_unstable_transform_is_an_internal_error(register_transform) -> None:
    @register_transform
    class Grow(Transform):
        id, title, order = "test-grow", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[-1]
            yield doc.fix(self.id, ins, "grow", [Edit(ins.end - 1, ins.end - 1, " x")])

    with pytest.raises(InternalError, match="fixed point"):
        rewrite("FROM alpine\nRUN echo\n", settings=_only("test-grow"))


def test_unparseable_output_is_an_internal_error(register_transform) -> None:
    @register_transform
    class Break(Transform):
        id, title, order = "test-break", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[-1]
            if ins.cmd == "run":
                yield doc.fix(self.id, ins, "break", [Edit(ins.start, ins.start + 3, "FORM")])

    with pytest.raises(InternalError, match="does not parse"):
        rewrite("FROM alpine\nRUN echo\n", settings=_only("test-break"))


def test_unsafe_fixes_need_opt_in_and_overlaps_are_deferred(register_transform) -> None:
    @register_transform
    class Two(Transform):
        id, title, order = "test-two", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[-1]
            if "echo" in ins.args:
                edit = Edit(ins.start + 4, ins.start + 8, "true")
                yield doc.fix(self.id, ins, "unsafe one", [edit], Applicability.UNSAFE)
                yield doc.fix(self.id, ins, "overlapping", [edit])

    safe_only = rewrite("FROM alpine\nRUN echo\n", settings=_only("test-two"))
    assert safe_only.output == "FROM alpine\nRUN true\n"
    assert [f.message for f in safe_only.applied] == ["overlapping"]
    with_unsafe = rewrite("FROM alpine\nRUN echo\n", settings=_only("test-two", unsafe=True))
    assert [f.message for f in with_unsafe.applied] == ["unsafe one"]


def test_explanations_are_findings_without_a_fix(register_transform) -> None:
    @register_transform
    class Explain(Transform):
        id, title, order = "test-explain", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[0]
            yield doc.note(self.id, ins, "cannot tell")

    result = rewrite("FROM alpine\n", settings=_only("test-explain"))
    assert not result.changed and [f.message for f in result.suggestions] == ["cannot tell"]
    assert result.suggestions[0].fix is None
    with pytest.raises(ValueError):  # a fix that changes nothing is an explanation
        doc = Document(parse("FROM alpine\n"), BuildContext(None))
        doc.fix("test-explain", doc.dockerfile.instructions[0], "cannot tell", [])
    suppressed = rewrite(
        "# msdfix: ignore[test-explain]\nFROM alpine\n", settings=_only("test-explain")
    )
    assert suppressed.suggestions == []


def test_apply_edits_rejects_overlap() -> None:
    assert apply_edits("abcdef", [Edit(4, 6, "X"), Edit(0, 1, "")]) == "bcdX"
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, ""), Edit(2, 4, "")])


def test_reported_lines_refer_to_the_original_text(register_transform) -> None:
    @register_transform
    class Prepend(Transform):
        id, title, order = "test-prepend", "test", 1

        def check(self, doc: Document) -> Iterable[Finding]:
            first = doc.dockerfile.instructions[0]
            if "ARG A" not in doc.text:
                yield doc.fix(self.id, first, "prepend", [Edit(0, 0, "ARG A\nARG B\n")])

    result = rewrite(
        "FROM python:3.12\nRUN pip install x\n", settings=_only("test-prepend", "cache-mount")
    )
    assert [(f.transform, f.line) for f in result.applied] == [
        ("test-prepend", 1),
        ("cache-mount", 2),
    ]


_RUN_PARTS = st.sampled_from([
    "apt-get update", "apt-get install -y curl", "rm -rf /var/lib/apt/lists/*", "pip install --no-cache-dir x",
    "npm ci", "npm cache clean --force", "cd /app", "go build ./...", "apk add --no-cache git", "echo hi",
    "yarn install", "cargo build --release", "mvn package", "apt-get clean", "make",
])  # fmt: skip
_JOIN = st.sampled_from([" && ", " && \\\n    ", "\\\n && ", "; ", " \\\n# note\n && "])


@st.composite
def _dockerfiles(draw) -> str:  # type: ignore[no-untyped-def]
    base = draw(
        st.sampled_from(
            ["debian:12", "python:3.12", "node:18", "golang:1.22", "alpine:3.19", "rust:1.75"]
        )
    )
    lines = [f"FROM {base}"]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["run", "run", "user", "env", "workdir", "comment"]))
        if kind == "run":
            parts = draw(st.lists(_RUN_PARTS, min_size=1, max_size=4))
            script = parts[0]
            for part in parts[1:]:
                script += draw(_JOIN) + part
            lines.append(f"RUN {script}")
        elif kind == "user":
            lines.append(draw(st.sampled_from(["USER root", "USER 1000", "USER app"])))
        elif kind == "env":
            lines.append(
                draw(
                    st.sampled_from(
                        ["ENV HOME=/home/app", "ENV PIP_CACHE_DIR=/pc", "ENV GOPATH=/gp"]
                    )
                )
            )
        elif kind == "workdir":
            lines.append("WORKDIR /app")
        else:
            lines.append("# msdfix: ignore")
    lines.append('CMD ["app"]')
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines).replace("\n", newline) + newline


@settings(max_examples=150, deadline=None)
@given(_dockerfiles(), st.booleans())
def test_generated_dockerfiles_rewrite_cleanly(text: str, unsafe: bool) -> None:
    text = text.replace("\r\r\n", "\r\n")
    result = rewrite(text, settings=Settings(unsafe=unsafe))  # InternalError fails the test
    again = rewrite(result.output, settings=Settings(unsafe=unsafe))
    assert not again.changed
    if "\r\n" in text:
        assert result.output.count("\n") == result.output.count("\r\n")


def test_a_fix_may_declare_the_config_it_changes(register_transform) -> None:
    @register_transform
    class Expose(Transform):
        id, title, order = "test-expose", "test", 99

        def check(self, doc: Document) -> Iterable[Finding]:
            ins = doc.dockerfile.instructions[-1]
            if "8080" not in ins.args:
                edits = [Edit(ins.end - 3, ins.end - 1, "8080")]
                config = frozenset({"expose"})
                yield doc.fix(self.id, ins, "port", edits, changes_config=config)

    assert rewrite("FROM alpine\nEXPOSE 80\n", settings=_only("test-expose")).output.endswith(
        "8080\n"
    )


def test_lines_named_in_messages_are_lines_of_the_original() -> None:
    """A message computed on a later pass names lines as the user's file numbers them."""
    text = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y curl\n"  # gains two lines of mount flags
        "RUN curl -fsSL https://example.com/setup | bash -\n"  # line 3: unknown script
        "RUN pip install flask && rm -rf /root/.cache/pip\n"
    )
    result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
    messages = [f.message for f in result.suggestions]
    assert any("may hold files from line 3 " in m for m in messages), messages


def test_a_moved_line_keeps_its_original_number_in_later_messages(register_transform) -> None:
    """A later pass naming an instruction an earlier fix moved names where the user wrote it."""

    @register_transform
    class Swap(Transform):
        id, title, order = "test-swap", "test", 1

        def check(self, doc: Document) -> Iterable[Finding]:
            copy, run = doc.dockerfile.instructions[1:3]
            if copy.keyword == "COPY":
                moved = doc.text[run.start : run.end] + doc.text[copy.start : copy.end]
                yield doc.fix(self.id, copy, "swap", [Edit(copy.start, run.end, moved)])

    @register_transform
    class Name(Transform):
        id, title, order = "test-name", "test", 2

        def check(self, doc: Document) -> Iterable[Finding]:
            run = next(i for i in doc.dockerfile.instructions if i.keyword == "RUN")
            yield doc.note(self.id, run, f"RUN on line {run.start_line}")

    text = 'FROM alpine\nCOPY . .\nRUN make\nCMD ["app"]\n'
    result = rewrite(text, settings=_only("test-swap", "test-name"))
    assert result.output == 'FROM alpine\nRUN make\nCOPY . .\nCMD ["app"]\n'
    (named,) = [f for f in result.suggestions if f.transform == "test-name"]
    assert (named.line, named.message) == (3, "RUN on line 3")


@st.composite
def _passes(draw):  # type: ignore[no-untyped-def]
    """An original text and batches of non-overlapping edits, each against the text before."""
    text = draw(st.text(alphabet="ab\n", max_size=30))
    current, batches = text, []
    for _ in range(draw(st.integers(1, 4))):
        cuts = sorted(draw(st.lists(st.integers(0, len(current)), max_size=6)))
        edits, pos = [], -1
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            if start <= pos:
                continue  # keep edits apart (the engine never applies touching insertions)
            edits.append(Edit(start, end, draw(st.text(alphabet="XY\n", max_size=4))))
            pos = end
        batches.append(edits)
        current = apply_edits(current, edits)
    return text, batches, current


@settings(max_examples=300, deadline=None)
@given(_passes())
def test_ledger_composes_every_pass_into_edits_of_the_original(case) -> None:  # type: ignore[no-untyped-def]
    from msdfix.ledger import Ledger

    text, batches, final = case
    ledger = Ledger(text)
    owners = []
    for batch in filter(None, batches):  # a fix has edits
        owner = Fix(Applicability.SAFE, batch)
        owners.append(owner)
        ledger.record([(e, owner) for e in batch])
    assert ledger.current == final and ledger.check()
    for offset in range(len(final) + 1):  # the bisections agree with a walk of the changes
        assert ledger.to_original(offset) == _walked(ledger, offset)
        assert ledger.untouched(offset, offset + 2) == _untouched(ledger, offset, offset + 2)
    owned = ledger.edits_by_owner()
    edits = [e for owner in owners for e in owned.get(id(owner), [])]
    assert apply_edits(text, edits) == final
    spans = sorted((e.start, e.end) for e in edits)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # no overlap
    assert all(0 <= s <= e <= len(text) for s, e in spans)


def test_pragma_takes_a_reason_and_warns_about_unknown_ids() -> None:
    text = (
        "FROM python:3.12\n"
        "# msdfix: ignore[cache-mount] vendored from upstream\n"
        "RUN pip install a\n"
        "# msdfix: ignore [cache-mount, nope]\n"
        "RUN pip install b\n"
        "RUN <<EOF\n# msdfix: ignore[in-a-heredoc]\nEOF\n"
    )
    result = rewrite(text, settings=_only("cache-mount"))
    assert not result.changed
    assert result.warnings == [(4, "unknown transform id 'nope' in pragma")]


def test_file_pragma_after_a_long_run_of_blank_lines() -> None:
    """From every line start the file pragma's ``^\\s*`` ran over all the blank lines below:
    quadratic (300,000 blank lines took minutes). It is still found on its own line."""
    from support.deadline import deadline

    text = "FROM python:3.12\n" + "\n" * 300_000 + "RUN pip install a\n"
    with deadline():
        assert rewrite(text, settings=_only("cache-mount")).changed
        assert not rewrite(
            text + "  # msdfix: ignore-file\n", settings=_only("cache-mount")
        ).changed


def _touches(edit: Edit, start: int, end: int) -> bool:
    """The rule, range by range: intersecting, or touching where either is an insertion."""
    if edit.start < end and start < edit.end:
        return True
    return (edit.start == edit.end or start == end) and start <= edit.end and edit.start <= end


@st.composite
def _fix_sequences(draw):  # type: ignore[no-untyped-def]
    """Fixes of non-overlapping edits (each alone) on a short text, insertions included."""
    fixes = []
    for _ in range(draw(st.integers(1, 12))):
        points = sorted(draw(st.lists(st.integers(0, 30), min_size=2, max_size=6)))
        edits = [Edit(a, b, "x") for a, b in zip(points[::2], points[1::2], strict=False)]
        fixes.append(Fix(Applicability.SAFE, edits))
    return fixes


@settings(max_examples=400, deadline=None)
@given(_fix_sequences())
def test_taken_ranges_find_exactly_the_overlapping_fixes(fixes: list[Fix]) -> None:
    taken, accepted = Taken(), []
    for fix in fixes:
        expected = any(_touches(e, a.start, a.end) for e in fix.edits for a in accepted)
        assert taken.overlaps(fix) == expected
        if not expected:
            taken.add(fix)
            accepted += fix.edits


def _current_spans(ledger):  # type: ignore[no-untyped-def]
    shift = 0
    for change in ledger.changes:
        start = change.start + shift
        yield start, start + len(change.content), change
        shift += len(change.content) - (change.end - change.start)


def _walked(ledger, offset: int) -> int:  # type: ignore[no-untyped-def]
    """Current offset -> original offset, by walking every change."""
    shift = 0
    for start, end, change in _current_spans(ledger):
        if offset < start:
            break
        if offset < end:
            return change.start
        shift = end - change.end
    return offset - shift


def _untouched(ledger, start: int, end: int) -> bool:  # type: ignore[no-untyped-def]
    return not any(a <= end and b >= start for a, b, _ in _current_spans(ledger))


def _chain(stages: int) -> str:
    """A FROM chain: each stage built on the one before, each installing with pip."""
    lines = ["FROM python:3.12 AS s0"]
    for i in range(1, stages):
        lines += [f"FROM s{i - 1} AS s{i}", f"RUN pip install p{i}"]
    return "\n".join(lines) + "\n"


def test_a_stage_chain_deeper_than_msdfix_analyses_is_left_unchanged_with_the_reason() -> None:
    """Analyses walk each stage's chain; thousands of stages each FROM the one before took
    minutes. Real files chain at most 8 stages; beyond MAX_CHAIN the file is left alone."""
    from msdfix.engine import MAX_CHAIN

    assert rewrite(_chain(MAX_CHAIN)).changed
    result = rewrite(_chain(MAX_CHAIN + 1))
    assert not result.changed
    assert result.warnings == [
        (
            2 * MAX_CHAIN,
            f"left unchanged: stage s{MAX_CHAIN} is built on a chain of more than {MAX_CHAIN} "
            "stages (each FROM the one before), more than msdfix analyses",
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        "# escape=`\nFROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt `\n  --no-cache-dir\n",
        'FROM python:3.12\nSHELL ["powershell", "-Command"]\nRUN pip install --no-cache-dir flask\n',
    ],
)
def test_a_windows_dockerfile_is_left_alone_and_says_so(text: str) -> None:
    """A file msdfix does not rewrite must say why, not come back silently unchanged."""
    result = rewrite(text, None, BuildContext(None), Settings())
    assert result.output == text
    assert [line for line, msg in result.warnings if "a Windows Dockerfile" in msg] == [1]
    linux = rewrite(
        "FROM python:3.12\nRUN pip install --no-cache-dir flask\n",
        None,
        BuildContext(None),
        Settings(),
    )
    assert linux.changed and not linux.warnings


def test_a_fix_declined_again_on_the_rewrite_is_reported_once(tmp_path) -> None:
    """An unsafe split declined in the first pass was declined again after reorder-copy and
    cache-mount changed the text, with a reason about msdfix's own edits ("the install at
    line 4 mounts files or secrets"): the user saw two contradictory suggestions for one
    line. Only the first pass's, about the user's own text, is reported."""
    (tmp_path / "package.json").write_text(
        '{"name": "app", "version": "1.0.0", "scripts": {"build": "vite build", "start": '
        '"pm3 dist"}, "dependencies": {"ms": "2.1.3"}, "devDependencies": {"vite": "5.0.0"}}'
    )
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n"
        'CMD ["npm", "start"]\n'
    )
    result = rewrite(text, "Dockerfile", BuildContext(tmp_path))
    assert {"reorder-copy", "cache-mount"} <= {f.transform for f in result.applied}
    splits = [f.message for f in result.suggestions if f.transform == "split-stages"]
    assert len(splits) == 1 and "runs `pm3`" in splits[0], splits


def test_a_fix_that_would_make_a_line_buildkit_cannot_read_is_not_applied() -> None:
    """cache-mount's `-o Dir::Cache::Archives=...` grew a 65,471-byte RUN line (base64 in an
    echo) past BuildKit's 65,535-byte line limit: `docker build` refused the rewrite with
    "dockerfile line greater than max allowed size of 65535". The fix is declined with why."""
    blob = "QUJD" * 16350
    text = (
        "FROM debian:12\n"
        f"RUN apt-get update && apt-get install -y curl && echo {blob} | base64 -d > /x\n"
        'CMD ["sh"]\n'
    )
    result = rewrite(text, "Dockerfile", BuildContext(None), Settings(unsafe=True))
    assert max(len(line.encode()) for line in result.output.split("\n")) <= 65535
    assert "apt-get update && apt-get install -y curl && echo" in result.output
    reasons = [f.message for f in result.suggestions if f.transform == "cache-mount"]
    assert any("longer than 65,535 bytes" in reason for reason in reasons)


def test_makes_long_line_sees_every_edit_of_a_line() -> None:
    from msdfix.fixes import makes_long_line

    text = "a\n" + "b" * 65000 + "\nc\n"
    half = [Edit(2, 2, "x" * 300), Edit(65002, 65002, "y" * 300)]
    assert not makes_long_line(text, half[:1])
    assert makes_long_line(text, half)
    assert makes_long_line(text, [Edit(0, 1, "z" * 70000)])
    assert not makes_long_line(text, [Edit(2, 65002, "b\n" * 40000)])
