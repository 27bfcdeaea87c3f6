"""Derived order figures: totals, money received and refunded, per-transaction refundable, statuses."""

from __future__ import annotations

from decimal import Decimal

from pipeline.simulator.money import ZERO, q
from pipeline.simulator.store import STORE_CREDIT_GATEWAY, LineItem, Order, Transaction

PAYMENT_KINDS = ("SALE", "CAPTURE")
LIVE = ("SUCCESS", "PENDING")  # refunds that hold money back from being refunded again


def current_quantity(li: LineItem) -> int:
    """Quantity minus refunded and removed units (Shopify's `currentQuantity`)."""
    return li.quantity - li.refunded_quantity - li.removed_quantity


def refundable_quantity(li: LineItem) -> int:
    """Units that a refund may still take; removed (cancelled) units were never charged again."""
    return li.quantity - li.refunded_quantity


def unit_tax(li: LineItem, units: int, currency: str) -> Decimal:
    """The line's tax for `units` units: proportional to the original quantity."""
    if li.quantity == 0:
        return ZERO
    return q(li.tax * units / li.quantity, currency)


def subtotal(order: Order, current: bool = False) -> Decimal:
    """Σ unit price × quantity (current: after refunds and removals)."""
    return sum(
        (li.unit_price * (current_quantity(li) if current else li.quantity) for li in order.line_items), ZERO
    )


def total_tax(order: Order, current: bool = False) -> Decimal:
    cur = order.presentment_currency
    if not current:
        return sum((li.tax for li in order.line_items), ZERO)
    return sum((unit_tax(li, current_quantity(li), cur) for li in order.line_items), ZERO)


def shipping_total(order: Order) -> Decimal:
    return sum((s.price for s in order.shipping_lines), ZERO)


def refunded_shipping(order: Order) -> Decimal:
    return sum((r.shipping for r in order.refunds), ZERO)


def current_shipping(order: Order) -> Decimal:
    """Shipping still charged: none once cancelled (recorded: currentTotalPriceSet 0.0 after cancel)."""
    return ZERO if order.cancelled_at else shipping_total(order) - refunded_shipping(order)


def total_price(order: Order) -> Decimal:
    return subtotal(order) + total_tax(order) + shipping_total(order)


def current_total(order: Order) -> Decimal:
    return subtotal(order, True) + total_tax(order, True) + current_shipping(order)


def txn(order: Order, tid: int | None) -> Transaction | None:
    return next((t for t in order.transactions if t.id == tid), None) if tid is not None else None


def payments(order: Order) -> list[Transaction]:
    """Successful SALE/CAPTURE transactions: the money actually received, in creation order."""
    return [t for t in order.transactions if t.kind in PAYMENT_KINDS and t.status == "SUCCESS"]


def received(order: Order) -> Decimal:
    return sum((t.amount for t in payments(order)), ZERO)


def refunded(order: Order, statuses: tuple[str, ...] = ("SUCCESS",)) -> Decimal:
    """Σ REFUND transactions; `totalRefundedSet` counts SUCCESS only (SHOPIFY-FACTS §10.4)."""
    return sum((t.amount for t in order.transactions if t.kind == "REFUND" and t.status in statuses), ZERO)


def net_payment(order: Order) -> Decimal:
    """What a new refund may still take in total: received minus live (success or pending) refunds."""
    return received(order) - refunded(order, LIVE)


def txn_refundable(order: Order, payment: Transaction) -> Decimal:
    """Still refundable on one payment: its amount minus refunds against it, capped by the order's net."""
    taken = sum(
        (
            t.amount
            for t in order.transactions
            if t.kind == "REFUND" and t.parent_id == payment.id and t.status in LIVE
        ),
        ZERO,
    )
    return max(ZERO, min(payment.amount - taken, net_payment(order)))


def open_authorizations(order: Order) -> list[Transaction]:
    """Successful authorizations neither captured nor voided."""
    closed = {
        t.parent_id for t in order.transactions if t.kind in ("CAPTURE", "VOID") and t.status == "SUCCESS"
    }
    return [
        t
        for t in order.transactions
        if t.kind == "AUTHORIZATION" and t.status == "SUCCESS" and t.id not in closed
    ]


def capturable(order: Order) -> Decimal:
    return sum((t.amount for t in open_authorizations(order)), ZERO)


def outstanding(order: Order) -> Decimal:
    """Positive: the customer owes; negative: the merchant owes (Shopify's totalOutstandingSet)."""
    if order.cancelled_at:
        return ZERO
    return current_total(order) - net_payment_success(order)


def net_payment_success(order: Order) -> Decimal:
    """`netPaymentSet`: received minus successful refunds."""
    return received(order) - refunded(order)


def financial_status(order: Order) -> str | None:
    """`displayFinancialStatus`; null for an order without any transaction (recorded orderCancel-parity)."""
    kinds = order.transactions
    if not kinds:
        return None
    got, back = received(order), refunded(order)
    if got > 0:
        if back >= got:
            return "REFUNDED"
        if back > 0:
            return "PARTIALLY_REFUNDED"
        return "PARTIALLY_PAID" if got < total_price(order) else "PAID"
    if open_authorizations(order):
        return "AUTHORIZED"
    if any(t.kind == "VOID" and t.status == "SUCCESS" for t in kinds):
        return "VOIDED"
    if any(t.status == "PENDING" for t in kinds):
        return "PENDING"
    return "PENDING"


def fulfillment_status(order: Order) -> str:
    """`displayFulfillmentStatus` from fulfilled units; IN_PROGRESS when a request is being worked on."""
    done = sum(li.fulfilled_quantity for li in order.line_items)
    wanted = sum(li.quantity - li.refunded_quantity for li in order.line_items)
    if done and done >= wanted:
        return "FULFILLED"
    if done:
        return "PARTIALLY_FULFILLED"
    if order.fulfillment_in_progress:
        return "IN_PROGRESS"
    return "UNFULFILLED"


def store_credit_refunds(order: Order) -> Decimal:
    return sum(
        (
            t.amount
            for t in order.transactions
            if t.kind == "REFUND" and t.gateway == STORE_CREDIT_GATEWAY and t.status in LIVE
        ),
        ZERO,
    )
