"""Replays recorded Shopify calls against a store that mirrors the recorded orders; compares shapes.

Documents that do not validate against our schema subset (other roots such as `domain`) are
skipped; for 2025-01 captures stored without their document, the selection is rebuilt from the
recorded answer, and `@idempotent(key:)` is added because we serve 2026-07.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from pipeline.simulator.resolvers import SCHEMA, ShopApi
from pipeline.simulator.store import Customer, LineItem, Order, ShippingLine, Store, Transaction
from tests.simulator.factory import new_store, run

RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "shopify" / "recorded"


@pytest.fixture(scope="module")
def recorded() -> Path:
    if not RECORDED.is_dir():
        pytest.skip(f"{RECORDED} is absent: recorded Shopify answers live in ../shared beside this clone")
    return RECORDED


def load(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def payload(call: dict[str, Any]) -> dict[str, Any]:
    resp = call.get("response") or call.get("result")
    assert resp is not None
    return resp.get("payload") or resp.get("body") or resp


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (lists by their elements)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def same_shape(ours: Any, theirs: Any) -> None:
    assert shape(ours) == shape(theirs), (ours, theirs)


def order(
    store: Store,
    oid: int,
    name: str,
    lines: list[tuple[int, int, str]],
    pays: list[tuple[int, str, str]],
    shipping: str | None = None,
    currency: str = "CAD",
) -> Order:
    now = store.now()
    o = Order(
        id=oid,
        name=name,
        number=int(name.lstrip("#")),
        created_at=now,
        updated_at=now,
        processed_at=now,
        currency=currency,
        presentment_currency=currency,
        rate=Decimal(1),
    )
    o.line_items = [LineItem(lid, None, "item", qty, Decimal(price), Decimal(0)) for lid, qty, price in lines]
    o.transactions = [Transaction(tid, "SALE", "SUCCESS", gw, Decimal(a), now) for tid, gw, a in pays]
    if shipping:
        o.shipping_lines.append(ShippingLine(1, "Standard", None, Decimal(shipping)))
    store.orders[oid] = o
    return o


def check(api: ShopApi, doc: str, variables: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    assert validate(SCHEMA, parse(doc)) == []
    ours = run(api, doc, variables)
    same_shape(ours.get("data"), expected.get("data"))
    return ours


def test_order_cancel_error_messages(recorded: Path) -> None:
    data = load(recorded, "2026-04-orderCancel-error-messages.json")
    store, clock = new_store("USD")
    order(store, 8881237983538, "#1", [(1, 1, "10.00")], [])
    order(store, 8881238016306, "#2", [(2, 1, "10.00")], [])
    api = ShopApi(store)
    setup = data["setup"]["setupCancel"]
    check(api, setup["query"], setup["variables"], payload(setup))
    clock.advance(1)
    for case in (
        "staffNoteTooLong",
        "refundTrueAndRefundMethodConflict",
        "refundFalseAndRefundMethodConflict",
        "alreadyCancelled",
    ):
        call = data["expected"][case]
        ours = check(api, call["query"], call["variables"], payload(call))
        theirs = payload(call)["data"]["orderCancel"]
        assert ours["data"]["orderCancel"]["orderCancelUserErrors"] == theirs["orderCancelUserErrors"], case
        assert ours["data"]["orderCancel"]["userErrors"] == theirs["userErrors"], case
    read = data["setup"]["cancelledOrderRead"]
    ours = check(api, read["query"], read["variables"], payload(read))
    assert ours["data"]["order"]["closed"] is True and ours["data"]["order"]["cancelReason"] == "OTHER"


def test_refund_transactions_validation(recorded: Path) -> None:
    data = load(recorded, "2026-04-refund-create-transactions-validation.json")
    store, _ = new_store("CAD")
    order(
        store,
        8838028329266,
        "#1499",
        [(19495206912306, 1, "10.00")],
        [(10572757565746, "bogus-parent-gateway", "10.00")],
    )
    order(
        store, 8838028362034, "#1500", [(19495207141682, 1, "10.00")], [(10572757598514, "manual", "10.00")]
    )
    api = ShopApi(store)
    for case in ("invalidKind", "missingParent", "mismatchedGateway", "happyPath"):
        call = data[case]
        ours = check(api, call["query"], call["variables"], payload(call))
        theirs = payload(call)["data"]["refundCreate"]
        mine = ours["data"]["refundCreate"]
        assert mine["userErrors"] == theirs["userErrors"], case
        assert mine["order"]["displayFinancialStatus"] == theirs["order"]["displayFinancialStatus"], case
        assert mine["order"]["totalRefundedSet"] == theirs["order"]["totalRefundedSet"], case
        if theirs["refund"]:
            node, their_node = (
                mine["refund"]["transactions"]["nodes"][0],
                theirs["refund"]["transactions"]["nodes"][0],
            )
            assert {k: node[k] for k in ("kind", "status", "gateway", "amountSet")} == {
                k: their_node[k] for k in ("kind", "status", "gateway", "amountSet")
            }, case


REFUND_DOC = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
  refund { id } order { id displayFinancialStatus totalRefundedSet { shopMoney { amount currencyCode } } }
  userErrors { field message } } }"""


