"""How many orders run at once: found from the bucket, not configured (SPEC §12, issue 16).

The controller is a pure decision, fed one reading per finished order. Little's law gives the floor:
spending the restore rate R with orders of p points that take t seconds (less their waits for the
bucket) needs R × t ÷ p orders in flight. Above it: raise while the bucket has room and no request
waited for it (+1 an order, doubling each round, while the bucket is at least half full; +1 a round
below), lower by a tenth an order while requests wait for the bucket (it is the limit, more orders
would only queue), halve on THROTTLED. The ceiling (`--concurrency`) is never passed.

Slow start: an order takes several round trips, so until the first request waits for the bucket (or
the bucket falls below half, or is THROTTLED) every answer, not every order, raises the figure by one:
a full bucket at the start of a run is spent at once instead of over the first orders' seconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

START = 4  # orders at once before anything is known: low, the bucket's size is not known yet
HEADROOM = 1.3  # above Little's law, so the bucket stays the limit through jitter
DECREASE = 0.9  # per order that waited for the bucket
THROTTLED_DECREASE = 0.5
SLOW_START_LEVEL = 0.5  # bucket share above which each order raises the figure by one
SMOOTHING = 0.2  # weight of the newest order in the running service time and points


@dataclass(frozen=True, slots=True)
class Reading:
    """What one finished order tells: whether it waited for the bucket, how long it took otherwise,
    its points, the THROTTLED answers since the last reading, and the bucket as the governor sees it."""

    waited: bool
    service: float  # seconds, less the waits for the bucket
    points: float
    throttled: int = 0
    level: float | None = None  # share of the bucket available (0..1), None before any answer
    restore_rate: float | None = None


def little(restore_rate: float | None, service: float | None, points: float | None) -> float | None:
    """Orders in flight that spend exactly the restore rate, or None while a figure is missing."""
    if not restore_rate or service is None or not points or points <= 0:
        return None
    return restore_rate * service / points


def next_limit(
    limit: float,
    *,
    waited: bool,
    throttled: int,
    level: float | None,
    need: float | None,
    ceiling: int,
) -> float:
    """The next number of orders at once (a float: small steps add up), between 1 and `ceiling`."""
    floor = 1.0 if need is None else max(1.0, need * HEADROOM)
    if throttled:
        value = limit * THROTTLED_DECREASE  # our model of the bucket was wrong: back off hard
    elif waited:
        value = min(limit, max(limit * DECREASE, floor))  # never raised while requests queue
    else:
        step = 1.0 if level is None or level >= SLOW_START_LEVEL else 1.0 / max(limit, 1.0)
        value = max(limit + step, floor)
    return min(max(value, 1.0), float(ceiling))


class ConcurrencyController:
    """Keeps the running service time and points per order, and the current figure."""

    def __init__(self, ceiling: int, start: int = START) -> None:
        self.ceiling = max(1, ceiling)
        self._limit = float(min(start, self.ceiling))
        self._service: float | None = None
        self._points: float | None = None
        self.last_need: float | None = None
        self._starting = True  # slow start: raised per answer until the bucket first pushes back

    @property
    def limit(self) -> int:
        """Orders at once now."""
        return max(1, int(self._limit))

    def observe(self, reading: Reading) -> int:
        """Takes one finished order's reading; returns the new figure."""
        self._service = _smoothed(self._service, reading.service)
        if reading.points > 0:
            self._points = _smoothed(self._points, reading.points)
        self.last_need = little(reading.restore_rate, self._service, self._points)
        low = reading.level is not None and reading.level < SLOW_START_LEVEL
        self._starting = self._starting and not (reading.waited or reading.throttled or low)
        self._limit = next_limit(
            self._limit,
            waited=reading.waited,
            throttled=reading.throttled,
            level=reading.level,
            need=self.last_need,
            ceiling=self.ceiling,
        )
        return self.limit

    def answered(self, level: float | None) -> int:
        """Takes one answer with the bucket's available share (0..1); returns the new figure."""
        if level is not None and level < SLOW_START_LEVEL:
            self._starting = False  # the bucket is no longer plentiful: orders raise it from now on
        elif level is not None and self._starting:
            self._limit = min(self._limit + 1.0, float(self.ceiling))
        return self.limit


def _smoothed(old: float | None, new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)


class Gate:
    """Lets at most `controller.limit` callers in at once; the figure may change while they wait."""

    def __init__(self, controller: ConcurrencyController) -> None:
        self.controller = controller
        self._inside = 0
        self._cond = threading.Condition()

    def enter(self) -> None:
        """Blocks until there is room."""
        with self._cond:
            while self._inside >= self.controller.limit:
                self._cond.wait()
            self._inside += 1

    def leave(self, reading: Reading | None) -> int:
        """Leaves, with the order's reading (None: an order that did not run); returns the figure."""
        with self._cond:
            self._inside -= 1
            before = self.controller.limit
            after = self.controller.observe(reading) if reading is not None else before
            self._cond.notify(max(1, after - self._inside))
            return after

    def answered(self, level: float | None) -> None:
        """One request answered, the bucket at `level` (share available): may let more callers in."""
        with self._cond:
            before = self.controller.limit
            after = self.controller.answered(level)
            if after > before:
                self._cond.notify(after - before)
