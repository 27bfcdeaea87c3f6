"""The plan files bench on a small plan: its figures' shape, and a plan built by the planner's rules."""

from __future__ import annotations

from collections import Counter

from benchmarks.plan_files import large_plan, plan_files_figures

KEYS = {"name", "value", "unit", "target", "ceiling", "ok"}


def test_the_large_plan_mixes_what_a_stock_out_gives():
    plan = large_plan(400)
    assert len(plan.rows) == 400 and len({row.action.order_id for row in plan.rows if row.action}) > 350
    assert Counter(str(row.decision) for row in plan.rows)["blocked"] > 0
    kinds = {step.kind.value for action in plan.actions() for step in action.steps}
    assert {"cancel", "refund", "gift_card"} <= kinds


def test_figures_have_the_bench_shape():
    figures = plan_files_figures(rows=300)
    assert figures and all(set(f) == KEYS for f in figures)
    names = [f["name"] for f in figures]
    assert names[0] == "plan files 300 rows: writing time" and figures[0]["target"] == 30.0
    assert all(f["value"] > 0 for f in figures)
