"""Plain values shared by the stages: refund modes, actions, reasons (money is `pipeline.money`)."""

from __future__ import annotations

import enum


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
