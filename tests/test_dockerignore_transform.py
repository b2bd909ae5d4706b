"""dockerignore transform: fixtures (expected.dockerignore), safety against COPY sources, CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from fixture_cases import Case, cases, render_messages
from msdfix.engine import Result, Settings, rewrite
from msdfix.model import BuildContext
from msdfix.model.copies import stage_sources
from msdfix.model.dockerignore import DockerIgnore
from msdfix.model.pending import PendingIgnore
from msdfix.model.stages import build_model
from msdfix.syntax import ParseError, parse
from test_corpus import COUNTS

ID = "dockerignore"
CASES = cases(ID)


def run(context: Path, unsafe: bool, select: bool = True, stdin: bool = False) -> Result:
    dockerfile = context / "Dockerfile"
    settings = Settings(frozenset({ID}) if select else None, unsafe=unsafe)
    ctx = BuildContext(context, None if stdin else dockerfile)
    return rewrite(dockerfile.read_text(), None if stdin else str(dockerfile), ctx, settings)


def write(result: Result) -> None:
    for name, (_, new) in result.files.items():
        Path(name).write_text(new, newline="")


def messages(result: Result) -> str:
    return " | ".join(f.message for f in result.applied + result.suggestions)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case: Case, tmp_path: Path) -> None:
    """The ignore file becomes expected.dockerignore (absent: no change); Dockerfile untouched;
    a second run after writing changes nothing."""
    context = case.materialise(tmp_path)
    unsafe = bool(case.options.get("unsafe"))
    result = run(context, unsafe)
    assert result.output == result.original
    expected_path = case.path / "expected.dockerignore"
    if not expected_path.exists():
        assert result.files == {}, f"{case.id} must change nothing"
    else:
        name = case.options.get("ignore_file", ".dockerignore")
        assert list(result.files) == [str(context / name)]
        old, new = result.files[str(context / name)]
        on_disk = context / name
        assert old == (on_disk.read_bytes().decode() if on_disk.exists() else None)
        assert new == expected_path.read_bytes().decode()
        assert new.startswith(old or "")  # appended, never reordered or deleted
        write(result)
        assert not run(context, unsafe).changed, f"{case.id}: second run changes something"
        assert_copies_kept(context)
    assert render_messages(result) == case.messages, f"{case.id}: summary differs"
    reason = case.options.get("reason")
    if reason:
        assert reason in messages(result)


def test_fixtures_cover_before_after_and_noop() -> None:
    with_expected = [c for c in CASES if (c.path / "expected.dockerignore").exists()]
    assert len(with_expected) >= 5
    assert len(CASES) - len(with_expected) >= 5


def assert_copies_kept(
    context: Path, dockerfile: str | None = None, rules: DockerIgnore | None = None
) -> None:
    """No COPY/ADD/mount source of any stage names a path the build's rules exclude, unless it
    was excluded before msdfix (that is CopyIgnoredFile, reported, not caused)."""
    text = dockerfile if dockerfile is not None else (context / "Dockerfile").read_text()
    model = build_model(parse(text))
    rules = rules or DockerIgnore.for_build(context, context / "Dockerfile")
    for stage in model.stages:
        for _, source in stage_sources(stage, model):
            if source.pattern is None:
                continue
            for path in [source.pattern, *_files(context)]:
                if source.copies(path) and (context / path).exists():
                    assert not rules.excludes(path), f"{source.instruction}: {path} excluded"


def _files(context: Path) -> list[str]:
    return [p.relative_to(context).as_posix() for p in context.rglob("*")]


NODE_API = """FROM node:20
WORKDIR /usr/src/app
COPY . .
RUN npm ci
EXPOSE 3000
CMD ["node", "server.js"]
"""


def node_api(tmp_path: Path, dockerfile: str = NODE_API) -> Path:
    context = tmp_path / "api"
    (context / "node_modules" / "express").mkdir(parents=True)
    (context / "node_modules" / "express" / "index.js").write_text("module.exports = 1\n")
    (context / ".git").mkdir()
    (context / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (context / "package.json").write_text('{"name": "api"}\n')
    (context / "server.js").write_text("require('http').createServer().listen(3000)\n")
    (context / "Dockerfile").write_text(dockerfile)
    return context


def msdfix(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args], capture_output=True, cwd=cwd, input=stdin
    )


def test_must_show_write_unsafe_on_single_stage_node_api(tmp_path: Path) -> None:
    """``msdfix --write --unsafe-fixes`` gives a .dockerignore excluding node_modules and .git."""
    context = node_api(tmp_path)
    proc = msdfix("--write", "--unsafe-fixes", str(context / "Dockerfile"))
    assert proc.returncode == 0, proc.stderr.decode()
    rules = DockerIgnore.for_build(context, context / "Dockerfile")
    assert rules.excludes("node_modules/express/index.js") and rules.excludes(".git/HEAD")
    for needed in ("package.json", "server.js"):
        assert not rules.excludes(needed)
    again = msdfix("--check", "--unsafe-fixes", str(context / "Dockerfile"))
    assert again.returncode == 0 and again.stdout == b"", again.stdout.decode()


def test_dry_run_shows_new_file_with_dev_null_and_check_lists_it(tmp_path: Path) -> None:
    context = node_api(tmp_path)
    proc = msdfix("--select", ID, "--unsafe-fixes", str(context / "Dockerfile"))
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert f"--- /dev/null\n+++ {context / '.dockerignore'}\n" in out
    assert "+node_modules\n" in out and "+.git\n" in out
    assert not (context / ".dockerignore").exists()
    check = msdfix("--check", "--select", ID, "--unsafe-fixes", str(context / "Dockerfile"))
    assert check.stdout.decode() == f"would create {context / '.dockerignore'}\n"


def test_a_dangling_ignore_link_is_left_alone_and_the_dockerfile_written(tmp_path: Path) -> None:
    """A ``.dockerignore`` that links to nothing: the build reads no ignore file, and creating
    one failed every --write ("appeared while msdfix was running", exit 2) with the
    Dockerfile's own fixes unwritten. It is left alone with the reason."""
    context = tmp_path / "app"
    (context / ".git").mkdir(parents=True)
    (context / "app.py").write_text("print(1)\n")
    (context / "requirements.txt").write_text("flask\n")
    (context / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY requirements.txt app.py ./\nRUN pip install -r requirements.txt\n"
    )
    (context / ".dockerignore").symlink_to("nowhere")
    proc = msdfix("--write", str(context / "Dockerfile"))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "it is a link to a file that does not exist" in proc.stderr.decode()
    assert "--mount=type=cache" in (context / "Dockerfile").read_text()
    assert os.readlink(context / ".dockerignore") == "nowhere"


