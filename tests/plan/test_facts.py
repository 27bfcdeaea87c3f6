"""The fingerprint decides which refunds are new since the plan: by id when the plan saw them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.plan.facts import Fingerprint

PLANNED_AT = dt.datetime(2026, 11, 30, 7, 13, 23, 500000, tzinfo=dt.UTC)
SAME_SECOND = dt.datetime(2026, 11, 30, 7, 13, 23, tzinfo=dt.UTC)  # Shopify's createdAt: whole seconds


def order(*refund_ids: str) -> dict[str, object]:
    return {
        "updatedAt": "2026-11-30T07:13:20Z",
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalRefundedSet": {"presentmentMoney": {"amount": "5.0", "currencyCode": "EUR"}},
        "refunds": [{"id": i} for i in refund_ids],
    }


def test_a_refund_the_plan_saw_is_not_new_even_in_the_plans_own_second() -> None:
    seen = Fingerprint.of_order(order("gid://shopify/Refund/1"))
    assert not seen.new_since_plan("gid://shopify/Refund/1", SAME_SECOND, PLANNED_AT)
    assert seen.new_since_plan("gid://shopify/Refund/2", SAME_SECOND, PLANNED_AT)


def test_the_refunds_seen_survive_plan_json_and_old_plans_fall_back_to_whole_seconds() -> None:
    seen = Fingerprint.of_order(order("gid://shopify/Refund/2", "gid://shopify/Refund/1"))
    assert Fingerprint.from_json(seen.to_json()) == seen
    assert seen.to_json()["refund_ids"] == ["gid://shopify/Refund/1", "gid://shopify/Refund/2"]
    old = Fingerprint("2026-11-30T07:13:20Z", "PAID", "UNFULFILLED", Decimal(0))
    assert Fingerprint.from_json(old.to_json()).refund_ids is None
    assert old.new_since_plan("gid://shopify/Refund/9", SAME_SECOND, PLANNED_AT)  # the safe side
    assert not old.new_since_plan("gid://shopify/Refund/9", SAME_SECOND - dt.timedelta(seconds=1), PLANNED_AT)


def test_the_drift_read_without_refunds_compares_the_status_only() -> None:
    planned = Fingerprint.of_order(order("gid://shopify/Refund/1"))
    read = {k: v for k, v in order().items() if k != "refunds"}
    assert planned.changes(Fingerprint.of_order(read)) is None
