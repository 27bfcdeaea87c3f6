"""Rows of the reconciliation files: an order row's blanks and difference, grouped totals, reasons."""

from __future__ import annotations

from decimal import Decimal

from pipeline.reconcile.model import ReconciledRow
from pipeline.reconcile.rows import group_totals, order_row, per_currency, reason


def test_an_executed_row_shows_its_money_and_a_blocked_one_leaves_it_blank():
    done = ReconciledRow(
        2, "#1", "matched", "as planned", action_key="k", planned=Decimal("50.00"), refunded=Decimal("45.00")
    )
    row = order_row(done, "note")
    assert row["difference"] == Decimal("-5.00") and row["notify"] == "no" and row["note"] == "note"
    blocked = order_row(ReconciledRow(3, "#2", "blocked", "fulfilled"))
    assert blocked["refunded"] is None and blocked["difference"] is None and blocked["note"] is None


def test_group_totals_leave_a_group_without_values_blank_and_sort_by_keys():
    rows = [
        {"currency": "USD", "method": "original", "planned": Decimal(5), "refunded": None},
        {"currency": "EUR", "method": "original", "planned": Decimal(1), "refunded": Decimal(1)},
        {"currency": "EUR", "method": "original", "planned": Decimal(2), "refunded": None},
    ]
    totals = group_totals(rows, ("currency", "method"), ("planned", "refunded"))
    assert [t["currency"] for t in totals] == ["EUR", "USD"]
    assert totals[0] == {
        "currency": "EUR",
        "method": "original",
        "count": 2,
        "planned": Decimal(3),
        "refunded": Decimal(1),
    }
    assert totals[1]["refunded"] is None
    assert per_currency([("EUR", "a", Decimal(1)), ("EUR", "b", Decimal(2))]) == {"EUR": Decimal(3)}


def test_reasons_group_blocked_rows_by_code_and_actions_by_what_was_asked():
    assert reason({"status": "blocked"}, "fulfilled") == "blocked: fulfilled"
    assert reason({"status": "skipped"}, None) == "skipped: no reason"
    assert (
        reason({"status": "matched", "action": "cancel", "cancel_reason": None}, None)
        == "cancel: not cancelled"
    )
    assert reason({"status": "matched", "action": "refund_only"}, None) == "refund only"
