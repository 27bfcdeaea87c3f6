"""`--engine auto` picks by SPEC §15's rule: bulk past 15 paced minutes or 2,000 orders."""

from __future__ import annotations

import json

import pytest

from pipeline.plan.engine import choose_engine, paced_seconds


def test_the_paced_estimate_counts_points_past_the_burst_at_the_restore_rate() -> None:
    assert paced_seconds(100, 35, restore_rate=100, bucket=2000) == 15.0
    assert paced_seconds(10, 35, restore_rate=100, bucket=2000) == 0.0


@pytest.mark.parametrize(
    ("orders", "stage", "rate", "engine"),
    [
        (2000, "execute", 100, "paced"),  # (70,000 - 2,000) / 100 = 680 s, and not more than 2,000
        (2001, "plan", 1000, "bulk"),  # more than 2,000 orders, however fast the shop
        (1300, "execute", 50, "paced"),  # 43,500 / 50 = 870 s
        (1400, "execute", 50, "bulk"),  # 47,000 / 50 = 940 s > 15 min
    ],
)
def test_auto_follows_the_rule(orders: int, stage: str, rate: float, engine: str) -> None:
    choice = choose_engine("auto", orders, stage=stage, restore_rate=rate, bucket=2000)
    assert choice.engine == engine, choice.reason


def test_both_limits_are_exceeded_not_reached() -> None:
    assert choose_engine("auto", 2000, stage="plan", restore_rate=1e6).engine == "paced"
    assert choose_engine("auto", 750, stage="plan", restore_rate=10).paced_seconds == 900  # exactly 15 min
    assert choose_engine("auto", 750, stage="plan", restore_rate=10).engine == "paced"
    assert choose_engine("auto", 751, stage="plan", restore_rate=10).engine == "bulk"


def test_forcing_an_engine_keeps_the_estimate_and_says_why() -> None:
    choice = choose_engine("paced", 5000, stage="execute", restore_rate=100, bucket=2000)
    assert choice.engine == "paced" and "--engine paced" in choice.reason
    assert choice.as_json()["paced_seconds"] == pytest.approx((5000 * 35 - 2000) / 100)
    assert choose_engine("bulk", 3, stage="plan", restore_rate=100).engine == "bulk"


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        choose_engine("fast", 1, stage="plan", restore_rate=100)


def test_a_plan_keeps_its_engines_through_plan_json() -> None:
    from pipeline.plan.engine import later_stages
    from pipeline.plan.model import Plan

    engines = {
        "plan": choose_engine("auto", 2500, stage="plan", restore_rate=50, bucket=2000),
        **later_stages("auto", 1500, restore_rate=50, bucket=2000),
    }
    plan = Plan(run_id="r", rows=[], engines=engines)
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again == plan and again.engines["plan"].engine == "bulk"
    assert [c.engine for c in again.engines.values()] == ["bulk", "bulk", "paced"]  # 16.8 and 6.8 min
    assert list(plan.to_json())[-2:] == ["engines", "rows"]  # the rows stay last (plan.json is streamed)
    assert "engines" not in Plan(run_id="r", rows=[]).to_json()  # plans without engines read as before
