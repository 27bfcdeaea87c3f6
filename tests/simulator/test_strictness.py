"""What Shopify refuses, the simulator refuses: one test per rule, asserting the code and the words."""

from __future__ import annotations

from decimal import Decimal

from pipeline.simulator.access import Access
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.store import Transaction
from tests.simulator.factory import add_customer, add_order, new_store, run

REFUND = """mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { field message } } }"""
CANCEL = """mutation C($id: ID!, $m: OrderCancelRefundMethodInput) {
  orderCancel(orderId: $id, reason: CUSTOMER, restock: false, refundMethod: $m) {
    job { id } orderCancelUserErrors { field message code } } }"""
GIFT = """mutation G($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) { giftCard { id } userErrors { field message code } } }"""


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _paid():  # type: ignore[no-untyped-def]
    store, clock = new_store()
    order = add_order(store, customer=add_customer(store))
    return store, clock, order, ShopApi(store)


def _refund(api: ShopApi, data: dict, key: str = "k1") -> dict:  # type: ignore[type-arg]
    return run(api, REFUND, {"input": data, "key": key})


def _txn(order, amount: str, order_id: int | None = None) -> dict:  # type: ignore[no-untyped-def, type-arg]
    sale = order.transactions[0]
    return {
        "orderId": gid("Order", order_id or order.id),
        "parentId": gid("OrderTransaction", sale.id),
        "gateway": "manual",
        "kind": "REFUND",
        "amount": amount,
    }


def test_refund_amount_of_zero_or_less_is_refused() -> None:
    _store, _, order, api = _paid()
    for amount in ("0", "-1.00"):
        out = _refund(api, {"orderId": gid("Order", order.id), "transactions": [_txn(order, amount)]})
        assert out["data"]["refundCreate"] == {
            "refund": None,
            "userErrors": [
                {"field": ["transactions", "0", "amount"], "message": "Amount must be greater than 0"}
            ],
        }
    assert order.refunds == []


def test_refund_line_of_quantity_zero_is_refused() -> None:
    _store, _, order, api = _paid()
    line = {"lineItemId": gid("LineItem", order.line_items[0].id), "quantity": 0}
    out = _refund(api, {"orderId": gid("Order", order.id), "refundLineItems": [line]})
    assert out["data"]["refundCreate"]["userErrors"] == [
        {"field": ["refundLineItems", "0", "quantity"], "message": "Quantity must be greater than 0"}
    ]


def test_refund_transaction_of_another_order_is_refused() -> None:
    store, _, order, api = _paid()
    other = add_order(store)
    out = _refund(api, {"orderId": gid("Order", order.id), "transactions": [_txn(order, "5.00", other.id)]})
    assert out["data"]["refundCreate"]["userErrors"] == [
        {
            "field": ["transactions", "0", "orderId"],
            "message": "Transactions must belong to the refunded order",
        }
    ]


