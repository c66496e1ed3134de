"""The guard around one file: a time budget, and the stage the work is in, so that any
failure becomes a coverage gap that says where (read, decode, parse, match, archive) and why.

The budget is a real-time interval timer (SIGALRM) where the scanning runs in a process's main
thread, which is where pool workers and the CLI run it: Python's ``re`` checks for signals
while it backtracks, so even a catastrophic pattern is stopped. Elsewhere (a scan run from a
thread) the budget is checked between steps (``Guard.check``).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator


class FileTimeout(Exception):
    """The file's time budget ran out."""


class Guard:
    """Stage tracking and the time budget of one file."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.stage = "read"
        self._deadline = float("inf")

    def check(self) -> None:
        """Raise FileTimeout when the budget is spent (for code that runs without the timer)."""
        if time.monotonic() > self._deadline:
            raise FileTimeout()

    @contextmanager
    def running(self) -> Iterator["Guard"]:
        if self.seconds is None:
            yield self
            return
        self._deadline = time.monotonic() + self.seconds
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            yield self
            return

        def expire(_signum: int, _frame: object) -> None:
            raise FileTimeout()

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield self
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its class and first line of message, no traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:300]
