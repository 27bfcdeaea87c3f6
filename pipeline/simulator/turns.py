"""The shop's lock taken in turns by requests and the bulk operations' background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """The shop's lock taken in turns: the background thread lets the requests that wait for the lock
    have it before its next slice (a lock is not fair: its releaser would mostly take it again)."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._changed = threading.Condition()
        self._waiting = 0

    @contextmanager
    def request(self) -> Iterator[None]:
        """Hold the shop's lock for one request (the background thread yields it between slices)."""
        with self._changed:
            self._waiting += 1
        try:
            self.lock.acquire()
        finally:
            with self._changed:
                self._waiting -= 1
                self._changed.notify_all()
        try:
            yield
        finally:
            self.lock.release()

    def let_through(self, timeout: float) -> None:
        """Wait (at most `timeout`) until every request waiting for the lock has had it."""
        with self._changed:
            self._changed.wait_for(lambda: self._waiting == 0, timeout)
