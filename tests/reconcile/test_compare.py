"""The pure comparison of SPEC §8 with plain values: a typed plan, journal rows and orders as read back."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from pipeline.reconcile.compare import reconcile
from tests.reconcile.values import (
    BEFORE,
    KEY,
    ORDER,
    cancel_step,
    gift_step,
    journal,
    order,
    plan,
    refund,
    refund_step,
    tx,
)


def one(the_plan, rows, the_order, cards=None):
    result = reconcile(the_plan, rows, {ORDER: the_order}, cards or {})
    assert len(result.rows) == 1
    return result, result.rows[0]


def test_a_cancel_that_refunded_as_planned_matches():
    p = plan(cancel_step())
    result, row = one(p, journal(p), order(refund(7, tx(8, "50.00"))))
    assert row.status == "matched", row.detail
    assert row.refunded == Decimal("50.00") and isinstance(row.refunded, Decimal)
    assert row.planned == Decimal("50.00") and row.method == "original" and row.cancelled
    assert [t.origin for t in result.transactions] == ["cancel"]
    assert result.counts()["matched"] == 1 and not result.exceptions


def test_refunds_made_before_the_plan_are_not_duplicates():
    p = plan(cancel_step(method=None), refund_step("20.00"))
    earlier = refund(3, tx(4, "15.00"), created=BEFORE)
    ours = refund(7, tx(8, "20.00"), note=KEY)
    _, row = one(p, journal(p, s1={"refund_id": ours["id"]}), order(earlier, ours))
    assert row.status == "matched", row.detail
    assert row.refunds_since_plan == 1 and row.refunded == Decimal("20.00")


def test_a_second_refund_since_the_plan_is_a_duplicate():
    p = plan(cancel_step())
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00")), refund(9, tx(10, "50.00"))))
    assert row.status == "duplicate"
    assert "2 refunds since the plan, 1 planned" in row.detail


def test_more_money_than_planned_in_one_refund_is_a_duplicate():
    p = plan(cancel_step(method=None), refund_step("20.00"))
    ours = refund(7, tx(8, "40.00"))
    _, row = one(p, journal(p, s1={"refund_id": ours["id"]}), order(ours))
    assert row.status == "duplicate" and "40.00" in row.detail


def test_less_money_than_planned_is_a_mismatch_that_says_what_differs():
    p = plan(cancel_step(method=None), refund_step("20.00"))
    ours = refund(7, tx(8, "12.00"))
    _, row = one(p, journal(p, s1={"refund_id": ours["id"]}), order(ours))
    assert row.status == "mismatch"
    assert "refund refunded 12.00 EUR, planned 20.00" in row.detail


def test_a_pending_transaction_is_pending_not_missing():
    p = plan(cancel_step())
    pending = refund(7, tx(8, "50.00", gateway="klarna", status="PENDING"))
    # totalRefundedSet leaves PENDING money out (SHOPIFY-FACTS §10.4): 0.0 is what Shopify shows.
    _, row = one(p, journal(p), order(pending, total="0.0"))
    assert row.status == "pending", row.detail
    assert row.pending == Decimal("50.00") and row.refunded == 0
    assert "klarna" in row.detail and "reconcile again later" in row.detail


def test_a_failed_transaction_is_a_mismatch():
    p = plan(cancel_step())
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00", status="FAILURE")), total="0.0"))
    assert row.status == "mismatch" and "FAILURE" in row.detail


def test_store_credit_refunded_to_the_card_is_a_mismatch_of_method():
    p = plan(cancel_step(method="store_credit"))
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00", gateway="shopify_payments"))))
    assert row.status == "mismatch"
    assert "refunded as original (shopify_payments), planned as store_credit" in row.detail


def test_cancel_reason_tags_and_cancellation_are_compared():
    p = plan(cancel_step())
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00")), reason="FRAUD", tags=["bulkcancel"]))
    assert row.status == "mismatch"
    assert "cancel reason FRAUD, planned INVENTORY" in row.detail
    assert "tags missing: bulkcancel-run" in row.detail and row.tagged is False
    _, row = one(p, journal(p), order(cancelled=False))
    assert row.status == "mismatch" and "not cancelled" in row.detail


def test_restock_is_compared_by_units_and_type():
    p = plan(cancel_step(method=None), refund_step("20.00", lines=[(1, "NO_RESTOCK")]))
    ours = refund(7, tx(8, "20.00"), lines=[(1, "RETURN")])
    _, row = one(p, journal(p, s1={"refund_id": ours["id"]}), order(ours))
    assert row.status == "mismatch" and "refund lines 1 RETURN, planned 1 NO_RESTOCK" in row.detail
    assert row.restocked_units == 1
    p = plan(cancel_step(restock=False))
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00"), lines=[(2, "CANCEL")])))
    assert row.status == "mismatch" and "restocked 2 units" in row.detail


def test_restocked_units_and_locations_are_read_from_the_refund_lines():
    p = plan(cancel_step(method=None), refund_step("20.00", lines=[(2, "CANCEL"), (1, "RETURN")]))
    ours = refund(7, tx(8, "20.00"), lines=[(2, "CANCEL"), (1, "RETURN")])
    places = ["Store Hamburg", "Warehouse Berlin"]
    for line, place in zip(ours["refundLineItems"]["nodes"], places, strict=True):
        line["location"] = {"name": place}
    _, row = one(p, journal(p, s1={"refund_id": ours["id"]}), order(ours))
    assert row.status == "matched", row.detail
    assert (row.restocked_units, row.restocked_at) == (3, "2 at Store Hamburg, 1 at Warehouse Berlin")


def test_a_planned_restock_with_nothing_restocked_is_a_mismatch():
    p = plan(cancel_step(restock=True))
    _, row = one(p, journal(p), order(refund(7, tx(8, "50.00"))))
    assert row.status == "mismatch" and "restock was planned, nothing was restocked" in row.detail
    assert row.restocked_units == 0 and row.restocked_at is None
    p = plan(cancel_step(method=None), refund_step("20.00", lines=[(2, "CANCEL")]))
    _, row = one(p, journal(p, s1={"refund_id": "gid://shopify/Refund/99"}), order())
    assert "restock was planned (2 units), nothing was restocked" in row.detail


def test_gift_cards_are_read_back_by_the_journal_id():
    p = plan(cancel_step(method=None), gift_step("30.00"))
    card_id = "gid://shopify/GiftCard/77"
    card = {
        "__typename": "GiftCard",
        "id": card_id,
        "lastCharacters": "ab12",
        "enabled": True,
        "initialValue": {"amount": "30.0", "currencyCode": "EUR"},
        "customer": {"id": "gid://shopify/Customer/5"},
    }
    rows = journal(p, s1={"gift_card_id": card_id})
    _, row = one(p, rows, order(), {card_id: card})
    assert row.status == "matched", row.detail
    assert row.refunded == Decimal("30.0") == row.gift_card_value and "ab12" in row.gift_card
    wrong = {**card, "initialValue": {"amount": "300.0", "currencyCode": "EUR"}}
    _, row = one(p, rows, order(), {card_id: wrong})
    assert row.status == "mismatch" and "gift card of 300.0 EUR, planned 30.00 EUR" in row.detail
    _, row = one(p, rows, order(), {})
    assert row.status == "mismatch" and "could not be read back" in row.detail


def test_failed_drifted_and_unexecuted_rows_say_so():
    p = plan(cancel_step(method=None), refund_step("20.00"))
    rows = journal(p, state="failed")
    rows[1].update(state="failed", error_code="user_error", error_message="Refund amount is greater")
    _, row = one(p, rows, order())
    assert row.status == "failed" and "Refund amount is greater" in row.detail
    rows = journal(p, state="drifted")
    rows[0]["action_detail"] = "changed since the plan: updated_at a → b"
    _, row = one(p, rows, order(cancelled=False))
    assert row.status == "drifted" and "updated_at" in row.detail
    _, row = one(p, [], order(cancelled=False))
    assert row.status == "not_executed"
    _, row = one(p, journal(p, state="running"), order(cancelled=False))
    assert row.status == "not_executed" and "again" in row.detail
    # A step sent whose answer never came reads as execute and execution.csv say it: to verify.
    rows = journal(p, state="running")
    rows[0]["state"] = "unknown"
    _, row = one(p, rows, order(cancelled=False))
    assert row.status == "to_verify" and "run `bulkcancel execute` again" in row.detail


def test_blocked_skipped_and_unreadable_orders():
    blocked = plan(decision="blocked", reason="fulfilled")
    assert reconcile(blocked, [], {}).rows[0].status == "blocked"
    skipped = plan(decision="skip", reason="already_done")
    assert reconcile(skipped, [], {}).rows[0].status == "skipped"
    p = plan(cancel_step())
    _, row = one(p, journal(p), None)
    assert row.status == "mismatch" and "could not be read back" in row.detail


@pytest.mark.parametrize("field", ["presentmentMoney", "shopMoney"])
def test_shopify_totals_that_disagree_with_its_transactions_are_a_mismatch(field):
    p = plan(cancel_step())
    the_order = order(refund(7, tx(8, "50.00")))
    the_order = copy.deepcopy(the_order)
    the_order["totalRefundedSet"][field]["amount"] = "49.00"
    _, row = one(p, journal(p), the_order)
    assert row.status == "mismatch" and "total refunded 49.00" in row.detail


def test_a_restock_no_refund_line_shows_is_never_reported_as_read():
    p = plan(cancel_step(method=None, restock=True))
    _, row = one(p, journal(p), order())
    assert row.status == "matched" and "restock not verified" in row.detail
    assert row.restocked_units is None  # not read, never "0 units" nor assumed


def test_a_refund_by_hand_is_not_credited_to_a_cancel_that_never_ran():
    """Our refunding cancel drifted on a refund made by hand: that refund is nobody's of this run."""
    p = plan(cancel_step())
    rows = journal(p, state="drifted")
    rows[0]["action_detail"] = "refunded by someone else since the plan: 50.00"
    result, row = one(p, rows, order(refund(7, tx(8, "50.00")), cancelled=False))
    assert row.status == "drifted", row.detail
    assert [t.origin for t in result.transactions] == ["not planned"]


def test_money_out_twice_on_a_drifted_order_is_a_duplicate():
    """Our cancel refunded, then a refund by hand came and the next step drifted: money went out twice."""
    p = plan(cancel_step(), refund_step("20.00"))
    rows = journal(p)
    rows[0]["action_state"] = rows[1]["action_state"] = "drifted"
    rows[1]["state"] = "pending"
    the_order = order(refund(7, tx(8, "50.00"), created="2026-05-01T10:02:00Z"), refund(9, tx(10, "50.00")))
    _, row = one(p, rows, the_order)
    assert row.status == "duplicate", (row.status, row.detail)