def test_input_lists_over_250_items_are_refused() -> None:
    _store, _, order, api = _paid()
    tags = [f"t{i}" for i in range(251)]
    out = run(
        api,
        "mutation T($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { userErrors { message } } }",
        {"id": gid("Order", order.id), "t": tags},
    )
    assert out["data"] == {"tagsAdd": None}
    assert (
        out["errors"][0]["message"]
        == "The input array size of 251 is greater than the maximum allowed of 250."
    )
    assert out["errors"][0]["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}
    assert out["errors"][0]["path"] == ["tagsAdd", "tags"]
    assert order.tags == []
    lines = [{"lineItemId": gid("LineItem", order.line_items[0].id), "quantity": 1}] * 251
    refund = _refund(api, {"orderId": gid("Order", order.id), "refundLineItems": lines})
    assert refund["errors"][0]["path"] == ["refundCreate", "input", "refundLineItems"]


def test_nodes_with_more_than_250_ids_are_refused() -> None:
    _store, _, order, api = _paid()
    ids = [gid("Order", order.id)] * 251
    out = run(api, "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert out["data"] is None
    assert out["errors"][0]["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}
    assert (
        out["errors"][0]["message"]
        == "The input array size of 251 is greater than the maximum allowed of 250."
    )
    assert run(api, "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids[:250]})["data"]["nodes"]


def test_store_credit_expiry_in_the_past_is_refused_by_refund_and_cancel() -> None:
    _store, _, order, api = _paid()
    past = "2026-06-30T00:00:00Z"
    credit = {"storeCreditRefund": {"amount": {"amount": "5.00", "currencyCode": "EUR"}, "expiresAt": past}}
    out = _refund(api, {"orderId": gid("Order", order.id), "refundMethods": [credit]})
    assert out["data"]["refundCreate"]["userErrors"] == [
        {
            "field": ["refundMethods", "0", "storeCreditRefund", "expiresAt"],
            "message": "Expiration date can't be in the past.",
        }
    ]
    cancel = run(api, CANCEL, {"id": gid("Order", order.id), "m": {"storeCreditRefund": {"expiresAt": past}}})
    assert cancel["data"]["orderCancel"] == {
        "job": None,
        "orderCancelUserErrors": [
            {
                "field": ["refundMethod", "storeCreditRefund", "expiresAt"],
                "message": "Expiration date can't be in the past.",
                "code": "STORE_CREDIT_REFUND_EXPIRATION_IN_PAST",
            }
        ],
    }
    future = {"storeCreditRefund": {"expiresAt": "2027-01-01T00:00:00Z"}}
    assert run(api, CANCEL, {"id": gid("Order", order.id), "m": future})["data"]["orderCancel"]["job"]


def test_cancel_with_a_pending_payment_authorization_is_refused() -> None:
    store, _, order, api = _paid()
    order.transactions = [
        Transaction(store.new_id(), "AUTHORIZATION", "PENDING", "paypal", Decimal("10"), store.now())
    ]
    out = run(api, CANCEL, {"id": gid("Order", order.id)})
    assert out["data"]["orderCancel"] == {
        "job": None,
        "orderCancelUserErrors": [
            {
                "field": ["orderId"],
                "message": "Cannot cancel an order with pending payment authorizations",
                "code": "INVALID",
            }
        ],
    }


def test_store_credit_needs_new_customer_accounts() -> None:
    store, _, order, api = _paid()
    store.shop.customer_accounts = "CLASSIC"
    out = run(api, CANCEL, {"id": gid("Order", order.id), "m": {"storeCreditRefund": {}}})
    assert out["data"]["orderCancel"]["orderCancelUserErrors"] == [
        {
            "field": ["refundMethod", "storeCreditRefund"],
            "message": "New customer accounts must be enabled to refund to store credit.",
            "code": "INVALID",
        }
    ]
    credit = {"storeCreditRefund": {"amount": {"amount": "5.00", "currencyCode": "EUR"}}}
    refund = _refund(api, {"orderId": gid("Order", order.id), "refundMethods": [credit]})
    assert refund["data"]["refundCreate"]["userErrors"] == [
        {
            "field": ["refundMethods", "0", "storeCreditRefund"],
            "message": "New customer accounts must be enabled to refund to store credit.",
        }
    ]


def test_store_credit_is_refused_on_b2b_orders() -> None:
    _store, _, order, api = _paid()
    order.b2b = True
    out = run(api, CANCEL, {"id": gid("Order", order.id), "m": {"storeCreditRefund": {}}})
    assert out["data"]["orderCancel"]["orderCancelUserErrors"] == [
        {
            "field": ["refundMethod", "storeCreditRefund"],
            "message": "Store credit refunds are not supported for B2B orders.",
            "code": "STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED",
        }
    ]


def test_staff_without_refund_permissions_is_refused() -> None:
    _store, _, order, api = _paid()
    api.grant(Access(refund_to_store_credit=False))
    out = run(api, CANCEL, {"id": gid("Order", order.id), "m": {"storeCreditRefund": {}}})
    assert out["data"]["orderCancel"]["orderCancelUserErrors"] == [
        {
            "field": ["refundMethod", "storeCreditRefund"],
            "message": "You don't have the permission to refund to store credit.",
            "code": "NO_REFUND_TO_STORE_CREDIT_PERMISSION",
        }
    ]
    api.grant(Access(refund_orders=False))
    out = run(api, CANCEL, {"id": gid("Order", order.id), "m": {"originalPaymentMethodsRefund": True}})
    assert out["data"]["orderCancel"]["orderCancelUserErrors"] == [
        {
            "field": ["refundMethod"],
            "message": "You don't have the permission to refund orders.",
            "code": "NO_REFUND_PERMISSION",
        }
    ]
    refund = _refund(api, {"orderId": gid("Order", order.id), "transactions": [_txn(order, "5.00")]})
    assert refund["data"]["refundCreate"]["userErrors"] == [
        {"field": None, "message": "You don't have the permission to refund orders."}
    ]


def test_a_missing_scope_is_access_denied_as_recorded() -> None:
    store, _, _order, api = _paid()
    api.grant(Access(scopes=("read_orders", "write_orders")))
    out = run(api, GIFT, {"input": {"initialValue": "10"}})
    assert out["data"] == {"giftCardCreate": None}
    assert out["errors"][0]["message"] == (
        "Access denied for giftCardCreate field. Required access: `write_gift_cards` access scope."
    )
    assert out["errors"][0]["extensions"] == {
        "code": "ACCESS_DENIED",
        "documentation": "https://shopify.dev/api/usage/access-scopes",
        "requiredAccess": "`write_gift_cards` access scope.",
    }
    assert out["errors"][0]["path"] == ["giftCardCreate"]
    assert store.gift_cards == {}


def test_amounts_with_more_decimals_than_the_currency_are_refused() -> None:
    store, _ = new_store("JPY")
    api = ShopApi(store)
    out = run(api, GIFT, {"input": {"initialValue": "10.5"}})
    assert out["data"]["giftCardCreate"] == {
        "giftCard": None,
        "userErrors": [
            {
                "field": ["input", "initialValue"],
                "message": "has too many decimal places for JPY",
                "code": "INVALID",
            }
        ],
    }
    order = add_order(store, lines=[("SKU-A", 1, "1000", "0")], payments=[("SALE", "manual", "1000")])
    refund = _refund(api, {"orderId": gid("Order", order.id), "transactions": [_txn(order, "10.5")]})
    assert refund["data"]["refundCreate"]["userErrors"] == [
        {"field": ["transactions", "0", "amount"], "message": "Amount has too many decimal places for JPY"}
    ]
