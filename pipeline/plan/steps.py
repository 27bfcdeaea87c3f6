"""The steps of one planned action, and the deterministic keys that let execution resume them safely.

Keys are pure functions of the run id and the order id, so planning the same run twice gives the
same action keys, idempotency keys and gift card codes:
- action key: `bc-<run-id>-<order legacy id>`;
- idempotency key of step `i`: `uuid5(NAMESPACE, f"{action_key}/{i}")` (sent by `refundCreate`;
  for the other steps it names the step in the journal);
- gift cards carry no code from us: a code is a bearer credential and must not sit in plan files.
  The card's note holds the action key, so execution can find a card whose answer was lost among
  the customer's cards (`giftCards(query: "customer_id:…")`, matched on the note).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.currencies import decimals
from pipeline.models import Action, Reason, RefundMode
from pipeline.validate.rows import OrderRow

#: Fixed namespace of every idempotency key this tool mints (never change it: keys must be stable).
NAMESPACE = uuid.UUID("5b0c3d4e-9a1f-4c55-8e2b-b17ca9ce1a11")
TOOL_TAG = "bulkcancel"
STAFF_NOTE_LIMIT = 255


class StepKind(enum.StrEnum):
    """One Shopify mutation: orderCancel, refundCreate, giftCardCreate, tagsAdd."""

    CANCEL = "cancel"
    REFUND = "refund"
    GIFT_CARD = "gift_card"
    TAG = "tag"


class CancelRefund(enum.StrEnum):
    """What `orderCancel.refundMethod` asks: everything to the payments, or as store credit, or nothing."""

    ORIGINAL = "original"
    STORE_CREDIT = "store_credit"
    NONE = "none"


class RestockType(enum.StrEnum):
    """Shopify's `RefundLineItemRestockType` for units that were never fulfilled."""

    CANCEL = "CANCEL"
    NO_RESTOCK = "NO_RESTOCK"


@dataclass(frozen=True, slots=True)
class RefundTransaction:
    """One `OrderTransactionInput` (kind REFUND) of a refund: which payment gives back how much."""

    parent_id: str
    gateway: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RefundLine:
    """One `RefundLineItemInput`."""

    line_item_id: str
    quantity: int
    restock_type: RestockType


@dataclass(frozen=True, slots=True)
class Step:
    """One mutation of an action. Fields after `idempotency_key` belong to one kind each.

    `amount` is what the step moves to the customer (for a refunding cancel: the order's net payment),
    in `currency`, the order's presentment currency; None when it moves no money.
    """

    kind: StepKind
    method: RefundMode | None
    amount: Decimal | None
    currency: str | None
    idempotency_key: str
    # cancel
    refund_method: CancelRefund | None = None
    reason: Reason | None = None
    restock: bool = False
    staff_note: str | None = None
    # cancel, refund, gift card
    notify: bool = False
    # refund
    transactions: tuple[RefundTransaction, ...] = ()
    refund_lines: tuple[RefundLine, ...] = ()
    shipping_amount: Decimal | None = None
    # refund, gift card
    note: str | None = None
    # gift card
    customer_id: str | None = None
    # tag
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The STEP record of plan.json (SPEC §14); amounts are strings."""
        record: dict[str, object] = {
            "kind": str(self.kind),
            "method": str(self.method) if self.method else None,
            "amount": _text(self.amount),
            "currency": self.currency,
            "idempotency_key": self.idempotency_key,
        }
        if self.kind is StepKind.CANCEL:
            record.update(
                refund_method=str(self.refund_method),
                reason=str(self.reason),
                restock=self.restock,
                notify=self.notify,
                staff_note=self.staff_note,
            )
        elif self.kind is StepKind.REFUND:
            record.update(
                notify=self.notify,
                transactions=[
                    {"parent_id": t.parent_id, "gateway": t.gateway, "amount": _text(t.amount)}
                    for t in self.transactions
                ],
                refund_lines=[
                    {
                        "line_item_id": line.line_item_id,
                        "quantity": line.quantity,
                        "restock_type": str(line.restock_type),
                    }
                    for line in self.refund_lines
                ],
                shipping_amount=_text(self.shipping_amount),
                note=self.note,
            )
        elif self.kind is StepKind.GIFT_CARD:
            record.update(notify=self.notify, customer_id=self.customer_id, note=self.note)
        else:
            record.update(tags=list(self.tags))
        return record


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def money(amount: Decimal, currency: str) -> Decimal:
    """`amount` with exactly the currency's decimals (JPY `5` → `5`, EUR `5` → `5.00`)."""
    return amount.quantize(Decimal(1).scaleb(-decimals(currency)))


