"""Shopify's suggested refund for a row, and the refund money planned from it.

`suggestedRefund` is asked with the row's lines (or `suggestFullRefund`) and shipping choice, so its
maximum, per-transaction split and refundable quantities are Shopify's own figures, never ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from pipeline.models import RefundMode
from pipeline.money import in_currency
from pipeline.plan.model import ReasonCode
from pipeline.plan.steps import RefundLine, RefundPlan, RefundTransaction, RestockType
from pipeline.validate.rows import OrderRow


@dataclass(frozen=True, slots=True)
class SuggestedTransaction:
    """One of `suggestedRefund.suggestedTransactions`, in Shopify's order."""

    parent_id: str
    gateway: str
    kind: str
    amount: Decimal
    maximum_refundable: Decimal


#: A location as (gid, name).
Place = tuple[str, str]


@dataclass(frozen=True, slots=True)
class QuotedLine:
    """A line item of the order with how many units can still be refunded, and where they restock.

    `unfulfilled` is what its fulfillment orders still hold (None: not read, every unit counts as
    unfulfilled); `cancel_at` restocks those (CANCEL), `return_at` the fulfilled ones (RETURN).
    """

    line_item_id: str
    sku: str
    quantity: int
    refundable_quantity: int
    unfulfilled: int | None = None
    cancel_at: Place | None = None
    return_at: Place | None = None


@dataclass(frozen=True, slots=True)
class RefundQuote:
    """Shopify's `suggestedRefund` for the row's lines and shipping choice (presentment money)."""

    amount: Decimal
    maximum_refundable: Decimal
    shipping_amount: Decimal = Decimal(0)
    shipping_maximum: Decimal = Decimal(0)
    transactions: tuple[SuggestedTransaction, ...] = ()
    lines: tuple[QuotedLine, ...] = ()


def without_pending(quote: RefundQuote, refundable: Decimal, pending: Mapping[str, Decimal]) -> RefundQuote:
    """The quote with refunds still pending counted as refunded, whichever way Shopify counts them.

    `refundable` is the order's net paid minus every refund, pending ones included (`OrderFacts`).
    A maximum at or under it shows Shopify already took pending money off, and is kept; above it,
    the amount and maximum are capped at it and each payment's maximum loses its gateway's pending money.
    """
    if quote.maximum_refundable <= refundable:
        return quote
    left = dict(pending)
    transactions = []
    for t in quote.transactions:
        taken = min(left.get(t.gateway, Decimal(0)), t.maximum_refundable)
        left[t.gateway] = left.get(t.gateway, Decimal(0)) - taken
        maximum = t.maximum_refundable - taken
        transactions.append(replace(t, amount=min(t.amount, maximum), maximum_refundable=maximum))
    return replace(
        quote,
        amount=min(quote.amount, refundable),
        maximum_refundable=refundable,
        transactions=tuple(transactions),
    )


@dataclass(frozen=True)
class Refusal:
    """Why a row's refund cannot be planned: the reason code the plan blocks it with, in words."""

    reason: ReasonCode
    message: str


def _exceeds(message: str) -> Refusal:
    return Refusal(ReasonCode.EXCEEDS_REFUNDABLE, message)


def match_lines(row: OrderRow, lines: tuple[QuotedLine, ...]) -> tuple[RefundLine, ...] | Refusal:
    """The row's `SKU:qty` as refund line items (a SKU on several lines fills them in order), or why not."""
    left = {line.line_item_id: line.refundable_quantity for line in lines}
    chosen: dict[str, int] = {}
    for sku, quantity in row.lines:
        candidates = [line for line in lines if line.sku.casefold() == sku.casefold()]
        if not candidates:
            return Refusal(ReasonCode.SKU_NOT_ON_ORDER, f"SKU {sku} is not on this order — check the SKU")
        available = sum(left[line.line_item_id] for line in candidates)
        if quantity > available:
            return Refusal(
                ReasonCode.EXCEEDS_REFUNDABLE,
                f"{quantity} × {sku} asked but only {available} can be refunded",
            )
        for line in candidates:
            take = min(quantity, left[line.line_item_id])
            if take:
                left[line.line_item_id] -= take
                chosen[line.line_item_id] = chosen.get(line.line_item_id, 0) + take
                quantity -= take
    by_id = {line.line_item_id: line for line in lines}
    if not row.restock:
        return tuple(RefundLine(line_id, units, RestockType.NO_RESTOCK) for line_id, units in chosen.items())
    return tuple(part for line_id, units in chosen.items() for part in restocked(by_id[line_id], units))


