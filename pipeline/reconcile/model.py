"""What reconciliation finds: a status per input row and the refund transactions made since the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from sys import intern
from typing import Any

from pipeline.money import ZERO, Money
from pipeline.reconcile.attribution import Maker, in_shop

STATUSES = (
    "matched",
    "mismatch",
    "pending",
    "failed",
    "duplicate",
    "drifted",
    "blocked",
    "skipped",
    "to_verify",  # started, a step's outcome unknown: execute again verifies it (execute/status.py)
    "not_executed",
)
PENDING = "pending"
#: Rows that need no one's attention: what was asked happened, or nothing was to be done.
QUIET = frozenset({"matched", "blocked", "skipped"})
STORE_CREDIT_GATEWAY = "shopify_store_credit"
GIFT_CARD_GATEWAY = "gift_card"
GIFT_CARD_KIND = "GIFT_CARD"
REFUND_KIND = "REFUND"


@dataclass(frozen=True, slots=True)
class RefundTransaction:
    """One money movement since the plan (a refund transaction or a gift card issued): a line finance
    matches against payouts."""

    order_id: str
    order_name: str
    refund_id: str
    refund_created_at: str
    transaction_id: str
    parent_transaction_id: str | None
    gateway: str
    kind: str  # Shopify's transaction kind; GIFT_CARD for a card issued
    status: str
    amount: Money
    shop_amount: Money | None
    processed_at: str | None
    method: str  # original | store_credit | gift_card, from the gateway
    origin: str  # "cancel", "refund step", "gift card step" or "not planned"
    action_key: str
    run_id: str = ""
    converted: bool = False  # shop amount computed at the order's own rate (Shopify gave none)
    payout: Payout | None = None  # Shopify Payments refunds only, once reconcile has read it
    card_last: str = ""  # a gift card's last characters, how people recognise it

    @classmethod
    def of(
        cls,
        order: Mapping[str, Any],
        refund: Mapping[str, Any],
        tx: Mapping[str, Any],
        order_name: str,
        origin: str,
        maker: Maker,
    ) -> RefundTransaction:
        """One transaction node of a refund, as `OrdersReconcile` answers it (its words shared with every
        other transaction's: a run's 100,000 money lines repeat a few gateways, kinds and currencies)."""
        amount = _shared(Money.of(tx["amountSet"]["presentmentMoney"]))
        assert amount is not None
        shop, converted = _shared(Money.of(tx["amountSet"].get("shopMoney"))), False
        if shop is None:
            shop, converted = in_shop(amount, order)
        return cls(
            order_id=str(order["id"]),
            order_name=str(order.get("name") or order_name),
            refund_id=str(refund["id"]),
            refund_created_at=str(refund.get("createdAt") or ""),
            transaction_id=str(tx["id"]),
            parent_transaction_id=(tx.get("parentTransaction") or {}).get("id"),
            gateway=intern(str(tx["gateway"])),
            kind=intern(str(tx["kind"])),
            status=intern(str(tx["status"])),
            amount=amount,
            shop_amount=shop,
            processed_at=tx.get("processedAt"),
            method="store_credit" if tx["gateway"] == STORE_CREDIT_GATEWAY else "original",
            origin=origin,
            action_key=maker.action_key,
            run_id=intern(maker.run_id),
            converted=converted,
        )

    @classmethod
    def gift_card(
        cls, order: Mapping[str, Any], card: Mapping[str, Any], order_name: str, origin: str, maker: Maker
    ) -> RefundTransaction | None:
        """A gift card issued against the order: money out, in the shop currency at the order's rate."""
        value = Money.of(card.get("initialValue"))
        if value is None:
            return None
        shop, converted = in_shop(value, order)
        return cls(
            order_id=str(order["id"]),
            order_name=str(order.get("name") or order_name),
            refund_id="",
            refund_created_at="",
            transaction_id=str(card["id"]),
            parent_transaction_id=None,
            gateway=GIFT_CARD_GATEWAY,
            kind=GIFT_CARD_KIND,
            status="SUCCESS" if card.get("enabled", True) else "DISABLED",
            amount=value,
            shop_amount=shop,
            processed_at=card.get("createdAt"),
            method="gift_card",
            origin=origin,
            action_key=maker.action_key,
            run_id=maker.run_id,
            converted=converted,
            card_last=str(card.get("lastCharacters") or ""),
        )

    @property
    def moves_money(self) -> bool:
        """Money that left the shop: a settled refund, or a gift card issued."""
        return self.kind in (REFUND_KIND, GIFT_CARD_KIND) and self.status == "SUCCESS"


def _shared(money: Money | None) -> Money | None:
    """`money` with its currency code shared with every other amount's."""
    return None if money is None else Money(money.amount, intern(money.currency))


@dataclass(frozen=True, slots=True)
class Payout:
    """The Shopify Payments balance transaction of a refund and the payout that nets it."""

    payout_id: str | None
    status: str  # the balance transaction's payout status: PENDING until a payout takes it
    date: str | None  # the payout's issuedAt
    fee: Money | None
    net: Money | None


@dataclass(frozen=True, slots=True)
class ReconciledRow:
    """One input row: its status and what the shop shows against what was approved."""

    row: int
    order: str
    status: str
    detail: str
    order_name: str | None = None
    order_id: str | None = None
    action_key: str | None = None
    action: str | None = None  # cancel | refund_only
    method: str | None = None  # as planned: original, store_credit, gift_card (joined by "+")
    currency: str | None = None
    planned: Decimal | None = None
    refunded: Decimal = ZERO  # settled since the plan, plus gift cards issued
    pending: Decimal = ZERO
    shop_currency: str | None = None
    refunded_shop: Decimal = ZERO
    kept: Decimal = ZERO  # what the cancelled order still holds (a partial cancel), presentment
    kept_shop: Decimal = ZERO
    cancelled: bool | None = None
    cancel_reason: str | None = None
    refunds_since_plan: int = 0
    restocked_units: int | None = 0  # None: planned, but no refund line item shows it (not read)
    restocked_at: str | None = None  # units per location, as the shop's refund line items say
    gift_card: str | None = None
    gift_card_value: Decimal = ZERO  # part of `refunded`; a gift card is no refund transaction
    tagged: bool | None = None
    notify: bool = False
    customer_name: str | None = None
    customer_email: str | None = None
    differences: tuple[str, ...] = ()

    @property
    def is_exception(self) -> bool:
        """Needs someone: neither quiet nor merely in flight (pending is shown apart, SPEC §8)."""
        return self.status not in QUIET and self.status != PENDING


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every row's outcome and every refund transaction made since the plan."""

    run_id: str
    rows: list[ReconciledRow]
    transactions: list[RefundTransaction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per status, every status listed."""
        return {status: sum(row.status == status for row in self.rows) for status in STATUSES}

    @property
    def exceptions(self) -> list[ReconciledRow]:
        return [row for row in self.rows if row.is_exception]

    @property
    def in_flight(self) -> list[ReconciledRow]:
        """Rows whose refunds are still on their way: reconcile again later."""
        return [row for row in self.rows if row.status == PENDING]
