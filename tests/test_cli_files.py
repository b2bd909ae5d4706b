"""Files as users have them: special files, encodings, --write edge cases, exclusions."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from msdfix import files
from msdfix.files import MAX_BYTES, InputError

PIP = "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"
PIP_OUT = "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n    pip install flask\n"


def msdfix(*args: str, cwd: Path | None = None, stdin: bytes | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=timeout,
    )


def errors(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [line for line in proc.stderr.decode().splitlines() if ": error: " in line]


# --- special files and bounded reads ---


def test_fifo_named_dockerfile_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    good = tmp_path / "ok.Dockerfile"
    good.write_text(PIP)
    proc = msdfix(str(fifo), str(good), timeout=30)  # a hang fails with TimeoutExpired
    assert proc.returncode == 2
    assert errors(proc) == [f"{fifo}:1: error: not a regular file (a FIFO, socket or device is "
                            "never read)"]  # fmt: skip
    assert "+RUN --mount" in proc.stdout.decode()


def test_directory_search_skips_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "Dockerfile").symlink_to("/dev/zero")
    (tmp_path / "dangling.Dockerfile").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(PIP)
    proc = msdfix("--check", str(tmp_path), timeout=30)
    assert proc.returncode == 1
    assert proc.stdout.decode() == f"would rewrite {tmp_path / 'svc' / 'Dockerfile'}\n"


def test_named_device_is_refused_before_reading(tmp_path: Path) -> None:
    link = tmp_path / "Dockerfile"
    link.symlink_to("/dev/zero")
    proc = msdfix(str(link), timeout=30)
    assert proc.returncode == 2 and "not a regular file" in errors(proc)[0]


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_special_dockerignore_is_never_read(tmp_path: Path, kind: str) -> None:
    """A .dockerignore that is a device, FIFO or directory is named, not read (Docker cannot
    use it either): the run ends, with the reason, instead of reading /dev/zero forever."""
    ignore = tmp_path / ".dockerignore"
    if kind == "device":
        ignore.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(ignore)
    else:
        ignore.mkdir()
    (tmp_path / "Dockerfile").write_text(PIP)
    proc = msdfix(str(tmp_path / "Dockerfile"), timeout=30)  # a hang fails with TimeoutExpired
    assert proc.returncode == 1, proc.stderr.decode()
    assert ".dockerignore left alone (the build fails on it)" in proc.stderr.decode()
    assert "+RUN --mount" in proc.stdout.decode()


def test_socket_and_directory_named_dockerfile(tmp_path: Path) -> None:
    sock_path = tmp_path / "s.Dockerfile"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        (tmp_path / "d.Dockerfile").mkdir()
        proc = msdfix(str(sock_path), str(tmp_path / "d.Dockerfile"), timeout=30)
    finally:
        server.close()
    assert proc.returncode == 2  # a directory is searched, whatever its name: it has none
    assert [e.split(": error: ")[1] for e in errors(proc)] == [
        "cannot open: No such device or address",
    ]


def test_huge_sparse_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    with path.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GiB, sparse
    proc = msdfix(str(path), timeout=30)
    assert proc.returncode == 2 and "larger than 5 MB" in errors(proc)[0]


def test_reads_are_bounded() -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            assert size > 0  # never "read everything"
            Endless.served += size
            return b"#" * size

    with pytest.raises(InputError, match="larger than 5 MB"):
        files.read_stream(Endless())  # type: ignore[arg-type]
    assert Endless.served == MAX_BYTES + 1


def test_a_read_error_stops_only_that_file(tmp_path: Path, monkeypatch, capsys) -> None:
    from msdfix import cli

    (tmp_path / "a.Dockerfile").write_text(PIP)
    (tmp_path / "b.Dockerfile").write_text(PIP)
    real_read = os.read

    def failing_read(fd: int, size: int) -> bytes:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("a.Dockerfile"):
            raise OSError(5, "Input/output error")
        return real_read(fd, size)

    monkeypatch.setattr(files.os, "read", failing_read)
    with pytest.raises(SystemExit) as exc:
        cli.main([str(tmp_path)])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'a.Dockerfile'}:1: error: cannot read: Input/output error" in err
    assert f"+++ {tmp_path / 'b.Dockerfile'}" in out


@pytest.mark.parametrize("unlisted", ["z-last", "."])
def test_a_directory_that_cannot_be_listed_is_reported(
    tmp_path: Path, monkeypatch, capsys, unlisted: str
) -> None:
    """A folder search cannot list (``chmod 000``) is an error even when it is the last one
    walked or the searched directory itself: both were skipped without a word (the errors
    were reported only at the next folder listed), and a CI run over them passed."""
    from msdfix import cli

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(PIP)
    (tmp_path / "z-last").mkdir()
    (tmp_path / "z-last" / "Dockerfile").write_text(PIP)
    refused = os.path.normpath(tmp_path / unlisted)
    real_scandir = os.scandir

    def scandir(path):  # as for a user without read permission on that folder
        if os.path.normpath(path) == refused:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(files.os, "scandir", scandir)
    with pytest.raises(SystemExit) as exc:
        cli.main(["-j", "1", "--check", str(tmp_path)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert [line for line in err.splitlines() if ": error: " in line] == [
        f"{tmp_path / unlisted}:1: error: cannot list directory: Permission denied"
    ]


# --- encodings ---


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_is_decoded_and_written_back_in_utf16(tmp_path: Path, codec: str, bom: bytes) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(bom + PIP.replace("\n", "\r\n").encode(codec))
    dry = msdfix(str(path))
    assert dry.returncode == 1 and "+RUN --mount=type=cache" in dry.stdout.decode()
    assert "docker build reads Dockerfiles as UTF-8" in dry.stderr.decode()
    assert msdfix("--write", str(path)).returncode == 0
    assert path.read_bytes() == bom + PIP_OUT.replace("\n", "\r\n").encode(codec)
    stdin = msdfix("-", stdin=bom + PIP.encode(codec))
    assert stdin.stdout == bom + PIP_OUT.encode(codec)


def test_utf8_bom_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbf" + PIP.encode())
    assert msdfix("--write", str(path)).returncode == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + PIP_OUT.encode()


def test_utf32_and_broken_utf16_are_errors(tmp_path: Path) -> None:
    utf32 = tmp_path / "a.Dockerfile"
    utf32.write_bytes(b"\xff\xfe\x00\x00" + PIP.encode("utf-32-le"))
    odd = tmp_path / "b.Dockerfile"
    odd.write_bytes(b"\xff\xfe" + PIP.encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    proc = msdfix(str(utf32), str(odd))
    assert proc.returncode == 2
    assert [e.split(": error: ")[1] for e in errors(proc)] == [
        "UTF-32 text is not supported (save the file as UTF-8)",
        "not valid UTF-16-LE",
    ]


# --- --write edge cases ---


def test_write_refuses_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(PIP)
    path.chmod(0o444)
    proc = msdfix("--write", str(path))
    assert proc.returncode == 2
    assert errors(proc) == [
        f"{path}:1: error: file is read-only (its owner has no write permission); not rewritten"
    ]
    assert path.read_text() == PIP and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_write_keeps_hard_links_by_refusing(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(PIP)
    other = tmp_path / "copy.Dockerfile"
    os.link(path, other)
    proc = msdfix("--write", str(path))
    assert proc.returncode == 2
    assert "file has 2 hard links; not rewritten" in errors(proc)[0]
    assert path.read_text() == other.read_text() == PIP
    assert path.stat().st_ino == other.stat().st_ino


def test_write_keeps_the_setuid_bits_and_extended_attributes(tmp_path: Path) -> None:
    """The temporary file was chmod-ed, then chown-ed, which clears setuid and setgid; and
    its extended attributes (``user.*``, POSIX ACLs: ``system.posix_acl_access``) were
    dropped: ``setfacl`` grants and tags vanished at each ``--write``."""
    path = tmp_path / "Dockerfile"
    path.write_text(PIP)
    try:
        os.setxattr(path, "user.msdfix-test", b"kept")
    except OSError:
        pytest.skip("no user extended attributes here")
    if os.geteuid() == 0:
        os.chown(path, 1234, 1234)
    path.chmod(0o6755)
    files.write_atomic(path, PIP_OUT, files.load(path))
    assert path.read_text() == PIP_OUT
    assert stat.S_IMODE(path.stat().st_mode) == 0o6755
    assert os.getxattr(path, "user.msdfix-test") == b"kept"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_write_refuses_a_file_whose_owner_it_cannot_keep(tmp_path: Path, monkeypatch) -> None:
    """A chown that fails (not root, NFS's root_squash) was ignored: the file was replaced
    by one owned by the user running msdfix. It is now refused with the reason."""
    path = tmp_path / "Dockerfile"
    path.write_text(PIP)
    os.chown(path, 1234, 1234)

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(files.os, "chown", refuse)
    with pytest.raises(files.WriteRefused, match="cannot keep its owner 1234:1234"):
        files.write_atomic(path, PIP_OUT, files.load(path))
    assert path.read_text() == PIP and path.stat().st_uid == 1234
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left


def test_write_does_not_lose_an_edit_made_while_running(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from msdfix import cli, runner

    path = tmp_path / "Dockerfile"
    path.write_text(PIP)
    real = runner.process

    def process_while_user_edits(*args, **kwargs):
        report = real(*args, **kwargs)
        with path.open("a") as handle:  # the user saves the file in the meantime
            handle.write("# edited\n")
        return report

    monkeypatch.setattr(runner, "process", process_while_user_edits)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--write", str(path)])
    assert exc.value.code == 2
    assert "file changed while msdfix was running; not rewritten" in capsys.readouterr().err
    assert path.read_text() == PIP + "# edited\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left


# --- exclusions ---


def tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PIP)


def listed(proc: subprocess.CompletedProcess[bytes], root: Path) -> list[str]:
    lines = proc.stdout.decode().splitlines()
    paths = [Path(line.split(" ", 2)[2]) for line in lines if line.startswith("would rewrite ")]
    return sorted(str(p.relative_to(root) if p.is_absolute() else p) for p in paths)


def test_gitignore_is_respected_in_directory_search(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n*.tmp.Dockerfile\n!keep.tmp.Dockerfile\n")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".gitignore").write_text("/generated\n")
    tree(tmp_path, ["Dockerfile", "build/Dockerfile", "a.tmp.Dockerfile", "keep.tmp.Dockerfile",
                    "svc/Dockerfile", "svc/generated/Dockerfile", "other/generated/Dockerfile"])  # fmt: skip
    proc = msdfix("--check", str(tmp_path))
    assert listed(proc, tmp_path) == [
        "Dockerfile", "keep.tmp.Dockerfile", "other/generated/Dockerfile", "svc/Dockerfile",
    ]  # fmt: skip
    (tmp_path / ".git" / "info").mkdir()
    (tmp_path / ".git" / "info" / "exclude").write_text("other/\n")
    assert "other/generated/Dockerfile" not in listed(msdfix("--check", str(tmp_path)), tmp_path)
    everything = listed(msdfix("--check", "--no-respect-gitignore", str(tmp_path)), tmp_path)
    assert len(everything) == 7
    # A file named on the command line is processed anyway, unless --force-exclude.
    ignored = str(tmp_path / "build" / "Dockerfile")
    assert msdfix("--check", ignored).returncode == 1
    forced = msdfix("--check", "--force-exclude", ignored)
    assert forced.returncode == 0 and forced.stdout == b""


def test_gitignore_in_a_subdirectory_search_uses_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("services/*/vendor/\n")
    tree(tmp_path, ["services/api/Dockerfile", "services/api/vendor/Dockerfile"])
    proc = msdfix("--check", str(tmp_path / "services"))
    assert listed(proc, tmp_path) == ["services/api/Dockerfile"]


def test_exclude_and_extend_exclude_from_config_and_command_line(tmp_path: Path) -> None:
    tree(tmp_path, ["Dockerfile", "legacy/Dockerfile", "docs/Dockerfile.example",
                    "deep/legacy/Dockerfile", "node_modules/x/Dockerfile"])  # fmt: skip
    (tmp_path / "pyproject.toml").write_text('[tool.msdfix]\nextend-exclude = ["/legacy"]\n')
    proc = msdfix("--check", ".", cwd=tmp_path)
    assert listed(proc, tmp_path) == [
        "Dockerfile",
        "deep/legacy/Dockerfile",
        "docs/Dockerfile.example",
    ]
    proc = msdfix("--check", "--extend-exclude", "*.example,deep", ".", cwd=tmp_path)
    assert listed(proc, tmp_path) == ["Dockerfile"]
    # --exclude replaces the defaults and the configured list (node_modules comes back).
    proc = msdfix("--check", "--exclude", "docs", ".", cwd=tmp_path)
    assert "node_modules/x/Dockerfile" in listed(proc, tmp_path)
    assert "docs/Dockerfile.example" not in listed(proc, tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.msdfix]\nexclude = ["docs/"]\nforce-exclude = true\n'
    )
    assert msdfix("--check", "docs/Dockerfile.example", cwd=tmp_path).returncode == 0
    assert msdfix("--check", "--no-force-exclude", "docs/Dockerfile.example",
                  cwd=tmp_path).returncode == 1  # fmt: skip
    (tmp_path / "pyproject.toml").write_text('[tool.msdfix]\nexclude = "docs"\n')
    bad = msdfix("--check", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "'exclude' must be a list of patterns" in bad.stderr.decode()


def test_impossible_paths_are_usage_errors_not_crashes(tmp_path: Path) -> None:
    long_name = "a" * 5000
    deep = "a/" * 3000 + "Dockerfile"
    proc = msdfix(long_name, deep, cwd=tmp_path)
    assert proc.returncode == 2
    assert [e.split(": error: ")[1] for e in errors(proc)] == [
        "cannot access: File name too long",
        "cannot access: File name too long",
    ]


def test_hostile_gitignore_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").symlink_to("/dev/zero")
    (tmp_path / "svc").mkdir()
    os.mkfifo(tmp_path / "svc" / ".gitignore")
    tree(tmp_path, ["svc/Dockerfile"])
    proc = msdfix("--check", str(tmp_path), timeout=30)
    assert proc.returncode == 1 and listed(proc, tmp_path) == ["svc/Dockerfile"]


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
def test_ignore_patterns_that_backtrack_exponentially_end_in_time(
    tmp_path: Path, ignore_file: str
) -> None:
    """``*a*a...*b`` against a long name takes Python's re exponential time. In .dockerignore
    it is matched without backtracking (as Docker's RE2 does); in .gitignore the line is not
    applied to search (pathspec uses re), so search visits more files, never fewer."""
    hostile = "*a" * 14 + "*b\n"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ignore_file).write_text(hostile + "*skip*.Dockerfile\n")
    name = "a" * 60
    (tmp_path / name).mkdir()
    (tmp_path / name / "Dockerfile").write_text(PIP)
    (tmp_path / f"{name}.Dockerfile").write_text(PIP)
    (tmp_path / "skip-me.Dockerfile").write_text(PIP)
    (tmp_path / "requirements.txt").write_text("six\n")
    proc = msdfix("--check", str(tmp_path), timeout=30)  # a hang fails with TimeoutExpired
    assert proc.returncode == 1, proc.stderr.decode()
    found = proc.stderr.decode()
    assert f"{name}.Dockerfile" in found and f"{name}/Dockerfile" in found
    # A usable pattern of the same file still applies.
    assert ("skip-me" in found) == (ignore_file == ".dockerignore")


def test_write_rewrites_a_dockerfile_whose_name_is_near_the_limit(tmp_path: Path) -> None:
    """The temporary file was named ``.<name>.<random>.msdfix``: a Dockerfile named with 240
    letters (a legal name) could not be rewritten ("cannot write: File name too long")."""
    path = tmp_path / ("a" * 240 + ".Dockerfile")
    path.write_text(PIP)
    proc = msdfix("--write", str(path))
    assert proc.returncode == 0, proc.stderr.decode()
    assert path.read_text() == PIP_OUT
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_write_in_a_folder_without_write_permission_names_the_folder(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A writable Dockerfile in a folder the user cannot write (checked for real as another
    user: ``chmod 755`` root's folder, the file the user's) said "cannot write: Permission
    denied", naming neither the folder nor the temporary file msdfix writes there."""
    import tempfile

    from msdfix import cli

    path = tmp_path / "Dockerfile"
    path.write_text(PIP)

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--write", str(path)])
    assert exc.value.code == 2 and path.read_text() == PIP
    assert capsys.readouterr().err == (
        f"{path}:1: error: cannot write Dockerfile: no permission to create files in "
        f"{tmp_path} (msdfix replaces a file whole, through a temporary file beside it); "
        "not rewritten\n"
    )


@pytest.mark.parametrize(
    ("hostile", "names"),
    [
        ("*a*/*a*/*a*/*a*/*a*/*a*/*a*/*a*/x", ["a" * 30] * 8),  # choices across segments
        ("**/a/**/a/**/a/**/a/**/a/**/x", ["a"] * 60),  # inner ** segments
        ("a" + "*" * 12 + "b", ["a" + "x" * 60]),  # one [^/]* per star
    ],
)
def test_gitignore_lines_whose_wildcards_multiply_end_in_time(
    tmp_path: Path, hostile: str, names: list[str]
) -> None:
    """A line with at most two ``*`` per segment still hung search when its choices multiplied
    across segments (each took minutes to hours per path): such a line is not applied."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(hostile + "\n*skip*.Dockerfile\n")
    deep = tmp_path.joinpath(*names)
    deep.mkdir(parents=True)
    (deep / "Dockerfile").write_text(PIP)
    (tmp_path / "skip-me.Dockerfile").write_text(PIP)
    proc = msdfix("--check", str(tmp_path), timeout=30)  # a hang fails with TimeoutExpired
    assert proc.returncode == 1, proc.stderr.decode()
    found = proc.stderr.decode()
    assert "/Dockerfile: would be rewritten" in found and "skip-me" not in found


def test_a_long_gitignore_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line was compiled into a spec of its own to test it, then all again: a .gitignore
    of 50,000 lines took 119 s to search a folder of 2,000 files (now 14 s). A line pathspec
    refuses is still left out, and the others apply."""
    from msdfix import discovery

    built: list[int] = []

    class Counting(discovery.GitIgnoreSpec):
        @classmethod
        def from_lines(cls, lines, *args, **kwargs):  # type: ignore[no-untyped-def]
            built.append(len(lines))
            return super().from_lines(lines, *args, **kwargs)

    monkeypatch.setattr(discovery, "GitIgnoreSpec", Counting)
    lines = [f"d{i}/**/*.o" for i in range(1000)] + ["[z-a]", "*.log", "!keep.log"]
    rules = discovery.Rules.of(Path("/r"), lines)
    assert built == [len(lines)]
    verdicts = [rules.verdict(Path(p), False) for p in ("/r/x.log", "/r/d5/a/b.o", "/r/keep.log")]
    assert verdicts == [True, True, False]
    assert rules.verdict(Path("/r/d5/a/b.c"), False) is None


def test_a_context_nested_thousands_of_levels_deep(tmp_path: Path) -> None:
    """Python 3.11's os.walk recursed once per level (exit 123 at about 1,000 levels), and the
    ignore rules asked about every parent of every path again (cubic time): now one walk
    without recursion, and each directory's answers kept."""
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
    )
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / ".gitignore").write_text("*.log\n")
    levels = [tmp_path / "a"]
    for _ in range(1499):
        levels.append(levels[-1] / "a")
    try:
        for level in levels:
            level.mkdir()
        (levels[-1] / "Dockerfile").write_text(PIP)
        for args in ([str(tmp_path / "Dockerfile")], [str(tmp_path)]):
            proc = msdfix("--check", *args, timeout=60)  # a hang fails with TimeoutExpired
            assert proc.returncode == 1, proc.stderr.decode()[-500:]
            assert "internal error" not in proc.stderr.decode()
        assert "a/a/a/Dockerfile" in proc.stderr.decode()  # search reached the deepest file
    finally:  # deepest first: shutil.rmtree (pytest's cleanup) recurses once per level too
        (levels[-1] / "Dockerfile").unlink(missing_ok=True)
        for level in reversed(levels):
            if level.exists():
                level.rmdir()


