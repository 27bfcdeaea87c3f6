"""The merchant's words for refund methods, steps and decisions: one table for every file and summary.

A method has had one form per kind of sentence since the first release; the forms are kept side by
side here so no file's text changes, and no file keeps a table of its own. When refunded money
arrives (`ARRIVALS`, per gateway) is here too, and what the plan files say about money kept, orders
with nothing captured, guests without email, the seal and themselves (a view, not read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pipeline.models import RefundMode
from pipeline.plan.model import Decision
from pipeline.plan.steps import Step, StepKind
from pipeline.reports.cells import money_text


@dataclass(frozen=True, slots=True)
class MethodWords:
    """One refund method in words, one form per kind of sentence."""

    by: str  # "to refund: 25.00 EUR by original payment" (plan and confirmation summaries)
    how: str  # "refund 25.00 EUR to the original payment" (plan messages, plan files' steps)
    customer: str  # "refunded to the original payment method" (reconciliation's customers.csv)


METHODS = {
    RefundMode.ORIGINAL: MethodWords(
        "original payment", "to the original payment", "to the original payment method"
    ),
    RefundMode.STORE_CREDIT: MethodWords("store credit", "as store credit", "as store credit"),
    RefundMode.GIFT_CARD: MethodWords("gift card", "as a gift card", "as a gift card"),
}

#: When refunded money reaches the customer, per gateway; card networks, not Shopify, set the delay.
ARRIVALS = {
    "shopify_payments": "typically 5–10 business days, per the card issuer",
    "paypal": "typically 5–10 business days, per PayPal",
    "klarna": "typically 5–10 business days, per Klarna",
    "manual": "as arranged with the shop (the payment was taken by hand)",
    "gift_card": "at once, back onto the gift card used to pay",
    "shopify_store_credit": "at once, as store credit",
}
ARRIVAL_DEFAULT = "typically 5–10 business days, per the card issuer"
#: A gift card issued as the refund is spendable the moment it is created.
ARRIVAL_GIFT_CARD = "at once, as a gift card"

#: A decision in a count ("2 skipped"); a confirmation calls the rows to execute "orders to process".
DECISIONS = {Decision.EXECUTE: "to execute", Decision.SKIP: "skipped", Decision.BLOCKED: "blocked"}
TO_PROCESS = "orders to process"


def by_method(method: str) -> str:
    """The `by` form of a method named by its plan.json value; an unknown value as it is."""
    return METHODS[RefundMode(method)].by if method in METHODS else method


def for_customer(method: str) -> str:
    """The `customer` form of a method named by its plan.json value; an unknown value as it is."""
    return METHODS[RefundMode(method)].customer if method in METHODS else method


def counted(counts: Mapping[str, int], execute: str = DECISIONS[Decision.EXECUTE]) -> str:
    """`3 to execute, 1 skipped, 2 blocked` from the rows per decision."""
    words = {**DECISIONS, Decision.EXECUTE: execute}
    return ", ".join(f"{counts[decision]} {words[decision]}" for decision in Decision)


#: A cancel of an order with nothing captured (authorized only, or pending): Shopify voids the authorization.
VOIDED = "cancel (authorization voided, nothing to refund)"
#: What a row that asks for an email says when the order has no address (a guest without email).
NO_EMAIL = "no email: the order has no address to send one to"
#: What the plan files say about themselves: a view of plan.json, never read back.
A_VIEW = "a view of plan.json: edits here are not read; to change the plan, change the input and plan again"
#: What the Actions sheet's money columns are.
MONEY_COLUMNS = (
    "Paid: what the customer paid and has not had back (earlier refunds, pending ones too, taken off); "
    "To refund: what this plan gives back (refunds and gift cards); Kept: what stays with the shop."
)
#: Where the rows are that plan.html leaves out.
ALL_ROWS = "plan.xlsx (and plan.csv) beside this page hold every row."


def keeps(kept: Decimal, paid: Decimal, currency: str) -> str:
    """`keeps 159.94 of 172.44 EUR`: what an order keeps of what was paid on it."""
    return f"keeps {part_of(kept, paid, currency)}"


def part_of(part: Decimal, whole: Decimal, currency: str) -> str:
    """`159.94 of 172.44 EUR`, each with the currency's decimals."""
    return f"{money_text(part, currency).removesuffix(' ' + currency)} of {money_text(whole, currency)}"


def seal_words(seal: str) -> str:
    """`seal 3f9a0c1b2d4e` as every plan file and summary shows it."""
    return f"seal {seal}"


#: What a gift card without notification means for the merchant (plan rows and summary).
UNSENT_GIFT_CARD = (
    "the customer is not sent the gift card; execute writes its code once to gift_card_codes.csv "
    "(delete it after the mail merge)"
)


def step_words(step: Step) -> str:
    """One step in the plan files: `cancel (no refund)`, `refund 12.50 EUR to the original payment`…"""
    amount = money_text(step.amount, step.currency) if step.amount is not None else ""
    if step.kind is StepKind.CANCEL:
        if step.method is None:
            return "cancel (no refund)"
        if step.amount == 0:
            return VOIDED
        return f"cancel and refund {amount} {METHODS[step.method].how}"
    if step.kind is StepKind.REFUND:
        words = f"refund {amount} {METHODS[step.method].how if step.method else ''}".strip()
        places = step.restocked_at()
        if places:
            words += ", restock " + ", ".join(f"{units} at {place}" for place, units in places.items())
        return words
    if step.kind is StepKind.GIFT_CARD:
        return f"gift card of {amount}" + ("" if step.notify else " (not sent: code in gift_card_codes.csv)")
    if step.kind is StepKind.GIFT_CARD_NOTIFY:
        return "send the gift card to the customer"
    if step.kind is StepKind.CLAIM:
        return "claim"
    return "tag"


def describe(steps: tuple[Step, ...], *, can_notify: bool = True, kept: str | None = None) -> str:
    """The steps as a row's message, e.g. "cancel and refund 25.00 EUR to the original payment".

    `can_notify` is False for an order Shopify cannot email (a guest without address); `kept` is
    `keeps(…)` for a cancel that keeps money.
    """
    parts = []
    for step in steps:
        how = METHODS[step.method].how if step.method else ""
        refund = f"refund {step.amount} {step.currency} {how}" if step.method else ""
        if step.kind is StepKind.CANCEL and step.method and step.amount == 0:
            parts.append(VOIDED)
        elif step.kind is StepKind.CANCEL:
            parts.append(f"cancel and {refund}" if refund else "cancel without refund")
        elif refund:
            parts.append(refund)
    if kept:
        parts.append(kept)
    if any(step.notify for step in steps):
        parts.append("notify the customer" if can_notify else NO_EMAIL)
    if any(step.kind is StepKind.GIFT_CARD and not step.notify for step in steps):
        parts.append(f"warning: {UNSENT_GIFT_CARD}")
    return ", ".join(parts)
