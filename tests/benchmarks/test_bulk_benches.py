"""Smoke test of the bulk benches: the floor's arithmetic, and the bulk flow's four stages as
processes on a tiny seeded shop (shapes and bookkeeping, no timings)."""

from __future__ import annotations

import datetime as dt

from benchmarks import bulk_flow
from benchmarks.bulk_execute import Floor, busy_seconds, idle_gaps

KEYS = {"name", "value", "unit", "target", "ceiling", "ok"}


def test_busy_time_is_the_union_of_the_operations_spans() -> None:
    at = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)

    def span(start: float, end: float) -> tuple[dt.datetime, dt.datetime]:
        return at + dt.timedelta(seconds=start), at + dt.timedelta(seconds=end)

    # Two overlapping (0–10, 5–12), one inside another (6–8), one apart (20–25): 12 + 5 seconds.
    assert busy_seconds([span(5, 12), span(0, 10), span(20, 25), span(6, 8)]) == 17.0
    assert busy_seconds([]) == 0.0
    # The time none ran, from 0 to 30: 12–20 and 25–30 (17 + 13 = 30).
    assert idle_gaps([span(5, 12), span(0, 10), span(20, 25), span(6, 8)], at, span(30, 30)[0]) == [
        span(12, 20),
        span(25, 30),
    ]


def test_the_target_is_judged_on_the_sum_of_the_stages_measured_floors() -> None:
    """Measured floor: the time the operations ran (their union); nominal: objects ÷ rate side by side.
    Time outside any stage's operations (paced work, local work, a stage without operations) is overhead."""
    flow = bulk_flow.Flow(
        seconds={"select": 12.0, "plan": 30.0, "execute": 100.0, "reconcile": 18.0, "plan files": 5.0}
    )
    flow.stage_floors = {
        "select": Floor(seconds=8.0, ran=10.0, busy=10.0, operations=1, side_by_side=8.0),
        "execute": Floor(seconds=300.0, ran=400.0, busy=80.0, operations=20, side_by_side=60.0),
        "reconcile": Floor(seconds=9.0, ran=10.0, busy=10.0, operations=1),  # one at a time: nominal 9
    }
    shop = Floor(seconds=317.0, ran=420.0, busy=100.0, operations=22, side_by_side=77.0)
    figures = {f["name"].split(": ", 1)[1]: f for f in bulk_flow.flow_figures("t", flow, shop, 100)}
    total = 12.0 + 30.0 + 100.0 + 18.0
    ratio = figures["select+plan+execute+reconcile time ÷ measured bulk floor (100 s)"]
    assert ratio["value"] == total / 100.0 and ratio["target"] == 1.2 and not ratio["ok"]
    assert figures["time ÷ nominal bulk floor (77 s)"]["value"] == total / 77.0
    assert figures["execute time ÷ its measured floor (80 s, 20 ops)"]["value"] == 100.0 / 80.0
    assert figures["execute's nominal floor"]["value"] == 60.0
    assert figures["execute time with no operation running"]["value"] == 20.0
    assert figures["reconcile's nominal floor"]["value"] == 9.0
    assert not any(name.startswith("plan time ÷") for name in figures)  # no operations: all overhead


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
    assert any(name.startswith("execute time ÷ its measured floor") for name in by_name)
    assert any(name.startswith("plan time ÷ its measured floor") for name in by_name)  # a bulk read
    assert any(name.startswith("reconcile time ÷ its measured floor") for name in by_name)
    ratio = next(f for name, f in by_name.items() if "measured bulk floor" in name)
    assert isinstance(ratio["ok"], bool)
