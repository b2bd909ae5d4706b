"""What ``msdfix verify`` reads from a Dockerfile (syntax tree) and which file it edits.

Unit tests on small fake build contexts; no Docker needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from msdfix.model.context import BuildContext
from msdfix.verify.sources import read_build, used_stages
from msdfix.verify.touch import choose_touch_file, role


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def _choose(root: Path, dockerfile: str, files: dict[str, str]):  # type: ignore[no-untyped-def]
    _write(root, {"Dockerfile": dockerfile, **files})
    return choose_touch_file(BuildContext(root, root / "Dockerfile"), dockerfile)


# ---------------------------------------------------------------- sources from the syntax tree
def _patterns(text: str) -> list[str | None]:
    return [s.pattern for s in read_build(text).sources]


def test_escape_directive_json_form_and_heredoc() -> None:
    text = (
        "# escape=`\n"
        "FROM python:3.12 AS base\n"
        "COPY app `\n"
        "     /srv/app/\n"
        'COPY ["src dir/main.py", "lib", "/srv/"]\n'
        "COPY <<EOF /etc/app.conf\n"
        "COPY not-a-source /x\n"
        "EOF\n"
        "COPY --from=python:3.12 /usr/bin/env /tmp/\n"
        "ADD https://example.com/x.tgz /tmp/\n"
        'ADD --chown=1:1 "quoted.py" /srv/\n'
        "RUN --mount=type=bind,source=tools,target=/t sh /t/gen.sh\n"
        "RUN --mount=type=cache,target=/root/.cache pip install flask\n"
    )
    assert _patterns(text) == ["app", "src dir/main.py", "lib", "quoted.py", "tools"]


def test_heredoc_copy_copies_nothing_from_the_context() -> None:
    text = "FROM alpine\nCOPY <<EOF <<EOT /\nEOF\nEOT\nCOPY . /app\n"
    facts = read_build(text)
    assert [s.pattern for s in facts.sources] == [None]  # only COPY . (the whole context)
    assert "line 5" in facts.sources[0].instruction


def test_args_expanded_and_unknown_variables_cover_everything() -> None:
    text = "ARG SVC=api\nFROM node:18\nARG SVC\nCOPY ./${SVC}/ /app/\nCOPY $OTHER /x/\n"
    facts = read_build(text)
    assert [s.pattern for s in facts.sources] == ["api", None]
    assert facts.copied_by("api/server.js") is facts.sources[0]
    assert facts.copied_by("web/index.js") is facts.sources[1]  # unknown: may be anything


@pytest.mark.parametrize(
    "version, ecosystems", [("1" * 200_000, ["python"]), ("1" * 200_000 + "x", [])]
)
def test_entry_program_with_a_long_version_suffix(version: str, ecosystems: list[str]) -> None:
    """``[\\d.]+$`` scanned from every digit of a run to its end, which is not the word's end:
    quadratic (200,000 digits took minutes)."""
    from support.deadline import deadline
    from support.fold import fold

    with deadline():
        facts = read_build(fold(f'FROM alpine\nCMD ["python{version}", "app.py"]\n'))
    assert facts.ecosystems == ecosystems


def test_default_bind_mount_is_the_context() -> None:
    facts = read_build("FROM golang:1.22\nRUN --mount=target=/src go build -C /src ./...\n")
    assert [s.pattern for s in facts.sources] == [None]


def test_only_stages_the_final_image_needs() -> None:
    text = (
        "FROM golang:1.22 AS build\nCOPY cmd/ cmd/\nRUN go build ./cmd/server\n"
        "FROM build AS test\nCOPY tests/ tests/\nRUN go test ./...\n"
        "FROM node:18 AS web\nCOPY web/ web/\n"
        "FROM gcr.io/distroless/static-debian12\nCOPY --from=build /go/bin/server /server\n"
        "COPY --from=web /web/dist /static\n"
        'ENTRYPOINT ["/server"]\n'
    )
    facts = read_build(text)
    assert sorted(s.name for s in used_stages(facts.model)) == ["3", "build", "web"]
    assert _patterns(text) == ["cmd", "web"]
    assert facts.ecosystems == ["go", "node"]
    assert facts.entry_words == ["/server"]


def test_copy_exclude_flag() -> None:
    facts = read_build("FROM node:18\nCOPY --exclude=*.md --exclude=docs . /app\n")
    assert facts.copied_by("server.js") is not None
    assert facts.copied_by("README.md") is None and facts.copied_by("docs/a.js") is None


# ---------------------------------------------------------------- what is never edited
@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("coverage/lcov-report/prettify.js", "coverage output"),
        ("htmlcov/jquery.min.js", "coverage output"),
        ("tests/test_app.py", "test"),
        ("src/app.test.ts", "test"),
        ("pkg/server_test.go", "test"),
        ("conftest.py", "test"),
        ("jest.config.js", "build or tool configuration"),
        (".eslintrc.js", "build or tool configuration"),
        ("vite.config.ts", "build or tool configuration"),
        ("setup.py", "dependency manifest or lock file"),
        ("noxfile.py", "build or tool configuration"),
        ("docs/conf.py", "documentation or example"),
        ("node_modules/x/index.js", "vendored or generated"),
        ("dist/bundle.js", "vendored or generated"),
        (".github/scripts/release.js", "tooling"),
        ("src/types.d.ts", "build or tool configuration"),
        ("src/server.js", None),
        ("app/main.py", None),
        ("cmd/api/main.go", None),
    ],
)
def test_role(rel: str, expected: str | None) -> None:
    assert role(rel) == expected


# ---------------------------------------------------------------- the choice
NODE_FILES = {
    "package.json": '{"scripts": {"test": "jest"}}',
    "package-lock.json": "{}",
    "coverage/lcov-report/prettify.js": "x",
    "coverage/lcov-report/sorter.js": "x",
    "jest.config.js": "x",
    "tests/app.test.js": "x",
    "a.js": "x",
    "src/server.js": "x",
    "src/util.js": "x",
}


def test_node_entry_module_not_coverage_or_test_config(tmp_path: Path) -> None:
    df = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "src/server.js"]\n'
    choice = _choose(tmp_path, df, NODE_FILES)
    assert choice.path == "src/server.js"
    assert "named by the entry command" in choice.reason and "COPY . . (line 3)" in choice.reason
    assert "2 coverage output" in choice.reason and "1 test" in choice.reason
    assert "1 build or tool configuration" in choice.reason


def test_npm_start_script_names_the_entry(tmp_path: Path) -> None:
    files = {**NODE_FILES, "package.json": '{"scripts": {"start": "node lib/app.js"}}'}
    files["lib/app.js"] = "x"
    df = 'FROM node:18\nCOPY . .\nCMD ["npm", "start"]\n'
    assert _choose(tmp_path, df, files).path == "lib/app.js"


def test_python_module_forms(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "fastapi",
        "setup.py": "x",
        "noxfile.py": "x",
        "tests/conftest.py": "x",
        "app/util.py": "x",
        "app/main.py": "x",
        "svc/__init__.py": "",
        "svc/__main__.py": "x",
    }
    df = 'FROM python:3.12\nCOPY . .\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0:8000"]\n'
    assert _choose(tmp_path / "a", df, files).path == "app/main.py"
    df = "FROM python:3.12\nCOPY . .\nCMD python -m svc --port 80\n"
    assert _choose(tmp_path / "b", df, files).path == "svc/__main__.py"
    files["manage.py"] = "x"  # Django's: the app's by name, but gunicorn loads the module
    df = "FROM python:3.12\nCOPY . .\nCMD gunicorn --bind :8000 app.main\n"
    assert _choose(tmp_path / "c", df, files).path == "app/main.py"


def test_go_package_main_found_by_content(tmp_path: Path) -> None:
    files = {
        "go.mod": "module x",
        "internal/db/db.go": "package db\n",
        "cmd/api/api.go": "package main\n\nfunc main() {}\n",
        "tools/gen.go": "package main\n",
    }
    df = (
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /api ./cmd/api\n"
        'FROM gcr.io/distroless/static-debian12\nCOPY --from=build /api /api\nCMD ["/api"]\n'
    )
    choice = _choose(tmp_path, df, files)
    assert choice.path == "cmd/api/api.go"
    assert "a go source that is the app's entry module" in choice.reason


@pytest.mark.parametrize("suffix,main", [(".rs", "pub fn main() {"), (".kt", "  fun main() {")])
def test_main_markers_after_a_long_run_of_blank_lines(suffix: str, main: str) -> None:
    """From every line start the marker's ``^\\s*`` ran over all the blank lines below:
    quadratic (300,000 blank lines took minutes)."""
    from msdfix.verify.touch import MAIN_MARKER
    from support.deadline import deadline

    blank = "\n" * 300_000
    with deadline():
        assert MAIN_MARKER[suffix].search(f"{blank}{main}\n}}\n{blank}") is not None
        assert MAIN_MARKER[suffix].search(f"{blank}fn helper() {{}}\n{blank}") is None


def test_app_language_beats_an_entry_script(tmp_path: Path) -> None:
    files = {"entrypoint.sh": "exec python app.py", "app.py": "x", "lib/helpers.py": "x"}
    df = 'FROM python:3.12-slim\nCOPY . /srv\nENTRYPOINT ["/srv/entrypoint.sh"]\n'
    assert _choose(tmp_path, df, files).path == "app.py"


def test_build_scripts_only_when_nothing_else(tmp_path: Path) -> None:
    files = {"build.sh": "x", "www/app.js": "x", "www/index.html": "x"}
    df = 'FROM alpine:3.20\nWORKDIR /app\nCOPY . .\nRUN sh build.sh\nCMD ["httpd", "-f"]\n'
    assert _choose(tmp_path / "a", df, files).path == "www/app.js"
    choice = _choose(tmp_path / "b", df, {"build.sh": "x"})
    assert choice.path == "build.sh" and "also run by a RUN" in choice.reason


def test_only_files_the_build_copies(tmp_path: Path) -> None:
    files = {"app/main.py": "x", "tools/gen.py": "x", "main.py": "x", "requirements.txt": "x"}
    df = "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    df += 'COPY app/ app/\nCMD ["python", "-m", "app"]\n'
    assert _choose(tmp_path, df, files).path == "app/main.py"


def test_unused_stage_sources_are_not_candidates(tmp_path: Path) -> None:
    files = {"src/index.js": "x", "e2e_runner.js": "x"}
    df = (
        "FROM node:18 AS base\nCOPY src/ src/\n"
        "FROM base AS checks\nCOPY e2e_runner.js .\nRUN node e2e_runner.js\n"
        'FROM base\nCMD ["node", "src/index.js"]\n'
    )
    assert _choose(tmp_path, df, files).path == "src/index.js"


def test_dockerignored_and_symlinked_files_are_not_edited(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside", {"real.py": "x"})
    ctx = tmp_path / "ctx"
    files = {".dockerignore": "secret_main.py\n", "secret_main.py": "x", "zz_util.py": "x"}
    _write(ctx, files)
    os.symlink(outside / "real.py", ctx / "main.py")
    df = 'FROM python:3.12\nCOPY . .\nCMD ["python", "main.py"]\n'
    assert _choose(ctx, df, {}).path == "zz_util.py"


def test_per_dockerfile_ignore_file_is_used(tmp_path: Path) -> None:
    df = 'FROM python:3.12\nCOPY . .\nCMD ["python", "app.py"]\n'
    _write(tmp_path, {"app.py": "x", "other.py": "x", "Dockerfile.dockerignore": "app.py\n"})
    assert _choose(tmp_path, df, {}).path == "other.py"


def test_nothing_to_edit_is_explained(tmp_path: Path) -> None:
    files = {"requirements.txt": "x", "setup.py": "x"}
    choice = _choose(tmp_path, "FROM python:3.12\nCOPY . .\n", files)
    assert choice.path is None
    assert choice.reason.startswith("no python file that the final image's build copies")
    assert "1 dependency manifest or lock file" in choice.reason
