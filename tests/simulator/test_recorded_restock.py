"""Replays the recorded partial refund with a RETURN restock at a location (2025-01 capture)."""

from __future__ import annotations

from pathlib import Path

from pipeline.simulator.resolvers import ShopApi
from tests.simulator.factory import new_store, run
from tests.simulator.test_recorded_parity import load, order, payload, recorded, same_shape

__all__ = ["recorded"]  # the fixture, shared with the other replays

DOC = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id note createdAt updatedAt totalRefundedSet { shopMoney { amount currencyCode } }
      refundLineItems(first: 5) { nodes { id quantity restockType restocked lineItem { id title }
        subtotalSet { shopMoney { amount currencyCode } } } }
      transactions(first: 5) { nodes { id kind status gateway
        amountSet { shopMoney { amount currencyCode } } } } }
    order { id displayFinancialStatus totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message } } }"""


def test_partial_refund_with_return_restock_at_a_location(recorded: Path) -> None:
    data = load(recorded, "2025-01-refund-create-partial-shipping-restock-parity.json")
    store, _ = new_store("CAD")
    store.shop.locations[112829759794] = "Recorded location"
    order(
        store,
        8838022037810,
        "#1495",
        [(19495196164402, 2, "10.00")],
        [(10572748128562, "manual", "25.0")],
        "5.00",
    )
    api = ShopApi(store)
    ours = run(api, DOC, {**data["variables"], "key": "k"})["data"]["refundCreate"]
    theirs = payload(data["mutation"])["data"]["refundCreate"]
    same_shape(ours, theirs)
    assert ours["userErrors"] == theirs["userErrors"] == []
    # The order was UNFULFILLED (recorded hydrate), and Shopify restocked the RETURN line all the same.
    line = ours["refund"]["refundLineItems"]["nodes"][0]
    assert (line["restockType"], line["restocked"]) == ("RETURN", True)
    assert ours["order"]["displayFinancialStatus"] == theirs["order"]["displayFinancialStatus"]
    assert ours["order"]["totalRefundedSet"] == theirs["order"]["totalRefundedSet"]
