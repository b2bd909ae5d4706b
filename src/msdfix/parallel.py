"""Work in worker processes: results in input order, a bounded number of tasks in flight."""

from __future__ import annotations

import math
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")
CGROUP = Path("/sys/fs/cgroup")


def usable_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2/v1 CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(count, math.ceil(quota))) if quota else max(1, count)


def _cgroup_quota() -> float | None:
    """The tightest CPU quota (in CPUs) of this process's cgroup and its ancestors, if any."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: cpu.max is "max 100000" or "<quota> <period>"
            dirs = [CGROUP]
            read = _v2_quota
        elif "cpu" in controllers.split(","):
            dirs = [CGROUP / controllers, CGROUP / "cpu", CGROUP / "cpu,cpuacct"]
            read = _v1_quota
        else:
            continue
        for base in dirs:
            here = base / path.lstrip("/")
            for directory in [here, *here.parents]:
                if directory == base.parent:
                    break
                limit = read(directory)
                if limit is not None:
                    limits.append(limit)
    return min(limits) if limits else None


def _v2_quota(directory: Path) -> float | None:
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(directory: Path) -> float | None:
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _worker_setup(setup: Callable[..., None], setup_args: tuple[Any, ...]) -> None:
    """A worker's start: SIGTERM back to its default (the main process's handler, inherited by
    fork, would make a worker's SIGTERM an exception sent back as a task's result), SIGINT
    ignored, then ``setup``. Ctrl-C reaches the whole process group: a worker interrupted
    while sending a result could leave the result queue's lock taken, and the run hung for
    good (seen under load: both workers blocked in ``SimpleQueue.put``, the main process in
    ``shutdown``); the main process alone takes it and ends the pool."""
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup(*setup_args)


def ordered_map(
    work: Callable[[T], R],
    tasks: Iterable[T],
    jobs: int,
    failed: Callable[[T, BaseException], R],
    setup: Callable[..., None],
    setup_args: tuple[Any, ...],
) -> Iterator[R]:
    """``work(task)`` for every task, yielded in the order of ``tasks``.

    With ``jobs > 1`` (and more than one task) tasks run in ``jobs`` worker processes, at most
    ``4 * jobs`` at a time, so memory stays bounded however many tasks there are; ``setup``
    runs once in each worker. A task whose worker dies gives ``failed(task, error)`` and the
    others go on in a new pool.
    """
    source = iter(tasks)
    first = next(source, None)
    if first is None:
        return
    second = next(source, None)
    if jobs <= 1 or second is None:
        setup(*setup_args)
        yield work(first)
        if second is not None:
            yield work(second)
            yield from map(work, source)
        return
    # Imported here: a run of one file, or with --jobs 1, starts no pool (the import is a
    # tenth of the start-up's instructions)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pending = iter([first, second])
    window: deque[tuple[T, Future[R]]] = deque()
    pool = ProcessPoolExecutor(jobs, initializer=_worker_setup, initargs=(setup, setup_args))
    try:
        while True:
            while len(window) < 4 * jobs:
                task = next(pending, None)
                if task is None:
                    task = next(source, None)
                if task is None:
                    break
                window.append((task, pool.submit(work, task)))
            if not window:
                return
            task, future = window.popleft()
            try:
                yield future.result()
            except BrokenProcessPool as exc:  # a worker died: this task fails, the others go on
                yield failed(task, exc)
                pool.shutdown(cancel_futures=True)
                pool = ProcessPoolExecutor(
                    jobs, initializer=_worker_setup, initargs=(setup, setup_args)
                )
                window = deque(
                    (t, f if f.done() and f.exception() is None else pool.submit(work, t))
                    for t, f in window
                )
    finally:
        pool.shutdown(cancel_futures=True)