def test_an_ignore_file_that_is_not_utf8_is_left_alone_with_the_reason(tmp_path: Path) -> None:
    """A Windows-1252 ``.dockerignore`` (``# caf\\xe9``): Docker reads its bytes and builds,
    msdfix does not rewrite it; the fixes it would add were dropped without a word."""
    context = node_api(tmp_path)
    (context / ".dockerignore").write_bytes(b"# caf\xe9\n*.log\n")
    result = run(context, unsafe=True)
    assert result.files == {}
    assert ".dockerignore left alone: it is not UTF-8 text, which msdfix does not rewrite" in (
        messages(result)
    )


def test_existing_file_diff_and_write_append_only(tmp_path: Path) -> None:
    context = node_api(tmp_path)
    (context / ".dockerignore").write_text("# mine\n*.log\n")
    proc = msdfix("--select", ID, "--unsafe-fixes", str(context / "Dockerfile"))
    out = proc.stdout.decode()
    assert f"--- {context / '.dockerignore'}\n" in out and " *.log\n" in out
    msdfix("--write", "--select", ID, "--unsafe-fixes", str(context / "Dockerfile"))
    text = (context / ".dockerignore").read_text()
    assert text.startswith("# mine\n*.log\n") and "\nnode_modules\n" in text


def test_json_lists_extra_files(tmp_path: Path) -> None:
    context = node_api(tmp_path)
    proc = msdfix(
        "--output-format", "json", "--select", ID, "--unsafe-fixes", str(context / "Dockerfile")
    )
    entry = json.loads(proc.stdout)["files"][0]
    assert entry["changed"] and entry["diff"] == ""
    [extra] = entry["extra_files"]
    assert extra["path"] == str(context / ".dockerignore") and extra["created"]
    assert "node_modules\n" in extra["content"] and extra["diff"].startswith("--- /dev/null")
    fix = next(f for f in entry["fixes"] if f["applied"])
    assert fix["transform"] == ID and fix["edits"] == [] and fix["line"] == 1


def test_sarif_result_on_the_from_line(tmp_path: Path) -> None:
    context = node_api(tmp_path)
    proc = msdfix("--output-format", "sarif", "--select", ID, str(context / "Dockerfile"))
    results = json.loads(proc.stdout)["runs"][0]["results"]
    assert results and all(r["ruleId"] == ID for r in results)
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_stdin_only_suggests(tmp_path: Path) -> None:
    context = node_api(tmp_path)
    proc = msdfix("--context", str(context), "--unsafe-fixes", "-", stdin=NODE_API.encode())
    assert "dockerignore (display-only, not applied)" in proc.stderr.decode()
    assert not (context / ".dockerignore").exists()
    result = run(context, unsafe=True, stdin=True)
    assert result.files == {} and any(f.fix and f.fix.file_changes for f in result.suggestions)


def test_reorder_copy_sees_the_pending_file(tmp_path: Path) -> None:
    """With node_modules excluded, reorder-copy can put the install first in the same run, and
    the written result is a fixed point."""
    context = node_api(tmp_path)
    result = run(context, unsafe=True, select=False)
    assert any(f.transform == "reorder-copy" for f in result.applied), messages(result)
    (context / "Dockerfile").write_text(result.output)
    write(result)
    again = run(context, unsafe=True, select=False)
    assert not again.changed, messages(again)


