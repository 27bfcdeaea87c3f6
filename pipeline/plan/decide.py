"""Pure planning: a valid row and what Shopify said about its order → a decision and, if executable, steps.

The lookup stage reads `OrderFacts` for every match and, where `needs_quote` says so, a `RefundQuote`
(Shopify's `suggestedRefund`); `decide` applies SPEC §6's table, first row that applies.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.models import Action, RefundMode
from pipeline.plan.quote import RefundQuote, refund_plan
from pipeline.plan.steps import (
    TOOL_TAG,
    RefundPlan,
    RestockType,
    Step,
    StepKind,
    action_key,
    build_steps,
    money,
)
from pipeline.validate.parse import EXCEL_HINT, looks_rounded, name_key
from pipeline.validate.rows import OrderRow

#: Orders `orderCancel` refuses: some units shipped, or a fulfillment service was asked to ship them
#: (`PENDING_FULFILLMENT` is the older name of `IN_PROGRESS`). ON_HOLD, SCHEDULED, REQUEST_DECLINED,
#: UNFULFILLED, OPEN and RESTOCKED have nothing shipped or on its way, so they can be cancelled.
FULFILLED = frozenset({"FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS", "PENDING_FULFILLMENT"})
#: Financial statuses with nothing left to refund.
NOTHING_LEFT = frozenset({"REFUNDED", "VOIDED"})


class Decision(enum.StrEnum):
    EXECUTE = "execute"
    SKIP = "skip"
    BLOCKED = "blocked"


class ReasonCode(enum.StrEnum):
    """Why a row is skipped or blocked (SPEC §14)."""

    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    TEST_ORDER = "test_order"
    CURRENCY_MISMATCH = "currency_mismatch"
    ALREADY_DONE = "already_done"
    ALREADY_CANCELLED = "already_cancelled"
    FULFILLED = "fulfilled"
    EXCEEDS_REFUNDABLE = "exceeds_refundable"
    NO_CUSTOMER = "no_customer"
    NAME_MISMATCH = "name_mismatch"  # the file's Id names another order than the file's Name (SPEC §5a)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the lookup read about one order. Money is in the presentment currency.

    `net_payment` (`netPaymentSet`: received minus refunded) is what a refunding `orderCancel` gives
    back, the amount of a full cancel that needs no quote; `units` (`currentSubtotalLineItemsQuantity`)
    is what a restocking cancel puts back.
    """

    id: str
    name: str
    test: bool
    cancelled_at: str | None
    financial_status: str
    fulfillment_status: str
    presentment_currency: str
    shop_currency: str
    updated_at: str
    total_refunded: Decimal
    net_payment: Decimal
    customer_id: str | None = None
    email: str | None = None
    can_notify: bool = False
    tags: tuple[str, ...] = ()
    units: int = 0

    @property
    def refunded_before(self) -> bool:
        """True when any refund exists; the status also catches refunds still pending (not in the total)."""
        return self.total_refunded > 0 or self.financial_status in {"PARTIALLY_REFUNDED", "REFUNDED"}

    def fingerprint(self) -> dict[str, str]:
        """What execution re-reads: if any of it changed, the action has drifted."""
        return {
            "updated_at": self.updated_at,
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "total_refunded": str(self.total_refunded),
        }


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """What the run will do to one order (SPEC §2 "action")."""

    order_id: str
    order_name: str
    action_key: str
    fingerprint: dict[str, str]
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "order_name": self.order_name,
            "action_key": self.action_key,
            "fingerprint": dict(self.fingerprint),
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """One input row's decision. `order` is the cell as written; `facts` the matched order, if one."""

    row: int
    order: str
    decision: Decision
    reason: ReasonCode | None
    message: str
    action: PlannedAction | None = None
    facts: OrderFacts | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "order": self.order,
            "decision": str(self.decision),
            "reason": str(self.reason) if self.reason else None,
            "message": self.message,
            "action": self.action.to_json() if self.action else None,
        }


