"""What reconciliation finds: a status per input row and the refund transactions made since the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.money import ZERO, Money

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
#: Rows that need no one's attention: what was asked happened, or nothing was to be done.
QUIET = frozenset({"matched", "blocked", "skipped"})
STORE_CREDIT_GATEWAY = "shopify_store_credit"


@dataclass(frozen=True)
class RefundTransaction:
    """One refund transaction made since the plan: a line finance matches against payouts."""

    order_id: str
    order_name: str
    refund_id: str
    refund_created_at: str
    transaction_id: str
    parent_transaction_id: str | None
    gateway: str
    kind: str
    status: str
    amount: Money
    shop_amount: Money | None
    processed_at: str | None
    method: str  # original | store_credit, from the gateway
    origin: str  # "cancel", "refund step", or "not planned"
    action_key: str

    @classmethod
    def of(
        cls,
        order: Mapping[str, Any],
        refund: Mapping[str, Any],
        tx: Mapping[str, Any],
        order_name: str,
        origin: str,
        action_key: str,
    ) -> RefundTransaction:
        """One transaction node of a refund, as `OrdersReconcile` answers it."""
        amount = Money.of(tx["amountSet"]["presentmentMoney"])
        assert amount is not None
        return cls(
            order_id=str(order["id"]),
            order_name=str(order.get("name") or order_name),
            refund_id=str(refund["id"]),
            refund_created_at=str(refund.get("createdAt") or ""),
            transaction_id=str(tx["id"]),
            parent_transaction_id=(tx.get("parentTransaction") or {}).get("id"),
            gateway=str(tx["gateway"]),
            kind=str(tx["kind"]),
            status=str(tx["status"]),
            amount=amount,
            shop_amount=Money.of(tx["amountSet"].get("shopMoney")),
            processed_at=tx.get("processedAt"),
            method="store_credit" if tx["gateway"] == STORE_CREDIT_GATEWAY else "original",
            origin=origin,
            action_key=str(action_key),
        )


@dataclass(frozen=True)
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
    cancelled: bool | None = None
    cancel_reason: str | None = None
    refunds_since_plan: int = 0
    restocked_units: int = 0
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
        return self.status not in QUIET


@dataclass(frozen=True)
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
