"""customers.csv: who to tell by hand, what was done, and when the money arrives."""

from __future__ import annotations

from decimal import Decimal

from pipeline.reconcile.customers import customer_rows
from pipeline.reconcile.model import ReconciledRow, Reconciliation


def row(**fields):
    base = dict(row=2, order="#1", status="matched", detail="", order_name="#1001", order_id="o1")
    base.update(action_key="k", action="cancel", currency="EUR", cancelled=True)
    base.update(customer_email="Ana@example.com", customer_name="Ana")
    return ReconciledRow(**{**base, **fields})


def test_one_line_per_customer_says_what_was_done_and_when_money_arrives():
    rows = [
        row(method="store_credit", refunded=Decimal("3.00")),
        row(row=3, order_name="#1002", order_id="o2", method="gift_card", refunded=Decimal("5.00")),
    ]
    (person,) = customer_rows(Reconciliation("run", rows))
    assert person["orders"] == "#1001, #1002" and person["name"] == "Ana"
    assert person["what_was_done"] == (
        "order #1001 cancelled, 3.00 EUR refunded as store credit; "
        "order #1002 cancelled, 5.00 EUR refunded as a gift card"
    )
    assert person["money_arrives"] == "at once, as store credit; at once, as a gift card"


def test_notified_customers_and_rows_where_nothing_happened_are_left_out():
    rows = [row(notify=True, refunded=Decimal(1)), row(status="failed"), row(cancelled=False)]
    assert customer_rows(Reconciliation("run", rows)) == []
