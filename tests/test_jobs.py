"""``--jobs``: the same bytes on stdout and stderr, and the same exit code, as one process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from msdfix import parallel

CHANGED = "FROM python:3.12-slim\nRUN pip install --no-cache-dir {}\n"
UNCHANGED = 'FROM alpine:3.19\nCMD ["true"]\n'
SPLIT = """FROM python:3.12
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


def _mixed(root: Path) -> list[str]:
    """A folder of changed, unchanged, unparsable and unreadable files; the PATHs to pass."""
    (root / "requirements.txt").write_text("flask\n")
    (root / "app.py").write_text("print('hi')\n")
    for i in range(24):
        (root / f"c{i:02}.Dockerfile").write_text(CHANGED.format(f"pkg{i}"))
        (root / f"u{i:02}.Dockerfile").write_text(UNCHANGED)
    for i in range(6):
        (root / f"s{i}.Dockerfile").write_text(SPLIT.replace("app.py", f"app{i}.py"))
        (root / f"bad{i}.Dockerfile").write_text("RUN echo no FROM\n")  # unparsable
        (root / f"latin{i}.Dockerfile").write_bytes(b"FROM alpine\nLABEL a=\xe9\xff\n")
    (root / "sub").mkdir()
    (root / "sub" / "Dockerfile").write_text(CHANGED.format("django") + "# msdfix: ignore[nope]\n")
    (root / "Dockerfile").mkdir()  # a directory named like a Dockerfile
    (root / "Dockerfile" / "Containerfile").write_text(UNCHANGED)
    os.mkfifo(root / "fifo.Dockerfile")  # never read: refused when named, skipped in a search
    return [".", "fifo.Dockerfile", "missing.Dockerfile", "c00.Dockerfile"]


def _run(cwd: Path, jobs: int, *args: str) -> tuple[bytes, bytes, int]:
    env = {**os.environ, "NO_COLOR": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix", "--jobs", str(jobs), *args],
        cwd=cwd,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return proc.stdout, proc.stderr, proc.returncode


@pytest.mark.parametrize(
    "flags",
    [
        (),
        ("--color", "--unsafe-fixes"),
        ("--check",),
        ("--output-format", "json"),
        ("--output-format", "github"),
        ("--output-format", "sarif"),
    ],
)
def test_jobs_2_prints_what_jobs_1_prints(tmp_path: Path, flags: tuple[str, ...]) -> None:
    paths = _mixed(tmp_path)
    one = _run(tmp_path, 1, *flags, *paths)
    two = _run(tmp_path, 2, *flags, *paths)
    assert one[2] == 2 and b"c23.Dockerfile" in one[0] + one[1]  # errors, and every file
    assert two == one


def test_jobs_2_writes_what_jobs_1_writes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    paths = _mixed(first)
    os.unlink(first / "fifo.Dockerfile")  # copytree cannot copy a FIFO
    shutil.copytree(first, second)
    paths.remove("fifo.Dockerfile")
    one = _run(first, 1, "--write", *paths)
    two = _run(second, 2, "--write", *paths)
    assert one[2] == 2 and b"rewritten" in one[1]
    assert two == one
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)


