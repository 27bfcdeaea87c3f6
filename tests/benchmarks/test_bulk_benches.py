"""Smoke test of the bulk benches: the floor's arithmetic, and the bulk flow's four stages as
processes on a tiny seeded shop (shapes and bookkeeping, no timings)."""

from __future__ import annotations

import datetime as dt

from benchmarks import bulk_flow
from benchmarks.bulk_execute import busy_seconds

KEYS = {"name", "value", "unit", "target", "ceiling", "ok"}


def test_busy_time_is_the_union_of_the_operations_spans() -> None:
    at = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)

    def span(start: float, end: float) -> tuple[dt.datetime, dt.datetime]:
        return at + dt.timedelta(seconds=start), at + dt.timedelta(seconds=end)

    # Two overlapping (0–10, 5–12), one inside another (6–8), one apart (20–25): 12 + 5 seconds.
    assert busy_seconds([span(5, 12), span(0, 10), span(20, 25), span(6, 8)]) == 17.0
    assert busy_seconds([]) == 0.0


def test_the_bulk_flow_runs_its_stages_as_processes_and_reports_every_figure() -> None:
    figures = bulk_flow.bench_bulk_flow(orders=60, out_of_stock=4, seed=3)
    assert figures and all(set(f) == KEYS for f in figures)
    by_name = {f["name"].split(": ", 1)[1]: f for f in figures}
    assert by_name["orders in the run"]["value"] > 0
    assert next(f for name, f in by_name.items() if name.startswith("execute: actions left"))["value"] == 0
    for stage in ("select", "plan", "execute", "reconcile", "simulator"):
        assert 0 < by_name[f"{stage} peak memory"]["value"] < bulk_flow.MEMORY_GB
    assert by_name["writing the plan files"]["ok"]
    assert by_name["execute's points per order"]["value"] > 0
    assert any(name.startswith("execute time ÷ its operations' floor") for name in by_name)
    assert any(name.startswith("plan time ÷ its operations' floor") for name in by_name)  # a bulk read
    assert any(name.startswith("reconcile time ÷ its operations' floor") for name in by_name)
    ratio = next(f for name, f in by_name.items() if "bulk floor, operations side by side" in name)
    assert isinstance(ratio["ok"], bool)
