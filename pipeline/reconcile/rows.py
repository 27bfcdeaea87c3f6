"""The rows of the reconciliation files: one reconciled row or refund transaction as its columns' values.

Also the grouped totals of those rows, computed once and shown in every summary table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar, overload

from pipeline import money
from pipeline.money import ZERO
from pipeline.reconcile.model import ReconciledRow, RefundTransaction

T = TypeVar("T")
Row = dict[str, Any]

MANUAL_GATEWAY = "manual"
PAYMENTS_GATEWAY = "shopify_payments"


def order_row(row: ReconciledRow, note: str = "") -> dict[str, Any]:
    """One Orders row (and reconciliation.csv line)."""
    executed = row.action_key is not None
    difference = (row.refunded + row.pending - row.planned) if row.planned is not None else None
    return {
        "row": row.row,
        "order": row.order,
        "order_name": row.order_name,
        "order_id": row.order_id,
        "status": row.status,
        "detail": row.detail,
        "action": row.action,
        "method": row.method,
        "currency": row.currency,
        "planned": row.planned,
        "refunded": row.refunded if executed else None,
        "pending": row.pending if executed else None,
        "difference": difference,
        "shop_currency": row.shop_currency,
        "refunded_shop": row.refunded_shop if executed else None,
        "cancelled": _yes(row.cancelled),
        "cancel_reason": row.cancel_reason,
        "refunds_since_plan": row.refunds_since_plan if executed else None,
        "restocked_units": row.restocked_units if executed else None,
        "restocked_at": row.restocked_at,
        "gift_card": row.gift_card,
        "tagged": _yes(row.tagged),
        "notify": _yes(row.notify) if executed else None,
        "customer_name": row.customer_name,
        "customer_email": row.customer_email,
        "note": note or None,
        "action_key": row.action_key,
    }


def transaction_row(tx: RefundTransaction) -> dict[str, Any]:
    """One money movement as finance matches it against payouts (SPEC §14's columns)."""
    payout = tx.payout
    fee, net = (payout.fee, payout.net) if payout else (None, None)
    return {
        "order_name": tx.order_name,
        "order_id": tx.order_id,
        "refund_id": tx.refund_id,
        "transaction_id": tx.transaction_id,
        "parent_transaction_id": tx.parent_transaction_id,
        "gateway": tx.gateway,
        "kind": tx.kind,
        "status": tx.status,
        "amount": tx.amount.amount,
        "currency": tx.amount.currency,
        "shop_amount": tx.shop_amount.amount if tx.shop_amount else None,
        "shop_currency": tx.shop_amount.currency if tx.shop_amount else None,
        "converted": "yes" if tx.converted else "no",
        "processed_at": tx.processed_at,
        "method": tx.method,
        "origin": tx.origin,
        "run_id": tx.run_id,
        "action_key": tx.action_key,
        "payout_id": payout.payout_id if payout else None,
        "payout_status": payout.status if payout else None,
        "payout_date": payout.date if payout else None,
        "fee": fee.amount if fee else None,
        "net": net.amount if net else None,
        "payout_currency": fee.currency if fee else (net.currency if net else None),
        "settlement": settlement(tx),
        "refund_created_at": tx.refund_created_at,
    }


def settlement(tx: RefundTransaction) -> str:
    """Where the money settles, in finance's words."""
    if tx.gateway == MANUAL_GATEWAY and tx.kind == "REFUND":
        return "pay back by hand: no gateway returns this money"
    if tx.gateway == PAYMENTS_GATEWAY:
        return "Shopify Payments payout"
    if tx.method == "store_credit":
        return "store credit issued (liability)"
    if tx.method == "gift_card":
        return (
            f"gift card …{tx.card_last} issued (liability)"
            if tx.card_last
            else "gift card issued (liability)"
        )
    return "settled outside Shopify Payments"


def group_totals(
    rows: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    amounts: Sequence[str],
    *,
    skip_empty: bool = False,
) -> list[dict[str, Any]]:
    """Exact sums of several amount columns per distinct `keys`, sorted like `reports.totals_by`."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        if skip_empty and row.get("planned") is None and not row.get("refunded") and not row.get("pending"):
            continue
        group = tuple(row.get(k) for k in keys)
        total = groups.setdefault(group, {**dict(zip(keys, group, strict=True)), "count": 0})
        total["count"] += 1
        for amount in amounts:  # a group without any value stays blank rather than 0
            value = row.get(amount)
            total[amount] = total.get(amount) if value is None else (total.get(amount) or ZERO) + value
        if "shop_currency" in row and "shop_currency" not in keys and row.get("shop_currency"):
            total["shop_currency"] = row["shop_currency"]
    return [groups[g] for g in sorted(groups, key=lambda g: tuple(str(p) for p in g))]


def per_currency(items: Iterable[tuple[str, str, Decimal]]) -> dict[str, Decimal]:
    """(currency, method, amount) items summed per currency, by the one rule of `money.totals`."""
    folded: dict[str, Decimal] = {}
    for (currency, _method), amount in money.totals(items).items():
        folded[currency] = folded.get(currency, ZERO) + amount
    return folded


def reason(row: Mapping[str, Any], code: str | None) -> str:
    """Blocked and skipped rows by their plan reason code; actions by what was asked of Shopify."""
    if row["status"] in ("blocked", "skipped"):
        return f"{row['status']}: {code or 'no reason'}"
    if row["action"] == "cancel":
        return f"cancel: {row['cancel_reason'] or 'not cancelled'}"
    return "refund only"


def _yes(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class Made(Sequence[Row], Generic[T]):
    """`make(item)` for each item, made when read and not kept: a file of 100,000 rows is written
    without a list of 100,000 dicts (each pass makes them again)."""

    def __init__(self, items: Sequence[T], make: Callable[[T], Row]) -> None:
        self.items, self.make = items, make

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Row]:
        return map(self.make, self.items)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self.make(item) for item in self.items[index]]
        return self.make(self.items[index])