def test_context_files_never_reach_outside_the_context(tmp_path: Path) -> None:
    """A hostile repository names files outside its build context: msdfix reads none of them
    (a requirements file's ``-r ../../etc/passwd`` was read and its first line quoted in the
    summary, so in a bot's pull request), and writes none (a ``.dockerignore`` linked to a
    file outside was extended through the link with --write)."""
    outside = tmp_path / "outside.txt"
    outside.write_text("root:x:0:0:secret\n")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    (ctx / "requirements.txt").write_text(f"-r ../outside.txt\n-r {outside}\n-r link.txt\nsix\n")
    (ctx / "link.txt").symlink_to(outside)
    (ctx / ".dockerignore").symlink_to(outside)
    proc = msdfix("--unsafe-fixes", "--write", str(ctx / "Dockerfile"))
    assert proc.returncode in (0, 1), proc.stderr.decode()
    assert "secret" not in proc.stdout.decode() + proc.stderr.decode()
    assert outside.read_text() == "root:x:0:0:secret\n"
    assert "links out of the build context" in proc.stderr.decode()


def test_search_never_follows_a_file_link_out_of_the_searched_directory(tmp_path: Path) -> None:
    """Like black, directory search skips a Dockerfile that links out of the tree: --write over
    a checkout rewrote the file the link points to, wherever it was. Named on the command line,
    the link is still processed (the user asked for it)."""
    outside = tmp_path / "outside.Dockerfile"
    outside.write_text(PIP)
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "sub" / "inner.Dockerfile").write_text(PIP)
    (repo / "evil.Dockerfile").symlink_to(outside)
    (repo / "ok.Dockerfile").symlink_to(repo / "sub" / "inner.Dockerfile")
    proc = msdfix("--write", str(repo))
    assert proc.returncode == 0, proc.stderr.decode()
    assert outside.read_text() == PIP
    assert (repo / "sub" / "inner.Dockerfile").read_text() == PIP_OUT
    proc = msdfix("--check", str(repo / "evil.Dockerfile"))
    assert proc.returncode == 1


