"""What the run created, as finance books it: per currency, then a grand total in the shop currency.

Refunded to cards (the original payment method, settled), store credit issued and gift cards issued
(both liabilities), money kept on partial cancels, and refunds still pending. Every figure comes from
the money movements (`RefundTransaction`) and the rows, so it ties out with refund_transactions.csv.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pipeline.money import ZERO
from pipeline.reconcile.model import Reconciliation, RefundTransaction
from pipeline.reports import Column

IN_FLIGHT = frozenset({"PENDING", "AWAITING_RESPONSE", "UNKNOWN"})
FIGURES = ("to_cards", "store_credit", "gift_cards", "kept", "pending")
TITLES = {
    "to_cards": "Refunded to cards",
    "store_credit": "Store credit issued",
    "gift_cards": "Gift cards issued",
    "kept": "Kept on partial cancels",
    "pending": "Still pending",
}
GRAND = "all currencies"
COLUMNS = [
    Column("scope", "Orders in"),
    *(Column(key, TITLES[key], "money", currency_key="currency") for key in FIGURES),
    Column("paid_out", "Paid out", "money", currency_key="currency"),
    Column("currency", "Currency"),
]
_BY_METHOD = {"original": "to_cards", "store_credit": "store_credit", "gift_card": "gift_cards"}


def figure_of(tx: RefundTransaction) -> str | None:
    """Which accounting figure a money movement adds to, or None (a failed or non-refund transaction)."""
    if tx.moves_money:
        return _BY_METHOD.get(tx.method)
    if tx.kind == "REFUND" and tx.status in IN_FLIGHT:
        return "pending"
    return None


def accounting_rows(result: Reconciliation) -> list[dict[str, Any]]:
    """One row per presentment currency in its own money, then the grand total in the shop currency."""
    own: dict[str, dict[str, Decimal]] = {}
    shop: dict[str, dict[str, Decimal]] = {}
    shop_codes: set[str] = set()
    for tx in result.transactions:
        figure = figure_of(tx)
        if figure is None:
            continue
        _add(own, tx.amount.currency, figure, tx.amount.amount)
        if tx.shop_amount is not None:
            shop_codes.add(tx.shop_amount.currency)
            _add(shop, tx.shop_amount.currency, figure, tx.shop_amount.amount)
    for row in result.rows:
        if row.kept and row.currency:
            _add(own, row.currency, "kept", row.kept)
            if row.shop_currency:
                shop_codes.add(row.shop_currency)
                _add(shop, row.shop_currency, "kept", row.kept_shop)
    rows = [_row(f"{code} orders", code, sums) for code, sums in sorted(own.items())]
    for code in sorted(shop_codes):
        rows.append(_row(f"{GRAND} ({code})", code, shop[code]))
    return rows


def grand_totals(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The grand-total figures in the shop currency, by title, for headlines."""
    return {
        TITLES.get(key, "Paid out"): f"{row[key]} {row['currency']}"
        for row in rows
        if str(row["scope"]).startswith(GRAND)
        for key in (*FIGURES, "paid_out")
    }


def _add(sums: dict[str, dict[str, Decimal]], code: str, figure: str, amount: Decimal) -> None:
    one = sums.setdefault(code, {})
    one[figure] = one.get(figure, ZERO) + amount


def _row(scope: str, code: str, sums: dict[str, Decimal]) -> dict[str, Any]:
    row: dict[str, Any] = {"scope": scope, "currency": code}
    row.update({key: sums.get(key, ZERO) for key in FIGURES})
    row["paid_out"] = row["to_cards"] + row["store_credit"] + row["gift_cards"]
    return row
