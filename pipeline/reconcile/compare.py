"""Reconciliation, pure: the approved plan, the journal and the orders as read back → a status per row.

Nothing here reads a file or the network (SPEC §8; the reads are `readback.py`). The comparisons for
one order are `order_check.py`; this module turns what they found into each row's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.execute.status import action_status
from pipeline.plan.claims import parse_claim
from pipeline.plan.keys import legacy_id
from pipeline.plan.model import Decision, Plan, PlannedAction, PlannedRow
from pipeline.reconcile.attribution import key_in, order_of
from pipeline.reconcile.model import ReconciledRow, Reconciliation
from pipeline.reconcile.order_check import OrderCheck


def reconcile(
    plan: Plan,
    journal_rows: Iterable[Mapping[str, Any]],
    orders: Mapping[str, Mapping[str, Any] | None],
    gift_cards: Mapping[str, Mapping[str, Any] | None] | None = None,
    cards_found: Sequence[Mapping[str, Any]] = (),
) -> Reconciliation:
    """Every plan row reconciled; `orders` maps each action's order id to its re-read (None: unreadable).

    `gift_cards` are the journal's cards by id; `cards_found` every card issued since the plan whose
    note carries an action key (of any run): each is matched to its order by the key."""
    by_order: dict[str, list[Mapping[str, Any]]] = {}
    for card in cards_found:
        key = key_in(card.get("note"))
        if key is not None:
            by_order.setdefault(order_of(key), []).append(card)
    since = plan.since
    steps_by_action: dict[str, list[Mapping[str, Any]]] = {}
    for record in journal_rows:
        steps_by_action.setdefault(record["action_key"], []).append(record)
    rows, transactions = [], []
    for plan_row in plan.rows:
        action = plan_row.action
        if plan_row.decision is not Decision.EXECUTE or action is None:
            status = "skipped" if plan_row.decision is Decision.SKIP else "blocked"
            rows.append(ReconciledRow(plan_row.row, plan_row.order, status, plan_row.message))
            continue
        journal = sorted(steps_by_action.get(action.action_key, []), key=lambda r: r["idx"])
        check = OrderCheck(
            action,
            journal,
            orders.get(action.order_id),
            gift_cards or {},
            since,
            plan.run_id,
            by_order.get(legacy_id(action.order_id), ()),
        )
        rows.append(_row(plan_row, action, check))
        transactions.extend(check.transactions)
    return Reconciliation(plan.run_id, rows, transactions)


def _row(plan_row: PlannedRow, action: PlannedAction, check: OrderCheck) -> ReconciledRow:
    order = check.order or {}
    planned, method, currency = action.money() or (None, None, None)
    status, detail = _status(check)
    holder = _other_run(action, check.order)
    if holder and f"claimed by run {holder}" not in detail:
        detail = f"{detail}; the order is claimed by run {holder}"
    customer = order.get("customer") or {}
    email = order.get("email") or ((customer.get("defaultEmailAddress") or {}).get("emailAddress"))
    return ReconciledRow(
        row=plan_row.row,
        order=plan_row.order,
        status=status,
        detail=detail,
        order_name=action.order_name,
        order_id=action.order_id,
        action_key=action.action_key,
        action="cancel" if action.cancel else "refund_only",
        method=method,
        currency=currency or order.get("presentmentCurrencyCode"),
        planned=planned,
        refunded=check.refunded,
        pending=check.pending,
        shop_currency=order.get("currencyCode"),
        refunded_shop=check.refunded_shop,
        kept=check.kept,
        kept_shop=check.kept_shop,
        cancelled=bool(order.get("cancelledAt")) if check.order is not None else None,
        cancel_reason=order.get("cancelReason"),
        refunds_since_plan=len(check.new_refunds()),
        restocked_units=None if check.restock_unread else check.restocked,
        restocked_at=check.restock_words(),
        gift_card=check.gift_card,
        gift_card_value=check.gift_card_value,
        tagged=check.tagged,
        notify=any(s.notify for s in action.steps),
        customer_name=customer.get("displayName"),
        customer_email=email,
        differences=tuple(check.differences + check.extra),
    )


def _other_run(action: PlannedAction, order: Mapping[str, Any] | None) -> str | None:
    """The run whose claim is on the order when it is not this action's (SPEC §7a), else None."""
    claim = parse_claim((order or {}).get("claim"))
    return claim.run_id if claim is not None and claim.action_key != action.action_key else None


def _status(check: OrderCheck) -> tuple[str, str]:
    """The journal says what was attempted; the shop says whether it is so."""
    journal = check.journal
    found = "; ".join(check.extra + check.differences + check.waiting)
    if not journal:
        return "not_executed", "not executed: run `bulkcancel execute` on this run directory"
    state = journal[0]["action_state"]
    if check.extra:  # money out twice outranks whatever the journal says, drifted included
        return "duplicate", found
    if state == "drifted":
        return "drifted", str(journal[0]["action_detail"] or "the order changed since the plan")
    if state == "failed":
        failed = [r for r in journal if r["state"] == "failed"]
        message = "; ".join(
            f"{r['kind']} refused by Shopify: {r['error_message']}"
            + (f" ({r['error_code']})" if r["error_code"] else "")
            for r in failed
        )
        return "failed", message or "failed"
    if state != "done":  # to_verify or not_executed: the words of execute/status.py
        steps = ", ".join(f"{r['kind']} {r['state']}" for r in journal)
        status = action_status(state, (r["state"] for r in journal))
        return status, f"not finished ({steps}): run `bulkcancel execute` again"
    if check.differences:
        return "mismatch", found
    if check.waiting:
        return "pending", found + ": reconcile again later"
    if check.restock_unread:
        return "matched", f"as planned; {check.restock_unread}"
    return "matched", "as planned"
