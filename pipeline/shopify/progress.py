"""Progress of a bulk operation: root objects done (orders exported, lines run) of the total, the
rate, the time left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One reading: `total` and `eta` are None when the total is not known."""

    done: int
    total: int | None
    rate: float  # objects per second since the first reading
    eta: float | None  # seconds left at that rate
    unit: str = "objects"  # what is counted: orders exported, lines run

    def __str__(self) -> str:
        of = f" of {self.total:,}" if self.total is not None else ""
        left = f", about {_duration(self.eta)} left" if self.eta is not None else ""
        return f"{self.done:,}{of} {self.unit}, {self.rate:,.0f}/s{left}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class ProgressTracker:
    """Turns successive object counts into readings."""

    def __init__(self, total: int | None, clock: Callable[[], float], unit: str = "objects") -> None:
        self.total, self.clock, self.unit = total, clock, unit
        self._start = clock()

    def update(self, done: int) -> Progress:
        elapsed = self.clock() - self._start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = None
        if self.total is not None and rate > 0:
            eta = max(self.total - done, 0) / rate
        return Progress(done, self.total, rate, eta, self.unit)