@dataclass(frozen=True)
class Plan:
    """Every row's decision; the summary figures of plan.xlsx and the plan.json document."""

    run_id: str
    rows: list[PlannedRow]
    created_at: str = ""
    shop: str = ""
    api_version: str = ""
    input_name: str = ""
    input_sha256: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def _steps(self) -> list[tuple[PlannedRow, Step]]:
        return [(row, step) for row in self.rows if row.action for step in row.action.steps]

    def totals_by_currency_and_method(self) -> dict[tuple[str, str], Decimal]:
        """Money to be given back, per (presentment currency, method), sorted."""
        totals: dict[tuple[str, str], Decimal] = {}
        for _, step in self._steps():
            if step.method is not None and step.amount is not None and step.currency is not None:
                key = (step.currency, str(step.method))
                totals[key] = totals.get(key, Decimal(0)) + step.amount
        return dict(sorted(totals.items()))

    def counts_by_decision(self) -> dict[str, int]:
        """Rows per decision, every decision present."""
        counts = Counter(str(row.decision) for row in self.rows)
        return {str(decision): counts[str(decision)] for decision in Decision}

    def customers_notified(self) -> int:
        """Distinct customers (by customer, else email, else order) who will get at least one email."""
        who = set()
        for row, step in self._steps():
            facts = row.facts
            if step.notify and facts is not None and facts.can_notify:
                who.add(facts.customer_id or facts.email or facts.id)
        return len(who)

    def units_to_restock(self) -> int:
        """Units put back in stock: a restocking cancel's units, plus refund lines restocked."""
        units = 0
        for row, step in self._steps():
            if step.kind is StepKind.CANCEL and step.restock and row.facts is not None:
                units += row.facts.units
            units += sum(
                line.quantity for line in step.refund_lines if line.restock_type is RestockType.CANCEL
            )
        return units

    def to_json(self) -> dict[str, object]:
        """The plan.json document (SPEC §14)."""
        # Extra keys first: they may add to the document, never replace a key of SPEC §14.
        return {
            **self.extra,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "shop": self.shop,
            "api_version": self.api_version,
            "input": {"name": self.input_name, "sha256": self.input_sha256},
            "rows": [row.to_json() for row in self.rows],
        }


def _early(row: OrderRow, facts: OrderFacts, include_test: bool) -> tuple[Decision, ReasonCode, str] | None:
    """SPEC §6's rows that need no quote: test order, currency, already done or cancelled, fulfilled."""
    currency = facts.presentment_currency
    if facts.test and not include_test:
        return Decision.BLOCKED, ReasonCode.TEST_ORDER, "test order — run with --include-test to include it"
    if row.currency and row.currency != currency:
        return (
            Decision.BLOCKED,
            ReasonCode.CURRENCY_MISMATCH,
            f"the row says {row.currency} but the order is in {currency} — fix the currency or the amount",
        )
    for label, value in (("amount", row.amount), ("shipping", row.shipping)):
        if isinstance(value, Decimal) and value != money(value, currency):
            return (
                Decision.BLOCKED,
                ReasonCode.CURRENCY_MISMATCH,
                f"{label} {value} has more decimals than {currency} allows",
            )
    if row.action is Action.CANCEL and facts.cancelled_at:
        when = facts.cancelled_at[:10]
        if _already_done(row, facts):
            return (
                Decision.SKIP,
                ReasonCode.ALREADY_DONE,
                f"already cancelled on {when} as asked — nothing to do",
            )
        return (
            Decision.BLOCKED,
            ReasonCode.ALREADY_CANCELLED,
            f"already cancelled on {when} — use action refund_only to refund it",
        )
    if row.action is Action.CANCEL and facts.fulfillment_status in FULFILLED:
        status = facts.fulfillment_status.lower().replace("_", " ")
        return (
            Decision.BLOCKED,
            ReasonCode.FULFILLED,
            f"{status}: Shopify cannot cancel it — use action refund_only (or cancel the fulfillment first)",
        )
    return None


def _already_done(row: OrderRow, facts: OrderFacts) -> bool:
    """A cancel row on a cancelled order is already true when it asks no refund, when nothing is left
    to refund (REFUNDED or VOIDED), or when this tool tagged the order (a previous run acted on it)."""
    tags = {tag.casefold() for tag in facts.tags}
    return row.mode is RefundMode.NONE or facts.financial_status in NOTHING_LEFT or TOOL_TAG in tags


def _full_cancel(row: OrderRow, facts: OrderFacts) -> bool:
    """True when `orderCancel` alone refunds what the row asks: everything, nothing refunded before."""
    return (
        row.action is Action.CANCEL
        and row.mode in (RefundMode.ORIGINAL, RefundMode.STORE_CREDIT)
        and not row.is_partial
        and row.shipping is True
        and not facts.refunded_before
    )


def needs_quote(row: OrderRow, facts: OrderFacts, *, include_test: bool = False) -> bool:
    """Whether the lookup must read `suggestedRefund` for this row: every refund but a full cancel's."""
    if row.mode is RefundMode.NONE or _early(row, facts, include_test) is not None:
        return False
    return not _full_cancel(row, facts)


