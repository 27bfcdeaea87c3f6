"""The tie-out: the summary's totals checked against two independent sources before any file is written.

What was planned ties out with the plan's own totals; what was refunded with the refund transactions
plus the gift cards issued, in the presentment and in the shop currency. Files that would not
tie out are never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pipeline.errors import TieOutError
from pipeline.money import ZERO
from pipeline.reconcile.model import Reconciliation
from pipeline.reconcile.rows import per_currency


def check_ties_out(
    plan_totals: Mapping[tuple[str, str], Decimal],
    result: Reconciliation,
    totals: Sequence[Mapping[str, Any]],
) -> None:
    """`totals` (per currency and method, from the rows) against the plan and the shop, or TieOutError."""
    planned = {(t["currency"], t["method"]): t["planned"] for t in totals if t["planned"]}
    if planned != {k: v for k, v in plan_totals.items() if v}:
        raise TieOutError(f"planned per order {planned} does not tie out with the plan {dict(plan_totals)}")
    moved = [tx for tx in result.transactions if tx.moves_money]  # gift cards included
    summed = per_currency((tx.amount.currency, tx.method, tx.amount.amount) for tx in moved)
    by_row = per_currency((str(t["currency"]), str(t["method"]), t["refunded"] or ZERO) for t in totals)
    _same("refunded", by_row, summed)
    shop_moved = per_currency(
        (tx.amount.currency, tx.method, tx.shop_amount.amount) for tx in moved if tx.shop_amount
    )
    shop_rows = per_currency((str(r.currency), "", r.refunded_shop) for r in result.rows if r.currency)
    _same("refunded in the shop currency", shop_rows, shop_moved)


def _same(what: str, by_row: Mapping[str, Decimal], summed: Mapping[str, Decimal]) -> None:
    for currency in set(summed) | set(by_row):
        expected = summed.get(currency, ZERO)
        if by_row.get(currency, ZERO) != expected:
            raise TieOutError(
                f"{what} {currency}: rows {by_row.get(currency)} ≠ transactions and cards {expected}"
            )