def test_no_context_and_no_worthwhile_line_change_nothing(tmp_path: Path) -> None:
    assert not rewrite(
        NODE_API, None, BuildContext(None), Settings(frozenset({ID}), unsafe=True)
    ).changed
    (tmp_path / "Dockerfile").write_text(NODE_API)
    (tmp_path / "server.js").write_text("")
    assert not run(tmp_path, unsafe=True).changed  # nothing to keep out: no file for its own sake


def test_unknown_source_declines(tmp_path: Path) -> None:
    context = node_api(tmp_path, "FROM node:20\nARG SRC\nCOPY $SRC /app\nRUN npm ci\n")
    result = run(context, unsafe=True)
    assert not result.changed and "cannot expand" in messages(result)


def test_ignore_pragma_on_from(tmp_path: Path) -> None:
    context = node_api(tmp_path, "# msdfix: ignore[dockerignore]\n" + NODE_API)
    assert not run(context, unsafe=True).changed


@pytest.mark.parametrize(
    "dockerfile, kept",
    [
        ("FROM node:20\nCOPY node_modules/express /app/node_modules/express\n", "node_modules"),
        ("FROM node:20\nCOPY .git/HEAD /version\n", ".git"),
        ("FROM node:20\nCOPY * /app/\n", "node_modules"),
        (
            "FROM node:20\nRUN --mount=type=bind,source=node_modules,target=/m ls /m\n",
            "node_modules",
        ),
        ("FROM node:20 AS a\nCOPY package.json /\nFROM a\nADD node_modules /n\n", "node_modules"),
        ("FROM node:20\nCOPY ./node_modules/*/index.js /x/\n", "node_modules"),
    ],
)
def test_never_excludes_an_explicit_source(tmp_path: Path, dockerfile: str, kept: str) -> None:
    context = node_api(tmp_path, dockerfile)
    result = run(context, unsafe=True)
    write(result)
    assert_copies_kept(context)
    assert f"{kept} kept" in messages(result)


def test_probe_of_a_rule_with_many_unclosed_brackets() -> None:
    """A ``!`` rule's probe path: from every "[" with no "]" after it the class regex scanned to
    the end and failed (quadratic; 300,000 took minutes, a 16 MiB .dockerignore days)."""
    from msdfix.model.dockerignore import Pattern
    from msdfix.transforms.dockerignore.plan import _probe
    from support.deadline import deadline

    brackets = "\\[" * 300_000  # escaped: a literal "[" each
    with deadline():
        assert _probe(Pattern(f"[ab]x{brackets}*", True, "regexp")) == "xx" + "[" * 300_000 + "x"


def test_copy_exclude_flag_makes_node_modules_uncopied(tmp_path: Path) -> None:
    context = node_api(
        tmp_path, "FROM node:20\nCOPY --exclude=node_modules --exclude=.git . /app\n"
    )
    result = run(context, unsafe=False)
    [fix] = result.applied
    assert "node_modules" in fix.message and ".git" in fix.message


def test_python_venv_only_with_an_install(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / "app.py").write_text("")
    (tmp_path / "requirements.txt").write_text("flask\n")
    shipped = 'FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD [".venv/bin/python", "app.py"]\n'
    (tmp_path / "Dockerfile").write_text(shipped)
    assert ".venv kept" in messages(run(tmp_path, unsafe=True))
    installed = shipped.replace("CMD", "RUN pip install -r requirements.txt\nCMD")
    (tmp_path / "Dockerfile").write_text(installed)
    result = run(tmp_path, unsafe=True)
    assert ".venv" in next(iter(result.files.values()))[1].splitlines()


def test_dependencies_a_checkout_may_have_are_judged_as_if_present(tmp_path: Path) -> None:
    """A clean checkout has no node_modules, but a CI job that runs ``npm ci`` before
    ``docker build`` does: with no install in the Dockerfile, ``COPY . .`` ships the app's
    packages, and excluding them is no safe line of the same fix."""
    context = node_api(
        tmp_path, 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n'
    )
    shutil.rmtree(context / "node_modules")
    result = run(context, unsafe=True)
    assert "node_modules kept: COPY . . (line 3) ships it and no RUN installs" in messages(result)
    assert "node_modules" not in next(iter(result.files.values()))[1].splitlines()


@pytest.mark.parametrize(
    "pyproject",
    [
        "[build-system]\nrequires = ['versioningit']\n",
        '[tool.pdm.version]\nsource = "scm"\n',
        "[build-system]\nrequires = ['setuptools-git-versioning']\n",
    ],
)
def test_other_vcs_versioning_keeps_git(tmp_path: Path, pyproject: str) -> None:
    context = node_api(tmp_path, "FROM python:3.12\nCOPY . .\nRUN pip install .\n")
    (context / "pyproject.toml").write_text(pyproject)
    assert ".git kept: pyproject.toml takes the version from git" in messages(run(context, True))