def restocked(line: QuotedLine, units: int) -> tuple[RefundLine, ...]:
    """`units` of the line restocked: CANCEL for those never fulfilled, RETURN for the others, each at
    its location (RefundLineItemRestockType 2026-07; the REST refund reference requires the location)."""
    unfulfilled = units if line.unfulfilled is None else min(units, line.unfulfilled)
    parts = []
    for restock, count, place in (
        (RestockType.CANCEL, unfulfilled, line.cancel_at),
        (RestockType.RETURN, units - unfulfilled, line.return_at or line.cancel_at),
    ):
        if count > 0:
            parts.append(RefundLine(line.line_item_id, count, restock, *(place or (None, None))))
    return tuple(parts)


def suggested_refund_arguments(row: OrderRow, lines: tuple[QuotedLine, ...] = ()) -> dict[str, object]:
    """The `suggestedRefund` arguments (OrderQuote.graphql variables) for this row."""
    arguments: dict[str, object] = {"suggestFullRefund": not row.lines}
    if row.lines:
        matched = match_lines(row, lines)
        arguments["refundLineItems"] = [
            line.as_input() for line in (matched if isinstance(matched, tuple) else ())
        ]
    if isinstance(row.shipping, Decimal):
        arguments["shippingAmount"] = str(row.shipping)
    else:
        arguments["refundShipping"] = row.shipping
    return arguments


def spread(
    amount: Decimal, payments: Iterable[tuple[str, str, Decimal]], currency: str
) -> tuple[tuple[RefundTransaction, ...], Decimal]:
    """Spread `amount` over (parent id, gateway, maximum) payments in order, each capped at its maximum.

    Returns the transactions and what could not be placed (zero when the payments cover the amount).
    """
    left = in_currency(amount, currency)
    parts: list[RefundTransaction] = []
    for parent_id, gateway, maximum in payments:
        if left <= 0:
            break
        take = min(left, in_currency(maximum, currency))
        if take > 0:
            parts.append(RefundTransaction(parent_id, gateway, take))
            left -= take
    return tuple(parts), left


def refund_plan(row: OrderRow, currency: str, quote: RefundQuote) -> RefundPlan | Refusal:
    """The refund's money (in the order's presentment `currency`) from the quote, or why it exceeds what
    is refundable. An amount not tied to lines is spread over the suggested transactions in order."""
    maximum = in_currency(quote.maximum_refundable, currency)
    if isinstance(row.shipping, Decimal) and row.shipping > quote.shipping_maximum:
        most = in_currency(quote.shipping_maximum, currency)
        asked = f"shipping {row.shipping} {currency}"
        return _exceeds(f"{asked} asked but at most {most} {currency} of shipping is refundable")
    lines: tuple[RefundLine, ...] = ()
    if row.lines:
        matched = match_lines(row, quote.lines)
        if isinstance(matched, Refusal):
            return matched
        lines = matched
    amount = in_currency(quote.amount if row.amount is None else row.amount, currency)
    if row.amount is None and not row.lines and row.shipping is False:
        # `shipping: no` on a full refund keeps the shipping, whether or not Shopify's full
        # suggestion (`suggestFullRefund`) put it in: everything refundable but the shipping.
        without = min(quote.amount - quote.shipping_amount, quote.maximum_refundable - quote.shipping_maximum)
        amount = in_currency(max(without, Decimal(0)), currency)
    if amount > maximum:
        return _exceeds(f"{amount} {currency} asked but at most {maximum} {currency} can be refunded")
    shipping = in_currency(quote.shipping_amount, currency) if row.shipping is not False else Decimal(0)
    transactions: tuple[RefundTransaction, ...] = ()
    if row.mode is RefundMode.ORIGINAL:
        suggested = tuple(
            RefundTransaction(t.parent_id, t.gateway, in_currency(t.amount, currency))
            for t in quote.transactions
            if t.amount > 0
        )
        if row.amount is None and sum(t.amount for t in suggested) == amount:
            transactions = suggested
        else:
            payments = ((t.parent_id, t.gateway, t.maximum_refundable) for t in quote.transactions)
            transactions, left = spread(amount, payments, currency)
            if left > 0:
                most = amount - left
                return _exceeds(
                    f"{amount} {currency} asked but the payments can refund at most {most} {currency}"
                )
    return RefundPlan(amount, transactions, lines, min(shipping, amount) if shipping > 0 else None)