# --- hostile input found by a prober: one-line errors or correct output, never exit 123 ---

APP = (
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt app.py ./\n"
    'RUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n'
)


def _app(root: Path, dockerfile: str = APP) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text("flask\n")
    (root / "app.py").write_text("print(1)\n")
    (root / "Dockerfile").write_text(dockerfile)
    return root / "Dockerfile"


@pytest.mark.parametrize("pattern", ["!", "\\", "[z-a]"])
def test_a_gitignore_line_git_skips_is_skipped(tmp_path: Path, pattern: str) -> None:
    _app(tmp_path / "sub")
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text(pattern + "\n")
    proc = msdfix(".", cwd=tmp_path)
    assert proc.returncode == 1 and b"--- sub/Dockerfile" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("pyproject.toml", "tool = 5", "'tool' must be a table"),
        ("pyproject.toml", "[tool]\nmsdfix = 5", "'tool.msdfix' must be a table"),
        (".msdfix.toml", "tool = {msdfix = [1]}", "'tool.msdfix' must be a table"),
    ],
)
def test_a_config_of_the_wrong_shape_is_a_one_line_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    _app(tmp_path)
    (tmp_path / name).write_text(text + "\n")
    proc = msdfix("Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr.decode(), proc.stderr


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / ("Dockerfile." + "a" * 240)).write_text(
            APP
        ),  # a sibling's own ignore file: name too long
        lambda root: (root / "Dockerfile").write_text(
            APP.replace("requirements.txt app.py", "a" * 300)
        ),
        lambda root: (root / "requirements.txt").write_bytes(b"flask\n-r a\x00b.txt\n"),
        lambda root: (root / "Dockerfile").write_text(APP.replace('"app.py"', '"\\ud800"')),
    ],
    ids=["long-sibling-name", "long-copy-source", "nul-in-include", "lone-surrogate"],
)
def test_names_no_file_can_have_are_absent_not_crashes(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    _app(tmp_path)
    (tmp_path / ".git").mkdir()
    change(tmp_path)
    proc = msdfix("Dockerfile", cwd=tmp_path)
    assert proc.returncode in (0, 1) and b"internal error" not in proc.stderr, proc.stderr


def test_sarif_names_a_path_that_is_not_utf8_by_its_bytes(tmp_path: Path) -> None:
    import json

    folder = Path(os.fsdecode(bytes(tmp_path) + b"/x\xff\xfey"))
    _app(folder)
    proc = msdfix("--output-format", "sarif", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(proc.stdout)
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert uris == {"x%FF%FEy/Dockerfile"}


@pytest.mark.parametrize("refusal", ["read-only", "hard-link"])
def test_a_refused_write_writes_no_ignore_file_either(tmp_path: Path, refusal: str) -> None:
    """Nothing is ever half-written: the new .dockerignore waits for the Dockerfile."""
    path = _app(tmp_path)
    (tmp_path / ".git").mkdir()
    if refusal == "read-only":
        path.chmod(0o444)
    else:
        os.link(path, tmp_path / "other.Dockerfile")
    assert b".dockerignore" in msdfix("Dockerfile", cwd=tmp_path).stdout  # it would write one
    proc = msdfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2 and "not rewritten" in proc.stderr.decode()
    assert not (tmp_path / ".dockerignore").exists() and path.read_text() == APP


# --- names and text that would act on a terminal or forge lines (round 14) ---


def test_a_path_with_a_newline_or_tab_is_quoted_in_the_diff_header(tmp_path: Path) -> None:
    """``--- a<newline>b<tab>c/Dockerfile`` split the header (a name can forge ``+++ other``)
    and a tab starts its timestamp field: such a name is quoted as git and GNU diff quote it."""
    folder = tmp_path / "a\nb\tc"
    folder.mkdir()
    (folder / "Dockerfile").write_text(PIP)
    proc = msdfix("a\nb\tc/Dockerfile", cwd=tmp_path)
    assert proc.stdout.decode().splitlines()[:3] == [
        '--- "a\\nb\\tc/Dockerfile"', '+++ "a\\nb\\tc/Dockerfile"', "@@ -1,2 +1,4 @@",
    ]  # fmt: skip
    assert proc.stderr.decode().startswith("a\\x0ab\\x09c/Dockerfile: would be rewritten")


@pytest.mark.parametrize("color", ["--no-color", "--color"])
def test_escape_sequences_of_the_input_never_reach_the_terminal(tmp_path: Path, color: str) -> None:
    """A folder named with an escape sequence, or a Dockerfile word holding one, reached stderr
    raw (``unknown instruction: WORKDIR<ESC>[2J`` cleared the screen): they are escaped."""
    folder = tmp_path / "e\x1b[31mRED"
    folder.mkdir()
    (folder / "Dockerfile").write_text(PIP)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Dockerfile").write_text("FROM python:3.11\nWORKDIR\x1b[2J\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\n# msdfix: ignore[x\x1b[2Jy]\nRUN true\n"
    )
    for args in (["e\x1b[31mRED/Dockerfile"], ["--check", "e\x1b[31mRED/Dockerfile"],
                 ["bad/Dockerfile"], ["Dockerfile"]):  # fmt: skip
        proc = msdfix(color, *args, cwd=tmp_path)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert "\x1b[31mRED" not in err and "\x1b[2J" not in err, (args, err)
        assert "\x1b[31mRED" not in out, (args, out)
    assert (
        "unknown instruction: WORKDIR\\x1b[2J"
        in msdfix("bad/Dockerfile", cwd=tmp_path).stderr.decode()
    )


def test_usage_errors_never_print_input_raw(tmp_path: Path) -> None:
    """A configuration key or value, a path or an argument reached click's usage error raw: an
    escape sequence acted on the terminal (click strips them only off a terminal) and a newline
    forged a line of msdfix's own."""
    (tmp_path / "Dockerfile").write_text(PIP)
    (tmp_path / ".msdfix.toml").write_text(
        '"\\u001b]0;t\\u0007\\u001b[2Jx\\nfake:1: error: y" = 1\n'
    )
    for args in (["Dockerfile"], ["--explain", "x\x1b[2J\nfake:1: error: y"]):
        err = msdfix(*args, cwd=tmp_path).stderr.decode()
        assert "\\x1b[2Jx\\x0afake:1: error: y" in err or "\\x1b[2J\\x0afake:1" in err, err
        assert not any(line.startswith("fake:1") for line in err.splitlines()), err


def test_no_output_line_reads_as_a_github_workflow_command(tmp_path: Path) -> None:
    """The Actions runner acts on a line that starts with ``::`` after spaces, and on ``##[``
    anywhere: a folder ``::error title=x::y`` made the summary line a forged annotation (or
    ``::stop-commands::`` silenced the step). Control characters of a Dockerfile also reached
    the github format's annotations raw."""
    folder = tmp_path / "::error title=x::y ##[error]z"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM python:3.11\nWORKDIR /a\x1b[2Jb\nRUN pip install x\n")
    for fmt in ("text", "github", "json", "sarif"):
        proc = msdfix("--output-format", fmt, ".", cwd=tmp_path)
        for line in (proc.stdout + proc.stderr).decode().splitlines():
            assert (
                not line.lstrip().startswith("::")
                or fmt == "github"
                and line.startswith(("::warning file=", "::notice file=", "::error file="))
            ), (fmt, line)
            # a diff header is the path itself, exact for git apply (like git diff's)
            assert "##[" not in line or line.startswith(("---", "+++", " ")), (fmt, line)
        shown = proc.stderr.decode() + (proc.stdout.decode() if fmt == "github" else "")
        assert "\x1b" not in shown, fmt  # the text diff shows the file's own text, as git diff
    err = msdfix(".", cwd=tmp_path).stderr.decode()
    assert err.startswith("./::error title=x::y #\\x23[error]z/Dockerfile: would be rewritten")


def test_jobs_never_start_more_workers_than_cpus(tmp_path: Path, monkeypatch) -> None:
    """The pool starts every worker at once (fork): --jobs 1000 started 1000 processes."""
    from msdfix import cli, parallel

    seen: list[int] = []
    real = cli._outcomes

    def spy(inputs, options, jobs):  # type: ignore[no-untyped-def]
        seen.append(jobs)
        return real(inputs, options, 1)

    monkeypatch.setattr(cli, "_outcomes", spy)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    (tmp_path / "Dockerfile").write_text(PIP)
    for jobs, expected in (("1000", 2), ("1", 1)):
        with pytest.raises(SystemExit):
            cli.main(["--jobs", jobs, "-q", str(tmp_path)])
        assert seen.pop() == expected


def test_stdout_that_cannot_encode_the_diff_is_not_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nLABEL a="日本"\n' + PIP.split("\n", 1)[1]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "Dockerfile"], cwd=tmp_path, capture_output=True,
        env={**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "latin-1"}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert ' LABEL a="\\u65e5\\u672c"' in proc.stdout.decode("latin-1")


def test_stdout_in_the_c_locale_without_utf8_mode_escapes_what_it_cannot_encode(
    tmp_path: Path,
) -> None:
    """``LC_ALL=C PYTHONUTF8=0`` gives stdout ASCII with ``surrogateescape``, not ``strict``:
    the lenient reconfiguration skipped it, and a non-ASCII diff was an internal error."""
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nLABEL a="日本"\n' + PIP.split("\n", 1)[1]
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LANG")}
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix.cli", "Dockerfile"], cwd=tmp_path, capture_output=True,
        env={**env, "NO_COLOR": "1", "LC_ALL": "C", "PYTHONUTF8": "0"}, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert ' LABEL a="\\u65e5\\u672c"' in proc.stdout.decode("ascii")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["text", "sarif"])
def test_stdout_on_a_full_disk_is_one_error_line_not_an_internal_error(
    tmp_path: Path, fmt: str
) -> None:
    """``msdfix ... > /dev/full`` was "internal error: OSError: [Errno 28] ... (this is a
    bug in msdfix)", exit 123: the output is lost, said in one line, exit 2."""
    (tmp_path / "Dockerfile").write_text(PIP)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "msdfix.cli", "--output-format", fmt, "Dockerfile"],
            cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
            timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1] == (
        "msdfix: error: cannot write to standard output: No space left on device"
    )
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr


