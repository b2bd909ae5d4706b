"""A deadline for calls on hostile input: a regression to super-linear time fails the test
(TimeoutError) instead of hanging it. The limit is generous, far from what the call takes.

Plain module, imported as ``support.deadline``. POSIX and the main thread only (SIGALRM, or
SIGPROF for CPU time); Python's re checks for signals while it backtracks, so a runaway regex is
interrupted too.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deadline(seconds: float = 30, cpu: bool = False) -> Iterator[None]:
    """Raise TimeoutError in the block when it runs longer than ``seconds``: of wall-clock
    time, or with ``cpu`` of this process's CPU time (SIGPROF), which other processes on a
    loaded machine do not use up, so a tighter limit still tells quadratic from linear."""

    def expire(signum: int, frame: FrameType | None) -> None:
        kind = "CPU " if cpu else ""
        raise TimeoutError(f"still running after {seconds} {kind}s: super-linear time?")

    timer, signum = (
        (signal.ITIMER_PROF, signal.SIGPROF) if cpu else (signal.ITIMER_REAL, signal.SIGALRM)
    )
    previous = signal.signal(signum, expire)
    signal.setitimer(timer, seconds)
    try:
        yield
    finally:
        signal.setitimer(timer, 0)
        signal.signal(signum, previous)
