"""Resolvers of objects that belong to an order: lines, transactions, refunds, suggestions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pipeline.simulator import accounting as acc
from pipeline.simulator.gids import gid
from pipeline.simulator.locations import FulfillmentOrderLine, fulfillment_order_line_field, location
from pipeline.simulator.money import ZERO
from pipeline.simulator.refunds import SuggestedTxn, Suggestion, refund_total
from pipeline.simulator.shapes import GATEWAY_NAMES, Sub, bag, connection, money, ts
from pipeline.simulator.store import (
    Fulfillment,
    LineItem,
    Order,
    Refund,
    RefundLineItem,
    ShippingLine,
    Store,
    Transaction,
)

# One table for every line: a bulk export reads hundreds of thousands of lines, few fields of each.
_LINE_FIELDS: dict[str, Callable[[Order, LineItem], Any]] = {
    "id": lambda o, li: gid("LineItem", li.id),
    "name": lambda o, li: li.title,
    "title": lambda o, li: li.title,
    "sku": lambda o, li: li.sku,
    "variantTitle": lambda o, li: li.variant_title,
    "vendor": lambda o, li: li.vendor,
    "quantity": lambda o, li: li.quantity,
    "currentQuantity": lambda o, li: acc.current_quantity(li),
    "refundableQuantity": lambda o, li: acc.refundable_quantity(li),
    "unfulfilledQuantity": lambda o, li: max(0, acc.current_quantity(li) - li.fulfilled_quantity),
    "nonFulfillableQuantity": lambda o, li: li.refunded_quantity + li.removed_quantity,
    "restockable": lambda o, li: acc.refundable_quantity(li) > li.restocked_quantity,
    "requiresShipping": lambda o, li: li.requires_shipping,
    "isGiftCard": lambda o, li: False,
    "taxable": lambda o, li: li.taxable,
    "originalUnitPriceSet": lambda o, li: bag(o, li.unit_price),
    "discountedUnitPriceSet": lambda o, li: bag(o, li.unit_price),
    "originalTotalSet": lambda o, li: bag(o, li.unit_price * li.quantity),
    "discountedTotalSet": lambda o, li: bag(o, li.unit_price * li.quantity),
}


def _line(s: Sub, name: str) -> Any:
    li = s.obj
    assert isinstance(li, LineItem)
    return _LINE_FIELDS[name](s.order, li)


def _txn(s: Sub, name: str) -> Any:
    o, t = s.order, s.obj
    assert isinstance(t, Transaction)
    if name == "maximumRefundableV2":
        if t.kind not in acc.PAYMENT_KINDS or t.status != "SUCCESS":
            return None
        return money(acc.txn_refundable(o, t), o.presentment_currency)
    parent = acc.txn(o, t.parent_id)
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: gid("OrderTransaction", t.id),
        "kind": lambda: t.kind,
        "status": lambda: t.status,
        "gateway": lambda: t.gateway,
        "formattedGateway": lambda: GATEWAY_NAMES.get(t.gateway, t.gateway),
        "test": lambda: t.test,
        "createdAt": lambda: ts(t.created_at),
        "processedAt": lambda: ts(t.created_at),
        "amountSet": lambda: bag(o, t.amount),
        "parentTransaction": lambda: Sub(o, parent) if parent else None,
        "order": lambda: o,
        "errorCode": lambda: None,
        "paymentId": lambda: f"#{o.number}.{t.id}",
        "authorizationExpiresAt": lambda: (
            ts(t.created_at + timedelta(days=7)) if t.kind == "AUTHORIZATION" else None
        ),
        "manuallyCapturable": lambda: t in acc.open_authorizations(o),
    }
    return fields[name]()


def _refund(s: Sub, name: str, args: dict[str, Any]) -> Any:
    o, r = s.order, s.obj
    assert isinstance(r, Refund)
    ids = set(r.transaction_ids)
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: gid("Refund", r.id),
        "createdAt": lambda: ts(r.created_at),
        "updatedAt": lambda: ts(r.created_at),
        "processedAt": lambda: ts(r.created_at),
        "note": lambda: r.note,
        "order": lambda: o,
        "totalRefundedSet": lambda: bag(o, refund_total(o, r)),
        "refundLineItems": lambda: connection(r.line_items, args, lambda x: Sub(o, x)),
        "transactions": lambda: connection(
            [t for t in o.transactions if t.id in ids], args, lambda x: Sub(o, x)
        ),
    }
    return fields[name]()


def _refund_line(s: Sub, name: str, store: Store) -> Any:
    o, x = s.order, s.obj
    assert isinstance(x, RefundLineItem)
    item = next(li for li in o.line_items if li.id == x.line_item_id)
    return {
        "id": gid("RefundLineItem", x.id) if x.id else None,
        "lineItem": Sub(o, item),
        "quantity": x.quantity,
        "restockType": x.restock_type,
        "restocked": x.restocked,
        "priceSet": bag(o, x.price),
        "subtotalSet": bag(o, x.subtotal),
        "totalTaxSet": bag(o, x.tax),
        "location": location(store, x.location_id) if x.location_id is not None else None,
    }[name]


def _suggestion(s: Sub, name: str) -> Any:
    o, x = s.order, s.obj
    assert isinstance(x, Suggestion)
    fields: dict[str, Callable[[], Any]] = {
        "amountSet": lambda: bag(o, x.amount),
        "maximumRefundableSet": lambda: bag(o, x.maximum),
        "subtotalSet": lambda: bag(o, x.subtotal),
        "discountedSubtotalSet": lambda: bag(o, x.subtotal),
        "totalTaxSet": lambda: bag(o, x.tax),
        "totalCartDiscountAmountSet": lambda: bag(o, ZERO),
        "totalDutiesSet": lambda: bag(o, ZERO),
        "shipping": lambda: {
            "amountSet": bag(o, x.shipping),
            "maximumRefundableSet": bag(o, x.shipping_maximum),
            "taxSet": bag(o, ZERO),
        },
        "refundLineItems": lambda: [Sub(o, v) for v in x.lines],
        "suggestedTransactions": lambda: [Sub(o, t) for t in x.transactions],
    }
    return fields[name]()


def _suggested_txn(s: Sub, name: str) -> Any:
    o, x = s.order, s.obj
    assert isinstance(x, SuggestedTxn)
    return {
        "accountNumber": None,
        "amountSet": bag(o, x.amount),
        "gateway": x.parent.gateway,
        "formattedGateway": GATEWAY_NAMES.get(x.parent.gateway, x.parent.gateway),
        "kind": "SUGGESTED_REFUND",
        "maximumRefundableSet": bag(o, x.maximum),
        "parentTransaction": Sub(o, x.parent),
    }[name]


def sub_field(source: Sub, info: Any, name: str, args: dict[str, Any]) -> Any:
    obj = source.obj
    if isinstance(obj, LineItem):
        return _line(source, name)
    if isinstance(obj, Transaction):
        return _txn(source, name)
    if isinstance(obj, Refund):
        return _refund(source, name, args)
    if isinstance(obj, RefundLineItem):
        return _refund_line(source, name, info.context.store)
    if isinstance(obj, Suggestion):
        return _suggestion(source, name)
    if isinstance(obj, SuggestedTxn):
        return _suggested_txn(source, name)
    if isinstance(obj, ShippingLine):
        o = source.order
        return {
            "id": gid("ShippingLine", obj.id),
            "title": obj.title,
            "code": obj.code,
            "isRemoved": False,
            "originalPriceSet": bag(o, obj.price),
            "discountedPriceSet": bag(o, obj.price),
            "currentDiscountedPriceSet": bag(o, obj.price),
        }[name]
    if isinstance(obj, Fulfillment):
        return {
            "id": gid("Fulfillment", obj.id),
            "name": obj.name,
            "status": obj.status,
            "displayStatus": obj.display_status,
            "createdAt": ts(obj.created_at),
            "updatedAt": ts(obj.created_at),
            "totalQuantity": obj.quantity,
            "location": location(info.context.store, obj.location_id),
        }[name]
    if isinstance(obj, FulfillmentOrderLine):
        return fulfillment_order_line_field(source, name)
    raise KeyError(name)
