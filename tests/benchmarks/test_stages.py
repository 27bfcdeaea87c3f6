"""Smoke test of the plan and execute bench figures on tiny sizes: shapes and arithmetic, no timings."""

from __future__ import annotations

import pytest

from benchmarks import stages as bench_stages

KEYS = {"name", "value", "unit", "target", "ceiling", "ok"}


def test_efficiency_and_plan_minimum_arithmetic() -> None:
    # 22,000 points through a 2,000 bucket at 100/s: 200 s of restore; done in 250 s → 0.8.
    assert bench_stages.efficiency(22000, 2000, 100, 250) == pytest.approx(0.8)
    assert bench_stages.efficiency(22000, 2000, 100, 0) == 0.0
    assert bench_stages.plan_minimum(5000, 2000, 100, 10, 0.1) == pytest.approx(30.0)
    assert bench_stages.plan_minimum(800, 2000, 100, 50, 0.1) == pytest.approx(5.0)  # latency-bound
    assert bench_stages.plan_minimum(800, 2000, 100, 50, 0.1, workers=4) == pytest.approx(1.25)


@pytest.mark.parametrize("suite", ["plan", "execute"])
def test_figures_have_the_bench_shape(suite: str) -> None:
    if suite == "plan":
        figures = bench_stages.bench_plan(rows=20, rate=5000.0, bucket=20000.0)
    else:
        figures = bench_stages.bench_execute(orders=20, rate=5000.0, bucket=2000.0, concurrency=4)
    assert figures and all(set(f) == KEYS for f in figures)
    # The stage's own figures: the execute suite ends with reconcile's, which share some names.
    by_name = {f["name"].split(": ", 1)[1]: f for f in figures if f["name"].startswith(suite)}
    assert by_name["THROTTLED to user"]["value"] == 0
    if suite == "plan":
        assert by_name["rows executable"]["value"] == 20
        assert 0 < by_name["points per order"]["value"] <= 12
    else:
        assert by_name["orders not done"]["value"] == 0
        assert 0 < by_name["points per order"]["value"] <= 35, by_name["points per order"]


def test_the_simulator_throughput_loop_answers_every_request() -> None:
    from benchmarks import simulator as bench_simulator

    # in_process asserts every answer is a 200; the figure itself is for `make bench` only.
    assert bench_simulator.in_process(orders=60, requests=120) > 0
    assert len(bench_simulator.order_traffic("gid://shopify/Order/1")) == 6
