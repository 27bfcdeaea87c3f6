"""What the lookup read about one order, and the part of it execution re-reads to detect drift."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What execution re-reads before an action: if any of it changed, the action has drifted."""

    updated_at: str
    financial_status: str
    fulfillment_status: str
    total_refunded: Decimal

    @classmethod
    def of_order(cls, node: Mapping[str, Any]) -> Fingerprint:
        """From an order as Shopify answers it (the lookup's and the drift read's `order` alike)."""
        refunded = node.get("totalRefundedSet")
        return cls(
            updated_at=node["updatedAt"],
            financial_status=node.get("displayFinancialStatus") or "",
            fulfillment_status=node["displayFulfillmentStatus"],
            total_refunded=Decimal(str(refunded["presentmentMoney"]["amount"])) if refunded else Decimal(0),
        )

    def to_json(self) -> dict[str, str]:
        return {
            "updated_at": self.updated_at,
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "total_refunded": str(self.total_refunded),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, str]) -> Fingerprint:
        return cls(
            record["updated_at"],
            record["financial_status"],
            record["fulfillment_status"],
            Decimal(record["total_refunded"]),
        )

    def changes(self, now: Fingerprint) -> str | None:
        """What changed from this (the plan's) to `now`, in words, or None; amounts compare as numbers."""
        planned, read = self.to_json(), now.to_json()
        changed = [
            f"{key} {value} → {read[key]}"
            for key, value in planned.items()
            if (value != read[key] if key != "total_refunded" else self.total_refunded != now.total_refunded)
        ]
        return "changed since the plan: " + ", ".join(changed) if changed else None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the lookup read about one order. Money is in the presentment currency.

    `net_payment` (`netPaymentSet`: received minus refunded) is what a refunding `orderCancel` gives
    back, the amount of a full cancel that needs no quote; `units` (`currentSubtotalLineItemsQuantity`)
    is what a restocking cancel puts back.
    """

    id: str
    name: str
    test: bool
    cancelled_at: str | None
    financial_status: str
    fulfillment_status: str
    presentment_currency: str
    shop_currency: str
    updated_at: str
    total_refunded: Decimal
    net_payment: Decimal
    customer_id: str | None = None
    email: str | None = None
    can_notify: bool = False
    tags: tuple[str, ...] = ()
    units: int = 0

    @property
    def refunded_before(self) -> bool:
        """True when any refund exists; the status also catches refunds still pending (not in the total)."""
        return self.total_refunded > 0 or self.financial_status in {"PARTIALLY_REFUNDED", "REFUNDED"}

    def fingerprint(self) -> Fingerprint:
        return Fingerprint(
            self.updated_at, self.financial_status, self.fulfillment_status, self.total_refunded
        )
