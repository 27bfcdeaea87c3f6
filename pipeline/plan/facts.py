"""What the lookup read about one order (from a paced answer or a bulk line alike), and the part of it
execution re-reads to detect drift."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.plan.claims import Claim, parse_claim


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What execution re-reads before an action: if any of it changed, the action has drifted."""

    updated_at: str
    financial_status: str
    fulfillment_status: str
    total_refunded: Decimal
    # The refunds the plan saw (pending ones included); None when not read (plans made before).
    refund_ids: tuple[str, ...] | None = None

    @classmethod
    def of_order(cls, node: Mapping[str, Any]) -> Fingerprint:
        """From an order as Shopify answers it (the lookup's and the drift read's `order` alike)."""
        refunded = node.get("totalRefundedSet")
        refunds = node.get("refunds")
        return cls(
            updated_at=node["updatedAt"],
            financial_status=node.get("displayFinancialStatus") or "",
            fulfillment_status=node["displayFulfillmentStatus"],
            total_refunded=Decimal(str(refunded["presentmentMoney"]["amount"])) if refunded else Decimal(0),
            refund_ids=None if refunds is None else tuple(sorted(str(r["id"]) for r in refunds)),
        )

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {
            "updated_at": self.updated_at,
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "total_refunded": str(self.total_refunded),
        }
        if self.refund_ids is not None:
            record["refund_ids"] = list(self.refund_ids)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Fingerprint:
        known = record.get("refund_ids")
        return cls(
            record["updated_at"],
            record["financial_status"],
            record["fulfillment_status"],
            Decimal(record["total_refunded"]),
            None if known is None else tuple(str(i) for i in known),
        )

    def changes(self, now: Fingerprint) -> str | None:
        """What changed from this (the plan's) to `now`, in words, or None; amounts compare as numbers."""
        planned, read = self._status(), now._status()
        changed = [
            f"{key} {value} → {read[key]}"
            for key, value in planned.items()
            if (value != read[key] if key != "total_refunded" else self.total_refunded != now.total_refunded)
        ]
        return "changed since the plan: " + ", ".join(changed) if changed else None

    def new_since_plan(self, refund_id: str, created_at: dt.datetime, planned_at: dt.datetime) -> bool:
        """Whether a refund on the order was made after the plan (the one rule, for drift and reconcile).

        By id when the plan saw the order's refunds: no clock decides. Otherwise by time, at Shopify's
        whole seconds, so a refund of the plan's own second counts (a false alarm is the safe side).
        """
        if self.refund_ids is not None:
            return refund_id not in self.refund_ids
        return created_at >= planned_at.replace(microsecond=0)

    def _status(self) -> dict[str, str]:
        return {
            "updated_at": self.updated_at,
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "total_refunded": str(self.total_refunded),
        }


#: Refund transaction statuses that hold money back: paid out, or on its way (not FAILURE or ERROR).
LIVE_REFUND = frozenset({"SUCCESS", "PENDING", "AWAITING_RESPONSE", "UNKNOWN"})


