"""The plan between the stages: every row's decision and the action it asks, typed.

`Plan.to_json()` is plan.json byte for byte (SPEC §14) and `Plan.from_json` reads it back, so
approval, execution and reconciliation use the same types as the planner. A row's `OrderFacts`
(facts.py) feed the plan files' figures but are not part of plan.json.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.models import instant
from pipeline.money import ZERO, in_currency, totals
from pipeline.plan.engine import EngineChoice
from pipeline.plan.facts import Fingerprint, OrderFacts
from pipeline.plan.keys import legacy_id, note_without_key
from pipeline.plan.steps import Step, StepKind


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
    SKU_NOT_ON_ORDER = "sku_not_on_order"  # a SKU in `lines` the order does not have (SPEC §6)
    NO_CUSTOMER = "no_customer"
    NAME_MISMATCH = "name_mismatch"  # the file's Id names another order than the file's Name (SPEC §5a)
    SAME_ORDER = "same_order"  # two rows of the file resolve to one order (SPEC §6)
    CLAIMED = "claimed"  # another run holds the order and has not finished it (SPEC §7a)


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """What the run will do to one order (SPEC §2 "action")."""

    order_id: str
    order_name: str
    action_key: str
    fingerprint: Fingerprint
    steps: tuple[Step, ...]

    @property
    def money_steps(self) -> list[Step]:
        """The steps that give money back, as the plan's totals count them."""
        return [step for step in self.steps if step.money_moved is not None]

    @property
    def cancel(self) -> Step | None:
        """The cancel step, if the action cancels the order."""
        return next((step for step in self.steps if step.kind is StepKind.CANCEL), None)

    @property
    def cancels(self) -> bool:
        return self.cancel is not None

    def money(self) -> tuple[Decimal, str, str] | None:
        """(amount, methods, currencies) of the money steps, several joined by "+"; None if none."""
        money = self.money_steps
        if not money:
            return None
        return (
            sum((step.amount or ZERO for step in money), ZERO),
            "+".join(sorted({str(step.method) for step in money})),
            "+".join(sorted({str(step.currency) for step in money})),
        )

    @property
    def given_back(self) -> Decimal:
        """What the money steps give the customer: refunds and gift cards (the Actions sheet's amount)."""
        return sum((step.amount or ZERO for step in self.money_steps), ZERO)

    @property
    def refunds_planned(self) -> Decimal:
        """What the cancel and refund steps give back (a gift card is no refund)."""
        kinds = (StepKind.CANCEL, StepKind.REFUND)
        return sum((step.amount or ZERO for step in self.money_steps if step.kind in kinds), ZERO)

    @property
    def note(self) -> str:
        """The row's note as the person wrote it: the first step's note without the action key."""
        note = next((step.staff_note or step.note for step in self.steps if step.staff_note or step.note), "")
        return note_without_key(note or "", self.action_key)

    def to_json(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "order_name": self.order_name,
            "action_key": self.action_key,
            "fingerprint": self.fingerprint.to_json(),
            "steps": [step.to_json() for step in self.steps],
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> PlannedAction:
        return cls(
            record["order_id"],
            record["order_name"],
            record["action_key"],
            Fingerprint.from_json(record["fingerprint"]),
            tuple(Step.from_json(step) for step in record["steps"]),
        )


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """One input row's decision. `order` is the cell as written; `facts` the matched order, if one
    (the lookup's reading: plan.json does not carry it, so it is no part of a row's equality)."""

    row: int
    order: str
    decision: Decision
    reason: ReasonCode | None
    message: str
    action: PlannedAction | None = None
    facts: OrderFacts | None = field(default=None, compare=False)

    def units_to_restock(self) -> int:
        """Units put back in stock: a restocking cancel's units, plus refund lines restocked."""
        if self.action is None:
            return 0
        units = 0
        for step in self.action.steps:
            if step.kind is StepKind.CANCEL and step.restock and self.facts is not None:
                units += self.facts.units
            units += step.restocked_by_lines
        return units

    def paid_and_kept(self) -> tuple[Decimal, Decimal] | None:
        """(paid, kept) in the order's currency (`paid_and_kept`); None without an action or its order."""
        if self.action is None or self.facts is None:
            return None
        return paid_and_kept(self.action, self.facts)

    def to_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "order": self.order,
            "decision": str(self.decision),
            "reason": str(self.reason) if self.reason else None,
            "message": self.message,
            "action": self.action.to_json() if self.action else None,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> PlannedRow:
        return cls(
            int(record["row"]),
            record["order"],
            Decision(record["decision"]),
            ReasonCode(record["reason"]) if record["reason"] else None,
            record["message"],
            PlannedAction.from_json(record["action"]) if record["action"] else None,
        )


def paid_and_kept(action: PlannedAction, facts: OrderFacts) -> tuple[Decimal, Decimal]:
    """What the customer paid and has not had back (earlier refunds, pending ones too, taken off),
    and what of it the shop keeps once `action` is done: a cancel keeping money must say so."""
    paid = in_currency(facts.refundable, facts.presentment_currency)
    return paid, paid - action.given_back


@dataclass(frozen=True)
class OrderSpan:
    """The orders the plan's actions touch: how many, and their lowest and highest id's digits.

    plan.json's head records it (key `orders`), so that reconcile can start its bulk read of them
    before the rows are read (`head.plan_span`)."""

    count: int
    lowest_id: int
    highest_id: int

    @classmethod
    def of(cls, actions: Iterable[PlannedAction]) -> OrderSpan | None:
        """The span of these actions' orders; None without any, or when an id is not Shopify's digits."""
        numbers = {legacy_id(action.order_id) for action in actions}
        if not numbers or not all(n.isdigit() for n in numbers):
            return None
        values = [int(n) for n in numbers]
        return cls(len(values), min(values), max(values))

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "lowest_id": self.lowest_id, "highest_id": self.highest_id}

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> OrderSpan:
        return cls(int(record["count"]), int(record["lowest_id"]), int(record["highest_id"]))


