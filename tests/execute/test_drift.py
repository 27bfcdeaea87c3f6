"""The drift rule (execute/drift.py) on the edge Shopify's whole-second times make."""

from __future__ import annotations

import datetime as dt

from pipeline.execute.drift import drift
from tests.plan.test_decide import ORDER, plan_one

PLANNED = dt.datetime(2026, 11, 30, 17, 12, 5, 347_000, tzinfo=dt.UTC)


def test_a_cancel_by_someone_else_in_the_plans_own_second_is_drift() -> None:
    action = plan_one().action
    assert action is not None
    order = {"id": ORDER, "cancelledAt": "2026-11-30T17:12:05Z", "refunds": []}  # Shopify: whole seconds
    why = drift(action, order, planned_at=PLANNED, started=True, cancelled_by_us=False)
    assert why is not None and "cancelled by someone else" in why
    earlier = {**order, "cancelledAt": "2026-11-30T17:12:04Z"}  # a second before: not since the plan
    assert drift(action, earlier, planned_at=PLANNED, started=True, cancelled_by_us=False) is None