def needs_lines(row: OrderRow) -> bool:
    """Whether the lookup must read the order's line items (refundable quantities per SKU)."""
    return bool(row.lines)


def _blocked(row: OrderRow, reason: ReasonCode, message: str, facts: OrderFacts | None = None) -> PlannedRow:
    return PlannedRow(row.row, row.order, Decision.BLOCKED, reason, message, facts=facts)


def decide(
    row: OrderRow,
    matches: list[OrderFacts],
    quote: RefundQuote | None,
    *,
    run_id: str,
    include_test: bool = False,
) -> PlannedRow:
    """Apply SPEC §6's decision table (first row that applies) and build the steps of an executable row.

    `quote` is required exactly where `needs_quote` says so.
    """
    if not matches:
        return _blocked(row, ReasonCode.NOT_FOUND, _not_found(row))
    if row.expected_name and name_key(matches[0].name) != name_key(row.expected_name):
        facts = matches[0]
        return _blocked(
            row,
            ReasonCode.NAME_MISMATCH,
            f"Id {facts.id.rsplit('/', 1)[-1]} is order {facts.name} in this shop, not {row.expected_name} "
            "as in the file — is the export from another shop?",
            facts,
        )
    if len(matches) > 1:
        ids = ", ".join(f"{facts.name} ({facts.id})" for facts in matches)
        return _blocked(
            row, ReasonCode.AMBIGUOUS, f"{len(matches)} orders match: {ids} — write the order id instead"
        )
    facts = matches[0]
    early = _early(row, facts, include_test)
    if early is not None:
        return PlannedRow(row.row, row.order, *early, facts=facts)
    currency = facts.presentment_currency
    refund: RefundPlan | None = None
    if needs_quote(row, facts, include_test=include_test):
        if quote is None:
            raise ValueError(f"row {row.row}: a refund quote is needed to plan {facts.name}")
        planned = refund_plan(row, currency, quote)
        if isinstance(planned, str):
            return _blocked(row, ReasonCode.EXCEEDS_REFUNDABLE, planned, facts)
        refund = planned
        if row.action is Action.REFUND_ONLY and not row.is_partial and refund.amount == 0:
            message = "nothing is left to refund on this order — nothing to do"
            return PlannedRow(
                row.row, row.order, Decision.SKIP, ReasonCode.ALREADY_DONE, message, facts=facts
            )
    if row.mode in (RefundMode.STORE_CREDIT, RefundMode.GIFT_CARD) and not facts.customer_id:
        mode = str(row.mode).replace("_", " ")
        message = f"{mode} needs a customer and the order has none — use mode original instead"
        return _blocked(row, ReasonCode.NO_CUSTOMER, message, facts)
    full_cancel = money(facts.net_payment, currency) if _full_cancel(row, facts) else None
    key = action_key(run_id, facts.id)
    steps = build_steps(
        row,
        key=key,
        run_id=run_id,
        currency=currency,
        customer_id=facts.customer_id,
        full_cancel=full_cancel,
        refund=refund,
    )
    action = PlannedAction(facts.id, facts.name, key, facts.fingerprint(), steps)
    return PlannedRow(row.row, row.order, Decision.EXECUTE, None, describe(steps), action, facts)


def _not_found(row: OrderRow) -> str:
    scope = "orders older than 60 days need the read_all_orders scope"
    if not row.order_gid:
        return f"no order named {row.order_name} — check the name; {scope}"
    number = row.order_gid.rsplit("/", 1)[-1]
    named = f" ({row.expected_name} in the file)" if row.expected_name else ""
    if looks_rounded(row.order_gid):
        return f"no order with Id {number}{named}: the Id looks rounded — {EXCEL_HINT}"
    return f"no order with Id {number}{named} — is the file from this shop? {scope}"


def describe(steps: tuple[Step, ...]) -> str:
    """The steps in the merchant's words, e.g. "cancel, refund 25.00 EUR to the original payment"."""
    how = {
        RefundMode.ORIGINAL: "to the original payment",
        RefundMode.STORE_CREDIT: "as store credit",
        RefundMode.GIFT_CARD: "as a gift card",
    }
    parts = []
    for step in steps:
        refund = f"refund {step.amount} {step.currency} {how[step.method]}" if step.method else ""
        if step.kind is StepKind.CANCEL:
            parts.append(f"cancel and {refund}" if refund else "cancel without refund")
        elif refund:
            parts.append(refund)
    if any(step.notify for step in steps):
        parts.append("notify the customer")
    return ", ".join(parts)
