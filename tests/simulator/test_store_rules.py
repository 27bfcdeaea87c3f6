"""Every business rule and error shape of the simulated shop, executed through ShopApi."""

from __future__ import annotations

import base64
import json

import pytest

from pipeline.simulator.resolvers import ShopApi
from tests.simulator.factory import add_customer, add_order, new_store, run

CANCEL = """mutation C($id: ID!, $m: OrderCancelRefundMethodInput, $refund: Boolean, $note: String) {
  orderCancel(orderId: $id, reason: INVENTORY, restock: true, refundMethod: $m, refund: $refund,
              staffNote: $note) {
    job { id done } orderCancelUserErrors { field message code } userErrors { field message } } }"""
REFUND = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund {
      id totalRefundedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      transactions(first: 5) { nodes { kind status gateway amountSet { presentmentMoney { amount } } } } }
    order { id displayFinancialStatus totalRefundedSet { presentmentMoney { amount } } }
    userErrors { field message } } }"""
ORDER = """query O($id: ID!) { order(id: $id) { id closed cancelledAt cancelReason cancellation { staffNote }
  displayFinancialStatus currentTotalPriceSet { presentmentMoney { amount } } tags updatedAt
  totalRefundedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  transactions { id kind status gateway amountSet { presentmentMoney { amount } } }
  lineItems(first: 10) { nodes { id currentQuantity refundableQuantity } } } }"""


def gid(order) -> str:
    return f"gid://shopify/Order/{order.id}"


def test_cancel_is_asynchronous_and_refunds_to_the_original_payment() -> None:
    store, clock = new_store("CAD")
    order = add_order(store, payments=[("SALE", "manual", "10.00")])
    api = ShopApi(store)
    out = run(api, CANCEL, {"id": gid(order), "m": {"originalPaymentMethodsRefund": True}, "note": "n"})
    job = out["data"]["orderCancel"]["job"]
    assert job["done"] is False and job["id"].startswith("gid://shopify/Job/")
    assert out["data"]["orderCancel"]["orderCancelUserErrors"] == []
    before = run(api, ORDER, {"id": gid(order)})["data"]["order"]
    assert before["cancelledAt"] is None and before["closed"] is False
    clock.advance(0.2)
    assert run(api, "query J($id: ID!) { job(id: $id) { done query { __typename } } }", {"id": job["id"]})[
        "data"
    ]["job"] == {"done": True, "query": {"__typename": "QueryRoot"}}
    after = run(api, ORDER, {"id": gid(order)})["data"]["order"]
    assert after["closed"] is True and after["cancelledAt"] == "2026-07-01T12:00:00Z"
    assert after["cancelReason"] == "INVENTORY" and after["cancellation"] == {"staffNote": "n"}
    assert after["displayFinancialStatus"] == "REFUNDED"  # recorded orderCancel-restock-refundMethod-parity
    assert after["currentTotalPriceSet"]["presentmentMoney"]["amount"] == "0.0"
    assert after["totalRefundedSet"]["shopMoney"] == {"amount": "10.0", "currencyCode": "CAD"}
    assert [t["kind"] for t in after["transactions"]] == ["SALE", "REFUND"]
    kinds = [(e["kind"], e["amount"], e["method"]) for e in api.ledger_json()["entries"]]
    assert kinds == [("cancel", None, "original"), ("refund", "10.00", "original")]


def test_cancel_errors_are_shaped_like_shopify() -> None:
    store, clock = new_store()
    order = add_order(store)
    api = ShopApi(store)
    long_note = run(api, CANCEL, {"id": gid(order), "note": "x" * 256})["data"]["orderCancel"]
    assert long_note == {
        "job": None,
        "orderCancelUserErrors": [
            {
                "field": ["staffNote"],
                "message": "Staff note is too long. Maximum length is 255 characters.",
                "code": "INVALID",
            }
        ],
        "userErrors": [
            {"field": ["staffNote"], "message": "Staff note is too long. Maximum length is 255 characters."}
        ],
    }
    both = run(api, CANCEL, {"id": gid(order), "refund": True, "m": {"originalPaymentMethodsRefund": True}})
    assert both["data"]["orderCancel"]["orderCancelUserErrors"][0]["field"] == ["refund"]
    missing = run(api, CANCEL, {"id": "gid://shopify/Order/1"})["data"]["orderCancel"]
    assert missing["orderCancelUserErrors"][0]["code"] == "NOT_FOUND" and missing["job"] is None
    assert run(api, CANCEL, {"id": gid(order)})["data"]["orderCancel"]["job"] is not None
    # a retry while the job still runs is refused: the order is never cancelled twice
    again = run(api, CANCEL, {"id": gid(order)})["data"]["orderCancel"]
    assert again["orderCancelUserErrors"] == [
        {
            "field": ["orderId"],
            "code": "INVALID",
            "message": "Cannot cancel an order that has already been canceled",
        }
    ]
    clock.advance(1)
    assert (
        run(api, CANCEL, {"id": gid(order)})["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"]
        == "INVALID"
    )
    assert [e["kind"] for e in api.ledger_json()["entries"]] == ["cancel"]


def test_fulfilled_orders_and_store_credit_without_customer_are_refused() -> None:
    store, _ = new_store()
    fulfilled = add_order(store)
    fulfilled.line_items[0].fulfilled_quantity = 1
    guest = add_order(store)
    api = ShopApi(store)
    err = run(api, CANCEL, {"id": gid(fulfilled)})["data"]["orderCancel"]["orderCancelUserErrors"][0]
    assert err["code"] == "INVALID" and err["field"] == ["orderId"]
    sc = run(api, CANCEL, {"id": gid(guest), "m": {"storeCreditRefund": {}}})["data"]["orderCancel"]
    assert sc["orderCancelUserErrors"][0]["code"] == "STORE_CREDIT_REFUND_MISSING_CUSTOMER"


def test_cancel_to_store_credit_and_void_of_authorizations() -> None:
    store, clock = new_store()
    buyer = add_customer(store)
    credit = add_order(store, customer=buyer)
    authorized = add_order(store, payments=[("AUTHORIZATION", "shopify_payments", "10.00")])
    api = ShopApi(store)
    run(api, CANCEL, {"id": gid(credit), "m": {"storeCreditRefund": {}}})
    run(api, CANCEL, {"id": gid(authorized), "m": {"originalPaymentMethodsRefund": False}})
    clock.advance(0.5)
    c = run(api, ORDER, {"id": gid(credit)})["data"]["order"]
    assert c["transactions"][-1]["gateway"] == "shopify_store_credit"
    a = run(api, ORDER, {"id": gid(authorized)})["data"]["order"]
    assert a["displayFinancialStatus"] == "VOIDED" and a["transactions"][-1]["kind"] == "VOID"


def test_refund_requires_the_idempotent_directive() -> None:
    store, _ = new_store()
    order = add_order(store)
    doc = 'mutation { refundCreate(input: {orderId: "ORDER"}) { refund { id } } }'
    out = run(ShopApi(store), doc.replace("ORDER", gid(order)))
    assert out["data"] == {"refundCreate": None}
    assert out["errors"][0]["message"].startswith("The @idempotent directive is required")
    assert out["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_idempotent_replay_returns_the_original_refund_and_applies_nothing() -> None:
    store, _ = new_store("CAD")
    order = add_order(store, payments=[("SALE", "manual", "10.00")])
    api = ShopApi(store)
    parent = f"gid://shopify/OrderTransaction/{order.transactions[0].id}"
    tx = {
        "orderId": gid(order),
        "parentId": parent,
        "gateway": "whatever",
        "kind": "REFUND",
        "amount": "1.00",
    }
    first = run(api, REFUND, {"input": {"orderId": gid(order), "transactions": [tx]}, "key": "k1"})["data"]
    again = run(api, REFUND, {"input": {"orderId": gid(order), "transactions": [tx]}, "key": "k1"})["data"]
    assert first["refundCreate"]["refund"]["id"] == again["refundCreate"]["refund"]["id"]
    # recorded mismatchedGateway: the parent's gateway wins
    assert first["refundCreate"]["refund"]["transactions"]["nodes"][0]["gateway"] == "manual"
    assert first["refundCreate"]["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert len(order.refunds) == 1
    other = run(
        api,
        REFUND,
        {"input": {"orderId": gid(order), "transactions": [{**tx, "amount": "2.00"}]}, "key": "k1"},
    )["data"]["refundCreate"]
    assert other["refund"] is None and "idempotency key" in other["userErrors"][0]["message"]
    entries = api.ledger_json()["entries"]
    assert [(e["replayed"], e["idempotency_key"]) for e in entries] == [(False, "k1"), (True, "k1")]


def test_refund_validation_messages_as_recorded() -> None:
    store, _ = new_store("CAD")
    order = add_order(
        store, lines=[("A", 1, "10.00", "0")], shipping="5.00", payments=[("SALE", "manual", "15.00")]
    )
    api = ShopApi(store)
    parent = f"gid://shopify/OrderTransaction/{order.transactions[0].id}"

    def errors(inp: dict) -> list:
        return run(api, REFUND, {"input": {"orderId": gid(order), **inp}, "key": json.dumps(inp)})["data"][
            "refundCreate"
        ]["userErrors"]

    tx = {"orderId": gid(order), "parentId": parent, "gateway": "manual", "kind": "REFUND", "amount": "25.00"}
    assert errors({"transactions": [tx]}) == [
        {"field": None, "message": "Refund amount $25.00 is greater than net payment received $15.00"}
    ]
    assert errors({"transactions": [{**tx, "kind": "AUTHORIZATION"}]}) == [
        {"field": None, "message": "Kind authorization is not a valid transaction"}
    ]
    assert errors({"transactions": [{**tx, "parentId": "gid://shopify/OrderTransaction/9"}]}) == [
        {"field": ["transactions"], "message": "Transactions require a parent_id associated with the order"}
    ]
    line = f"gid://shopify/LineItem/{order.line_items[0].id}"
    assert errors({"refundLineItems": [{"lineItemId": line, "quantity": 3}]}) == [
        {
            "field": ["refundLineItems", "0", "quantity"],
            "message": "Quantity cannot refund more items than were purchased",
        }
    ]
    assert errors(
        {"refundMethods": [{"storeCreditRefund": {"amount": {"amount": "1", "currencyCode": "CAD"}}}]}
    )
    unknown = run(api, REFUND, {"input": {"orderId": "gid://shopify/Order/99"}, "key": "u"})["data"][
        "refundCreate"
    ]
    assert unknown == {
        "refund": None,
        "order": None,
        "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
    }


def test_multi_currency_money_bags_and_required_currency() -> None:
    store, _ = new_store("EUR")
    order = add_order(
        store,
        lines=[("A", 1, "100.00", "0")],
        payments=[("SALE", "shopify_payments", "100.00")],
        presentment="USD",
        rate="0.92",
    )
    api = ShopApi(store)
    parent = f"gid://shopify/OrderTransaction/{order.transactions[0].id}"
    tx = {
        "orderId": gid(order),
        "parentId": parent,
        "gateway": "shopify_payments",
        "kind": "REFUND",
        "amount": "50",
    }
    missing = run(api, REFUND, {"input": {"orderId": gid(order), "transactions": [tx]}, "key": "a"})
    assert missing["data"]["refundCreate"]["userErrors"][0]["field"] == ["currency"]
    wrong = run(
        api, REFUND, {"input": {"orderId": gid(order), "currency": "EUR", "transactions": [tx]}, "key": "b"}
    )
    assert wrong["data"]["refundCreate"]["userErrors"][0]["field"] == ["currency"]
    ok = run(
        api, REFUND, {"input": {"orderId": gid(order), "currency": "USD", "transactions": [tx]}, "key": "c"}
    )
    bag = ok["data"]["refundCreate"]["refund"]["totalRefundedSet"]
    assert bag == {
        "shopMoney": {"amount": "46.0", "currencyCode": "EUR"},
        "presentmentMoney": {"amount": "50.0", "currencyCode": "USD"},
    }
    read = run(api, ORDER, {"id": gid(order)})["data"]["order"]
    assert read["totalRefundedSet"]["shopMoney"]["currencyCode"] == "EUR"


def test_pending_gateway_refund_stays_pending_then_settles() -> None:
    store, clock = new_store()
    order = add_order(store, payments=[("SALE", "klarna", "10.00")])
    api = ShopApi(store)
    parent = f"gid://shopify/OrderTransaction/{order.transactions[0].id}"
    tx = {"orderId": gid(order), "parentId": parent, "gateway": "klarna", "kind": "REFUND", "amount": "10"}
    out = run(api, REFUND, {"input": {"orderId": gid(order), "transactions": [tx]}, "key": "p"})["data"]
    assert out["refundCreate"]["refund"]["transactions"]["nodes"][0]["status"] == "PENDING"
    assert out["refundCreate"]["order"]["totalRefundedSet"]["presentmentMoney"]["amount"] == "0.0"
    again = run(api, REFUND, {"input": {"orderId": gid(order), "transactions": [tx]}, "key": "p2"})["data"]
    assert again["refundCreate"]["userErrors"]  # pending money cannot be refunded twice
    clock.advance(31)
    assert run(api, ORDER, {"id": gid(order)})["data"]["order"]["displayFinancialStatus"] == "REFUNDED"


SUGGEST = """query S($id: ID!) { order(id: $id) { suggestedRefund(suggestFullRefund: true) {
  amountSet { presentmentMoney { amount } } maximumRefundableSet { presentmentMoney { amount } }
  shipping { amountSet { presentmentMoney { amount } } }
  refundLineItems { quantity priceSet { presentmentMoney { amount } }
                    subtotalSet { presentmentMoney { amount } }
                    totalTaxSet { presentmentMoney { amount } } }
  suggestedTransactions { gateway kind parentTransaction { id } amountSet { presentmentMoney { amount } }
                          maximumRefundableSet { presentmentMoney { amount } } } } } }"""


def test_suggested_refund_splits_card_and_gift_card() -> None:
    store, _ = new_store()
    order = add_order(
        store,
        lines=[("A", 2, "20.00", "8.00")],
        shipping="4.00",
        payments=[("SALE", "shopify_payments", "32.00"), ("SALE", "gift_card", "20.00")],
    )
    s = run(ShopApi(store), SUGGEST, {"id": gid(order)})["data"]["order"]["suggestedRefund"]
    assert s["amountSet"]["presentmentMoney"]["amount"] == "52.0"
    assert s["shipping"]["amountSet"]["presentmentMoney"]["amount"] == "4.0"
    assert s["refundLineItems"][0]["totalTaxSet"]["presentmentMoney"]["amount"] == "8.0"
    split = [
        (t["gateway"], t["kind"], t["amountSet"]["presentmentMoney"]["amount"])
        for t in s["suggestedTransactions"]
    ]
    assert split == [
        ("gift_card", "SUGGESTED_REFUND", "20.0"),
        ("shopify_payments", "SUGGESTED_REFUND", "32.0"),
    ]


GIFT = """mutation G($input: GiftCardCreateInput!) { giftCardCreate(input: $input) {
  giftCard { id lastCharacters maskedCode initialValue { amount currencyCode } customer { id } }
  giftCardCode userErrors { field code message } } }"""


@pytest.mark.parametrize(
    ("inp", "code", "field"),
    [
        ({"initialValue": "0"}, "GREATER_THAN", ["input", "initialValue"]),
        ({"initialValue": "10", "code": "abc"}, "TOO_SHORT", ["input", "code"]),
        ({"initialValue": "10", "code": "x" * 25}, "TOO_LONG", ["input", "code"]),
        ({"initialValue": "10", "code": "bad!code"}, "INVALID", ["input", "code"]),
        (
            {"initialValue": "10", "code": "abc", "customerId": "gid://shopify/Customer/9"},
            "CUSTOMER_NOT_FOUND",
            ["input", "customerId"],
        ),
    ],
)
def test_gift_card_errors_as_recorded(inp: dict, code: str, field: list) -> None:
    store, _ = new_store()
    out = run(ShopApi(store), GIFT, {"input": inp})["data"]["giftCardCreate"]
    assert out["giftCard"] is None and out["giftCardCode"] is None
    assert [(e["code"], e["field"]) for e in out["userErrors"]] == [(code, field)]


def test_gift_card_success_duplicate_and_search() -> None:
    store, _ = new_store("CAD")
    buyer = add_customer(store)
    api = ShopApi(store)
    ok = run(
        api,
        GIFT,
        {
            "input": {
                "initialValue": "10",
                "code": "parityokmrktyteu",
                "customerId": f"gid://shopify/Customer/{buyer.id}",
            }
        },
    )["data"]["giftCardCreate"]
    assert ok["giftCard"]["maskedCode"] == "•••• •••• •••• yteu" and ok["giftCardCode"] == "parityokmrktyteu"
    assert ok["giftCard"]["initialValue"] == {"amount": "10.0", "currencyCode": "CAD"}
    dup = run(api, GIFT, {"input": {"initialValue": "10", "code": "PARITYOKMRKTYTEU"}})["data"][
        "giftCardCreate"
    ]
    assert dup["userErrors"] == [
        {"field": ["input", "code"], "code": None, "message": "Code has already been taken"}
    ]
    found = run(api, '{ giftCards(first: 5, query: "parityokmrktyteu") { nodes { id lastCharacters } } }')
    assert found["data"]["giftCards"]["nodes"][0]["lastCharacters"] == "yteu"


TAGS = """mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) {
  node { ... on Order { tags } ... on Customer { tags } } userErrors { field message } } }"""


def test_tags_normalisation_as_recorded() -> None:
    store, clock = new_store()
    order = add_order(store)
    order.tags = ["Red"]
    api = ShopApi(store)
    clock.advance(5)
    out = run(api, TAGS, {"id": gid(order), "tags": "blue, green"})["data"]["tagsAdd"]["node"]["tags"]
    assert out == ["blue", "green", "Red"]
    assert (
        run(api, TAGS, {"id": gid(order), "tags": ["blue,green", "red"]})["data"]["tagsAdd"]["node"]["tags"]
        == out
    )
    assert run(api, TAGS, {"id": gid(order), "tags": ["b", "A"]})["data"]["tagsAdd"]["node"]["tags"] == [
        "A",
        "b",
        "blue",
        "green",
        "Red",
    ]
    assert run(api, ORDER, {"id": gid(order)})["data"]["order"]["updatedAt"] == "2026-07-01T12:00:05Z"
    bad = run(api, TAGS, {"id": "gid://shopify/Product/1", "tags": ["x"]})
    assert bad["data"] == {"tagsAdd": None} and bad["errors"][0]["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_order_update_validation() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    doc = """mutation U($i: OrderInput!) {
      orderUpdate(input: $i) { order { id note } userErrors { field message } } }"""
    empty = run(api, doc, {"i": {"id": gid(order)}})["data"]["orderUpdate"]
    assert empty["userErrors"] == [
        {"field": None, "message": "No valid update parameters have been provided"}
    ]
    assert empty["order"]["id"] == gid(order)
    assert run(api, doc, {"i": {"id": gid(order), "phone": "not a phone"}})["data"]["orderUpdate"][
        "userErrors"
    ] == [{"field": ["phone"], "message": "Phone is invalid"}]
    assert (
        run(api, doc, {"i": {"id": gid(order), "note": "hi"}})["data"]["orderUpdate"]["order"]["note"] == "hi"
    )


SEARCH = """query Q($q: String, $after: String) { orders(first: 2, query: $q, after: $after, sortKey: ID) {
  nodes { name } pageInfo { hasNextPage endCursor } } }"""


def test_name_search_is_loose_and_paginates() -> None:
    store, _ = new_store()
    for name in ("#1001", "#10010", "#1002", "#AP-512187", "EU-1203"):
        add_order(store, name=name)
    api = ShopApi(store)
    names = run(api, SEARCH, {"q": "name:1001"})["data"]["orders"]["nodes"]
    assert [n["name"] for n in names] == ["#1001", "#10010"]
    quoted = run(api, SEARCH, {"q": 'name:"#1002" OR name:"EU-1203"'})["data"]["orders"]["nodes"]
    assert [n["name"] for n in quoted] == ["#1002", "EU-1203"]
    page1 = run(api, SEARCH, {"q": None})["data"]["orders"]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert set(json.loads(base64.b64decode(page1["pageInfo"]["endCursor"]))) == {"last_id", "last_value"}
    page2 = run(api, SEARCH, {"q": None, "after": page1["pageInfo"]["endCursor"]})["data"]["orders"]
    assert [n["name"] for n in page2["nodes"]] == ["#1002", "#AP-512187"]
    assert run(api, SEARCH, {"q": "status:cancelled"})["data"]["orders"]["nodes"] == []


def test_nodes_and_malformed_ids() -> None:
    store, _ = new_store()
    order = add_order(store)
    api = ShopApi(store)
    out = run(
        api,
        "query N($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {
            "ids": [
                gid(order),
                "gid://shopify/Order/1",
                "gid://shopify/Job/0",
                f"gid://shopify/OrderTransaction/{order.transactions[0].id}",
            ]
        },
    )
    assert [n and n["__typename"] for n in out["data"]["nodes"]] == ["Order", None, None, "OrderTransaction"]
    bad = run(api, 'query X { node(id: "gid://shopify/Product") { id } }')
    assert bad["data"] is None and bad["errors"][0]["message"] == "Invalid global id 'gid://shopify/Product'"
    assert bad["errors"][0]["path"] == ["query X", "node", "id"]
