"""A deadline for calls on hostile input: a regression to super-linear time fails the test
(TimeoutError) instead of hanging it. The limit is generous, far from what the call takes.

Plain module, imported as ``support.deadline``. POSIX and the main thread only (SIGALRM); Python's
re checks for signals while it backtracks, so a runaway regex is interrupted too.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deadline(seconds: float = 30) -> Iterator[None]:
    """Raise TimeoutError in the block when it runs longer than ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still running after {seconds} s: super-linear time?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
