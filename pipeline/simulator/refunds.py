"""Refund arithmetic: Shopify's suggested refund, and writing a refund onto an order."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.simulator import accounting as acc
from pipeline.simulator.money import ZERO, q
from pipeline.simulator.store import (
    PENDING_REFUND_GATEWAYS,
    STORE_CREDIT_GATEWAY,
    LineItem,
    Order,
    Refund,
    RefundLineItem,
    Store,
    Transaction,
)

RESTOCKING = ("RETURN", "CANCEL")


@dataclass
class LineRequest:
    """One line of a refund or a suggestion: which item, how many units, how they are restocked."""

    item: LineItem
    quantity: int
    restock_type: str = "NO_RESTOCK"
    location_id: int | None = None  # where RETURN/CANCEL units are restocked


@dataclass
class SuggestedTxn:
    parent: Transaction
    amount: Decimal
    maximum: Decimal


@dataclass
class Suggestion:
    """Everything `Order.suggestedRefund` answers, in presentment money."""

    lines: list[RefundLineItem]
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    shipping_maximum: Decimal
    amount: Decimal
    maximum: Decimal
    transactions: list[SuggestedTxn] = field(default_factory=list)


def refund_order(order: Order) -> list[Transaction]:
    """Payments in the order refunds are spread over: gift cards first, then by creation.

    Decision (README): weak public evidence says split-tender refunds go back to the gift card
    first; Shopify's documentation does not say. Full refunds are unaffected by the order.
    """
    pays = acc.payments(order)
    return sorted(pays, key=lambda t: (t.gateway != "gift_card", t.created_at, t.id))


def remaining_shipping(order: Order) -> Decimal:
    return acc.shipping_total(order) - acc.refunded_shipping(order)


def line_views(order: Order, lines: list[LineRequest]) -> list[RefundLineItem]:
    cur = order.presentment_currency
    return [
        RefundLineItem(
            id=0,
            line_item_id=r.item.id,
            quantity=r.quantity,
            restock_type=r.restock_type,
            restocked=False,
            price=r.item.unit_price,
            subtotal=q(r.item.unit_price * r.quantity, cur),
            tax=acc.unit_tax(r.item, r.quantity, cur),
            location_id=r.location_id if r.restock_type in RESTOCKING else None,
        )
        for r in lines
    ]


def allocate(order: Order, amount: Decimal) -> list[SuggestedTxn]:
    """Spread an amount over the refundable payments, each capped at what it can still take."""
    left, out = amount, []
    for pay in refund_order(order):
        maximum = acc.txn_refundable(order, pay)
        if maximum <= 0:
            continue
        take = min(left, maximum)
        out.append(SuggestedTxn(pay, take, maximum))
        left -= take
    return out


def suggest(
    order: Order,
    lines: list[LineRequest],
    shipping_amount: Decimal | None,
    refund_shipping: bool,
    full: bool,
    allocation: str = "ORIGINAL_PAYMENT_METHODS",
) -> Suggestion:
    """Line subtotal + proportional tax + shipping, capped at what is still refundable."""
    if full:
        lines = [
            LineRequest(li, acc.refundable_quantity(li))
            for li in order.line_items
            if acc.refundable_quantity(li) > 0
        ]
    else:  # Shopify suggests at most what can still be refunded per line
        lines = [
            LineRequest(r.item, min(r.quantity, acc.refundable_quantity(r.item)), r.restock_type)
            for r in lines
            if r.quantity > 0
        ]
    views = line_views(order, lines)
    ship_max = remaining_shipping(order)
    if shipping_amount is not None:
        shipping = min(shipping_amount, ship_max)
    else:
        shipping = ship_max if (refund_shipping or full) else ZERO
    sub = sum((v.subtotal for v in views), ZERO)
    tax = sum((v.tax for v in views), ZERO)
    maximum = acc.net_payment(order)
    amount = min(sub + tax + shipping, maximum)
    txns = [] if allocation == "STORE_CREDIT" else allocate(order, amount)
    return Suggestion(views, sub, tax, shipping, ship_max, amount, maximum, txns)


def write_refund(
    store: Store,
    order: Order,
    lines: list[LineRequest],
    shipping: Decimal,
    money: list[tuple[Transaction | None, Decimal]],
    note: str | None,
) -> Refund:
    """Apply a validated refund: REFUND transactions (parent None = store credit), lines, restock."""
    now = store.now()
    refund = Refund(id=store.new_id(), created_at=now, note=note, shipping=shipping)
    for view, req in zip(line_views(order, lines), lines, strict=True):
        view.id = store.new_id()
        view.restocked = req.restock_type in RESTOCKING
        req.item.refunded_quantity += req.quantity
        if view.restocked:
            req.item.restocked_quantity += req.quantity
        refund.line_items.append(view)
    for parent, amount in money:
        gateway = parent.gateway if parent else STORE_CREDIT_GATEWAY
        pending = gateway in PENDING_REFUND_GATEWAYS
        t = Transaction(
            id=store.new_id(),
            kind="REFUND",
            status="PENDING" if pending else "SUCCESS",
            gateway=gateway,
            amount=amount,
            created_at=now,
            parent_id=parent.id if parent else None,
            test=order.test,
            settles_at=now + store.refund_settle_delay if pending else None,
        )
        order.transactions.append(t)
        refund.transaction_ids.append(t.id)
        if pending:
            store.track(unsettled_order=order.id)
    order.refunds.append(refund)
    order.updated_at = now
    return refund


def refund_total(order: Order, refund: Refund, statuses: tuple[str, ...] = ("SUCCESS",)) -> Decimal:
    """A refund's `totalRefundedSet`: its transactions with the given statuses."""
    ids = set(refund.transaction_ids)
    return sum((t.amount for t in order.transactions if t.id in ids and t.status in statuses), ZERO)
