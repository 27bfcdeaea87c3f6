"""Pure planning: a valid row and what Shopify said about its order → a decision and, if executable, steps.

The lookup stage reads `OrderFacts` for every match and, where `needs_quote` says so, a `RefundQuote`
(Shopify's `suggestedRefund`); `decide` applies SPEC §6's table, first row that applies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pipeline.models import Action, RefundMode
from pipeline.money import in_currency
from pipeline.plan.earlier import cancelled_by_run, held_or_done, repeats
from pipeline.plan.facts import OrderFacts
from pipeline.plan.keys import action_key
from pipeline.plan.model import Decision, PlannedAction, PlannedRow, ReasonCode, paid_and_kept
from pipeline.plan.quote import RefundQuote, Refusal, refund_plan, without_pending
from pipeline.plan.steps import RefundPlan, build_steps
from pipeline.plan.words import METHODS, describe, keeps
from pipeline.validate.parse import EXCEL_HINT, looks_rounded, name_key
from pipeline.validate.rows import OrderRow

#: Orders `orderCancel` refuses: some units shipped, or a fulfillment service was asked to ship them
#: (`PENDING_FULFILLMENT` is the older name of `IN_PROGRESS`). ON_HOLD, SCHEDULED, REQUEST_DECLINED,
#: UNFULFILLED, OPEN and RESTOCKED have nothing shipped or on its way, so they can be cancelled.
FULFILLED = frozenset({"FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS", "PENDING_FULFILLMENT"})
#: Financial statuses with nothing left to refund.
NOTHING_LEFT = frozenset({"REFUNDED", "VOIDED"})


def _early(
    row: OrderRow, facts: OrderFacts, include_test: bool, allow_repeat: bool = False
) -> tuple[Decision, ReasonCode, str] | None:
    """SPEC §6's rows that need no quote: test order, currency, claimed, already done or cancelled,
    fulfilled."""
    currency = facts.presentment_currency
    if facts.test and not include_test:
        return Decision.BLOCKED, ReasonCode.TEST_ORDER, "test order — run with --include-test to include it"
    if row.currency and row.currency != currency:
        return (
            Decision.BLOCKED,
            ReasonCode.CURRENCY_MISMATCH,
            f"the row says {row.amount_text or row.currency} but the order is in {currency}"
            " — fix the currency or the amount",
        )
    for label, value in (("amount", row.amount), ("shipping", row.shipping)):
        if isinstance(value, Decimal) and value != in_currency(value, currency):
            return (
                Decision.BLOCKED,
                ReasonCode.CURRENCY_MISMATCH,
                f"{label} {value} has more decimals than {currency} allows",
            )
    claimed = held_or_done(facts, allow_repeat)
    if claimed is not None:
        return claimed
    if row.action is Action.CANCEL and facts.cancelled_at:
        when = facts.cancelled_at[:10]
        if _nothing_left_to_do(row, facts):
            by = cancelled_by_run(facts)
            return (
                Decision.SKIP,
                ReasonCode.ALREADY_DONE,
                f"already cancelled{f' by run {by}' if by else ''} on {when} as asked — nothing to do",
            )
        left = in_currency(facts.refundable, currency)
        return (
            Decision.BLOCKED,
            ReasonCode.ALREADY_CANCELLED,
            f"already cancelled on {when} with {left} {currency} still refundable"
            " — use action refund_only to refund it",
        )
    if row.action is Action.CANCEL and facts.fulfillment_status in FULFILLED:
        status = facts.fulfillment_status.lower().replace("_", " ")
        return (
            Decision.BLOCKED,
            ReasonCode.FULFILLED,
            f"{status}: Shopify cannot cancel it — use action refund_only (or cancel the fulfillment first)",
        )
    return None


def _nothing_left_to_do(row: OrderRow, facts: OrderFacts) -> bool:
    """A cancel row on a cancelled order is already true only when nothing it asks is still to do: it
    asks no refund, or nothing is left to refund (pending refunds count as refunded).

    Whose cancel it was does not change that (`cancelled_by_run` names ours, by the action key in
    `cancellation.staffNote`): a cancel with money left is never "done", whoever made it.
    """
    if row.mode is RefundMode.NONE:
        return True
    return facts.financial_status in NOTHING_LEFT or facts.refundable <= 0


def _full_cancel(row: OrderRow, facts: OrderFacts) -> bool:
    """True when `orderCancel` alone refunds what the row asks: everything, nothing refunded before."""
    return (
        row.action is Action.CANCEL
        and row.mode in (RefundMode.ORIGINAL, RefundMode.STORE_CREDIT)
        and not row.is_partial
        and row.shipping is True
        and not facts.refunded_before
    )


def needs_quote(
    row: OrderRow, facts: OrderFacts, *, include_test: bool = False, allow_repeat: bool = False
) -> bool:
    """Whether the lookup must read `suggestedRefund` for this row: every refund but a full cancel's."""
    if row.mode is RefundMode.NONE or _early(row, facts, include_test, allow_repeat) is not None:
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
    allow_repeat: bool = False,
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
    early = _early(row, facts, include_test, allow_repeat)
    if early is not None:
        return PlannedRow(row.row, row.order, *early, facts=facts)
    currency = facts.presentment_currency
    refund: RefundPlan | None = None
    if needs_quote(row, facts, include_test=include_test, allow_repeat=allow_repeat):
        if quote is None:  # the caller broke `needs_quote`'s contract: a bug, not a shop's state
            raise AssertionError(f"row {row.row}: a refund quote is needed to plan {facts.name}")
        quote = without_pending(quote, facts.refundable, facts.pending_refunds())
        planned = refund_plan(row, currency, quote)
        if isinstance(planned, Refusal):
            return _blocked(row, planned.reason, planned.message, facts)
        refund = planned
        if row.action is Action.REFUND_ONLY and not row.is_partial and refund.amount == 0:
            message = "nothing is left to refund on this order — nothing to do"
            return PlannedRow(
                row.row, row.order, Decision.SKIP, ReasonCode.ALREADY_DONE, message, facts=facts
            )
    if row.mode in (RefundMode.STORE_CREDIT, RefundMode.GIFT_CARD) and not facts.customer_id:
        message = (
            f"{METHODS[row.mode].by} needs a customer and the order has none — use mode original instead"
        )
        return _blocked(row, ReasonCode.NO_CUSTOMER, message, facts)
    full_cancel = in_currency(facts.net_payment, currency) if _full_cancel(row, facts) else None
    key = action_key(run_id, facts.id)
    steps = build_steps(
        row,
        key=key,
        run_id=run_id,
        currency=currency,
        customer_id=facts.customer_id,
        full_cancel=full_cancel,
        refund=refund,
        claim_digest=facts.claim.digest if facts.claim is not None else None,
    )
    action = PlannedAction(facts.id, facts.name, key, facts.fingerprint(), steps)
    paid, kept = paid_and_kept(action, facts)
    keeping = keeps(kept, paid, currency) if action.cancels and kept > 0 else None
    message = describe(steps, can_notify=facts.can_notify, kept=keeping)
    earlier = repeats(facts)
    if earlier is not None:
        assert facts.claim is not None
        message = f"repeats what run {earlier} did ({facts.claim.did()}): {message}"
    return PlannedRow(row.row, row.order, Decision.EXECUTE, None, message, action, facts)