@dataclass(frozen=True, slots=True)
class RefundMoney:
    """One transaction of a refund the order already has (presentment money)."""

    kind: str
    status: str
    gateway: str
    amount: Decimal

    @property
    def pending(self) -> bool:
        """Money on its way back that Shopify may not count as refunded yet (SHOPIFY-FACTS §10.4)."""
        return self.kind == "REFUND" and self.status in LIVE_REFUND and self.status != "SUCCESS"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the lookup read about one order. Money is in the presentment currency.

    `net_payment` (`netPaymentSet`: received minus refunded) is what a refunding `orderCancel` gives
    back, the amount of a full cancel that needs no quote; `units` (`currentSubtotalLineItemsQuantity`)
    is what a restocking cancel puts back. `refunds` are the order's refunds' transactions, pending
    ones included, flat and sorted: the paced lookup reads them under each refund, a bulk read from the
    order's own `transactions` (a bulk query allows no connection inside the `refunds` list), and both
    give the same facts; `refund_ids` are the order's refunds, with or without money.
    `total_received` (`totalReceivedSet`) is None where it was not read.
    `claim` is the order's claim (SPEC §7a), released ones included.
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
    refunds: tuple[RefundMoney, ...] = ()
    refund_ids: tuple[str, ...] = ()
    total_received: Decimal | None = None
    cancel_note: str | None = None  # `cancellation.staffNote`: ours carry an action key
    claim: Claim | None = None  # the order's claim (SPEC §7a), if a run holds or held it

    @property
    def refunded_before(self) -> bool:
        """True when any refund exists, pending or not (a pending one is in neither total nor status)."""
        return (
            bool(self.refund_ids)
            or bool(self.refunds)
            or self.total_refunded > 0
            or self.financial_status in {"PARTIALLY_REFUNDED", "REFUNDED"}
        )

    def pending_refunds(self) -> dict[str, Decimal]:
        """Refund money still pending at the gateway, per gateway."""
        pending: dict[str, Decimal] = {}
        for money in (m for m in self.refunds if m.pending):
            pending[money.gateway] = pending.get(money.gateway, Decimal(0)) + money.amount
        return pending

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded, pending refunds counted as refunded, never below zero.

        Shopify may or may not take pending refunds off `netPaymentSet` (SHOPIFY-FACTS §12), so this is
        the lower of the net payment and received minus every live refund; without the received total,
        the net payment minus what is pending.
        """
        pending = sum(self.pending_refunds().values(), Decimal(0))
        if self.total_received is None:
            return max(Decimal(0), self.net_payment - pending)
        live = sum(
            (m.amount for m in self.refunds if m.kind == "REFUND" and m.status in LIVE_REFUND),
            Decimal(0),
        )
        return max(Decimal(0), min(self.net_payment, self.total_received - live))

    def fingerprint(self) -> Fingerprint:
        return Fingerprint(
            self.updated_at, self.financial_status, self.fulfillment_status, self.total_refunded
        )


def amount_of(money_bag: Mapping[str, Any] | None) -> Decimal:
    """A MoneyBag's presentment amount (zero when there is none)."""
    return Decimal(str(money_bag["presentmentMoney"]["amount"])) if money_bag else Decimal(0)


def _refund_money(node: Mapping[str, Any]) -> tuple[RefundMoney, ...]:
    """The order's refund transactions, sorted: from each refund's `transactions` (the paced lookup), or
    from the order's own `transactions` list when it was read (a bulk query, where a connection inside
    the `refunds` list is not allowed). Both hold the same REFUND transactions."""
    if "transactions" in node:
        found = node.get("transactions") or ()
    else:
        found = [
            t
            for refund in node.get("refunds") or ()
            for t in (refund.get("transactions") or {}).get("nodes") or ()
        ]
    return tuple(
        sorted(
            (
                RefundMoney(t["kind"], t["status"], t.get("gateway") or "", amount_of(t["amountSet"]))
                for t in found
                if t["kind"] == "REFUND"
            ),
            key=lambda m: (m.gateway, m.status, m.amount),
        )
    )


def order_facts(node: Mapping[str, Any]) -> OrderFacts:
    """An `OrdersByName`/`OrdersByIds` node, or an `OrdersBulkPlan` line, as the planner's values."""
    customer = node.get("customer") or {}
    fingerprint = Fingerprint.of_order(node)
    return OrderFacts(
        id=node["id"],
        name=node["name"],
        test=bool(node["test"]),
        cancelled_at=node.get("cancelledAt"),
        financial_status=fingerprint.financial_status,
        fulfillment_status=fingerprint.fulfillment_status,
        presentment_currency=node["presentmentCurrencyCode"],
        shop_currency=node["currencyCode"],
        updated_at=fingerprint.updated_at,
        total_refunded=fingerprint.total_refunded,
        net_payment=amount_of(node.get("netPaymentSet")),
        customer_id=customer.get("id"),
        email=node.get("email"),
        can_notify=bool(node.get("canNotifyCustomer")),
        tags=tuple(node.get("tags") or ()),
        units=int(node.get("currentSubtotalLineItemsQuantity") or 0),
        refunds=_refund_money(node),
        refund_ids=tuple(sorted(str(r["id"]) for r in node.get("refunds") or ())),
        total_received=amount_of(node["totalReceivedSet"]) if "totalReceivedSet" in node else None,
        cancel_note=(node.get("cancellation") or {}).get("staffNote"),
        claim=parse_claim(node.get("claim")),
    )