def legacy_id(gid: str) -> str:
    """`gid://shopify/Order/123` → `123`."""
    return gid.rsplit("/", 1)[-1]


def action_key(run_id: str, order_id: str) -> str:
    """The stable key of the action on one order in one run."""
    return f"bc-{run_id}-{legacy_id(order_id)}"


def idempotency_key(key: str, index: int) -> str:
    """The idempotency key of step `index` of the action `key`: the same on every re-plan and retry."""
    return str(uuid.uuid5(NAMESPACE, f"{key}/{index}"))


def staff_note(note: str, key: str) -> str:
    """The row's note plus the action key, at most 255 characters: the note is cut, never the key."""
    suffix = f"[{key}]"
    room = STAFF_NOTE_LIMIT - len(suffix) - 1
    note = note.strip()
    if not note or room <= 0:
        return suffix[:STAFF_NOTE_LIMIT]
    if len(note) > room:
        note = note[: room - 1].rstrip() + "…"
    return f"{note} {suffix}"


def run_tags(run_id: str) -> tuple[str, str]:
    """The tags every action ends with."""
    return (TOOL_TAG, f"{TOOL_TAG}-{run_id}")


def spread(
    amount: Decimal, payments: Iterable[tuple[str, str, Decimal]], currency: str
) -> tuple[tuple[RefundTransaction, ...], Decimal]:
    """Spread `amount` over (parent id, gateway, maximum) payments in order, each capped at its maximum.

    Returns the transactions and what could not be placed (zero when the payments cover the amount).
    """
    left = money(amount, currency)
    parts: list[RefundTransaction] = []
    for parent_id, gateway, maximum in payments:
        if left <= 0:
            break
        take = min(left, money(maximum, currency))
        if take > 0:
            parts.append(RefundTransaction(parent_id, gateway, take))
            left -= take
    return tuple(parts), left


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """The money of one refund or gift card step, already checked against what is refundable."""

    amount: Decimal
    transactions: tuple[RefundTransaction, ...] = ()
    lines: tuple[RefundLine, ...] = ()
    shipping: Decimal | None = None


def build_steps(
    row: OrderRow,
    *,
    key: str,
    run_id: str,
    currency: str,
    customer_id: str | None,
    full_cancel: Decimal | None,
    refund: RefundPlan | None,
) -> tuple[Step, ...]:
    """The steps of SPEC §6's table, in order, ending with the tag step.

    `full_cancel` is set (to the order's net payment) when `orderCancel` itself refunds everything;
    otherwise the cancel refunds nothing and `refund`, when it moves money, is a step of its own, so
    nothing is ever refunded twice.
    """
    steps: list[Step] = []

    def add(kind: StepKind, **fields: Any) -> None:
        steps.append(Step(kind=kind, idempotency_key=idempotency_key(key, len(steps)), **fields))

    if row.action is Action.CANCEL:
        refunds = full_cancel is not None
        add(
            StepKind.CANCEL,
            method=row.mode if refunds else None,
            amount=full_cancel,
            currency=currency if refunds else None,
            refund_method=CancelRefund(row.mode.value) if refunds else CancelRefund.NONE,
            reason=row.reason,
            # With lines, only those units are restocked, by the refund's line items.
            restock=row.restock and not row.lines,
            notify=row.notify,
            staff_note=staff_note(row.note, key),
        )
    if refund is not None and refund.amount > 0:
        common = {"amount": refund.amount, "currency": currency, "notify": row.notify}
        note = staff_note(row.note, key)
        if row.mode is RefundMode.GIFT_CARD:
            add(StepKind.GIFT_CARD, method=row.mode, customer_id=customer_id, note=note, **common)
        else:
            add(
                StepKind.REFUND,
                method=row.mode,
                transactions=refund.transactions,
                refund_lines=refund.lines,
                shipping_amount=refund.shipping,
                note=note,
                **common,
            )
    add(StepKind.TAG, method=None, amount=None, currency=None, tags=run_tags(run_id))
    return tuple(steps)
