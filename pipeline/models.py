"""Plain frozen values shared by the stages: modes, actions, reasons, money."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class RefundMode(enum.StrEnum):
    """How the customer gets the money back. `partial` in a file is `original` with an amount or lines."""

    ORIGINAL = "original"
    STORE_CREDIT = "store_credit"
    GIFT_CARD = "gift_card"
    NONE = "none"


class Action(enum.StrEnum):
    """What the row asks for the order itself."""

    CANCEL = "cancel"
    REFUND_ONLY = "refund_only"


class Reason(enum.StrEnum):
    """Shopify's `OrderCancelReason`, lower-cased."""

    CUSTOMER = "customer"
    INVENTORY = "inventory"
    FRAUD = "fraud"
    DECLINED = "declined"
    STAFF = "staff"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency. Never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be a Decimal, not {type(self.amount).__name__}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
