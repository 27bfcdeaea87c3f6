"""Field resolvers for the object types: how store dataclasses answer Shopify's fields.

Sub-objects travel as `Sub(order, obj)` so money can be shown in both currencies of their order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.gids import gid
from pipeline.simulator.giftcards import masked
from pipeline.simulator.locations import FulfillmentOrderView, fulfillment_order_field, fulfillment_orders
from pipeline.simulator.metafields import digest, find
from pipeline.simulator.money import ZERO, parse_money
from pipeline.simulator.refunds import LineRequest, suggest
from pipeline.simulator.shapes import Sub, bag, connection, first_n, money, ts
from pipeline.simulator.store import (
    Customer,
    Fulfillment,
    GiftCard,
    LineItem,
    Metafield,
    Order,
    Refund,
    Transaction,
)
from pipeline.simulator.subviews import sub_field


def line_requests(order: Order, raw: list[dict[str, Any]] | None) -> list[LineRequest]:
    out = []
    for r in raw or []:
        number = str(r["lineItemId"]).rsplit("/", 1)[-1]
        item = next((li for li in order.line_items if str(li.id) == number), None)
        if item is not None:
            out.append(LineRequest(item, int(r["quantity"]), r.get("restockType") or "NO_RESTOCK"))
    return out


_ORDER_MONEY: dict[str, Callable[[Order], Decimal]] = {
    "totalPriceSet": acc.total_price,
    "originalTotalPriceSet": acc.total_price,
    "currentTotalPriceSet": acc.current_total,
    "subtotalPriceSet": acc.subtotal,
    "currentSubtotalPriceSet": lambda o: acc.subtotal(o, True),
    "totalShippingPriceSet": acc.shipping_total,
    "currentShippingPriceSet": acc.current_shipping,
    "totalTaxSet": acc.total_tax,
    "currentTotalTaxSet": lambda o: acc.total_tax(o, True),
    "totalDiscountsSet": lambda o: ZERO,
    "totalRefundedSet": acc.refunded,
    "totalRefundedShippingSet": acc.refunded_shipping,
    "totalReceivedSet": acc.received,
    "totalOutstandingSet": acc.outstanding,
    "netPaymentSet": acc.net_payment_success,
    "totalCapturableSet": lambda o: ZERO if o.cancelled_at else acc.capturable(o),
}


_ORDER_FIELDS: dict[str, Callable[[Order, Any, dict[str, Any]], Any]] = {
    "id": lambda o, store, args: gid("Order", o.id),
    "legacyResourceId": lambda o, store, args: str(o.id),
    "createdAt": lambda o, store, args: ts(o.created_at),
    "updatedAt": lambda o, store, args: ts(o.updated_at),
    "processedAt": lambda o, store, args: ts(o.processed_at),
    "cancelledAt": lambda o, store, args: ts(o.cancelled_at),
    "closedAt": lambda o, store, args: ts(o.closed_at),
    "closed": lambda o, store, args: o.closed_at is not None,
    "cancelReason": lambda o, store, args: o.cancel_reason,
    "poNumber": lambda o, store, args: o.po_number,
    "cancellation": lambda o, store, args: {"staffNote": o.cancel_staff_note} if o.cancelled_at else None,
    "metafield": lambda o, store, args: find(o, args.get("namespace"), args["key"]),
    "customAttributes": lambda o, store, args: [],
    "customer": lambda o, store, args: store.customer(o.customer_id),
    "canNotifyCustomer": lambda o, store, args: bool(o.email),
    "returnStatus": lambda o, store, args: "NO_RETURN",
    "displayFinancialStatus": lambda o, store, args: acc.financial_status(o),
    "displayFulfillmentStatus": lambda o, store, args: acc.fulfillment_status(o),
    "currencyCode": lambda o, store, args: o.currency,
    "presentmentCurrencyCode": lambda o, store, args: o.presentment_currency,
    "paymentGatewayNames": lambda o, store, args: list(
        dict.fromkeys(t.gateway for t in o.transactions if t.kind in ("SALE", "CAPTURE", "AUTHORIZATION"))
    ),
    "capturable": lambda o, store, args: not o.cancelled_at and bool(acc.open_authorizations(o)),
    "refundable": lambda o, store, args: acc.net_payment(o) > 0,
    "restockable": lambda o, store, args: any(
        acc.refundable_quantity(li) > li.restocked_quantity for li in o.line_items
    ),
    "fullyPaid": lambda o, store, args: acc.received(o) >= acc.total_price(o),
    "unpaid": lambda o, store, args: acc.received(o) == 0,
    "currentSubtotalLineItemsQuantity": lambda o, store, args: sum(
        acc.current_quantity(li) for li in o.line_items
    ),
    "subtotalLineItemsQuantity": lambda o, store, args: sum(li.quantity for li in o.line_items),
    "lineItems": lambda o, store, args: connection(o.line_items, args, lambda li: Sub(o, li)),
    "shippingLine": lambda o, store, args: Sub(o, o.shipping_lines[0]) if o.shipping_lines else None,
    "shippingLines": lambda o, store, args: connection(o.shipping_lines, args, lambda s: Sub(o, s)),
    "transactions": lambda o, store, args: [
        Sub(o, t)
        for t in first_n(acc.open_authorizations(o) if args.get("capturable") else o.transactions, args)
    ],
    "refunds": lambda o, store, args: [Sub(o, r) for r in first_n(o.refunds, args)],
    "fulfillments": lambda o, store, args: [Sub(o, f) for f in first_n(o.fulfillments, args)],
    "fulfillmentOrders": lambda o, store, args: connection(fulfillment_orders(store, o), args, lambda fo: fo),
    "returns": lambda o, store, args: connection([], args, lambda r: r),
    "suggestedRefund": lambda o, store, args: Sub(
        o,
        suggest(
            o,
            line_requests(o, args.get("refundLineItems")),
            parse_money(args["shippingAmount"]) if args.get("shippingAmount") is not None else None,
            bool(args.get("refundShipping")),
            bool(args.get("suggestFullRefund")),
            args.get("refundMethodAllocation") or "ORIGINAL_PAYMENT_METHODS",
        ),
    ),
}


def _order(o: Order, info: Any, name: str, args: dict[str, Any]) -> Any:
    if name in _ORDER_MONEY:
        return bag(o, _ORDER_MONEY[name](o))
    field = _ORDER_FIELDS.get(name)  # one table for every order: a field costs a lookup, not a closure
    return field(o, info.context.store, args) if field is not None else getattr(o, name, None)


def _customer(c: Customer, name: str) -> Any:
    display = " ".join(p for p in (c.first_name, c.last_name) if p) or c.email or ""
    return {
        "id": gid("Customer", c.id),
        "displayName": display,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "email": c.email,
        "tags": c.tags,
        "defaultEmailAddress": {"emailAddress": c.email} if c.email else None,
    }[name]


def _gift_card(g: GiftCard, info: Any, name: str) -> Any:
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: gid("GiftCard", g.id),
        "balance": lambda: money(g.balance, g.currency),
        "initialValue": lambda: money(g.initial_value, g.currency),
        "createdAt": lambda: ts(g.created_at),
        "updatedAt": lambda: ts(g.updated_at),
        "deactivatedAt": lambda: None,
        "enabled": lambda: g.enabled,
        "expiresOn": lambda: g.expires_on,
        "lastCharacters": lambda: g.code[-4:],
        "maskedCode": lambda: masked(g.code),
        "note": lambda: g.note,
        "customer": lambda: info.context.store.customer(g.customer_id),
        "order": lambda: info.context.store.orders.get(g.order_id) if g.order_id else None,
    }
    return fields[name]()


def _metafield(m: Metafield, name: str) -> Any:
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: gid("Metafield", m.id),
        "legacyResourceId": lambda: str(m.id),
        "namespace": lambda: m.namespace,
        "key": lambda: m.key,
        "type": lambda: m.type,
        "value": lambda: m.value,
        "jsonValue": lambda: json.loads(m.value) if m.type == "json" else m.value,
        "compareDigest": lambda: digest(m),
        "ownerType": lambda: "ORDER",
        "createdAt": lambda: ts(m.created_at),
        "updatedAt": lambda: ts(m.updated_at),
    }
    return fields[name]()


def resolve_object(source: Any, info: Any, args: dict[str, Any]) -> tuple[bool, Any]:
    """(handled, value) for the store's object types; unhandled sources use the default resolver."""
    name = info.field_name
    if isinstance(source, Order):
        return True, _order(source, info, name, args)
    if isinstance(source, Sub):
        return True, sub_field(source, info, name, args)
    if isinstance(source, Customer):
        return True, _customer(source, name)
    if isinstance(source, GiftCard):
        return True, _gift_card(source, info, name)
    if isinstance(source, Metafield):
        return True, _metafield(source, name)
    if isinstance(source, FulfillmentOrderView):
        return True, fulfillment_order_field(info.context.store, source, name, args)
    return False, None


def type_name(value: Any) -> str | None:
    """The GraphQL type of a Node value."""
    obj = value.obj if isinstance(value, Sub) else value
    return {
        Order: "Order",
        Customer: "Customer",
        GiftCard: "GiftCard",
        LineItem: "LineItem",
        Transaction: "OrderTransaction",
        Refund: "Refund",
        Fulfillment: "Fulfillment",
        Metafield: "Metafield",
        FulfillmentOrderView: "FulfillmentOrder",
    }.get(type(obj))
