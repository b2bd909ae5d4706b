"""The command-line contract: exit codes, stdin, --write, --check, config, pragmas, JSON."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PIP_DOCKERFILE = "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"
CLEAN_DOCKERFILE = 'FROM alpine:3.19\nCMD ["true"]\n'


def msdfix(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict | None = None
):
    full_env = {**os.environ, "NO_COLOR": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=full_env,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(PIP_DOCKERFILE)
    return tmp_path


def test_dry_run_prints_diff_and_exits_1(project: Path) -> None:
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("--- Dockerfile\n+++ Dockerfile\n")
    assert (
        "+RUN --mount=type=cache,target=/root/.cache/pip \\\n+    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n+    pip install flask"
        in out
    )
    assert "cache-mount" in proc.stderr.decode()
    assert (project / "Dockerfile").read_text() == PIP_DOCKERFILE


def test_clean_file_exits_0(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    proc = msdfix(str(tmp_path / "Dockerfile"))
    assert proc.returncode == 0 and proc.stdout == b""


def test_write_rewrites_atomically_keeping_mode(project: Path) -> None:
    path = project / "Dockerfile"
    path.chmod(0o640)
    proc = msdfix("--write", "Dockerfile", cwd=project)
    assert proc.returncode == 0
    assert "--mount=type=cache" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in project.iterdir()] == ["Dockerfile"]
    assert msdfix("--check", "Dockerfile", cwd=project).returncode == 0


def test_check_lists_files_and_exits_1(project: Path) -> None:
    proc = msdfix("--check", ".", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.decode() == "would rewrite Dockerfile\n"


def test_crlf_is_kept_on_write(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(PIP_DOCKERFILE.replace("\n", "\r\n").encode())
    assert msdfix("--write", str(path)).returncode == 0
    data = path.read_bytes()
    assert b"--mount=type=cache" in data
    assert data.count(b"\r\n") == data.count(b"\n")


def test_stdin_to_stdout() -> None:
    proc = msdfix("-", stdin=PIP_DOCKERFILE.encode())
    assert proc.returncode == 0
    assert proc.stdout.decode() == (
        "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n    pip install flask\n"
    )


def test_stdin_check_mode() -> None:
    assert msdfix("--check", "-", stdin=PIP_DOCKERFILE.encode()).returncode == 1
    assert msdfix("--check", "-", stdin=CLEAN_DOCKERFILE.encode()).returncode == 0


def test_directory_discovery_skips_vendored_dirs(tmp_path: Path) -> None:
    for rel in ["Dockerfile", "svc/api.Dockerfile", "svc/Dockerfile.prod", "web/Containerfile",
                "node_modules/x/Dockerfile", ".git/Dockerfile", "README.md"]:  # fmt: skip
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PIP_DOCKERFILE)
    proc = msdfix("--check", str(tmp_path))
    lines = proc.stdout.decode().splitlines()
    listed = sorted(line.split(" ", 2)[2] for line in lines if line.startswith("would rewrite "))
    names = sorted(str(Path(p).relative_to(tmp_path)) for p in listed)
    assert names == ["Dockerfile", "svc/Dockerfile.prod", "svc/api.Dockerfile", "web/Containerfile"]


def test_directory_search_skips_buildkit_ignore_files(tmp_path: Path) -> None:
    """``Dockerfile.dockerignore`` is BuildKit's ignore file for ``Dockerfile``, not a
    Dockerfile: it was read as one and failed every run over the folder (exit 2)."""
    (tmp_path / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "Dockerfile.dockerignore").write_text(".git\nnode_modules\n")
    (tmp_path / "api.Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "api.Dockerfile.dockerignore").write_text(".git\n")
    proc = msdfix("--check", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr.decode()
    assert proc.stdout.decode() == "would rewrite Dockerfile\nwould rewrite api.Dockerfile\n"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"FROM alpine\nRUN <<EOF\necho\n", "unterminated heredoc"),
        (b"FROM alpine\nFORM x\n", "unknown instruction"),
        (b"FROM alpine\n\xff\xfe\n", "not valid UTF-8"),
        (b"\x7fELF\x00\x00", "binary file"),
    ],
)
def test_bad_input_is_one_line_with_location_and_exit_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_bytes(content)
    good = tmp_path / "ok.Dockerfile"
    good.write_text(PIP_DOCKERFILE)
    proc = msdfix(str(bad), str(good))
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.decode().splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:") and message in errors[0]
    assert "+RUN --mount" in proc.stdout.decode()  # the other file was still processed


def test_error_line_number_points_at_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n\nRUN true\nFORM x\n")
    assert f"{path}:4: error: unknown instruction" in msdfix(str(path)).stderr.decode()


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    proc = msdfix(str(tmp_path / "nope"), str(tmp_path))
    assert proc.returncode == 2
    assert "nope:1: error: no such file or directory" in proc.stderr.decode()


def test_a_directory_without_dockerfiles_is_nothing_to_do(tmp_path: Path) -> None:
    """As ruff and black: a repository without Dockerfiles passes a fleet's CI run, with a
    warning once; beside another path it adds nothing."""
    (tmp_path / "empty").mkdir()
    proc = msdfix(str(tmp_path / "empty"))
    assert proc.returncode == 0 and proc.stdout == b""
    assert proc.stderr.decode() == "warning: no Dockerfiles found under the given paths\n"
    assert msdfix("--quiet", str(tmp_path / "empty")).stderr == b""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(PIP_DOCKERFILE)
    proc = msdfix(str(tmp_path / "empty"), str(tmp_path / "app"))
    assert proc.returncode == 1 and b"warning" not in proc.stderr


def test_templates_are_not_searched(tmp_path: Path) -> None:
    """``Dockerfile.j2`` and its kind are a generator's input: directory search leaves them
    out; named on the command line, they are read."""
    template = "FROM python:3.12\n{% if dev %}\nRUN pip install -r dev.txt\n{% endif %}\n"
    for name in ("Dockerfile.j2", "Dockerfile.tmpl", "api.Dockerfile.in", "Dockerfile.template"):
        (tmp_path / name).write_text(template)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    proc = msdfix(str(tmp_path))
    assert (
        proc.returncode == 0 and b"error" not in proc.stderr and b"Dockerfile." not in proc.stderr
    )
    named = msdfix(str(tmp_path / "Dockerfile.j2"))
    assert named.returncode == 2 and b"Dockerfile.j2:2: error" in named.stderr


def test_documents_and_pictures_of_a_dockerfile_are_not_searched(tmp_path: Path) -> None:
    """``Dockerfile.md`` (notes about the Dockerfile, at the root of hundreds of public
    repositories, under ``docs/`` of dozens) and ``Dockerfile.png`` (a screenshot) were read
    as Dockerfiles by directory search: a parse or "binary file" error, exit 2, in every
    CI run over such a repository. Named on the command line, they are still read."""
    (tmp_path / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "docs").mkdir()
    notes = "# Our Dockerfile\n\nIt installs flask:\n\n```dockerfile\nFROM python:3.12\n```\n"
    (tmp_path / "docs" / "Dockerfile.md").write_text(notes)
    (tmp_path / "Dockerfile.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    proc = msdfix("--check", str(tmp_path))
    assert proc.returncode == 1 and b"error" not in proc.stderr, proc.stderr
    assert proc.stdout.decode() == f"would rewrite {tmp_path / 'Dockerfile'}\n"
    named = msdfix("--check", str(tmp_path / "docs" / "Dockerfile.md"))
    assert named.returncode == 2 and b"Dockerfile.md:3: error: unknown instruction" in named.stderr


def test_other_formats_named_like_a_dockerfile_are_searched_only_when_they_are_one(
    tmp_path: Path,
) -> None:
    """``.github/workflows/dockerfile.yaml`` (zulip/docker-zulip, 35 repositories of the code
    index; ``dockerfile.yml`` 136), a compose file or a build script named ``Dockerfile.yml``
    or ``Dockerfile.sh`` was read as a Dockerfile by directory search: "unknown
    instruction", exit 2, in every CI run. Some repositories name their real Dockerfile so:
    it is still found when it starts like one (``FROM``/``ARG`` after comments), and a file
    named on the command line is read whatever it holds."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "dockerfile.yaml").write_text("---\nname: Dockerfile\non: [push]\n")
    (tmp_path / "Dockerfile.sh").write_text("#!/bin/sh\ndocker build -t app .\n")
    (tmp_path / "Dockerfile.json").write_text('{"FROM": "python"}\n')
    (tmp_path / "Dockerfile.yml").write_text("# misnamed\n\n" + PIP_DOCKERFILE)
    (tmp_path / "Dockerfile.txt").write_bytes(("ARG V=3.12\n" + PIP_DOCKERFILE).encode("utf-16"))
    proc = msdfix("--check", ".", cwd=tmp_path)
    assert proc.returncode == 1 and b"error" not in proc.stderr, proc.stderr
    assert proc.stdout.decode() == "would rewrite Dockerfile.txt\nwould rewrite Dockerfile.yml\n"
    named = msdfix("--check", str(workflows / "dockerfile.yaml"))
    assert named.returncode == 2 and b"error: unknown instruction: ---" in named.stderr


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_directory_search_reports_a_utf32_dockerfile(tmp_path: Path, codec: str) -> None:
    """A UTF-32 Dockerfile.txt starting with FROM was skipped by directory search (its
    byte-order mark was read as UTF-16's); BuildKit strips a UTF-8 mark only and refuses it,
    and msdfix names it with the one-line error it gives the file named on the command line."""
    bom = {"utf-32-le": b"\xff\xfe\x00\x00", "utf-32-be": b"\x00\x00\xfe\xff"}[codec]
    (tmp_path / "Dockerfile.txt").write_bytes(bom + PIP_DOCKERFILE.encode(codec))
    proc = msdfix("--check", ".", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert b"Dockerfile.txt:1: error: UTF-32 text is not supported" in proc.stderr


def test_a_gitignore_with_a_bom_ignores_its_first_line_too(tmp_path: Path) -> None:
    """git skips a UTF-8 byte-order mark at the start of a ``.gitignore`` (Windows editors
    write one); its first pattern was read with the mark in front and ignored nothing."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_bytes(b"\xef\xbb\xbfbuild/\r\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "Dockerfile").write_text(PIP_DOCKERFILE)
    proc = msdfix("--check", ".", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.decode().startswith("would rewrite Dockerfile\n")
    assert "build/Dockerfile" not in proc.stdout.decode()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_permission_denied(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    path = tmp_path / "Dockerfile"
    path.write_text(PIP_DOCKERFILE)
    path.chmod(0)
    assert msdfix(str(path)).returncode == 2


def test_unreadable_path_is_that_files_error_not_a_usage_error(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A PATH the OS will not let msdfix read (``os.access`` says no, ``open`` fails) is that
    file's one-line error and the other PATHs still run: click's readable check made it a
    three-line usage error that processed no file (hidden here, as root reads anything)."""
    from msdfix import cli, files

    denied = tmp_path / "denied" / "Dockerfile"
    denied.parent.mkdir()
    denied.write_text(PIP_DOCKERFILE)
    other = tmp_path / "other"
    other.mkdir()
    (other / "Dockerfile").write_text(PIP_DOCKERFILE.replace("flask", "django"))
    real_access, real_open = os.access, files.os.open

    def access(path, mode, *args, **kwargs):  # as for a user without read permission
        return str(path) not in (str(denied), str(other)) and real_access(
            path, mode, *args, **kwargs
        )

    def opener(path, *args, **kwargs):
        if str(path) == str(denied):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(files.os, "open", opener)
    with pytest.raises(SystemExit) as exc:
        cli.main(["-j", "1", str(denied), str(other)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert f"{denied}:1: error: permission denied" in err.splitlines()
    assert "Usage:" not in err and "django" in out


def test_unreadable_file_reports_permission_denied(tmp_path: Path, monkeypatch) -> None:
    from msdfix import files

    path = tmp_path / "Dockerfile"
    path.write_text(PIP_DOCKERFILE)

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "open", deny)
    with pytest.raises(files.InputError, match="permission denied"):
        files.read(path)


def test_large_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n" + "# padding\n" * 600_000)
    proc = msdfix(str(path))
    assert proc.returncode == 2 and "larger than 5 MB" in proc.stderr.decode()


def test_json_output(project: Path) -> None:
    proc = msdfix("--output-format", "json", "Dockerfile", cwd=project)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    (entry,) = data["files"]
    assert entry["path"] == "Dockerfile" and entry["changed"] is True
    (fix,) = [f for f in entry["fixes"] if f["applied"]]  # others: suggestions not applied
    assert fix["transform"] == "cache-mount" and fix["applicability"] == "safe" and fix["applied"]
    assert fix["line"] == 2 and fix["edits"] and entry["diff"].startswith("--- Dockerfile")


def test_json_lists_explanations_as_notes_without_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.12\nARG API_TOKEN=abc\nRUN pip install flask\n")
    data = json.loads(msdfix("--output-format", "json", str(path)).stdout)
    (entry,) = data["files"]
    (note,) = [n for n in entry["notes"] if n["transform"] == "build-secrets"]
    assert set(note) == {"transform", "title", "message", "line", "end_line"}
    assert note["line"] == 2 and "left as it is" in note["message"]
    assert all(f["edits"] or f["transform"] == "dockerignore" for f in entry["fixes"])
    sarif = json.loads(msdfix("--output-format", "sarif", str(path)).stdout)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "build-secrets"]
    assert result["kind"] == "informational" and result["level"] == "none"
    assert "fixes" not in result and "properties" not in result


def test_select_and_ignore(project: Path) -> None:
    assert msdfix("--ignore", "cache-mount", "Dockerfile", cwd=project).returncode == 0
    assert msdfix("--select", "cache-mount", "Dockerfile", cwd=project).returncode == 1
    proc = msdfix("--select", "no-such-transform", "Dockerfile", cwd=project)
    assert proc.returncode == 2 and "unknown transform" in proc.stderr.decode()


def test_config_file_and_flags_win(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.msdfix]\nignore = ["cache-mount"]\n')
    assert msdfix("Dockerfile", cwd=project).returncode == 0
    assert (
        msdfix("--select", "cache-mount", "--ignore", "", "Dockerfile", cwd=project).returncode == 1
    )
    (project / ".msdfix.toml").write_text("select = ['cache-mount']\n")
    assert msdfix("Dockerfile", cwd=project).returncode == 1


def test_exit_non_zero_on_fix(project: Path) -> None:
    """ruff's flag, for pre-commit's fix hook: exit 1 when a file was written, 0 when not."""
    proc = msdfix("--write", "--exit-non-zero-on-fix", "Dockerfile", cwd=project)
    assert proc.returncode == 1 and "rewritten" in proc.stderr.decode()
    assert msdfix("--write", "--exit-non-zero-on-fix", "Dockerfile", cwd=project).returncode == 0
    assert msdfix("--write", "Dockerfile", cwd=project).returncode == 0


def test_a_file_named_twice_is_processed_once(project: Path) -> None:
    """Overlapping PATHs (``msdfix . Dockerfile``, ``Dockerfile ./Dockerfile``) processed a file
    once per name: "3 of 3 files", three reports, duplicate SARIF results. ruff and black
    process each file once."""
    proc = msdfix("--check", "Dockerfile", "./Dockerfile", ".", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.decode() == "would rewrite Dockerfile\n"
    proc = msdfix("--output-format", "json", "Dockerfile", ".", cwd=project)
    assert [f["path"] for f in json.loads(proc.stdout)["files"]] == ["Dockerfile"]


def test_each_file_gets_its_own_folders_configuration(tmp_path: Path) -> None:
    """The nearest configuration of each file applies, as in ruff and ``msdfix verify``: the
    first PATH's applied to every file, so ``a``'s ``ignore`` silenced ``b`` or not depending
    on the order pre-commit passed the names in."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "a" / ".msdfix.toml").write_text('ignore = ["cache-mount"]\n')
    (tmp_path / "b" / "legacy").mkdir()
    (tmp_path / "b" / "legacy" / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.msdfix]\nextend-exclude = ["legacy/"]\n')
    for args in (["a/Dockerfile", "b/Dockerfile"], ["b/Dockerfile", "a/Dockerfile"], ["."]):
        proc = msdfix("--check", *args, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr.decode()
        assert proc.stdout.decode().replace("./", "") == "would rewrite b/Dockerfile\n", args
    (tmp_path / "link").symlink_to(tmp_path / "a")  # searched where the link leads
    assert msdfix("--check", "link/Dockerfile", cwd=tmp_path).returncode == 0
    (tmp_path / "b" / ".msdfix.toml").write_text('select = ["nope"]\n')
    proc = msdfix("--check", "a/Dockerfile", "b/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert "b/Dockerfile:1: error: configuration: " in proc.stderr.decode()
    assert "unknown transform id(s) nope" in proc.stderr.decode()


@pytest.mark.parametrize(
    ("shell", "code", "said"),
    [
        ('mkdir gone && cd gone && rmdir ../gone && exec "$@"', 2, "current directory no "),
        ('exec "$@" >&-', 1, "would be rewritten"),  # stdout closed by the shell
    ],
    ids=["deleted-cwd", "closed-stdout"],
)
def test_a_run_without_a_cwd_or_a_stdout_is_no_internal_error(
    project: Path, shell: str, code: int, said: str
) -> None:
    """Both were exit 123 ("a bug in msdfix"): a current directory deleted under the shell
    (FileNotFoundError; ruff refuses to run there too) and a closed stdout (None in Python)."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    absolute = os.pathsep.join(os.path.abspath(p) for p in paths if p)  # Python needs a cwd
    proc = subprocess.run(
        ["sh", "-c", shell, "sh", sys.executable, "-m", "msdfix.cli", str(project / "Dockerfile")],
        cwd=project,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": absolute},
        timeout=60,
    )
    err = proc.stderr.decode()
    assert proc.returncode == code and said in err and "internal error" not in err, err


def test_a_closed_stdin_is_an_empty_input_not_an_internal_error(project: Path) -> None:
    """``msdfix - <&-``: Python's stdin is None, and reading it was exit 123 ("a bug")."""
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "msdfix.cli", "-"],
        cwd=project,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.decode() == "-:1: error: empty file\n"


@pytest.mark.parametrize(
    ("text", "line"), [('select = ["cache-mount"]\nignore = \n', 2), ("select = [\n\n", 2)]
)
def test_a_toml_syntax_error_names_its_line(project: Path, text: str, line: int) -> None:
    """Like every other configuration error: ``path:line: ...`` (it was ``path: Invalid value
    (at line 2, column 10)``; "at end of document" is the last line)."""
    (project / ".msdfix.toml").write_text(text)
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 2
    assert f"Error: {project / '.msdfix.toml'}:{line}: " in proc.stderr.decode()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_another_users_config_in_a_folder_anyone_may_write_is_refused(tmp_path: Path) -> None:
    """``/tmp/.msdfix.toml`` written by another user applied to every project below /tmp:
    ``unsafe-fixes = true`` made ``--write`` apply unsafe fixes without a word."""
    shared = tmp_path / "shared"
    (shared / "app").mkdir(parents=True)
    shared.chmod(0o1777)
    (shared / "app" / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
        'CMD ["python", "/app/app.py"]\n'
    )
    (shared / "app" / "requirements.txt").write_text("flask\n")
    (shared / "app" / "app.py").write_text("print(1)\n")
    (shared / ".msdfix.toml").write_text("unsafe-fixes = true\n")
    ok = msdfix("app/Dockerfile", cwd=shared)
    assert ok.returncode == 1 and "non-root, " in ok.stderr.decode()  # root's own file applies
    os.chown(shared / ".msdfix.toml", 1234, 1234)
    proc = msdfix("app/Dockerfile", cwd=shared)
    assert proc.returncode == 2, proc.stderr.decode()
    assert (
        f"{shared / '.msdfix.toml'}: owned by user 1234 in {shared}, a folder anyone may write"
    ) in proc.stderr.decode()
    (shared / ".msdfix.toml").unlink()  # another's pyproject.toml without [tool.msdfix]:
    (shared / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no settings
    os.chown(shared / "pyproject.toml", 1234, 1234)
    assert msdfix("app/Dockerfile", cwd=shared).returncode == 1
    (shared / "pyproject.toml").write_text("[tool.msdfix]\nunsafe-fixes = true\n")
    assert msdfix("app/Dockerfile", cwd=shared).returncode == 2
    shared.chmod(0o755)  # a checkout owned by someone else (a mounted volume) still applies
    assert msdfix("app/Dockerfile", cwd=shared).returncode == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_link_to_another_users_config_in_a_folder_anyone_may_write_is_refused(
    project: Path, tmp_path: Path
) -> None:
    """The project's .msdfix.toml, a link to another user's file in a folder anyone may write
    (/tmp), was applied: only the link's own folder was looked at."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "msdfix.toml").write_text("unsafe-fixes = true\n")
    (project / ".msdfix.toml").symlink_to(shared / "msdfix.toml")
    assert msdfix("Dockerfile", cwd=project).returncode != 2  # root's own file applies
    os.chown(shared / "msdfix.toml", 1234, 1234)
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 2, proc.stderr.decode()
    assert f"owned by user 1234 in {shared}, a folder anyone may write" in proc.stderr.decode()
    shared.chmod(0o755)  # another's file in a folder only its owner writes still applies
    assert msdfix("Dockerfile", cwd=project).returncode != 2


def test_bad_config_is_a_usage_error(project: Path) -> None:
    (project / ".msdfix.toml").write_text("colour = 'red'\n")
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 2 and "unknown option" in proc.stderr.decode()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "# ids\nselect = [{}]\n",
            ".msdfix.toml:2: unknown transform id(s) x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 "
            "and 49,990 more; known: ",
        ),
        (
            "{}\n",
            ".msdfix.toml:1: unknown option(s) x0, x1, x10, x100, x1000, x10000, x10001, "
            "x10002, x10003, x10004 and 49,990 more; expected ",
        ),
    ],
)
def test_config_errors_name_their_line_and_count_long_lists(
    project: Path, config: str, expected: str
) -> None:
    """An unknown transform id of a configuration was reported without its file, and every
    unknown name was listed: 50,000 of them made one error line of hundreds of kilobytes."""
    names = [f"x{i}" for i in range(50_000)]
    body = (
        ", ".join(f'"{n}"' for n in names)
        if "select" in config
        else "\n".join(f"{n} = 1" for n in names)
    )
    (project / ".msdfix.toml").write_text(config.replace("{}", body))
    proc = msdfix("Dockerfile", cwd=project)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and expected in err and len(err) < 1000, err


def test_config_nested_too_deep_is_a_usage_error(project: Path) -> None:
    (project / ".msdfix.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 2 and ".msdfix.toml" in proc.stderr.decode()
    assert ".msdfix.toml: nested too deep to read" in proc.stderr.decode()


def test_a_config_key_of_thousands_of_parts_is_nested_too_deep(project: Path) -> None:
    """``[a.a.a...]``: tomllib takes time quadratic in a dotted key's parts (1 MiB of them,
    about 4 minutes); a key of more than 1,000 parts is tables nested too deep."""
    (project / "pyproject.toml").write_text("[" + ".".join(["a"] * 2000) + "]\nx = 1\n")
    proc = msdfix("Dockerfile", cwd=project)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "pyproject.toml: nested too deep to read" in err, err


def test_a_pyproject_that_is_not_utf8_names_its_line(project: Path) -> None:
    """A pyproject.toml saved as UTF-16 (or with a stray byte) gave Python's codec message,
    which names a byte position and no line: the error names the line and the byte."""
    (project / "pyproject.toml").write_bytes(b'[project]\nname = "a\xff"\n')
    proc = msdfix("Dockerfile", cwd=project)
    assert proc.returncode == 2
    assert "pyproject.toml:2: not valid UTF-8 (byte 0xff)" in proc.stderr.decode()


def test_context_files_nested_too_deep_are_unreadable_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "x"]\n'
    )
    (tmp_path / "package.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = msdfix(str(tmp_path / "Dockerfile"))
    assert proc.returncode == 1, proc.stderr.decode()
    assert "package.json could not be read" in proc.stderr.decode()


def test_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM python:3.12\n# msdfix: ignore[cache-mount]\nRUN pip install a\nRUN pip install b\n"
    )
    out = msdfix(str(path)).stdout.decode()
    assert (
        "+RUN --mount=type=cache,target=/root/.cache/pip \\\n+    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n+    pip install b"
        in out
    )
    assert "pip install a" not in out.replace(" pip install a\n", "")
    path.write_text("FROM python:3.12\nRUN pip install a\n# msdfix: ignore-file\n")
    assert msdfix(str(path)).returncode == 0


def test_internal_error_exits_123_and_writes_nothing(project: Path, monkeypatch, capsys) -> None:
    from msdfix import cli, engine, runner

    def broken(*args, **kwargs):
        raise engine.InternalError("rewrite is not stable")

    monkeypatch.setattr(runner, "rewrite", broken)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--write", str(project / "Dockerfile")])
    assert exc.value.code == 123
    assert (project / "Dockerfile").read_text() == PIP_DOCKERFILE
    assert "internal error" in capsys.readouterr().err


def test_color_only_when_asked(project: Path) -> None:
    plain = msdfix("Dockerfile", cwd=project).stdout.decode()
    assert "\x1b[" not in plain
    colored = msdfix("--color", "Dockerfile", cwd=project).stdout.decode()
    assert "\x1b[" in colored
    assert "\x1b[" not in msdfix("Dockerfile", cwd=project, env={"NO_COLOR": "1"}).stdout.decode()


def test_list_explain_version() -> None:
    assert "cache-mount" in msdfix("--list-transforms").stdout.decode()
    explained = msdfix("--explain", "cache-mount").stdout.decode()
    for section in ("What it does", "Why", "Example", "Fix safety"):
        assert section in explained
    assert msdfix("--explain", "nope").returncode == 2
    assert msdfix("--version").stdout.decode().startswith("msdfix, version")


def test_usage_error_exit_2() -> None:
    assert msdfix("--write", "--check", ".").returncode == 2
    assert msdfix("--no-such-flag").returncode == 2


def test_quiet_hides_summary(project: Path) -> None:
    assert msdfix("-q", "Dockerfile", cwd=project).stderr == b""


def test_no_path_means_the_current_directory(project: Path) -> None:
    proc = msdfix("--check", cwd=project)
    assert proc.returncode == 1 and proc.stdout.decode().startswith("would rewrite Dockerfile\n")
    assert "build/Dockerfile" not in proc.stdout.decode()


def test_summary_explains_what_was_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM golang:1.22\nCOPY . .\nRUN go mod download\nCMD ["go", "run", "."]\n')
    err = msdfix("--select", "cache-mount", str(path)).stderr.decode()
    assert "cache-mount (left unchanged): go runs at container start" in err
    assert f"{path}: left unchanged\n" in err  # explanations only: no suggestion to apply


def test_closing_line_counts_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "b.Dockerfile").write_text(CLEAN_DOCKERFILE)
    err = msdfix(str(tmp_path), str(tmp_path / "missing")).stderr.decode().splitlines()
    closing = [line for line in err if not line.startswith("hint: ")]
    assert closing[-1] == "1 of 3 files would be rewritten, 1 with errors"
    assert err[err.index(closing[-1]) + 1] == "hint: run with --write to apply the changes"


def test_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "docker" / "Dockerfile.real"
    real.parent.mkdir()
    real.write_text(PIP_DOCKERFILE)
    link = tmp_path / "Dockerfile"
    link.symlink_to(real)
    assert msdfix("--write", str(link)).returncode == 0
    assert link.is_symlink() and "--mount=type=cache" in real.read_text()


# --- hardening (issue 11) ---


def test_argument_less_instruction_is_a_parse_error_not_a_crash() -> None:
    proc = msdfix("-", stdin=b'FROM alpine:3.19\nWORKDIR\nCMD ["sh"]\n')
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines() == [
        "-:2: error: WORKDIR requires exactly one argument"
    ]
    assert proc.stdout == b""


def test_file_without_from_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("ARG VERSION=1\n# no stage\n")
    proc = msdfix(str(path))
    assert proc.returncode == 2
    assert f"{path}:1: error: dockerfile contains no stages to build" in proc.stderr.decode()


def test_uncaught_exception_in_rendering_is_exit_123_and_others_go_on(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from msdfix import cli, runner

    (tmp_path / "a.Dockerfile").write_text(PIP_DOCKERFILE)
    (tmp_path / "b.Dockerfile").write_text(PIP_DOCKERFILE.replace("flask", "django"))
    real = runner.unified_diff

    def flaky(before: str, after: str, path: str, edits: object = None) -> str:
        if path.endswith("a.Dockerfile"):
            raise KeyError("boom")
        return real(before, after, path)

    monkeypatch.setattr(runner, "unified_diff", flaky)
    with pytest.raises(SystemExit) as exc:
        cli.main([str(tmp_path)])
    assert exc.value.code == 123
    out, err = capsys.readouterr()
    assert "django" in out  # the other file was still processed
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert errors == [
        f"{tmp_path / 'a.Dockerfile'}:1: error: internal error: KeyError: 'boom' "
        "(this is a bug in msdfix; nothing was written)"
    ]
    assert "Traceback" not in err


def test_uncaught_exception_outside_files_is_one_line_and_123(
    project: Path, monkeypatch, capsys
) -> None:
    from msdfix import cli
    from msdfix.render import report

    def broken(*args, **kwargs):
        raise RuntimeError("renderer\nexploded")

    monkeypatch.setattr(report, "json_text", broken)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--output-format", "json", str(project / "Dockerfile")])
    assert exc.value.code == 123
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        "msdfix: error: internal error: RuntimeError: renderer exploded "
        "(this is a bug in msdfix; nothing was written)"
    )


def test_lines_never_past_the_end_of_the_file(tmp_path: Path) -> None:
    """A fix that inserts at the end of the file names the last line, in every output."""
    path = tmp_path / "Dockerfile"
    text = "FROM python:3.12\nWORKDIR /app\nRUN pip install flask\n"
    path.write_text(text)
    code = (
        "import sys\n"
        "from msdfix import cli\n"
        "from msdfix.transforms import REGISTRY, Transform\n"
        "class Tail(Transform):\n"
        "    id, title, order = 'test-tail', 'test', 99\n"
        "    def check(self, doc):\n"
        "        ins = doc.dockerfile.instructions[-1]\n"
        "        if 'echo done' not in doc.text:\n"
        "            yield doc.fix(self.id, ins, 'append', [__import__('msdfix.fixes').fixes"
        ".Edit(len(doc.text), len(doc.text), 'RUN echo done\\n')])\n"
        "REGISTRY['test-tail'] = Tail\n"
        "cli.main(sys.argv[1:])\n"
    )
    common = [sys.executable, "-c", code, "--select", "test-tail"]
    text_run = subprocess.run([*common, str(path)], capture_output=True, text=True)
    assert "  line 3: test-tail: append" in text_run.stderr.splitlines()
    gh = subprocess.run([*common, "--output-format", "github", str(path)], capture_output=True,
                        text=True)  # fmt: skip
    assert gh.stdout.startswith(f"::warning file={path},line=3,endLine=3,")
    data = json.loads(
        subprocess.run([*common, "--output-format", "json", str(path)], capture_output=True).stdout
    )
    (fix,) = data["files"][0]["fixes"]
    assert (fix["line"], fix["end_line"]) == (3, 3)
    assert fix["edits"] == [{"start": len(text), "end": len(text), "content": "RUN echo done\n"}]


def test_json_edits_are_offsets_into_the_input_and_reproduce_the_output(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm cache clean --force\n"
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
        'CMD ["node", "index.js"]\n'
    )
    path.write_text(text)
    data = json.loads(msdfix("--output-format", "json", "--unsafe-fixes", str(path)).stdout)
    (entry,) = data["files"]
    assert data["version"] == 3 and entry["changed"]
    edits = [e for f in entry["fixes"] if f["applied"] for e in f["edits"]]
    assert len({f["transform"] for f in entry["fixes"] if f["applied"]}) >= 1
    edits.sort(key=lambda e: (e["start"], e["end"]))
    out, pos = [], 0
    for edit in edits:
        assert 0 <= pos <= edit["start"] <= edit["end"] <= len(text)  # no overlap, in range
        out += [text[pos : edit["start"]], edit["content"]]
        pos = edit["end"]
    applied = "".join(out) + text[pos:]
    assert msdfix("--write", "--unsafe-fixes", str(path)).returncode == 0
    assert applied == path.read_text()


def test_sarif_wording_follows_what_happened(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(PIP_DOCKERFILE)
    pinned = tmp_path / "pinned.Dockerfile"
    pinned.write_text(
        "FROM node:18@sha256:" + "0" * 64 + '\nCOPY . /app\nCMD ["node", "/app/index.js"]\n'
    )

    def messages(*args: str, applied: bool | None = None) -> list[str]:
        log = json.loads(msdfix("--output-format", "sarif", *args).stdout)
        results = log["runs"][0]["results"]
        return [r["message"]["text"] for r in results
                if applied is None or r.get("properties", {}).get("applied") is applied]  # fmt: skip

    dry = messages(str(path), str(pinned))
    assert dry and not any("fixed by msdfix" in m for m in dry)
    assert any("msdfix can fix this: run msdfix --write" in m for m in dry)
    display = [m for m in dry if "could be `node:18-slim`" in m]
    assert display and all("--unsafe-fixes" not in m and "never applied" in m for m in display)
    written = messages("--write", str(path), applied=True)
    assert written and all(m.endswith("(fixed by msdfix)") for m in written)


def test_check_with_diff_shows_the_diff(project: Path) -> None:
    proc = msdfix("--check", "--diff", "Dockerfile", cwd=project)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.startswith("--- Dockerfile\n+++ Dockerfile\n") and "+RUN --mount" in out
    assert "would rewrite" not in out
    assert (project / "Dockerfile").read_text() == PIP_DOCKERFILE


def test_summary_in_line_order_with_hints_and_colour(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    path.write_text(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nRUN ./configure\n"
        "RUN pip install --no-cache-dir x\n"
    )
    proc = msdfix(str(path))
    err = proc.stderr.decode().splitlines()
    numbers = [int(line.split()[1].rstrip(":")) for line in err if line.startswith("  line ")]
    assert len(numbers) >= 2 and numbers == sorted(numbers)
    assert err[-2:] == [
        "hint: run with --write to apply the changes",
        "hint: 1 unsafe fix was not applied; add --unsafe-fixes to apply them",
    ]
    assert "\x1b[" not in proc.stderr.decode()
    coloured = msdfix("--color", str(path)).stderr.decode()
    assert "\x1b[" in coloured and "\x1b[32mcache-mount" in coloured  # applied: green
    assert "\x1b[" not in msdfix(str(path), env={"NO_COLOR": "1"}).stderr.decode()
    assert "hint: run with --write" not in msdfix("--write", str(path)).stderr.decode()


def test_explain_renders_markup_for_a_terminal() -> None:
    for transform_id in ("cache-mount", "reorder-copy", "split-stages", "slim-base"):
        out = msdfix("--explain", transform_id).stdout.decode()
        assert "``" not in out and ":mod:" not in out, transform_id
        assert out.startswith(f"{transform_id}: ")
    plain = msdfix("--explain", "cache-mount").stdout.decode()
    assert "Adds --mount=type=cache,target=<dir> to each RUN" in plain
    coloured = msdfix("--explain", "cache-mount", "--color").stdout.decode()
    assert "\x1b[1mWhat it does" in coloured and "``" not in coloured


def test_file_pragma_after_a_byte_order_mark() -> None:
    """A UTF-8 byte-order mark (kept, read past by BuildKit) opening the line hid
    ``# msdfix: ignore-file``: the file was rewritten."""
    text = "\ufeff# msdfix: ignore-file\n" + PIP_DOCKERFILE
    proc = msdfix("--check", "-", stdin=text.encode())
    assert proc.returncode == 0 and proc.stdout == b""


def test_pragma_with_a_reason_and_unknown_ids(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM python:3.12\n"
        "# msdfix: ignore[cache-mount] vendored, keep as upstream has it\n"
        "RUN pip install a\n"
        "# msdfix: ignore[cache-mounts]\n"
        "RUN pip install b\n"
    )
    proc = msdfix(str(path))
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert (
        "+RUN --mount=type=cache,target=/root/.cache/pip \\\n+    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n+    pip install b"
        in out
    )
    assert "pip install a" not in out.replace(" pip install a\n", "")
    assert f"{path}:4: warning: unknown transform id 'cache-mounts' in pragma" in err
    data = json.loads(msdfix("--output-format", "json", str(path)).stdout)
    assert data["files"][0]["warnings"] == [
        {"line": 4, "message": "unknown transform id 'cache-mounts' in pragma"}
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ([""], None, "an empty PATH names no file"),
        (["-", "-"], b"FROM python:3.11\n", "- (standard input) named more than once"),
        (["--select=", "Dockerfile"], None, "--select '' names no transform id"),
        (["--select", ",", "Dockerfile"], None, "--select ',' names no transform id"),
    ],
)
def test_arguments_that_name_nothing_are_usage_errors(
    tmp_path: Path, args: list[str], stdin: bytes | None, message: str
) -> None:
    """``msdfix ""`` searched the current directory, ``msdfix - -`` said ``-:1: error: empty
    file`` for the second read of stdin, and ``--select=`` (an unset variable in CI) ran no
    transform and passed."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install flask\n")
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args],
        cwd=tmp_path, input=stdin, capture_output=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr.decode()
    assert message in proc.stderr.decode() and proc.stdout == b""


@pytest.mark.parametrize("value", ["[]", '""', '", "'])
def test_a_configured_select_that_names_nothing_is_an_error(tmp_path: Path, value: str) -> None:
    """``select = ""`` (or ``[]``) in ``[tool.msdfix]`` ran no transform and passed, as
    ``--select=`` did on the command line."""
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install flask\n")
    (tmp_path / "pyproject.toml").write_text(f"[tool.msdfix]\nselect = {value}\n")
    proc = msdfix("Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout.decode()
    assert "pyproject.toml:2: 'select' names no transform id" in proc.stderr.decode()


@pytest.mark.parametrize("command", [[], ["verify"], ["pr"]])
def test_every_command_takes_h_for_help(command: list[str]) -> None:
    """``-h`` is help for ``msdfix`` and ``msdfix pr``, and was a usage error for ``msdfix
    verify`` ("No such option: -h")."""
    proc = msdfix(*command, "-h")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith(f"Usage: {' '.join(['msdfix', *command])} [OPTIONS]")


def test_select_and_ignore_add_up_when_repeated(tmp_path: Path) -> None:
    """``--select a --select b`` ran only ``b`` (click kept the last value), where ruff runs
    both; ``--ignore`` the same."""
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCMD python app.py\n"
    )
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("print(1)\n")

    def applied(*flags: str) -> set[str]:
        proc = msdfix("--output-format", "json", *flags, "Dockerfile", cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        fixes = json.loads(proc.stdout)["files"][0]["fixes"]
        return {fix["transform"] for fix in fixes if fix["applied"]}

    assert {"cache-mount", "reorder-copy"} <= applied()
    assert applied("--select", "cache-mount", "--select", "reorder-copy") == {
        "cache-mount",
        "reorder-copy",
    }
    left = applied("--ignore", "cache-mount", "--ignore", "reorder-copy")
    assert not left & {"cache-mount", "reorder-copy"}


@pytest.mark.parametrize("name", ["msdfix", "verify", "pr"])
def test_every_option_is_in_the_readme(name: str) -> None:
    """The README documents every option a command takes (``msdfix verify --http-timeout``
    and ``--docker`` were missing)."""
    import click

    from msdfix import cli

    command = cli.fix_command if name == "msdfix" else cli._subcommand(name)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    options = [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ]
    assert options and [opt for opt in options if opt not in readme] == []


def test_a_table_header_of_many_blanks_is_located_in_linear_time(project: Path) -> None:
    """The line of a configuration error is found by matching table headers; ``[tool<blanks>
    .msdfix]`` (TOML allows blanks around a dot) was matched in time quadratic in the blanks:
    40,000 took 10 s, 200,000 minutes."""
    from msdfix.config import ConfigError, ConfigTree
    from support.deadline import deadline

    blanks = " " * 200_000
    (project / "pyproject.toml").write_text(f"[tool{blanks}.msdfix]\ncolour = 1\n")
    with deadline(20), pytest.raises(ConfigError, match=r"pyproject.toml:2: unknown option"):
        ConfigTree().at(project)
