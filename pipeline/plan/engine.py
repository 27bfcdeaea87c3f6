"""Which engine carries a run (SPEC §15): the paced API, or Shopify's bulk operations. Pure.

`auto` takes bulk operations when the paced estimate exceeds 15 minutes or the run has more than
2,000 orders; `paced` and `bulk` force one. The paced estimate is the points the run needs beyond
the bucket's initial burst, at the shop's restore rate; the points per order are SPEC §12's
ceilings for each stage (what the paced engine is held to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENGINES = ("auto", "paced", "bulk")
MAX_PACED_SECONDS = 15 * 60
MAX_PACED_ORDERS = 2000
STAGES = ("plan", "execute", "reconcile")
#: cost points per order on the paced API, by stage (SPEC §12).
POINTS_PER_ORDER = {"plan": 12.0, "execute": 35.0, "reconcile": 15.0}


@dataclass(frozen=True)
class EngineChoice:
    """The engine, why, and the paced estimate it was weighed on (kept in the plan)."""

    engine: str  # "paced" or "bulk"
    reason: str
    orders: int
    paced_seconds: float

    def as_json(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "reason": self.reason,
            "orders": self.orders,
            "paced_seconds": round(self.paced_seconds, 1),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> EngineChoice:
        return cls(
            str(record["engine"]),
            str(record["reason"]),
            int(record["orders"]),
            float(record["paced_seconds"]),
        )


def paced_seconds(orders: int, points_per_order: float, restore_rate: float, bucket: float = 0.0) -> float:
    """Seconds the paced API needs for `orders`: points past the initial burst at the restore rate."""
    if restore_rate <= 0:
        raise ValueError("the restore rate must be above 0 points per second")
    return max(orders * points_per_order - bucket, 0.0) / restore_rate


def choose_engine(
    requested: str, orders: int, *, stage: str, restore_rate: float, bucket: float = 0.0
) -> EngineChoice:
    """The engine for `orders` orders of one stage on a shop with this bucket."""
    if requested not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {requested!r}")
    # Tenths of a second: what plan.json keeps, so a plan read back equals the one written.
    estimate = round(paced_seconds(orders, POINTS_PER_ORDER[stage], restore_rate, bucket), 1)
    minutes = f"{estimate / 60:.1f} min paced"
    if requested != "auto":
        return EngineChoice(requested, f"--engine {requested} ({minutes})", orders, estimate)
    if orders > MAX_PACED_ORDERS:
        return EngineChoice("bulk", f"{orders:,} orders > {MAX_PACED_ORDERS:,} ({minutes})", orders, estimate)
    if estimate > MAX_PACED_SECONDS:
        return EngineChoice("bulk", f"{minutes} > 15 min", orders, estimate)
    return EngineChoice("paced", f"{orders:,} orders, {minutes}", orders, estimate)


def later_stages(
    requested: str, actions: int, *, restore_rate: float, bucket: float = 0.0
) -> dict[str, EngineChoice]:
    """The engines a plan foresees for execute and reconcile, weighed on its executable actions."""
    return {
        stage: choose_engine(requested, actions, stage=stage, restore_rate=restore_rate, bucket=bucket)
        for stage in STAGES[1:]
    }
