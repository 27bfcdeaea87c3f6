"""The steps of one planned action: their types, their plan.json records, and how SPEC §6 builds them.

Every step is one Shopify mutation; the keys that make resuming them safe are `keys.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.keys import idempotency_key, run_tags, staff_note
from pipeline.validate.rows import OrderRow


class StepKind(enum.StrEnum):
    """One Shopify mutation: metafieldsSet (the claim), orderCancel, refundCreate, giftCardCreate,
    giftCardSendNotificationToCustomer, tagsAdd."""

    CLAIM = "claim"
    CANCEL = "cancel"
    REFUND = "refund"
    GIFT_CARD = "gift_card"
    GIFT_CARD_NOTIFY = "gift_card_notify"
    TAG = "tag"


class CancelRefund(enum.StrEnum):
    """What `orderCancel.refundMethod` asks: everything to the payments, or as store credit, or nothing."""

    ORIGINAL = "original"
    STORE_CREDIT = "store_credit"
    NONE = "none"


class RestockType(enum.StrEnum):
    """Shopify's `RefundLineItemRestockType`: RETURN restocks fulfilled units, CANCEL unfulfilled ones."""

    RETURN = "RETURN"
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
    """One `RefundLineItemInput`; a restocking line names the location its units go back to."""

    line_item_id: str
    quantity: int
    restock_type: RestockType
    location_id: str | None = None
    location_name: str | None = None

    @property
    def restocks(self) -> bool:
        return self.restock_type is not RestockType.NO_RESTOCK

    def as_input(self) -> dict[str, object]:
        """The `RefundLineItemInput`: a restocking line carries its location, NO_RESTOCK none."""
        item: dict[str, object] = {
            "lineItemId": self.line_item_id,
            "quantity": self.quantity,
            "restockType": str(self.restock_type),
        }
        if self.restocks and self.location_id:
            item["locationId"] = self.location_id
        return item


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
    # claim: the digest of an earlier claim it replaces (compare-and-set), None to create it only if absent
    compare_digest: str | None = None

    @property
    def money_moved(self) -> tuple[str, str, Decimal] | None:
        """(currency, method, amount) given back, as the plan's totals count it; None if no money moves."""
        if self.method is None or self.amount is None or self.currency is None:
            return None
        return self.currency, str(self.method), self.amount

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateways of a refund's planned transactions."""
        return tuple(transaction.gateway for transaction in self.transactions)

    @property
    def restocked_by_lines(self) -> int:
        """Units this step's refund lines put back in stock."""
        return sum(line.quantity for line in self.refund_lines if line.restocks)

    def restocked_at(self) -> dict[str, int]:
        """Units this step's refund lines restock, per location name (its id when the name is unknown)."""
        places: dict[str, int] = {}
        for line in (line for line in self.refund_lines if line.restocks):
            place = line.location_name or line.location_id or "?"
            places[place] = places.get(place, 0) + line.quantity
        return places

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
                        "location_id": line.location_id,
                        "location_name": line.location_name,
                    }
                    for line in self.refund_lines
                ],
                shipping_amount=_text(self.shipping_amount),
                note=self.note,
            )
        elif self.kind is StepKind.GIFT_CARD:
            record.update(notify=self.notify, customer_id=self.customer_id, note=self.note)
        elif self.kind is StepKind.CLAIM:
            record.update(compare_digest=self.compare_digest)
        elif self.kind is StepKind.GIFT_CARD_NOTIFY:
            record.update(notify=self.notify, customer_id=self.customer_id)
        else:
            record.update(tags=list(self.tags))
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Step:
        """The step of a plan.json STEP record (`to_json`'s inverse); KeyError or ValueError if malformed."""
        kind = StepKind(record["kind"])
        fields: dict[str, Any] = {
            "kind": kind,
            "method": RefundMode(record["method"]) if record["method"] else None,
            "amount": _amount(record["amount"]),
            "currency": record["currency"],
            "idempotency_key": record["idempotency_key"],
        }
        if kind not in (StepKind.TAG, StepKind.CLAIM):
            fields["notify"] = bool(record["notify"])
        if kind is StepKind.CANCEL:
            fields.update(
                refund_method=CancelRefund(record["refund_method"]),
                reason=Reason(record["reason"]),
                restock=bool(record["restock"]),
                staff_note=record["staff_note"],
            )
        elif kind is StepKind.REFUND:
            fields.update(
                transactions=tuple(
                    RefundTransaction(t["parent_id"], t["gateway"], Decimal(t["amount"]))
                    for t in record["transactions"]
                ),
                refund_lines=tuple(
                    # Plans written before restock locations have no location keys: they load as None.
                    RefundLine(
                        line["line_item_id"],
                        int(line["quantity"]),
                        RestockType(line["restock_type"]),
                        line.get("location_id"),
                        line.get("location_name"),
                    )
                    for line in record["refund_lines"]
                ),
                shipping_amount=_amount(record["shipping_amount"]),
                note=record["note"],
            )
        elif kind is StepKind.GIFT_CARD:
            fields.update(customer_id=record["customer_id"], note=record["note"])
        elif kind is StepKind.CLAIM:
            fields["compare_digest"] = record["compare_digest"]
        elif kind is StepKind.GIFT_CARD_NOTIFY:
            fields.update(customer_id=record["customer_id"])
        else:
            fields["tags"] = tuple(record["tags"])
        return cls(**fields)


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


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
    claim_digest: str | None = None,
) -> tuple[Step, ...]:
    """The steps of SPEC §6's table, in order: the claim first, the tag step last.

    `claim_digest` is the digest of an earlier run's claim this action replaces (`--allow-repeat`, or
    a released claim); None claims the order only if no claim is on it.

    `full_cancel` is set (to the order's net payment) when `orderCancel` itself refunds everything;
    otherwise the cancel refunds nothing and `refund`, when it moves money, is a step of its own, so
    nothing is ever refunded twice.
    """
    steps: list[Step] = []

    def add(kind: StepKind, **fields: Any) -> None:
        steps.append(Step(kind=kind, idempotency_key=idempotency_key(key, len(steps)), **fields))

    add(StepKind.CLAIM, method=None, amount=None, currency=None, compare_digest=claim_digest)
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
            if row.notify:  # giftCardCreate cannot notify (2026-07): a mutation of its own tells the customer
                add(StepKind.GIFT_CARD_NOTIFY, method=None, amount=None, currency=None,
                    customer_id=customer_id, notify=True)  # fmt: skip
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