def test_over_refund_and_quantity_errors(recorded: Path) -> None:
    store, _ = new_store("CAD")
    order(
        store,
        8838022168882,
        "#1497",
        [(19495196393778, 1, "10.00")],
        [(10572748390706, "manual", "15.00")],
        shipping="5.00",
    )
    partial = order(
        store,
        8838022234418,
        "#1498",
        [(19495196426546, 2, "10.00"), (19495196459314, 2, "10.00")],
        [(10572748423474, "manual", "45.00")],
        shipping="5.00",
    )
    partial.line_items[0].refunded_quantity = 1
    partial.transactions.append(
        Transaction(10572748489010, "REFUND", "SUCCESS", "manual", Decimal(10), store.now(), 10572748423474)
    )
    api = ShopApi(store)
    over = load(recorded, "2025-01-refund-create-over-refund-user-errors.json")
    cases = [(over["variables"], payload(over["mutation"]))]
    quantities = load(recorded, "2025-01-refund-create-user-errors-and-quantities.json")
    cases += [
        (quantities[c]["variables"], payload(quantities[c]))
        for c in (
            "unknownOrder",
            "overRefundQuantityLineItem",
            "overRefundAmountNoAllow",
            "overRefundAllowed",
        )
    ]
    for i, (variables, theirs) in enumerate(cases):
        ours = run(api, REFUND_DOC, {**variables, "key": f"k{i}"})
        assert ours["data"]["refundCreate"]["userErrors"] == theirs["data"]["refundCreate"]["userErrors"]
        if theirs["data"]["refundCreate"]["order"]:
            assert (
                ours["data"]["refundCreate"]["order"]["displayFinancialStatus"]
                == theirs["data"]["refundCreate"]["order"]["displayFinancialStatus"]
            )
            assert (
                ours["data"]["refundCreate"]["order"]["totalRefundedSet"]
                == theirs["data"]["refundCreate"]["order"]["totalRefundedSet"]
            )


def test_gift_card_create_validation(recorded: Path) -> None:
    call = load(recorded, "2026-04-gift-card-create-validation.json")["operations"]["createValidation"]
    store, _ = new_store("CAD")
    store.customers[1] = Customer(1, "A", "B", "a@example.com")
    ours = check(ShopApi(store), call["query"], call["variables"], payload(call))
    theirs = payload(call)["data"]
    for alias, answer in theirs.items():
        assert ours["data"][alias]["userErrors"] == answer["userErrors"], alias
    assert ours["data"]["success"]["giftCard"]["maskedCode"] == theirs["success"]["giftCard"]["maskedCode"]
    assert (
        ours["data"]["success"]["giftCard"]["initialValue"] == theirs["success"]["giftCard"]["initialValue"]
    )
    assert len(ours["data"]["autoGenerated"]["giftCardCode"]) == len(theirs["autoGenerated"]["giftCardCode"])


def test_utility_roots_job_and_nodes(recorded: Path) -> None:
    captures = load(recorded, "2026-04-admin-platform-utility-roots.json")["captures"]
    api = ShopApi(new_store()[0])
    for name in ("nodeNoData", "nodeMalformedMissingId", "nodesMalformedMixed"):
        call = captures[name]
        theirs = payload(call)
        ours = run(api, call["query"], call.get("variables"))
        if "errors" in theirs:
            assert ours["data"] is None
            assert [(e["message"], e["path"], e["extensions"]) for e in ours["errors"]] == [
                (e["message"], e["path"], e["extensions"]) for e in theirs["errors"]
            ], name
        else:
            assert ours == {"data": theirs["data"]}, name
    job = "query J($jobId: ID!) { job(id: $jobId) { id done query { __typename } } }"
    expected = payload(captures["jobDomainNoData"])["data"]["job"]
    assert run(api, job, {"jobId": "gid://shopify/Job/0"})["data"]["job"] == expected
