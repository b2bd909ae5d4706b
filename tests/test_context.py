"""Build contexts: one lazy walk per folder shared by its Dockerfiles; path helpers."""

from __future__ import annotations

import itertools
import random
from functools import cached_property
from pathlib import Path

import pytest

from msdfix.cli import main
from msdfix.engine import Settings, rewrite
from msdfix.model import context
from msdfix.model.context import BuildContext, ContextCache
from msdfix.model.paths import containing, within
from msdfix.transforms.split_stages import build_stage

APP = """FROM python:3.12
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders walked by build contexts."""
    seen: list[str] = []
    real = context.Folder.listed.func

    def counting(folder: context.Folder) -> tuple[list[str], bool]:
        seen.append(str(folder.root))
        return real(folder)

    prop = cached_property(counting)
    prop.__set_name__(context.Folder, "listed")
    monkeypatch.setattr(context.Folder, "listed", prop)
    return seen


def test_one_walk_per_folder(tmp_path: Path, walks: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        (tmp_path / f"app{i}.Dockerfile").write_text(APP)
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    assert walks == [str(tmp_path)]
    assert capsys.readouterr().out.count("+++ ") == 5


def test_walks_do_not_grow_with_dockerfiles_in_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Every directory walk of a run (discovery, context files, the dockerignore transform's
    every-path list) happens once per folder: 6 Dockerfiles walk as often as 2."""
    from msdfix import discovery, files
    from msdfix.model import pending

    real = files.walk
    roots: list[str] = []

    def counting(top, *args, **kwargs):  # type: ignore[no-untyped-def]
        roots.append(str(top))
        return real(top, *args, **kwargs)

    for module in (discovery, context, pending):  # every walk goes through files.walk
        monkeypatch.setattr(module, "walk", counting)
    counts = []
    for n in (2, 6):
        folder = tmp_path / str(n)
        (folder / "src").mkdir(parents=True)
        for i in range(n):
            (folder / f"app{i}.Dockerfile").write_text(APP)
        (folder / "requirements.txt").write_text("flask\n")
        (folder / "app.py").write_text("print(1)\n")
        roots.clear()
        with pytest.raises(SystemExit):
            main(["-j", "1", str(folder)])
        assert capsys.readouterr().out.count("+++ ") == n
        counts.append(len([r for r in roots if r == str(folder)]))
    assert counts[0] == counts[1] and counts[0] > 0


def test_nothing_walked_when_not_asked(tmp_path: Path, walks: list[str]) -> None:
    ctx = BuildContext(tmp_path, cache=ContextCache())
    assert ctx.present and not ctx.exists("missing") and ctx.read_text("x") is None
    assert walks == []
    assert ctx.files == [] and walks == [str(tmp_path)]


def test_contexts_share_a_folder_but_not_its_ignore_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "one.Dockerfile.dockerignore").write_text("a.txt\n")
    cache = ContextCache()
    one = BuildContext(tmp_path, tmp_path / "one.Dockerfile", cache)
    two = BuildContext(tmp_path, tmp_path / "two.Dockerfile", cache)
    assert one.files is two.files
    assert one.glob("*.txt") == ["b.txt"]
    assert two.glob("*.txt") == ["a.txt", "b.txt"]
    assert one.is_ignored("a.txt") and not two.is_ignored("a.txt")


def test_cache_is_bounded(tmp_path: Path) -> None:
    cache = ContextCache(size=2)
    folders = [cache.folder(tmp_path / str(i)) for i in range(3)]
    assert cache.folder(tmp_path / "0") is not folders[0]
    assert cache.folder(tmp_path / "2") is folders[2]


def _naive_dedupe(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(within(path, o) for o in out):
            out.append(path)
    return out


def test_set_based_helpers_agree_with_within() -> None:
    rng = random.Random(13)
    parts = ["", "a", "b", "a/", "ab"]
    pool = sorted({"/" + "/".join(p) for n in range(4) for p in itertools.product(parts, repeat=n)})
    for _ in range(300):
        paths = rng.sample(pool, rng.randint(0, 8))
        bases = rng.sample(pool, rng.randint(0, 5))
        assert build_stage.dedupe(paths) == _naive_dedupe(paths)
        assert containing(paths, bases) == {b for b in bases if any(within(p, b) for p in paths)}


def test_copy_landing_agrees_with_listing_the_files(tmp_path: Path) -> None:
    """``lands`` and ``top_entries`` answer what listing every copied file would."""
    from msdfix.transforms.build_paths import ContextCopy, top

    rng = random.Random(7)
    names = ["a", "b", "src", "x.py", "Dockerfile"]
    for _ in range(60):
        path = tmp_path / "/".join(rng.choice(names) for _ in range(rng.randint(1, 3)))
        if not any(p.is_file() for p in [path, *path.parents]) and not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
    (tmp_path / ".dockerignore").write_text("b/a\n")
    ctx = BuildContext(tmp_path, cache=ContextCache())
    sources = [".", "./", "a", "src", "src/", "a/b", "x.py", "/src", "missing"]
    dests = ["/", "/app", "/app/sub", "/usr/local", "/a", "/app/"]
    probes = sorted({d + s for d in ["/", "/app/", "/app/sub/", "/a/", ""] for s in
                     ["", "a", "b", "src", "a/b", "x.py", "src/a", "app", "sub/x.py"]})  # fmt: skip
    for _ in range(300):
        copy = ContextCopy(None, rng.sample(sources, rng.randint(1, 2)), rng.choice(dests),  # type: ignore[arg-type]
                           rng.random() < 0.7)  # fmt: skip
        pairs = copy._context_files(ctx)
        dest_list = [d for _, d in pairs]
        for probe in probes:
            expected = (probe in dest_list, any(within(d, probe) for d in dest_list))
            assert copy.lands(ctx, probe) == expected, (copy, probe)
        skip = (lambda rel: rel.endswith(".py")) if rng.random() < 0.5 else (lambda rel: False)
        key = ("test", rng.random())  # a fresh key: skip changes
        assert copy.copied(ctx, key, lambda rel, skip=skip: not skip(rel)) == {
            r for r, _ in pairs if not skip(r)
        }
        if copy.into_dir:
            expected_tops = sorted({top(d, copy.dest) for r, d in pairs if not skip(r)})
            assert copy.top_entries(ctx, key, skip) == expected_tops, copy


def test_a_context_too_large_to_list_is_unknown_not_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond MAX_WALK_FILES a file missing from the list may exist: transforms that need
    the list leave the file alone and say why, the others still apply."""
    from msdfix.engine import rewrite

    fixture = Path(__file__).parent.parent / "fixtures" / "split-stages" / "dotnet"
    for name in ("Dockerfile", "Program.cs", "app.csproj"):
        (tmp_path / name).write_bytes((fixture / name).read_bytes())
    text = (tmp_path / "Dockerfile").read_text()

    def run() -> set[str]:
        ctx = BuildContext(tmp_path, tmp_path / "Dockerfile")
        result = rewrite(text, str(tmp_path / "Dockerfile"), ctx)
        assert not any("too many" in f.message for f in result.applied)
        return {f.transform for f in result.applied}

    assert "split-stages" in run()
    monkeypatch.setattr(context, "MAX_WALK_FILES", 2)  # 3 files
    ctx = BuildContext(tmp_path, tmp_path / "Dockerfile")
    result = rewrite(text, str(tmp_path / "Dockerfile"), ctx)
    assert "split-stages" not in {f.transform for f in result.applied}
    notes = [f for f in result.suggestions if f.transform == "split-stages"]
    assert [f.message for f in notes] == [
        "the build context holds more than 2 files, too many to tell which files it has, "
        "so this transform left the file alone"
    ]
    assert ctx.first_files and len(ctx.first_files) == 2  # verify's choice of a file to edit


def test_a_folder_dockerignore_excludes_is_not_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BuildKit sends nothing below a directory .dockerignore excludes (no ``!`` pattern): a
    context whose files beyond the limit all sit in such a folder is listed (the 200,000
    files of an excluded data/ had made msdfix say the context held too many), and a build
    whose own ignore file sends that folder still finds the context too large."""
    monkeypatch.setattr(context, "MAX_WALK_FILES", 3)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    for i in range(5):
        (tmp_path / "data" / "raw" / f"f{i}").write_text("x")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / ".dockerignore").write_text("data\n")
    ctx = BuildContext(tmp_path, tmp_path / "Dockerfile")
    assert sorted(ctx.view.kept) == [".dockerignore", "app.py"]
    (tmp_path / "Other.dockerignore").write_text("*.md\n")
    other = BuildContext(tmp_path, tmp_path / "Other")
    with pytest.raises(context.ContextTooLarge):
        other.view.kept  # noqa: B018
    (tmp_path / ".dockerignore").write_text("data\n!data/raw/f1\n")
    again = BuildContext(tmp_path, tmp_path / "Dockerfile")
    with pytest.raises(context.ContextTooLarge):
        again.view.kept  # noqa: B018


def test_an_ignore_file_with_more_patterns_than_msdfix_evaluates_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every path is matched against every pattern: 80,000 patterns took 36 s of CPU for a
    few hundred files. Beyond MAX_PATTERNS what the build sees is unknown (not "nothing is
    excluded"): the transforms that need it say so, and verify copies the whole context."""
    from msdfix.engine import rewrite
    from msdfix.model import dockerignore
    from msdfix.verify.context import copy_context

    ctx_dir = tmp_path / "ctx"
    ctx_dir.mkdir()
    (ctx_dir / "Dockerfile").write_text(APP)
    (ctx_dir / "requirements.txt").write_text("flask\n")
    (ctx_dir / "app.py").write_text("print(1)\n")
    (ctx_dir / "notes.tmp").write_text("x\n")
    (ctx_dir / ".dockerignore").write_text("*.tmp\nbuild\ndist\n")

    def run() -> list[str]:
        ctx = BuildContext(ctx_dir, ctx_dir / "Dockerfile")
        result = rewrite(APP, str(ctx_dir / "Dockerfile"), ctx)
        return [
            f"{f.transform}: {f.message}" for f in result.suggestions if "patterns" in f.message
        ]

    monkeypatch.setattr(dockerignore, "MAX_PATTERNS", 3)
    assert run() == []
    assert not (copy_context(ctx_dir, tmp_path / "copy") / "notes.tmp").exists()
    monkeypatch.setattr(dockerignore, "MAX_PATTERNS", 2)
    notes = run()
    assert (
        "reorder-copy: .dockerignore has 3 patterns, more than msdfix evaluates (2): which "
        "files the build sees is unknown, so this transform left the file alone" in notes
    )
    assert (copy_context(ctx_dir, tmp_path / "copy2") / "notes.tmp").exists()


@pytest.mark.parametrize(
    "rules, reason",
    [
        ("*a" * 800_000 + "\n", "a pattern of 1,600,000 characters"),
        ("".join("*a" * 2000 + f"{i}\n" for i in range(100)), "patterns of 400,190 characters"),
    ],
)
def test_an_ignore_file_with_longer_patterns_than_msdfix_evaluates_is_unknown(
    tmp_path: Path, rules: str, reason: str
) -> None:
    """A pattern of 1.6 million characters took minutes to compile (and a gigabyte) before any
    path was matched; 1,000 patterns of 4,000 wildcards took 37 s and a gigabyte. A pattern
    longer than any path, or rules far longer than real ignore files, leave what the build
    sees unknown: the transforms that need it say so, and nothing hangs."""
    from msdfix.engine import rewrite
    from support.deadline import deadline

    ctx_dir = tmp_path / "ctx"
    ctx_dir.mkdir()
    (ctx_dir / "Dockerfile").write_text(APP)
    (ctx_dir / "requirements.txt").write_text("flask\n")
    (ctx_dir / "app.py").write_text("print(1)\n")
    (ctx_dir / ".dockerignore").write_text(rules)
    with deadline():
        ctx = BuildContext(ctx_dir, ctx_dir / "Dockerfile")
        result = rewrite(APP, str(ctx_dir / "Dockerfile"), ctx)
    notes = [f.message for f in result.suggestions if "characters" in f.message]
    assert notes and all(reason in n and "left the file alone" in n for n in notes), notes


def test_extending_an_ignore_file_at_the_pattern_limit_is_no_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits apply to the file as read: the lines the dockerignore transform appends to
    a file just under MAX_PATTERNS took the pending rules over it (exit 123)."""
    from msdfix.engine import Settings, rewrite
    from msdfix.model import dockerignore

    monkeypatch.setattr(dockerignore, "MAX_PATTERNS", 3)
    (tmp_path / "Dockerfile").write_text(APP)
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".dockerignore").write_text("*.tmp\nbuild\ndist\n")
    ctx = BuildContext(tmp_path, tmp_path / "Dockerfile")
    result = rewrite(APP, str(tmp_path / "Dockerfile"), ctx, Settings(unsafe=True))
    assert any(f.transform == "dockerignore" for f in result.applied)


@pytest.mark.parametrize(
    "fixture, name, text",
    [
        ("cache-mount/cargo-build", "Cargo.toml", "package = 5\n"),
        ("cache-mount/cargo-build", "Cargo.toml", '[package]\nname = 5\nversion = "0.1.0"\n'),
        ("cache-mount/noop-pdm-unknown-home", "pdm.lock", 'package = 5\n[metadata]\nlock_version = "4.5.0"\n'),
        ("cache-mount/noop-pdm-unknown-home", "pdm.lock", '[[package]]\nname = "six"\nversion = "1"\nfiles = 5\n'),
        ("split-stages/go-frontend", "web/package.json", '{"name": "web", "scripts": 5}'),
        ("split-stages/go-frontend", "web/package.json", '{"name": "web", "devDependencies": 5}'),
        ("split-stages/node-backend", "package.json", '{"name": "a", "scripts": 5, "dependencies": {}}'),
        ("split-stages/node-backend", "package.json", '{"name": "a", "dependencies": 5}'),
    ],
)  # fmt: skip
def test_a_manifest_of_another_shape_is_unreadable_not_a_crash(
    tmp_path: Path, fixture: str, name: str, text: str
) -> None:
    """Context files are the user's (or an attacker's): a manifest whose tables hold numbers
    is read as unreadable, and the transforms that need it decline as for a missing one."""
    import shutil

    from msdfix.engine import Settings, rewrite

    root = Path(__file__).resolve().parent.parent / "fixtures" / fixture
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    (tmp_path / name).write_text(text)
    dockerfile = (tmp_path / "Dockerfile").read_text()
    for unsafe in (False, True):
        result = rewrite(dockerfile, None, BuildContext(tmp_path), Settings(unsafe=unsafe))
        assert result.output.startswith("FROM")


GO_CGO = (
    'package main\n\n// #include <stdio.h>\nimport "C"\n\nfunc main() { C.puts(C.CString("hi")) }\n'
)


@pytest.mark.parametrize(
    ("copies", "why", "helper"),
    [
        (["COPY go.mod ./", "COPY main.go ./"], "`go.mod` is not in", False),
        (["COPY . ."], "copies all of", False),
        # docker/ also holds an entrypoint script: still no Go project there (built for real:
        # CGO_ENABLED=0 on cgo code, and a COPY of /src/entrypoint.sh the build lacked)
        (["COPY . ."], "runs go, and it holds no go.mod", True),
    ],
)
def test_a_folder_that_is_not_the_build_context_is_not_read(
    tmp_path: Path, copies: list[str], why: str, helper: bool
) -> None:
    """``docker build -f docker/Dockerfile .``: the Dockerfile's folder lacks what the file
    copies, so its (missing) Go sources cannot show that cgo is unused; the repository root,
    given with --context, shows the ``import "C"``."""
    from msdfix.engine import Settings, rewrite

    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text(GO_CGO)
    (tmp_path / "docker").mkdir()
    if helper:
        (tmp_path / "docker" / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    text = "\n".join(
        [
            "FROM golang:1.22",
            "WORKDIR /app",
            *copies,
            "RUN go build -o /app/server .",
            'CMD ["/app/server"]',
            "",
        ]
    )
    (tmp_path / "docker" / "Dockerfile").write_text(text)
    settings = Settings(frozenset({"split-stages"}))
    in_folder = rewrite(text, None, BuildContext(tmp_path / "docker"), settings)
    assert "CGO_ENABLED=0" not in in_folder.output  # unknown, not "no cgo"
    assert "AS runtime" in in_folder.output  # split as without a context
    assert [line for line, _ in in_folder.warnings] == [3]
    assert why in in_folder.warnings[0][1] and "--context" in in_folder.warnings[0][1]
    at_root = rewrite(text, None, BuildContext(tmp_path), settings)
    assert at_root.warnings == [] and "CGO_ENABLED=0" not in at_root.output
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    assert "CGO_ENABLED=0 go build" in rewrite(text, None, BuildContext(tmp_path), settings).output


@pytest.mark.parametrize(
    "copy",
    [
        "COPY *.txt ./",
        "COPY ${SRC}/ ./",
        "COPY --from=golang:1.22 /usr/local/go /go",
        "ADD https://example.com/x.tgz /x.tgz",
        # BuildKit expands ARG/ENV in ADD's sources, then sees a URL (msdfix had warned that
        # `https:/example.com/x.tgz` is not in the folder and read no file of the context)
        "ADD $URL /x.tgz",
        "ADD ${GIT}#v1 /src",
    ],
)
def test_sources_that_name_no_file_leave_the_context_alone(tmp_path: Path, copy: str) -> None:
    from msdfix.engine import Settings, rewrite

    (tmp_path / "requirements.txt").write_text("flask\n")
    args = "ARG URL=https://example.com/x.tgz\nARG GIT=https://github.com/a/b.git\n"
    text = f"FROM python:3.12\nARG SRC\n{args}{copy}\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    assert rewrite(text, None, BuildContext(tmp_path), Settings()).warnings == []


def test_a_source_above_the_context_stops_at_its_root(tmp_path: Path) -> None:
    """BuildKit reads ``COPY ../go.mod ./`` as the context's go.mod and ``COPY .. .`` as all
    of it (built for real: a compose file's ``context: ..`` beside ``dockerfile:
    deploy/Dockerfile``); msdfix took such a file's context for a foreign folder and read
    none of it. The Dockerfile's own folder, which lacks go.mod, is still no context."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = (
        "FROM golang:1.19\nWORKDIR /app\nCOPY ../go.mod ./\nRUN go mod download\n"
        'COPY .. .\nRUN go build -o server .\nCMD ["./server"]\n'
    )
    dockerfile = tmp_path / "deploy" / "Dockerfile"
    right = rewrite(text, str(dockerfile), BuildContext(tmp_path, dockerfile), Settings())
    assert not any("not the build context" in why for _, why in right.warnings)
    assert "AS runtime" in right.output
    own = BuildContext(tmp_path / "deploy", dockerfile)
    wrong = rewrite(text, str(dockerfile), own, Settings())
    assert any("`go.mod` is not in" in why for _, why in wrong.warnings)