def test_usable_cpus_respects_a_cgroup_quota(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(parallel, "CGROUP", tmp_path)
    own = tmp_path / "own.slice"
    own.mkdir()
    (own / "cpu.max").write_text("150000 100000\n")
    cgroup = tmp_path / "proc-cgroup"
    cgroup.write_text("0::/own.slice\n")
    real_read = Path.read_text

    def read_text(path: Path, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
        if str(path) == "/proc/self/cgroup":
            return real_read(cgroup)
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert parallel.usable_cpus() == 2
    (own / "cpu.max").write_text("max 100000\n")
    assert parallel.usable_cpus() == 8
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {3})
    assert parallel.usable_cpus() == 1


PARENT = os.getpid()


def _dies_in_a_worker(task: int) -> int:
    """Task 3 kills the worker process running it (as the OOM killer would)."""
    if task == 3 and os.getpid() != PARENT:
        os._exit(1)
    return task * 10


def _no_setup() -> None:
    pass


def test_a_worker_that_dies_loses_no_task() -> None:
    """Every result comes back, in order: the task whose worker died is handed to
    ``failed`` (the CLI reruns it in its own process), the others go on in a new pool."""
    seen: list[int] = []

    def failed(task: int, exc: BaseException) -> int:
        seen.append(task)
        return task * 10

    results = list(parallel.ordered_map(_dies_in_a_worker, range(8), 2, failed, _no_setup, ()))
    assert results == [t * 10 for t in range(8)]
    assert 3 in seen


def test_a_closed_pipe_ends_the_run_and_its_workers(tmp_path: Path) -> None:
    """``msdfix --jobs 2 DIR | head -1``: the main process died of SIGPIPE at its first write
    and left its worker processes blocked forever on their queue. Now the pool is shut down
    first, and the run still ends as SIGPIPE ends it (quietly, 141 in a shell)."""
    proc = _busy_run(tmp_path, 200)
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.wait(timeout=60) == -signal.SIGPIPE
    _assert_workers_end(proc)


def test_sigterm_to_the_main_process_ends_its_workers(tmp_path: Path) -> None:
    """``kill PID`` of a ``--jobs 2`` run ended the main process at once and left both workers
    blocked on their queue forever (parent 1). Now the pool is shut down first and the run
    still ends as SIGTERM ends it."""
    proc = _busy_run(tmp_path, 400)
    assert proc.stdout is not None
    proc.send_signal(signal.SIGTERM)
    proc.stdout.close()
    assert proc.wait(timeout=60) == -signal.SIGTERM
    _assert_workers_end(proc)


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _busy_run(tmp_path: Path, files: int) -> subprocess.Popen[bytes]:
    """A ``--jobs 2`` run over ``files`` changed Dockerfiles, once it has printed its first
    diff (the workers are busy), in a process group of its own (its workers can be found)."""
    for i in range(files):
        (tmp_path / f"c{i:03}.Dockerfile").write_text(CHANGED.format(f"pkg{i}"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "msdfix.cli", "--jobs", "2", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # as from a terminal: a suite started in the background (`.ci/run &`) hands its
        # children SIGINT ignored, and Python keeps it so (the run then ignored Ctrl-C)
        preexec_fn=_sigint_default,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(b"--- ")
    return proc


def _assert_workers_end(proc: subprocess.Popen[bytes]) -> None:
    """Every process of the run's group (started with ``start_new_session``) ends. A worker
    finishes the chunk it is on first: on a machine at load 10 (CI's Docker builds beside the
    suite) that took over 30 s once, so the limit is 90 s."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # some process of its group is still alive
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("worker processes outlived the run")


def test_ctrl_c_ends_the_run_as_sigint_ends_it(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group) printed "Aborted!" and exited 1, which CI
    reads as `--check`'s "would rewrite"; it now ends as SIGINT ends a process (130 in a
    shell), with its workers gone."""
    proc = _busy_run(tmp_path, 400)
    assert proc.stdout is not None
    # Read on to the end: a closed pipe made a write before the interrupt was handled end the
    # run by SIGPIPE instead (seen at load 10), which is another test's subject.
    reader = threading.Thread(target=proc.stdout.read, daemon=True)
    reader.start()
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == -signal.SIGINT
    reader.join(timeout=60)
    _assert_workers_end(proc)


def _sigint_handler(task: int) -> object:
    return signal.getsignal(signal.SIGINT)


def test_workers_leave_ctrl_c_to_the_main_process() -> None:
    """Ctrl-C reaches every process of the group: a worker interrupted while it sent a result
    could leave the result queue's lock taken, and the run hung for good (seen at load 4: both
    workers blocked in ``SimpleQueue.put``); workers ignore SIGINT, the main process ends the
    pool."""
    found = list(
        parallel.ordered_map(_sigint_handler, [1, 2, 3], 2, lambda t, e: e, lambda: None, ())
    )
    assert found == [signal.SIG_IGN] * 3