def test_a_context_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(PIP)
    proc = msdfix("--context", "nonexist", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2 and b"'nonexist' does not exist" in proc.stderr


def test_a_context_folder_longer_than_the_system_allows_is_no_known_context() -> None:
    """Looking for a folder of 4,000 levels raised ENAMETOOLONG, an internal error (exit
    123 for ``--stdin-filename``); it is a context msdfix cannot see, as a missing one is."""
    from msdfix.model import BuildContext

    assert not BuildContext(Path("x/" * 4000)).present


def test_a_stdin_filename_longer_than_the_system_allows_is_a_usage_error(tmp_path: Path) -> None:
    """No file has such a name; 4,000 folders was exit 123, 30,000 took over 30 s (each
    folder's configuration looked up through pathlib, quadratic)."""
    name = "x/" * 30_000 + "Dockerfile"
    proc = msdfix("-", "--stdin-filename", name, cwd=tmp_path, stdin=PIP.encode(), timeout=20)
    assert proc.returncode == 2, proc.stderr[-300:]
    assert b"bytes names no file (the system allows 4,095)" in proc.stderr
    ok = msdfix(
        "-", "--stdin-filename", "x/" * 1000 + "Dockerfile", cwd=tmp_path, stdin=PIP.encode()
    )
    assert ok.returncode == 0 and b"cache-mount" in ok.stderr


@pytest.mark.parametrize("kind", ["fifo", "device", "link to a fifo"])
def test_a_context_that_is_a_fifo_or_a_device_is_a_usage_error(tmp_path: Path, kind: str) -> None:
    """click's ``file_okay=False`` refuses regular files only: a FIFO or ``/dev/null`` ran as
    if no build context were known (exit 1 with "no build context" reasons)."""
    (tmp_path / "Dockerfile").write_text(PIP)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to("fifo")
    context = {"fifo": "fifo", "device": os.devnull, "link to a fifo": "link"}[kind]
    for args in (
        ("--context", context, "Dockerfile"),
        ("verify", "Dockerfile", "--context", context),
    ):
        proc = msdfix(*args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout
        assert b"is neither a file nor a directory" in proc.stderr


def test_an_ignore_file_swapped_for_a_fifo_before_the_write_does_not_hang(tmp_path: Path) -> None:
    """The write re-read the ignore file without a bound: a FIFO in its place hung it."""
    (tmp_path / ".dockerignore").write_text("*.md\n")
    old = (tmp_path / ".dockerignore").read_text()
    (tmp_path / ".dockerignore").unlink()
    os.mkfifo(tmp_path / ".dockerignore")
    from support.deadline import deadline

    with deadline(10), pytest.raises(files.WriteRefused, match="changed while msdfix"):
        files.write_files({str(tmp_path / ".dockerignore"): (old, old + ".git\n")})


def test_a_name_that_is_not_utf8_is_shown_the_same_way_in_each_output(tmp_path: Path) -> None:
    """The text summary and the diff header showed ``x\\udcff\\udcfey`` (neither the bytes nor
    git's quoting: ``git apply`` could not find the file), JSON wrote lone surrogate escapes
    (strict parsers refuse them) and the github format raw bytes (invalid UTF-8). Now: diff
    headers and the summary by the name's bytes (git's ``\\377``, printable's ``\\xff``),
    json and github as ruff writes such names (U+FFFD), SARIF's URI percent-encoded."""
    folder = tmp_path / os.fsdecode(b"x\xff\xfey")
    folder.mkdir()
    (folder / "Dockerfile").write_text(PIP)
    text = msdfix(".", cwd=tmp_path)
    assert text.stdout.decode().startswith('--- "x\\377\\376y/Dockerfile"\n')
    assert text.stderr.decode().startswith("x\\xff\\xfey/Dockerfile: would be rewritten")
    data = json.loads(msdfix("--output-format", "json", ".", cwd=tmp_path).stdout)
    assert data["files"][0]["path"] == "x\ufffd\ufffdy/Dockerfile"
    github = msdfix("--output-format", "github", ".", cwd=tmp_path).stdout.decode("utf-8")
    assert github.startswith("::warning file=x\ufffd\ufffdy/Dockerfile,")
    sarif = msdfix("--output-format", "sarif", ".", cwd=tmp_path).stdout.decode("utf-8")
    assert '"uri": "x%FF%FEy/Dockerfile"' in sarif


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        (".msdfix.toml", "\n\nselect = 5\n", ".msdfix.toml:3: 'select' must be a list"),
        ("pyproject.toml", "[tool.ruff]\nselect = 1\n\n[tool.msdfix]\nselect = 5\n",
         "pyproject.toml:5: 'select' must be a list"),
        ("pyproject.toml", "[tool]\nmsdfix.force-exclude = 'yes'\n",
         "pyproject.toml:2: 'force-exclude' must be true or false"),
        (".msdfix.toml", "x = 1\n", ".msdfix.toml:1: unknown option(s) x"),
    ],
)  # fmt: skip
def test_a_configuration_error_names_its_line(
    tmp_path: Path, name: str, text: str, shown: str
) -> None:
    """Config type errors named the file but no line."""
    (tmp_path / "Dockerfile").write_text(PIP)
    (tmp_path / name).write_text(text)
    proc = msdfix("Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2 and shown in proc.stderr.decode(), proc.stderr.decode()


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_configuration_file_that_is_not_a_regular_file_is_an_error(
    tmp_path: Path, kind: str
) -> None:
    """A ``.msdfix.toml`` that is a directory or a FIFO was skipped without a word and the
    search went on upward, where a parent's configuration could apply."""
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / ".msdfix.toml").write_text('select = ["exec-form"]\n')
    (project / "Dockerfile").write_text(PIP)
    config = project / ".msdfix.toml"
    config.mkdir() if kind == "directory" else os.mkfifo(config)
    proc = msdfix("Dockerfile", cwd=project, timeout=30)
    assert proc.returncode == 2, proc.stderr.decode()
    assert ".msdfix.toml: " in proc.stderr.decode() and proc.stdout == b""