def test_setuptools_scm_keeps_git(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools-scm"]\n')
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nCOPY . /src\nRUN pip install /src\n")
    result = run(tmp_path, unsafe=True)
    assert ".git kept: pyproject.toml takes the version from git" in messages(result)


def test_crlf_and_no_final_newline_are_respected(tmp_path: Path) -> None:
    context = node_api(tmp_path, "FROM node:20\nCOPY server.js /app/\n")
    (context / ".dockerignore").write_bytes(b"a\r\nb")
    [(old, new)] = run(context, unsafe=False).files.values()
    assert old == "a\r\nb" and new.startswith("a\r\nb\r\n") and "\r\n.git\r\n" in new


def test_write_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    from msdfix.files import WriteRefused, write_files

    target = tmp_path / ".dockerignore"
    target.write_text("x\n")
    with pytest.raises(WriteRefused):
        write_files({str(target): (None, ".git\n")})
    with pytest.raises(WriteRefused):
        write_files({str(target): ("y\n", "y\n.git\n")})
    write_files({str(target): ("x\n", "x\n.git\n")})
    assert target.read_text() == "x\n.git\n"


def test_fixture_dirs_exist() -> None:
    assert (FIXTURES / ID).is_dir()


# Paths a developer's checkout often has next to the Dockerfile, created in generated contexts.
EXTRAS = [".git/HEAD", "node_modules/a/index.js", ".venv/bin/python", ".env",
          "__pycache__/m.cpython-312.pyc", "certs/dev.pem", "id_rsa"]  # fmt: skip
_SAMPLE_GLOB = re.compile(r"\[[^\]]*\]|[*?]")


def generated_context(text: str, root: Path, extras: list[str]) -> bool:
    """A context for ``text``: every COPY/ADD/mount source exists (wildcards filled in), plus
    ``extras``; False when a source cannot be made (a variable, ``..``, a URL-like path)."""
    try:
        model = build_model(parse(text))
    except Exception:
        return False
    wanted = set(extras)
    for stage in model.stages:
        for _, source in stage_sources(stage, model):
            if source.unknown:
                return False
            if source.pattern is not None:
                rel = _SAMPLE_GLOB.sub("x", source.pattern.replace("**/", "")).replace("\\", "")
                if rel.startswith("..") or ":" in rel or not rel:
                    return False
                wanted.add(rel)
    root.mkdir(parents=True)
    for rel in sorted(wanted, key=lambda r: (-r.count("/"), r)):
        target = root / rel
        if any(p.is_file() for p in [target, *target.parents] if root in p.parents):
            continue
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x\n")
    (root / "Dockerfile").write_text(text)
    return True


def check_generated(text: str, context: Path, unsafe: bool) -> bool:
    """Run on a generated context: copies kept, safe changes ship nothing new, a second run
    (on the pending ignore file) is a no-op. Returns whether the ignore file changed."""
    result = run(context, unsafe)
    if not result.files:
        return False
    [(_, new)] = result.files.values()
    before = DockerIgnore.for_build(context, context / "Dockerfile")
    after = DockerIgnore.from_text(new)
    assert_copies_kept(context, text, after)
    if not unsafe:  # a safe change never drops what a whole-context COPY ships
        model = build_model(parse(text))
        whole = [s for st in model.stages for _, s in stage_sources(st, model) if s.pattern is None]
        for path in _files(context) if whole else []:
            if any(s.copies(path) for s in whole):
                assert after.excludes(path) == before.excludes(path), path
    pending = PendingIgnore(BuildContext(context, context / "Dockerfile"), new)
    again = rewrite(
        text, str(context / "Dockerfile"), pending, Settings(frozenset({ID}), unsafe=unsafe)
    )
    assert not again.changed, "second run changes the ignore file"
    return True


def test_corpus_with_generated_contexts(corpus, tmp_path: Path) -> None:
    """Every corpus file with a context made from its own COPY sources and the usual clutter:
    nothing copied is excluded, safe changes keep the image's files, a second run is a no-op.
    Counts the files changed (quoted in the README)."""
    counts = {"safe": 0, "unsafe": 0, "contexts": 0}
    for index, path in enumerate(corpus):
        text = path.read_text(encoding="utf-8", errors="strict")
        context = tmp_path / str(index)
        if not generated_context(text, context, EXTRAS):
            continue
        try:
            for unsafe in (False, True):
                counts["unsafe" if unsafe else "safe"] += check_generated(text, context, unsafe)
        except ParseError:
            continue
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from exc
        counts["contexts"] += 1
    COUNTS.update({f"dockerignore (generated contexts):{k}": v for k, v in counts.items()})
    assert counts["safe"] > 0 and counts["unsafe"] >= counts["safe"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_random_clutter_on_corpus_files(corpus, tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    """Any subset of the usual clutter, on any corpus file, safe or unsafe: the same guarantees."""
    path = data.draw(st.sampled_from(corpus))
    extras = data.draw(st.lists(st.sampled_from(EXTRAS), unique=True))
    unsafe = data.draw(st.booleans())
    text = path.read_text(encoding="utf-8")
    context = tmp_path_factory.mktemp("ctx") / "c"
    if generated_context(text, context, extras):
        try:
            check_generated(text, context, unsafe)
        except ParseError:
            pass


@pytest.mark.docker
@pytest.mark.parametrize(
    "existing, only", [(True, False), (False, True)], ids=["all-extended", "alone-created"]
)
def test_node_api_build_with_the_written_file_answers(
    tmp_path: Path, existing: bool, only: bool
) -> None:
    """Must show, built: ``msdfix --write --unsafe-fixes`` on bench/apps/node-api with a host
    checkout's .git and a stale node_modules: the image has neither, and the app answers.
    Alone, the single stage still runs ``COPY . .``: only the .dockerignore keeps them out."""
    from newtransform_support import copy_app, sd, serve_and_get, tag

    sd.require_images("node:18", "node:18-slim")
    app = copy_app("node-api", tmp_path)
    if not existing:
        (app / ".dockerignore").unlink()
    (app / ".git").mkdir()
    (app / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (app / "node_modules" / "stale-host-module").mkdir(parents=True)
    (app / "node_modules" / "stale-host-module" / "index.js").write_text("host\n")
    cli = [sys.executable, "-m", "msdfix", "--write", "--unsafe-fixes", str(app / "Dockerfile")]
    proc = subprocess.run(cli + (["--select", ID] if only else []), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert ("COPY . .\nRUN npm ci\n" in (app / "Dockerfile").read_text()) == only
    rules = DockerIgnore.for_build(app, app / "Dockerfile")
    assert rules.excludes("node_modules") and rules.excludes(".git")
    image = tag("dockerignore-node")
    try:
        built = sd.build(app, tag=image)
        assert built.ok, built.tail()
        body, _ = serve_and_get(image, 3000)
        assert json.loads(body) == {"service": "node-api", "ok": True}
        listing = sd.run(image, "ls -a /usr/src/app /usr/src/app/node_modules", entrypoint="")
        assert ".git" not in listing.stdout.split() and "stale-host-module" not in listing.stdout
        assert "express" in listing.stdout
    finally:
        sd.remove_image(image)


def test_verify_builds_the_rewrite_with_its_new_ignore_file(tmp_path: Path) -> None:
    """``msdfix verify`` builds the rewritten Dockerfile with the rewrite's .dockerignore (as
    ``<Dockerfile>.dockerignore`` beside it, which BuildKit prefers) and the original without."""
    from msdfix.verify.command import msdfix_rewrite
    from msdfix.verify.run import VerifyOptions, _write_dockerfiles

    context = node_api(tmp_path)
    text, ignore = msdfix_rewrite(context / "Dockerfile", context, ID, None, True)
    assert text == NODE_API and ignore is not None and "node_modules\n" in ignore
    opts = VerifyOptions(context / "Dockerfile", context, text, rewritten_ignore=ignore)
    paths = _write_dockerfiles(opts, tmp_path / "verify", NODE_API)
    assert (paths["rewritten"].parent / "Dockerfile.dockerignore").read_text() == ignore
    assert not (paths["original"].parent / "Dockerfile.dockerignore").exists()


def test_siblings_other_dockerfiles_not_templates_or_ignore_files(tmp_path: Path) -> None:
    context = node_api(tmp_path, "FROM node:20\nCOPY server.js /app/\n")
    (context / "Dockerfile.dockerignore.bak").write_text("not a dockerfile {{\n")
    (context / "Dockerfile.j2").write_text("{% if x %}\nFROM node\n")
    (context / "Dockerfile.prod.dockerignore").write_text("x\n")
    (context / "Dockerfile.prod").write_text("FROM node:20\nCOPY .git /git\n")
    (context / "docker").mkdir()
    (context / "docker" / "Dockerfile.ci").write_text("FROM node:20\nCOPY node_modules /m\n")
    result = run(context, unsafe=True)
    [(_, new)] = result.files.values()
    assert ".git\n" in new  # Dockerfile.prod has its own ignore file
    assert "node_modules" not in new.splitlines()  # docker/Dockerfile.ci copies it
    assert "node_modules kept: COPY node_modules /m (line 2) in docker/Dockerfile.ci" in messages(
        result
    )


@pytest.mark.docker
def test_python_api_build_with_the_written_file_answers(tmp_path: Path) -> None:
    """bench/apps/python-fastapi (``COPY . /code`` + ``pip install``) with a checkout's .git, a
    host .env and a stray .pyc: after ``--write --unsafe-fixes`` the image has none of them and
    the app answers."""
    from newtransform_support import copy_app, sd, serve_and_get, tag

    sd.require_images("python:3.12-slim")
    app = copy_app("python-fastapi", tmp_path)
    for rel in (".git/HEAD", ".env", "stray.pyc"):
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text("x\n")
    cli = [sys.executable, "-m", "msdfix", "--write", "--unsafe-fixes", "--select", ID]
    proc = subprocess.run([*cli, str(app / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    image = tag("dockerignore-python")
    try:
        built = sd.build(app, tag=image)
        assert built.ok, built.tail()
        body, _ = serve_and_get(image, 8000)
        assert body
        listing = sd.run(image, "ls -a /code", entrypoint="").stdout.split()
        assert not {".git", ".env", "stray.pyc", "Dockerfile"} & set(listing), listing
        assert {"main.py", "items.py", "requirements.txt"} <= set(listing)
    finally:
        sd.remove_image(image)


def test_many_dockerfiles_sharing_the_ignore_file_decline(tmp_path: Path) -> None:
    """A folder of many Dockerfiles (a monorepo's ``*.Dockerfile``) reading one ignore file is
    declined with a reason: checking what each copies would cost every file all the others."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("TOKEN=x\n")
    for i in range(20):
        (tmp_path / f"app{i}.Dockerfile").write_text("FROM alpine:3.19\nCOPY app.txt /\n")
    (tmp_path / "app.txt").write_text("x\n")
    result = rewrite(
        (tmp_path / "app0.Dockerfile").read_text(),
        str(tmp_path / "app0.Dockerfile"),
        BuildContext(tmp_path, tmp_path / "app0.Dockerfile"),
        Settings(frozenset({"dockerignore"}), unsafe=True),
    )
    assert not result.changed and not result.files
    assert any("20 Dockerfiles share" in f.message for f in result.suggestions)


def test_a_dockerfile_name_cannot_write_lines_of_its_own(tmp_path: Path) -> None:
    """The Dockerfile's own path is added as one literal line, or not at all: a file named
    ``Dockerfile.x<newline>!.env`` wrote an exception that re-included the secrets file."""
    (tmp_path / ".env").write_text("TOKEN=1\n")
    (tmp_path / "package.json").write_text("{}\n")
    name = tmp_path / "Dockerfile.x\n!.env"
    name.write_text('FROM node:18\nWORKDIR /app\nCOPY . .\nCMD ["node", "s.js"]\n')
    ctx = BuildContext(tmp_path, name)
    result = rewrite(name.read_text(), str(name), ctx, Settings(frozenset({ID}), unsafe=True))
    written = [new for _, new in result.files.values()]
    assert written and "**/.env" in written[0]
    assert not any(line.startswith("!") for line in written[0].splitlines())


SECRET_APP = """FROM {base}
WORKDIR /app
COPY app.py ./
{copy}
CMD ["python", "app.py"]
"""


def _secret_app(tmp_path: Path, base: str, copy: str) -> Path:
    context = tmp_path / "svc"
    (context / "deploy" / "tls").mkdir(parents=True)
    (context / "deploy" / "tls" / "server.pem").write_text("cert\n")
    (context / "config" / "default").mkdir(parents=True)
    (context / "config" / "default" / "ca.pem").write_text("cert\n")
    (context / "app.py").write_text("open('tls/server.pem')\n")
    (context / "Dockerfile").write_text(SECRET_APP.format(base=base, copy=copy))
    return context


@pytest.mark.parametrize(
    "base, copy, reason",
    [
        # each broke a real build or app (round 8): the excluded file was read by a COPY
        # msdfix did not see
        ("python:3.12-slim", "ONBUILD COPY . /app", "ONBUILD COPY . /app (line 4)"),
        ("acme/python-onbuild:3.12", "", "the base image acme/python-onbuild:3.12"),
        ("python:3.12-slim", "ARG CONF=config/default\nCOPY ${CONF}/ /etc/app/", "cannot expand"),
    ],
)
def test_an_exclusion_needs_every_reader_of_the_context(
    tmp_path: Path, base: str, copy: str, reason: str
) -> None:
    context = _secret_app(tmp_path, base, copy)
    result = run(context, unsafe=False)
    assert not any("*.pem" in f.message for f in result.applied), messages(result)
    assert reason in messages(result)


def test_a_symlinked_source_keeps_what_it_points_to(tmp_path: Path) -> None:
    """``COPY tls/ ./tls/`` with ``tls -> deploy/tls``: excluding ``**/*.pem`` emptied it."""
    context = _secret_app(tmp_path, "python:3.12-slim", "COPY tls/ ./tls/")
    (context / "tls").symlink_to("deploy/tls")
    assert "**/*.pem kept: COPY tls/ ./tls/ (line 4) copies it" in messages(run(context, True))


def test_dockerfiles_named_with_a_dash_share_the_ignore_file(tmp_path: Path) -> None:
    """``Dockerfile-dev`` ran ``git describe``: the shared .dockerignore must keep .git."""
    context = node_api(tmp_path)
    (context / "Dockerfile-dev").write_text("FROM node:20\nCOPY . .\nRUN git describe\n")
    assert ".git kept: line 3 runs git in Dockerfile-dev" in messages(run(context, True))


@pytest.mark.parametrize(
    "build",
    [
        "dockerfile_inline: |\n        FROM alpine:3.20\n        COPY . /src\n"
        '        CMD ["cat", "/src/.git/HEAD"]',
        "dockerfile: ../tools/version.docker",  # outside the context, not named Dockerfile
    ],
)
def test_a_compose_service_of_the_same_context_shares_the_ignore_file(
    tmp_path: Path, build: str
) -> None:
    """Built for real (round 26): docker/Dockerfile (context .. from its compose file) copies
    index.js only, so .git was a safe exclusion, and the compose file's other service, a
    ``dockerfile_inline`` copying the context, then had no /src/.git/HEAD."""
    context = tmp_path / "app"
    (context / "docker").mkdir(parents=True)
    (context / ".git").mkdir()
    (context / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (context / "index.js").write_text("console.log(1)\n")
    dockerfile = context / "docker/Dockerfile"
    dockerfile.write_text('FROM node:20\nWORKDIR /app\nCOPY index.js .\nCMD ["node", "index.js"]\n')
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools/version.docker").write_text(
        'FROM alpine:3.20\nCOPY . /src\nCMD ["cat", "/src/.git/HEAD"]\n'
    )
    (context / "docker/compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: ..\n      dockerfile: docker/Dockerfile\n"
        f"  version:\n    build:\n      context: ..\n      {build}\n"
    )
    settings = Settings(frozenset({ID}), unsafe=False)
    result = rewrite(
        dockerfile.read_text(), str(dockerfile), BuildContext(context, dockerfile), settings
    )
    assert not any(".git" in new.splitlines() for _, new in result.files.values()), messages(result)
    assert "COPY . /src (line 2) in " in messages(result)


_BIG = "  big{}:\n    build:\n      context: ..\n      dockerfile: big.docker\n"


@pytest.mark.parametrize(
    ("services", "why"),
    [
        ("  v:\n    build:\n      context: ..\n      dockerfile: /dev/zero\n", "outside the"),
        ("  v:\n    build:\n      context: ..\n      dockerfile: /proc/self/environ\n", "outside"),
        ("  v:\n    build:\n      context: ..\n      dockerfile: fifo\n", "cannot read"),
        ("".join(_BIG.format(i) for i in range(6)), "more than 16 MiB in all"),
    ],
    ids=["dev-zero", "environ", "fifo", "many-large"],
)
def test_a_compose_dockerfile_msdfix_does_not_read_is_unknown(
    tmp_path: Path, services: str, why: str
) -> None:
    """A hostile compose file naming the Dockerfile of a service of the same context: /dev/zero
    was read to a MemoryError, a FIFO without end, /proc/self/environ as a Dockerfile, six
    services' 4 MiB Dockerfile six times. Each is unknown now: the .git exclusion declines
    and says why."""
    context = tmp_path / "app"
    (context / "docker").mkdir(parents=True)
    (context / ".git").mkdir()
    (context / "index.js").write_text("console.log(1)\n")
    os.mkfifo(context / "fifo")
    (context / "big.docker").write_text("FROM alpine:3.20\n" + "# x\n" * (1 << 20))
    dockerfile = context / "docker/Dockerfile"
    dockerfile.write_text('FROM node:20\nWORKDIR /app\nCOPY index.js .\nCMD ["node", "index.js"]\n')
    (context / "docker/compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: ..\n      dockerfile: docker/Dockerfile\n"
        + services
    )
    settings = Settings(frozenset({ID}), unsafe=False)
    result = rewrite(
        dockerfile.read_text(), str(dockerfile), BuildContext(context, dockerfile), settings
    )
    assert not result.files, messages(result)
    assert why in messages(result)


def test_a_dockerfile_changed_during_the_run_gets_no_ignore_file_either(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """--write wrote the new .dockerignore, then refused the Dockerfile, which had changed since
    it was read: half a rewrite. Every check that can refuse the write now runs first."""
    from msdfix import cli, runner

    context = node_api(tmp_path)
    dockerfile = context / "Dockerfile"
    real = runner.process

    def edited_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = real(*args, **kwargs)
        dockerfile.write_text(NODE_API + "# edited by someone else\n")
        return report

    monkeypatch.setattr(runner, "process", edited_meanwhile)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--write", "--unsafe-fixes", str(dockerfile)])
    assert exit_info.value.code == 2
    assert "file changed while msdfix was running" in capsys.readouterr().err
    assert not (context / ".dockerignore").exists()
    assert dockerfile.read_text().endswith("# edited by someone else\n")


def test_a_directory_in_the_dockerfiles_place_is_refused_as_such(tmp_path: Path) -> None:
    from msdfix.files import WriteRefused, writable

    (tmp_path / "Dockerfile").mkdir()
    with pytest.raises(WriteRefused, match="no longer a regular file"):
        writable(tmp_path / "Dockerfile")


@pytest.mark.parametrize("name", ["pyproject.toml", "setup.sh"])
def test_a_file_that_cannot_be_read_may_read_git(tmp_path: Path, name: str) -> None:
    """A pyproject.toml (or a script a RUN runs) over 1 MiB read as none, so `.git` was
    ignored although setuptools-scm took the version from it (`pip install` then fails:
    "unable to detect version"). Unreadable is unknown: .git is kept."""
    (tmp_path / ".git").mkdir()
    run_it = "RUN sh setup.sh\n" if name == "setup.sh" else ""
    (tmp_path / "Dockerfile").write_text(
        f"FROM python:3.12\nCOPY . /src\nWORKDIR /src\n{run_it}RUN pip install /src\n"
    )
    text = (
        '[build-system]\nrequires = ["setuptools-scm"]\n'
        if name != "setup.sh"
        else "git describe\n"
    )
    (tmp_path / name).write_text(text + "#\n" * (1 << 19) + "\n")
    result = run(tmp_path, unsafe=True)
    assert (
        f".git kept: {name} is over 1 MiB, so whether the build reads .git is unknown"
        in messages(result)
    )


def test_an_ignore_file_swapped_for_a_link_out_before_the_write_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan refuses a .dockerignore that links out of the context; one swapped for such a
    link (with the same text) between the plan and ``--write`` was extended through it, a
    file outside the repository. Now the write checks again and refuses, with the reason."""
    from msdfix import runner
    from msdfix.cli import main

    context = node_api(tmp_path)
    (context / ".dockerignore").write_text("*.log\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("*.log\n")
    planned = runner.process

    def process(*args: object, **kwargs: object) -> object:
        report = planned(*args, **kwargs)  # type: ignore[arg-type]
        (context / ".dockerignore").unlink()
        (context / ".dockerignore").symlink_to(outside)
        return report

    monkeypatch.setattr(runner, "process", process)
    with pytest.raises(SystemExit) as done:
        main(["-j", "1", "--write", "--select", ID, "--unsafe-fixes", str(context / "Dockerfile")])
    assert done.value.code == 2
    assert outside.read_text() == "*.log\n"


def test_a_file_a_later_copy_from_names_stays_in_the_context(tmp_path: Path) -> None:
    """``COPY . .`` in the build stage, then ``COPY --from=build /app/.env ./``: with ``.env``
    left out of the context that COPY fails ("/app/.env": not found, as built on
    devthigas502/api-aulas' split), so ``**/.env`` is kept, saying which COPY takes it; a
    file the later COPY does not name (``.env.local``) is still excluded."""
    (tmp_path / ".env").write_text("PORT=8080\n")
    (tmp_path / ".env.local").write_text("DEBUG=1\n")
    (tmp_path / "server.js").write_text("console.log(1)\n")
    (tmp_path / "package.json").write_text('{"name": "a", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    (tmp_path / "Dockerfile").write_text(
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
        "FROM node:20-slim\nWORKDIR /app\n"
        'COPY --from=build /app/.env /app/server.js ./\nCMD ["node", "server.js"]\n'
    )
    result = run(tmp_path, unsafe=True)
    written = [new for _, new in result.files.values()]
    assert written and "**/.env.*" in written[0].splitlines()
    assert "**/.env" not in written[0].splitlines()
    assert "COPY --from=build /app/.env /app/server.js ./ (line 7) takes /app/.env" in messages(
        result
    )


@pytest.mark.parametrize(
    ("later", "taken", "fails"),
    [
        # a stage built FROM the copying stage holds its files too (built: "/app/.env" not found)
        ("FROM build AS test\nRUN true\n", "COPY --from=test /app/.env ./", "fails"),
        ("FROM build AS test\nRUN true\n", "COPY --from=1 /app/.env ./", "fails"),
        # a wildcard naming it: the COPY builds, without the file (built: cat .env failed)
        ("", "COPY --from=build /app/.en? ./", "leaves it out"),
    ],
)
def test_a_file_a_later_copy_from_a_descendant_or_a_wildcard_names_stays(
    tmp_path: Path, later: str, taken: str, fails: str
) -> None:
    """The file a ``COPY --from`` takes is kept in the context also where it names a stage
    built FROM the one whose ``COPY . .`` brought it, or names it by a wildcard."""
    (tmp_path / ".env").write_text("PORT=8080\n")
    (tmp_path / ".env.local").write_text("DEBUG=1\n")
    (tmp_path / "app.py").write_text("print(open('.env').read())\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM python:3.12 AS build\nWORKDIR /app\nCOPY . .\n{later}"
        f'FROM python:3.12-slim\nWORKDIR /app\n{taken}\nCMD ["cat", ".env"]\n'
    )
    result = run(tmp_path, unsafe=True)
    written = [new for _, new in result.files.values()]
    assert written and "**/.env.*" in written[0].splitlines()
    assert "**/.env" not in written[0].splitlines()
    assert (
        f"takes /app/.env, which COPY . . (line 3) brings from the context: without it that COPY {fails}"
        in messages(result)
    )


def test_a_later_copy_from_of_the_whole_folder_names_no_file(tmp_path: Path) -> None:
    """``COPY --from=build /app ./`` takes the folder, not a file by name: ``.env`` is left out
    as before, with the check that the app does not read it."""
    (tmp_path / ".env").write_text("PORT=8080\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12 AS build\nWORKDIR /app\nCOPY . .\n"
        'FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=build /app ./\nCMD ["python", "app.py"]\n'
    )
    result = run(tmp_path, unsafe=True)
    written = [new for _, new in result.files.values()]
    assert written and "**/.env" in written[0].splitlines()
