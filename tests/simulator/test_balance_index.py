"""The balance transactions' index: a page is cut from the cursor, with the answer the whole list gives,
the shop is scanned once for many pages, and again only after a new transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from pipeline.simulator import balance
from pipeline.simulator.balance import balance_index
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.search import cursor, page
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import TOKEN, simulator
from tests.simulator.test_payouts import ask

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
URL = "/admin/api/2026-07/graphql.json"


@pytest.fixture(scope="module")
def shop():
    sim = simulator(orders=400, seed=5)
    sim.api.store.clock = lambda: NOW
    return sim


def _since(days):
    return None if days is None else NOW - dt.timedelta(days=days)


@pytest.mark.parametrize("days", [None, 3, 40, 400])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("first", [0, 1, 9, 100, 250])
def test_a_page_walked_from_the_cursor_is_the_page_the_whole_list_gives(shop, days, reverse, first):
    index = balance_index(shop.api.store)
    since = _since(days)

    def keep(item):
        return item.at <= NOW and (since is None or item.at >= since) and item.id % 3 != 0

    kept = [b for b in index.items if keep(b)]
    assert kept or days == 3
    marks = [None, *(cursor(kept[i], "ID") for i in (0, len(kept) // 2, -1) if kept)]
    marks.append(cursor(index.items[len(index.items) // 3], "ID"))  # a cursor on an item not kept
    for after in marks:
        args = {"first": first, "reverse": reverse, "after": after}
        assert index.window(args, keep, since) == page(kept, "ID", reverse, first, after), (after, args)


def test_last_before_and_refused_sizes_go_to_the_whole_list(shop):
    index = balance_index(shop.api.store)

    def keep(_item):
        return True

    assert index.window({"last": 3}, keep, None) is None
    assert index.window({"first": 3, "before": cursor(index.items[5], "ID")}, keep, None) is None
    assert index.window({"first": 251}, keep, None) is None
    assert index.window({"first": 3, "after": "not a cursor"}, keep, None) is None


def test_pages_scan_the_shop_once_and_again_only_after_a_new_refund(monkeypatch):
    sim = simulator(orders=300, seed=3)
    store = sim.api.store
    store.clock = lambda: NOW
    scans = []
    made = balance._made
    monkeypatch.setattr(balance, "_made", lambda s: scans.append(1) or made(s))
    query = "processed_at:>=2026-01-01T00:00:00Z"
    first = ask(sim, query)["data"]["shopifyPaymentsAccount"]["balanceTransactions"]["nodes"]
    assert ask(sim, query)["data"]["shopifyPaymentsAccount"]["balanceTransactions"]["nodes"] == first
    assert len(scans) == 1
    order = next(
        o
        for o in store.orders.values()
        if not o.cancelled_at
        and any(
            t.gateway == "shopify_payments" and t.kind == "SALE" and t.status == "SUCCESS"
            for t in o.transactions
        )
    )
    parent = next(t for t in order.transactions if t.gateway == "shopify_payments" and t.kind == "SALE")
    refund = write_refund(store, order, [], Decimal(0), [(parent, Decimal("2.50"))], None)
    newest = ask(sim, query)["data"]["shopifyPaymentsAccount"]["balanceTransactions"]["nodes"]
    assert len(scans) == 2
    assert newest[0]["sourceOrderTransactionId"] == str(refund.transaction_ids[0])  # newest first
    assert newest[0]["type"] == "REFUND" and Decimal(newest[0]["amount"]["amount"]) < 0
    assert newest[1:] == first[: len(newest) - 1]


def _paid(tx):
    return tx.gateway == "shopify_payments" and tx.kind == "SALE"


def test_payouts_are_searched_by_their_id_range():
    sim = simulator(orders=120, seed=3)
    sim.api.store.clock = lambda: NOW
    query = (
        """query($q: String) { shopifyPaymentsAccount { payouts(first: 50, query: $q) { nodes { id } } } }"""
    )
    with httpx.Client(transport=SimulatorTransport(sim), base_url="http://127.0.0.1:1") as client:

        def ids(search):
            body = {"query": query, "variables": {"q": search}}
            answer = client.post(URL, json=body, headers={"X-Shopify-Access-Token": TOKEN}).json()
            return [
                int(n["id"].rsplit("/", 1)[1])
                for n in answer["data"]["shopifyPaymentsAccount"]["payouts"]["nodes"]
            ]

        every = ids(None)
        assert len(every) >= 5
        low, high = every[1], every[3]
        assert ids(f"id:>={low} id:<={high}") == every[1:4]
        assert ids(f"id:{every[2]}") == [every[2]]
        assert ids(f"id:gid://shopify/ShopifyPaymentsPayout/{every[0]}") == [every[0]]
