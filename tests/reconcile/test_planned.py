"""The plan as reconcile reads it: typed rows, actions and steps, notes without their key, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.reconcile.planned import from_plan
from tests.reconcile.values import KEY, cancel_step, gift_step, plan, refund_step


def test_a_plan_dict_becomes_typed_values():
    approved = from_plan(plan(cancel_step(restock=True), refund_step("20.00", lines=[(2, "CANCEL")])))
    assert approved.run_id == "run" and approved.shop == "shop.myshopify.com"
    assert approved.since == dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
    (row,) = approved.rows
    assert row.row == 2 and row.order == "#1001" and row.decision == "execute"
    assert row.action is not None and row.action.action_key == KEY
    cancel, refund, tag = row.action.steps
    assert row.action.cancel == cancel and cancel.restock and cancel.reason == "inventory"
    assert cancel.amount == Decimal("50.00") and cancel.method == "original"
    assert refund.refund_lines == (("CANCEL", 2),) and refund.gateways == ("shopify_payments",)
    assert tag.kind == "tag" and not tag.moves_money and tag.tags == ("bulkcancel", "bulkcancel-run")
    assert row.action.refunds_planned == Decimal("70.00")


def test_the_note_is_read_without_its_action_key():
    (row,) = from_plan(plan(cancel_step())).rows
    assert row.note == "note"


def test_totals_per_currency_and_method_count_only_executable_actions():
    approved = from_plan(plan(cancel_step(), refund_step("20.00", method="store_credit"), gift_step()))
    assert approved.totals() == {
        ("EUR", "gift_card"): Decimal("30.00"),
        ("EUR", "original"): Decimal("50.00"),
        ("EUR", "store_credit"): Decimal("20.00"),
    }
    blocked = from_plan(plan(cancel_step(), decision="blocked", reason="fulfilled"))
    assert blocked.actions == [] and blocked.totals() == {}
    assert blocked.rows[0].action is None and blocked.rows[0].reason == "fulfilled"