def _changed_after_stat(monkeypatch: pytest.MonkeyPatch, path: Path, was: bytes) -> None:
    """Make ``Path.stat`` (and ``is_file``) of ``path`` answer for a regular file holding
    ``was``: what msdfix saw when it checked, before the context changed under it."""
    decoy = path.with_name("decoy")
    decoy.write_bytes(was)
    real_stat = Path.stat

    def stat(self: Path, **kwargs: bool) -> object:
        return real_stat(decoy if self == path else self, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)


@pytest.mark.parametrize("reader", ["read_text", "find_line"])
def test_a_context_file_swapped_for_a_fifo_after_its_check_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    """package.json is a regular file when msdfix looks, a FIFO when it opens it: the open
    blocked forever (a bot's run hung). It is opened without blocking and checked again on
    the open file: unreadable now, never read."""
    import os
    import re
    import time

    from support.deadline import deadline

    path = tmp_path / "package.json"
    os.mkfifo(path)
    _changed_after_stat(monkeypatch, path, b"{}")
    ctx = BuildContext(tmp_path, cache=ContextCache())
    start = time.monotonic()
    with deadline(10):  # TimeoutError is an OSError: read_text would answer None after it
        if reader == "read_text":
            assert ctx.read_text("package.json") is None
        else:
            with pytest.raises(OSError, match="not a regular file"):
                ctx.find_line("package.json", re.compile("x"))
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("reader", ["read_text", "find_line"])
def test_a_context_file_grown_after_its_check_is_read_to_the_limit_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    """A file that grows (or is replaced by a larger one) between msdfix's size check and its
    read was read whole, whatever its size: the limit holds on the read itself now."""
    import re

    path = tmp_path / "package.json"
    path.write_bytes(b" " * (context.MAX_MANIFEST_BYTES + 1))
    monkeypatch.setattr(context, "MAX_SCANNED_BYTES", context.MAX_MANIFEST_BYTES)
    _changed_after_stat(monkeypatch, path, b"{}")
    ctx = BuildContext(tmp_path, cache=ContextCache())
    if reader == "read_text":
        assert ctx.read_text("package.json") is None
    else:
        with pytest.raises(OSError, match="larger than"):
            ctx.find_line("package.json", re.compile("x"))
