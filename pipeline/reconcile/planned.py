"""What was approved, as reconcile needs it: the one module that reads the plan dict by key.

`from_plan` turns `load_plan`'s dict into typed values; every other reconcile module reads those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline import money
from pipeline.money import ZERO


@dataclass(frozen=True)
class PlannedStep:
    """One step of an action: what it moves and what the shop should show after it."""

    kind: str  # cancel | refund | gift_card | tag
    method: str | None = None  # original | store_credit | gift_card, None when no money moves
    amount: Decimal | None = None
    currency: str | None = None
    notify: bool = False
    reason: str | None = None  # cancel: the reason asked of Shopify
    restock: bool = False  # cancel: whether Shopify restocks
    refund_lines: tuple[tuple[str, int], ...] = ()  # refund: (restock type, units) per line
    gateways: tuple[str, ...] = ()  # refund: the gateways of its planned transactions
    customer_id: str | None = None  # gift card: whose card it is
    tags: tuple[str, ...] = ()  # tag: the tags added
    note: str | None = None  # the staff note or refund note, with its action key

    @property
    def moves_money(self) -> bool:
        return bool(self.method) and self.amount is not None and bool(self.currency)


@dataclass(frozen=True)
class PlannedAction:
    """What was asked of Shopify for one order."""

    order_id: str
    order_name: str
    action_key: str
    steps: tuple[PlannedStep, ...]

    @property
    def cancel(self) -> PlannedStep | None:
        return next((s for s in self.steps if s.kind == "cancel"), None)

    @property
    def refunds_planned(self) -> Decimal:
        """What the cancel and refund steps give back (a gift card is no refund)."""
        steps = [s for s in self.steps if s.kind in ("cancel", "refund") and s.method]
        return sum((s.amount or ZERO for s in steps), ZERO)


@dataclass(frozen=True)
class PlannedRow:
    """One input row, its decision and, when executed, its action."""

    row: int
    order: str
    decision: str  # execute | skip | block
    message: str
    reason: str | None = None  # the plan's reason code
    action: PlannedAction | None = None
    note: str = ""  # the action's note without its action key


@dataclass(frozen=True)
class ApprovedPlan:
    """The plan's run, shop, time and rows."""

    run_id: str
    shop: str
    created_at: str
    rows: tuple[PlannedRow, ...]

    @property
    def since(self) -> dt.datetime:
        """Only what happened at or after this moment belongs to this run."""
        moment = when(self.created_at)
        assert moment is not None
        return moment

    @property
    def actions(self) -> list[PlannedAction]:
        """The executable actions, in plan order."""
        return [r.action for r in self.rows if r.decision == "execute" and r.action is not None]

    def totals(self) -> dict[tuple[str, str], Decimal]:
        """Money to give back per (currency, method)."""
        return money.totals(
            (str(s.currency), str(s.method), s.amount or ZERO)
            for action in self.actions
            for s in action.steps
            if s.moves_money
        )


def from_plan(plan: Mapping[str, Any]) -> ApprovedPlan:
    """The typed values of a plan dict as `load_plan` returns it."""
    return ApprovedPlan(
        run_id=str(plan["run_id"]),
        shop=plan["shop"],
        created_at=plan["created_at"],
        rows=tuple(_row(r) for r in plan["rows"]),
    )


def when(text: str | None) -> dt.datetime | None:
    """An ISO time from Shopify or plan.json (`…Z` included) as an aware datetime."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _row(row: Mapping[str, Any]) -> PlannedRow:
    action = _action(row["action"]) if row.get("action") else None
    note = next((s.note for s in action.steps if s.note), None) if action else None
    return PlannedRow(
        row=row["row"],
        order=str(row["order"]),
        decision=row["decision"],
        message=row["message"],
        reason=row.get("reason"),
        action=action,
        # The action key ends every note so Shopify's records lead back to the run; people need none.
        note=note.removesuffix(f"[{action.action_key}]").rstrip() if note and action else "",
    )


def _action(action: Mapping[str, Any]) -> PlannedAction:
    return PlannedAction(
        order_id=action["order_id"],
        order_name=action["order_name"],
        action_key=action["action_key"],
        steps=tuple(_step(s) for s in action["steps"]),
    )


def _step(step: Mapping[str, Any]) -> PlannedStep:
    note = step.get("staff_note") or step.get("note")
    return PlannedStep(
        kind=step["kind"],
        method=step.get("method") or None,
        amount=None if step.get("amount") is None else Decimal(str(step["amount"])),
        currency=step.get("currency") or None,
        notify=bool(step.get("notify")),
        reason=step.get("reason") or None,
        restock=bool(step.get("restock")),
        refund_lines=tuple(
            (line["restock_type"], int(line["quantity"])) for line in step.get("refund_lines") or ()
        ),
        gateways=tuple(t["gateway"] for t in step.get("transactions") or ()),
        customer_id=step.get("customer_id") or None,
        tags=tuple(step.get("tags") or ()),
        note=str(note) if note else None,
    )