#: Table rows above "same order": a row they block names no order it could share with another row.
BEFORE_SAME_ORDER = frozenset(
    {
        ReasonCode.NOT_FOUND,
        ReasonCode.AMBIGUOUS,
        ReasonCode.NAME_MISMATCH,
        ReasonCode.TEST_ORDER,
        ReasonCode.CURRENCY_MISMATCH,
    }
)


def block_same_order(planned: Sequence[PlannedRow]) -> list[PlannedRow]:
    """SPEC §6 "same order": rows of the file that resolved to one order (by name and by id, or two
    names) are all blocked, each naming the others; one action key must never stand for two rows."""
    rows: dict[str, list[int]] = defaultdict(list)
    for p in planned:
        if p.facts is not None and p.reason not in BEFORE_SAME_ORDER:
            rows[p.facts.id].append(p.row)
    result = []
    for p in planned:
        shared = rows[p.facts.id] if p.facts is not None and p.facts.id in rows else []
        if p.facts is None or len(shared) < 2 or p.row not in shared:
            result.append(p)
            continue
        others = [str(n) for n in shared if n != p.row]
        named = f"row {others[0]}" if len(others) == 1 else f"rows {', '.join(others[:-1])} and {others[-1]}"
        message = f"row {p.row} names the same order as {named} ({p.facts.name}) — keep one row per order"
        result.append(
            PlannedRow(p.row, p.order, Decision.BLOCKED, ReasonCode.SAME_ORDER, message, facts=p.facts)
        )
    return result


def _not_found(row: OrderRow) -> str:
    scope = "orders older than 60 days need the read_all_orders scope"
    if not row.order_gid:
        return f"no order named {row.order_name} — check the name; {scope}"
    number = row.order_gid.rsplit("/", 1)[-1]
    named = f" ({row.expected_name} in the file)" if row.expected_name else ""
    if looks_rounded(row.order_gid):
        return f"no order with Id {number}{named}: the Id looks rounded — {EXCEL_HINT}"
    return f"no order with Id {number}{named} — is the file from this shop? {scope}"