def test_ignore_patterns_in_set_syntax_print_no_python_warning(tmp_path: Path) -> None:
    """``[[:alpha:]]`` or ``[a&&b]`` in .dockerignore, .gitignore or --exclude: Python's
    FutureWarning about set syntax reached stderr with msdfix's source lines (an internal
    error, exit 123, under ``-W error``)."""
    (tmp_path / "Dockerfile").write_text(PIP)
    (tmp_path / ".dockerignore").write_text("[[:alpha:]]x\n[a&&b]\n")
    (tmp_path / ".gitignore").write_text("[[:alpha:]]y\n")
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-m", "msdfix.cli", "--extend-exclude", "[[:x:]]", "."],
        cwd=tmp_path, capture_output=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr.decode()
    assert "Warning" not in proc.stderr.decode()


LONG = "9" * 5000  # Python's int() refuses more than 4,300 digits
NPM = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "a.js"]\n'
UV = 'FROM python:3.11\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv sync\nCMD ["uv", "run", "a.py"]\n'


@pytest.mark.parametrize(
    ("dockerfile", "context"),
    [
        (f'FROM golang:1.{LONG}\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n', {}),
        (f'FROM python:3.{LONG}\nWORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\nCMD ["python", "a.py"]\n', {}),
        (f'FROM rust:1.{LONG}\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\nCMD ["/app/target/release/app"]\n', {}),
        (NPM.replace("npm install", "yarn install"),
         {"package.json": json.dumps({"name": "a", "dependencies": {"ms": "^2.1.0"},
                                      "packageManager": f"yarn@{LONG}.0.0"}),
          "yarn.lock": "# yarn lockfile v1\n", "a.js": ""}),
        (NPM.replace("npm install", "pnpm install"),
         {"package.json": json.dumps({"name": "a", "packageManager": f"pnpm@{LONG}"}), "pnpm-lock.yaml": ""}),
        (NPM, {"package.json": json.dumps({"name": "a", "version": "1", "dependencies": {"ms": f"^2.{LONG}"}}),
               "package-lock.json": json.dumps({"name": "a", "version": "1", "lockfileVersion": 3, "packages": {
                   "": {"name": "a", "version": "1", "dependencies": {"ms": f"^2.{LONG}"}},
                   "node_modules/ms": {"version": "2.1.2"}}}), "a.js": ""}),
        (UV, {"pyproject.toml": '[project]\nname = "a"\nversion = "1"\n', "uv.lock": f"version = {LONG}\n"}),
    ],
)  # fmt: skip
def test_numbers_of_thousands_of_digits_are_read_not_an_internal_error(
    tmp_path: Path, dockerfile: str, context: dict[str, str]
) -> None:
    """Round 25: a tag, packageManager, semver range or TOML integer of 5,000 digits was an
    internal error (exit 123): Python's int() refuses more than 4,300 digits. Numbers are
    read by ``files.decimal`` (at most 10**18) and TOML's as unreadable."""
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in context.items():
        (tmp_path / name).write_text(text)
    proc = msdfix("--unsafe-fixes", "Dockerfile", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr.decode()


def test_a_configuration_integer_of_thousands_of_digits_names_its_line(tmp_path: Path) -> None:
    """Round 25: tomllib's int() refused it with Python's message (exit 123)."""
    (tmp_path / "Dockerfile").write_text(PIP)
    (tmp_path / ".msdfix.toml").write_text(f"\nx = {LONG}\n")
    proc = msdfix("Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr.decode()
    assert ".msdfix.toml:2: an integer too long to read" in proc.stderr.decode()


def test_the_closing_count_leaves_out_a_refused_write(tmp_path: Path) -> None:
    """Round 25: with one Dockerfile written and one refused (hard-linked), the last line
    said "2 of 2 files rewritten, 1 with errors"."""
    (tmp_path / "a.Dockerfile").write_text(PIP)
    (tmp_path / "b.Dockerfile").write_text(PIP)
    os.link(tmp_path / "b.Dockerfile", tmp_path / "b.link")
    proc = msdfix("--write", "a.Dockerfile", "b.Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr.decode()
    assert "1 of 2 files rewritten, 1 with errors" in proc.stderr.decode(), proc.stderr.decode()


OUTPUT_ONLY = [
    ("--version",), ("--help",), ("verify", "--help"), ("pr", "--help"),
    ("--list-transforms",), ("--explain", "cache-mount"),
    ("verify", "Dockerfile", "--output-format", "json"),  # "docker unavailable" as JSON
]  # fmt: skip


def _to_stdout(args: tuple[str, ...], cwd: Path, stdout: int) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    return subprocess.run(
        [sys.executable, "-m", "msdfix.cli", *args], cwd=cwd, stdout=stdout,
        stderr=subprocess.PIPE, env=env, timeout=60,
    )  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", OUTPUT_ONLY)
def test_help_version_and_listings_on_a_full_disk_are_one_error_line(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """``--help``, ``--version``, ``--list-transforms``, ``--explain`` and ``verify``'s JSON
    written to ``/dev/full`` were "internal error ... (this is a bug in msdfix)", exit 123:
    click writes them before msdfix's own handler of a failed stdout ran."""
    (tmp_path / "Dockerfile").write_text(PIP)
    with open("/dev/full", "w") as full:
        proc = _to_stdout(args, tmp_path, full.fileno())
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        "msdfix: error: cannot write to standard output: No space left on device"
    ]


@pytest.mark.parametrize("args", OUTPUT_ONLY)
def test_help_version_and_listings_to_a_closed_pipe_end_as_sigpipe(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """To a pipe whose reader is gone (``msdfix --help | true``) they ended with click's exit
    1, which CI reads as "changes pending" (``verify``: "failed"); they end as SIGPIPE ends
    a process now (141 in a shell), as a rewrite's diff does."""
    (tmp_path / "Dockerfile").write_text(PIP)
    read, write = os.pipe()
    os.close(read)
    try:
        proc = _to_stdout(args, tmp_path, write)
    finally:
        os.close(write)
    assert proc.returncode == -13, proc.stderr  # killed by SIGPIPE
    assert proc.stderr == b""
