"""Shopify's leaky bucket of cost points, per app and shop (SPEC §9), and the answers it shapes."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

DOCUMENTATION = "https://shopify.dev/api/usage/rate-limits"


class CostBucket:
    """Points refill continuously at `restore_rate` per second up to `maximum`; a request spends them."""

    def __init__(
        self, maximum: float, restore_rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if maximum <= 0 or restore_rate < 0:
            raise ValueError("the bucket needs a positive size and a restore rate of at least 0")
        self.maximum = float(maximum)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = self.maximum
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._available = min(self.maximum, self._available + elapsed * self.restore_rate)
        self._stamp = now

    def try_spend(self, requested: int) -> bool:
        """Take `requested` points if they are there; otherwise take nothing and say no."""
        with self._lock:
            self._refill()
            if requested > self._available:
                return False
            self._available -= requested
            return True

    def refund(self, points: float) -> None:
        """Give back what a request did not use (requested − actual), never above the maximum."""
        if points <= 0:
            return
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def available(self) -> float:
        """Points available now, with the fraction Shopify does not print."""
        with self._lock:
            self._refill()
            return self._available

    def throttle_status(self) -> dict[str, Any]:
        """`throttleStatus` as the recorded 2026-04 answers print it: 2000, 1973, 100."""
        return {
            "maximumAvailable": _number(self.maximum),
            "currentlyAvailable": math.floor(self.available()),
            "restoreRate": _number(self.restore_rate),
        }

    def cost_extension(self, requested: int, actual: int | None) -> dict[str, Any]:
        """`extensions.cost`; `actual` None for a request that was not executed."""
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.throttle_status(),
        }

    def throttled_body(self, requested: int) -> dict[str, Any]:
        """Shopify's THROTTLED answer (HTTP 200): not executed, so no `data` and no actual cost."""
        error = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": DOCUMENTATION}}
        return {"errors": [error], "extensions": {"cost": self.cost_extension(requested, None)}}

    def seconds_until(self, requested: int) -> float:
        """How long until `requested` points are available (0 when they already are)."""
        missing = requested - self.available()
        if missing <= 0:
            return 0.0
        return math.inf if self.restore_rate == 0 else missing / self.restore_rate


def _number(value: float) -> int | float:
    # Shopify prints whole bucket figures as integers today (older answers showed 1000.0).
    return int(value) if float(value).is_integer() else value
