"""Gift cards on a planned order (pure): the journal's card read back, and every card found since the
plan by the action key in its note — of this action, issued again, or of another run.

A gift card is money out: each is a line of its own (`RefundTransaction.gift_card`), in the rows'
refunded amounts and in the shop currency at the order's own rate (SPEC §8).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from pipeline.money import ZERO, Money
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.reconcile.attribution import Maker, key_in, maker
from pipeline.reconcile.model import RefundTransaction


class OrderCheck(Protocol):
    """What these checks read and add to: `order_check.OrderCheck`."""

    action: PlannedAction
    journal: list[Mapping[str, Any]]
    order: Mapping[str, Any] | None
    gift_cards: Mapping[str, Mapping[str, Any] | None]
    cards_found: Sequence[Mapping[str, Any]]
    ours: Maker
    differences: list[str]
    extra: list[str]
    transactions: list[RefundTransaction]
    refunded: Decimal
    refunded_shop: Decimal
    gift_card_value: Decimal
    gift_card: str | None


def check_card(self: OrderCheck, step: Step, index: int) -> None:
    """The card the journal says a gift card step issued, read back by its id."""
    record = next((r for r in self.journal if r["idx"] == index), None)
    if record is None or record["state"] != "done":
        return
    card_id = record.get("gift_card_id")
    card = self.gift_cards.get(card_id) if card_id else None
    if card is None:
        self.differences.append(f"gift card {card_id or '(no id in the journal)'} could not be read back")
        return
    self.gift_card = f"{card_id} (…{card.get('lastCharacters') or record.get('gift_card_last_chars') or ''})"
    value = Money.of(card.get("initialValue"))
    planned = Money(step.amount or ZERO, str(step.currency))
    card_issued(self, card, "gift card step", self.ours)
    if value is not None and value != planned:
        self.differences.append(f"gift card of {value}, planned {planned}")
    customer = (card.get("customer") or {}).get("id")
    if step.customer_id and customer != step.customer_id:
        self.differences.append(f"gift card belongs to {customer}, planned {step.customer_id}")
    if card.get("enabled") is False:
        self.differences.append("gift card is disabled")


def card_issued(self: OrderCheck, card: Mapping[str, Any], origin: str, made_by: Maker) -> None:
    """A gift card issued against the order: money out, counted like a settled refund."""
    order = self.order or {}
    made = RefundTransaction.gift_card(order, card, self.action.order_name, origin, made_by)
    if made is None:
        return
    self.transactions.append(made)
    self.refunded += made.amount.amount
    self.gift_card_value += made.amount.amount
    self.refunded_shop += made.shop_amount.amount if made.shop_amount else ZERO


def check_other_cards(self: OrderCheck) -> None:
    """Gift cards found by the action keys in their notes that the journal does not name.

    This action's card whose step the journal has not finished is that step's card, in flight;
    any other is money beyond the plan: issued twice, or by another run."""
    journaled = {r.get("gift_card_id") for r in self.journal if r.get("gift_card_id")}
    card_steps = [r for r in self.journal if r["kind"] == str(StepKind.GIFT_CARD)]
    in_flight = any(r["state"] != "done" for r in card_steps)
    for card in self.cards_found:
        if card["id"] in journaled:
            continue
        key = key_in(card.get("note")) or ""
        made_by = maker(key)
        if key == self.action.action_key and in_flight and not journaled:
            card_issued(self, card, "gift card step", made_by)
            continue
        card_issued(self, card, "not planned", made_by)
        value = Money.of(card.get("initialValue"))
        who = "this run again" if key == self.action.action_key else f"run {made_by.run_id}"
        self.extra.append(f"gift card {card['id']} of {value} issued by {who} since the plan")
