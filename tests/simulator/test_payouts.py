"""Shopify Payments in the simulator: sales and refunds become balance transactions with fees, and a
daily payout schedule on the simulator's clock moves them from pending to scheduled to paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from pipeline.simulator.payouts import balance_transactions, payouts
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.store import Access
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import TOKEN, simulator

ACCOUNT = """query($query: String) { shopifyPaymentsAccount {
  balanceTransactions(first: 250, reverse: true, query: $query) {
    nodes { id type fee { amount currencyCode } net { amount currencyCode } amount { amount }
            sourceOrderTransactionId associatedPayout { id status } } }
  payouts(first: 50, reverse: true) { nodes { id issuedAt status net { amount currencyCode } } } } }"""


def ask(sim, query=None):
    with httpx.Client(transport=SimulatorTransport(sim), base_url="http://127.0.0.1:1") as client:
        answer = client.post(
            "/admin/api/2026-07/graphql.json",
            json={"query": ACCOUNT, "variables": {"query": query}},
            headers={"X-Shopify-Access-Token": TOKEN},
        ).json()
    return answer


def test_the_seeded_store_has_a_payout_history_with_fees_on_charges():
    sim = simulator(orders=60, seed=3)
    account = ask(sim)["data"]["shopifyPaymentsAccount"]
    paid = [p for p in account["payouts"]["nodes"] if p["status"] == "PAID"]
    assert len(paid) >= 3
    nodes = account["balanceTransactions"]["nodes"]
    charges = [n for n in nodes if n["type"] == "CHARGE"]
    assert charges and all(Decimal(n["fee"]["amount"]) > 0 for n in charges)
    for node in nodes:
        assert Decimal(node["net"]["amount"]) == Decimal(node["amount"]["amount"]) - Decimal(
            node["fee"]["amount"]
        )
    store = sim.api.store
    for payout in payouts(store):
        taken = [b.net for b in balance_transactions(store) if b.payout_at == payout.issued_at]
        assert payout.net == sum(taken, Decimal(0))


def test_a_refund_is_pending_until_the_daily_payout_then_scheduled_then_paid():
    sim = simulator(orders=60, seed=3)
    store = sim.api.store
    now = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    store.clock = lambda: now
    order = next(
        o
        for o in store.orders.values()
        if not o.cancelled_at
        and any(
            t.gateway == "shopify_payments" and t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"
            for t in o.transactions
        )
    )
    parent = next(
        t
        for t in order.transactions
        if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS" and t.gateway == "shopify_payments"
    )
    refund = write_refund(store, order, [], Decimal(0), [(parent, Decimal("3.00"))], None)
    source = str(refund.transaction_ids[0])

    def mine():
        nodes = ask(sim, "processed_at:>=2026-12-01T00:00:00Z")["data"]["shopifyPaymentsAccount"]
        return next(
            n for n in nodes["balanceTransactions"]["nodes"] if n["sourceOrderTransactionId"] == source
        )

    pending = mine()
    assert pending["type"] == "REFUND" and pending["associatedPayout"] == {"id": None, "status": "PENDING"}
    assert Decimal(pending["fee"]["amount"]) == 0 and Decimal(pending["net"]["amount"]) < 0
    now = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)  # the next daily payout is issued
    scheduled = mine()["associatedPayout"]
    assert scheduled == {"id": "gid://shopify/ShopifyPaymentsPayout/20261202", "status": "SCHEDULED"}
    now = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)
    assert mine()["associatedPayout"]["status"] == "PAID"


def test_without_the_payouts_scope_the_account_is_denied():
    sim = simulator(orders=10, seed=3)
    sim.api.grant(Access(scopes=("read_orders", "write_orders")))
    answer = ask(sim)
    assert answer["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


@pytest.mark.parametrize("query", ["processed_at:>=2099-01-01"])
def test_the_date_filter_leaves_out_older_transactions(query):
    sim = simulator(orders=30, seed=3)
    assert ask(sim, query)["data"]["shopifyPaymentsAccount"]["balanceTransactions"]["nodes"] == []
