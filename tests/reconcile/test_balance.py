"""The balance transactions' read (SPEC §8, §15): a bulk file's lines kept by their source whatever else it
holds, the paced pages when the bulk read fails or finds none, and a search without the type when the
refunds-only search finds none."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.errors import BulkOperationError
from pipeline.reconcile.balance import read_balance
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import settings, simulator

MOMENT = "2026-01-01T00:00:00Z"


class FileOf:
    """A stand-in for BulkOperations: a read it begins gives these lines, or raises this error."""

    def __init__(self, lines=(), error=None):
        self.lines, self.error, self.asked = list(lines), error, []

    def begin(self, document, variables):
        return Begun(self, document, variables["query"])


@dataclass
class Begun:
    """A stand-in for StartedRead."""

    file: FileOf
    document: str
    query: str

    def lines(self, bulk, total=None, progress=None, unit="orders"):
        self.file.asked.append((self.document, self.query, unit))
        if self.file.error is not None:
            raise self.file.error
        return iter(self.file.lines)


def _shop():
    """A seeded shop with one more Shopify Payments refund; its refund transaction's legacy id."""
    sim = simulator(orders=60, seed=3)
    store = sim.api.store
    order = next(
        o
        for o in store.orders.values()
        if not o.cancelled_at
        and any(t.gateway == "shopify_payments" and t.kind == "SALE" for t in o.transactions)
    )
    parent = next(t for t in order.transactions if t.gateway == "shopify_payments" and t.kind == "SALE")
    refund = write_refund(store, order, [], Decimal(0), [(parent, Decimal("1.00"))], None)
    return sim, str(refund.transaction_ids[0])


def _read(sim, ids, bulk, sent=None):
    inner = SimulatorTransport(sim)

    class Noting(SimulatorTransport):
        def handle_request(self, request):
            if sent is not None:
                sent.append(request.content.decode())
            return inner.handle_request(request)

    with ShopifyClient(settings(), Noting(sim)) as client:
        return read_balance(client, ids, MOMENT, bulk)


def test_lines_naming_a_wanted_source_are_kept_whatever_else_the_file_holds():
    sim, source = _shop()
    node = {"id": "gid://shopify/ShopifyPaymentsBalanceTransaction/1", "sourceOrderTransactionId": source}
    bulk = FileOf(
        [
            {"id": "gid://shopify/ShopifyPaymentsAccount/1"},  # a line for the account, should one come
            {**node, "__parentId": "gid://shopify/ShopifyPaymentsAccount/1"},
            {"id": "gid://shopify/ShopifyPaymentsBalanceTransaction/2", "sourceOrderTransactionId": "7"},
        ]
    )
    sent: list[str] = []
    found, fallback = _read(sim, {source}, bulk, sent)
    assert found == {source: {**node, "__parentId": "gid://shopify/ShopifyPaymentsAccount/1"}}
    assert fallback == "" and sent == []  # nothing paced
    assert bulk.asked == [
        (
            "BalanceTransactionsBulk",
            f"processed_at:>={MOMENT} transaction_type:refund",
            "balance transactions",
        )
    ]


def test_a_failed_or_empty_bulk_read_falls_back_to_the_paced_pages():
    sim, source = _shop()
    failed = BulkOperationError(
        "bulk operation gid://shopify/BulkOperation/9 ended FAILED (INTERNAL_SERVER_ERROR)"
    )
    for bulk, said in (
        (FileOf(error=failed), "the bulk read failed (bulk operation"),
        (FileOf(), "found none"),
    ):
        sent: list[str] = []
        found, fallback = _read(sim, {source}, bulk, sent)
        assert said in fallback
        assert found[source]["sourceOrderTransactionId"] == source
        assert Decimal(found[source]["net"]["amount"]) == Decimal("-1.00")
        assert len(sent) == 1 and "transaction_type:refund" in sent[0]  # one refunds-only page found it


def test_a_refunds_only_search_that_finds_none_is_made_again_without_the_type():
    sim, _source = _shop()
    charge = next(
        str(t.id)
        for o in sim.api.store.orders.values()
        for t in o.transactions
        if _charge(t) and t.status == "SUCCESS"
    )
    sent: list[str] = []
    found, _fallback = _read(sim, {charge}, None, sent)  # a charge: no refund search finds it
    assert charge in found and len(sent) >= 2
    assert "transaction_type:refund" in sent[0] and "transaction_type" not in sent[-1]


def _charge(tx):
    return tx.gateway == "shopify_payments" and tx.kind == "SALE"
