"""Reconciliation, pure: the approved plan, the journal and the orders as read back → a status per row.

Nothing here reads a file or the network (SPEC §8; the reads are `readback.py`). The comparisons for
one order are `order_check.py`; this module turns what they found into each row's status.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pipeline.execute.status import action_status
from pipeline.plan.claims import parse_claim
from pipeline.plan.keys import legacy_id
from pipeline.plan.model import Decision, Plan, PlannedAction, PlannedRow
from pipeline.reconcile.attribution import key_in, order_of
from pipeline.reconcile.model import ReconciledRow, Reconciliation, RefundTransaction
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
    comparison = Comparison(plan, journal_rows)
    comparison.cards(gift_cards or {}, cards_found)
    for order_id in comparison.waiting():
        comparison.add(order_id, orders.get(order_id))
    return comparison.result()


class Comparison:
    """The plan's rows compared an order at a time, as the reads give them (`add`): only each row and
    its money lines are kept, never the order as read, so memory holds no order node past its turn."""

    def __init__(self, plan: Plan, journal_rows: Iterable[Mapping[str, Any]]) -> None:
        self.plan = plan
        self._rows: list[ReconciledRow | None] = [None] * len(plan.rows)
        self._moved: dict[int, tuple[RefundTransaction, ...]] = {}
        self._todo: dict[str, list[int]] = {}  # order id → its rows still to compare, in plan order
        keys: dict[str, str] = {}  # each action key as the plan holds it: the journal's copy is let go
        for index, plan_row in enumerate(plan.rows):
            if plan_row.decision is Decision.EXECUTE and plan_row.action is not None:
                self._todo.setdefault(plan_row.action.order_id, []).append(index)
                keys[plan_row.action.action_key] = plan_row.action.action_key
        steps: dict[str, list[Step]] = {}
        card_ids: dict[str, None] = {}
        for record in journal_rows:
            key = keys.get(record["action_key"])
            if key is not None:
                steps.setdefault(key, []).append(Step.of(record))
            if record.get("gift_card_id"):
                card_ids[str(record["gift_card_id"])] = None
        self._journal = {key: tuple(sorted(s, key=lambda r: r.idx)) for key, s in steps.items()}
        self.card_ids = list(card_ids)  # the journal's gift cards, to read before any order is compared
        self._cards: Mapping[str, Mapping[str, Any] | None] | None = None
        self._by_order: dict[str, list[Mapping[str, Any]]] = {}

    def cards(
        self, gift_cards: Mapping[str, Mapping[str, Any] | None], found: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """The journal's cards by id and every card issued since the plan: needed by every order."""
        self._cards = gift_cards
        for card in found:
            key = key_in(card.get("note"))
            if key is not None:
                self._by_order.setdefault(order_of(key), []).append(card)

    def waiting(self) -> list[str]:
        """The order ids not compared yet, in plan order."""
        return list(self._todo)

    def add(self, order_id: str, order: Mapping[str, Any] | None) -> None:
        """Compares every row of `order_id` with `order` as read back (None: unreadable); the order
        itself is not kept. An order already compared, or not planned, is ignored."""
        if self._cards is None:
            raise RuntimeError("the gift cards are read before any order is compared")
        plan = self.plan
        indexes = self._todo.pop(order_id, [])
        for index in indexes:
            plan_row = plan.rows[index]
            action = plan_row.action
            assert action is not None
            check = OrderCheck(
                action,
                list(self._journal.get(action.action_key, ())),
                order,
                self._cards,
                plan.since,
                plan.run_id,
                self._by_order.get(legacy_id(action.order_id), ()),
            )
            self._rows[index] = _row(plan_row, action, check)
            if check.transactions:
                self._moved[index] = tuple(check.transactions)
        for index in indexes:  # the order's steps are not needed once it is compared
            action = plan.rows[index].action
            self._journal.pop(action.action_key if action else "", None)

    def result(self) -> Reconciliation:
        """Every row in plan order; an order never added could not be read back."""
        for order_id in self.waiting():
            self.add(order_id, None)
        rows: list[ReconciledRow] = []
        transactions: list[RefundTransaction] = []
        for index, plan_row in enumerate(self.plan.rows):
            row = self._rows[index]
            if row is None:
                status = "skipped" if plan_row.decision is Decision.SKIP else "blocked"
                row = ReconciledRow(plan_row.row, plan_row.order, status, plan_row.message)
            rows.append(row)
            transactions.extend(self._moved.get(index, ()))
        return Reconciliation(self.plan.run_id, rows, transactions)


class Step(Mapping[str, Any]):
    """A journal step with only what the comparison reads (a step of 100,000 holds no more), its words
    shared between steps."""

    __slots__ = FIELDS = (
        "kind",
        "state",
        "idx",
        "refund_id",
        "gift_card_id",
        "action_state",
        "action_detail",
        "error_message",
        "error_code",
    )
    kind: str
    state: str
    idx: int

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Step:
        step = cls()
        for name in cls.FIELDS:
            value = record.get(name)
            object.__setattr__(step, name, sys.intern(value) if isinstance(value, str) else value)
        return step

    def __getitem__(self, key: str) -> Any:
        if key not in self.FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.FIELDS)

    def __len__(self) -> int:
        return len(self.FIELDS)


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
        detail=sys.intern(detail),  # "as planned" and its like, the same words in most rows
        order_name=action.order_name,
        order_id=action.order_id,
        action_key=action.action_key,
        action="cancel" if action.cancel else "refund_only",
        method=method,
        currency=_word(currency or order.get("presentmentCurrencyCode")),
        planned=planned,
        refunded=check.refunded,
        pending=check.pending,
        shop_currency=_word(order.get("currencyCode")),
        refunded_shop=check.refunded_shop,
        kept=check.kept,
        kept_shop=check.kept_shop,
        cancelled=bool(order.get("cancelledAt")) if check.order is not None else None,
        cancel_reason=_word(order.get("cancelReason")),
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


def _word(value: Any) -> Any:
    """A code shared with every row's (a currency, a cancel reason)."""
    return sys.intern(value) if isinstance(value, str) else value


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
