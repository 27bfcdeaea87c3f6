"""The reconciliation's data types: statuses, counts, exceptions and refund transactions."""

from __future__ import annotations

from decimal import Decimal

from pipeline.money import Money
from pipeline.reconcile.attribution import Maker
from pipeline.reconcile.model import STATUSES, ReconciledRow, Reconciliation, RefundTransaction


def test_every_status_is_known():
    assert set(STATUSES) == {
        "matched",
        "mismatch",
        "pending",
        "failed",
        "duplicate",
        "drifted",
        "blocked",
        "skipped",
        "to_verify",
        "not_executed",
    }


def test_counts_list_every_status_and_exceptions_leave_out_the_quiet_ones():
    rows = [ReconciledRow(2, "#1", "matched", ""), ReconciledRow(3, "#2", "blocked", "")]
    rows.append(ReconciledRow(4, "#3", "pending", "klarna"))
    result = Reconciliation("run", rows)
    assert list(result.counts()) == list(STATUSES)
    assert result.counts()["matched"] == result.counts()["pending"] == 1
    assert result.exceptions == [] and [r.row for r in result.in_flight] == [4]  # pending is apart
    result.rows.append(ReconciledRow(5, "#4", "mismatch", "amount"))
    assert [r.row for r in result.exceptions] == [5]


def test_a_refund_transaction_reads_its_method_from_the_gateway():
    order = {"id": "gid://shopify/Order/1", "name": None}
    refund = {"id": "gid://shopify/Refund/2", "createdAt": None}
    tx = {
        "id": "gid://shopify/OrderTransaction/3",
        "gateway": "shopify_store_credit",
        "kind": "REFUND",
        "status": "SUCCESS",
        "amountSet": {"presentmentMoney": {"amount": "12.5", "currencyCode": "EUR"}},
    }
    made = RefundTransaction.of(order, refund, tx, "#1001", "cancel", Maker("r", "bc-key"))
    assert made.method == "store_credit" and made.order_name == "#1001" and made.refund_created_at == ""
    assert made.amount == Money(Decimal("12.5"), "EUR") and made.shop_amount is None
    card = RefundTransaction.of(
        order, refund, {**tx, "gateway": "shopify_payments"}, "#1", "cancel", Maker("r", "k")
    )
    assert card.method == "original"


def test_a_gift_card_in_the_presentment_currency_is_converted_at_the_orders_rate():
    order = {
        "id": "gid://shopify/Order/1",
        "name": "#1",
        "currencyCode": "EUR",
        "presentmentCurrencyCode": "JPY",
        "totalPriceSet": {
            "presentmentMoney": {"amount": "10000", "currencyCode": "JPY"},
            "shopMoney": {"amount": "61.23", "currencyCode": "EUR"},
        },
    }
    card = {"id": "gid://shopify/GiftCard/9", "initialValue": {"amount": "5000.0", "currencyCode": "JPY"}}
    made = RefundTransaction.gift_card(order, card, "#1", "gift card step", Maker("r", "bc-r-1"))
    assert made is not None and made.gateway == "gift_card" and made.converted
    assert made.shop_amount == Money(Decimal("30.62"), "EUR") and made.moves_money
