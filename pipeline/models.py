"""Plain values shared by the stages: refund modes, actions, reasons, times (money is `pipeline.money`)."""

from __future__ import annotations

import datetime as dt
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


def instant(text: str) -> dt.datetime:
    """An ISO 8601 time as Shopify and plan.json write it (`…Z` or an offset), aware (UTC if bare)."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