@dataclass(frozen=True)
class Plan:
    """Every row's decision; the summary figures of plan.xlsx and the plan.json document.

    `shop_url` is where execute and reconcile connect when no --shop is given (the shop names no scheme).
    `engines`: per stage (plan, execute, reconcile), the engine chosen or foreseen, why, and the paced
    estimate (SPEC §15); plans made before engines were recorded have none.
    """

    run_id: str
    rows: list[PlannedRow]
    created_at: str = ""
    shop: str = ""
    api_version: str = ""
    input_name: str = ""
    input_sha256: str = ""
    shop_url: str = ""
    engines: dict[str, EngineChoice] = field(default_factory=dict)

    @property
    def since(self) -> dt.datetime:
        """The plan's creation, aware: only what happened at or after it belongs to this run."""
        return instant(self.created_at)

    def actions(self) -> list[PlannedAction]:
        """The executable actions, in plan order."""
        return [row.action for row in self.rows if row.decision is Decision.EXECUTE and row.action]

    def order_span(self) -> OrderSpan | None:
        """The actions' orders (`OrderSpan`), as plan.json's head records them."""
        return OrderSpan.of(self.actions())

    def _steps(self) -> Iterator[tuple[PlannedRow, Step]]:
        return ((row, step) for row in self.rows if row.action for step in row.action.steps)

    def totals_by_currency_and_method(self) -> dict[tuple[str, str], Decimal]:
        """Money to be given back, per (presentment currency, method), sorted."""
        return totals(money for _, step in self._steps() if (money := step.money_moved) is not None)

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

    def unsent_gift_cards(self) -> int:
        """Gift cards the customer is not sent (the row said notify no): their codes go to a file."""
        return sum(
            1 for a in self.actions() for s in a.steps if s.kind is StepKind.GIFT_CARD and not s.notify
        )

    def units_to_restock(self) -> int:
        """Units put back in stock over every row (`PlannedRow.units_to_restock`)."""
        return sum(row.units_to_restock() for row in self.rows)

    def to_json(self) -> dict[str, object]:
        """The plan.json document (SPEC §14): its head, then the rows."""
        document = self.head_json()
        document["rows"] = [row.to_json() for row in self.rows]
        return document

    def head_json(self) -> dict[str, object]:
        """Every key of plan.json but the rows (the last key); `shop_url`, when known, comes first as it
        always has."""
        document: dict[str, object] = {"shop_url": self.shop_url} if self.shop_url else {}
        document.update(
            run_id=self.run_id,
            created_at=self.created_at,
            shop=self.shop,
            api_version=self.api_version,
            input={"name": self.input_name, "sha256": self.input_sha256},
        )
        if self.engines:
            document["engines"] = {stage: choice.as_json() for stage, choice in self.engines.items()}
        span = self.order_span()
        if span is not None:
            document["orders"] = span.as_json()
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, release: bool = False) -> Plan:
        """The plan of a plan.json document; KeyError, TypeError or ValueError when it is not one.
        `release`: each raw row is let go once typed (the document's list ends empty), so the document
        and the typed plan are never both whole in memory. The head's `orders` is the rows' own
        (`order_span`): read apart by `head.plan_span` only."""
        return cls(
            run_id=document["run_id"],
            rows=_released(document["rows"])
            if release
            else [PlannedRow.from_json(r) for r in document["rows"]],
            created_at=document["created_at"],
            shop=document["shop"],
            api_version=document["api_version"],
            input_name=document["input"]["name"],
            input_sha256=document["input"]["sha256"],
            shop_url=document.get("shop_url") or "",
            engines={
                stage: EngineChoice.from_json(choice)
                for stage, choice in (document.get("engines") or {}).items()
            },
        )


def _released(raw: list[Any]) -> list[PlannedRow]:
    """The rows typed in order, each taken out of `raw` as it is read."""
    rows = []
    raw.reverse()
    while raw:
        rows.append(PlannedRow.from_json(raw.pop()))
    return rows
