"""The plan's summary as the console and `plan --json` show it (the files are files.py)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.money import ZERO
from pipeline.plan.earlier import repeats
from pipeline.plan.model import Decision, Plan
from pipeline.plan.words import UNSENT_GIFT_CARD, by_method, counted, keeps, seal_words


def summary_lines(plan: Plan, seal: str | None = None) -> list[str]:
    """What a reviewer reads first: decisions, money per currency and method, what cancels keep,
    emails, restock, and the plan's `seal` when the files are written."""
    counts = plan.counts_by_decision()
    lines = [f"{len(plan.rows)} rows: {counted(counts)}"]
    blocked: dict[str, int] = {}
    for row in plan.rows:
        if row.reason is not None:
            blocked[str(row.reason)] = blocked.get(str(row.reason), 0) + 1
    if blocked:
        lines.append(
            "  blocked or skipped: " + ", ".join(f"{reason} {n}" for reason, n in sorted(blocked.items()))
        )
    for (currency, method), amount in plan.totals_by_currency_and_method().items():
        if amount:  # cancels of orders with nothing captured move no money: no "to refund: 0.00"
            lines.append(f"  to refund: {amount} {currency} by {by_method(method)}")
    kept_money = kept_by_cancels(plan)
    for currency, (orders, kept, paid) in kept_money.items():
        lines.append(f"  cancels keeping money: {_orders(orders)}, {keeps(kept, paid, currency)}")
    repeated = repeated_orders(plan)
    if repeated:
        lines.append(f"  repeats what earlier runs did (--allow-repeat): {repeated} orders")
    lines.append(f"  customers notified by Shopify: {plan.customers_notified()}")
    lines.append(f"  units to restock: {plan.units_to_restock()}")
    unsent = plan.unsent_gift_cards()
    if unsent:
        cards = "1 gift card" if unsent == 1 else f"{unsent} gift cards"
        lines.append(f"  warning: {cards} not sent: {UNSENT_GIFT_CARD}")
    lines.extend(engine_lines(plan))
    if seal:
        lines.append(f"  plan {seal_words(seal)} (on every page of plan.xlsx and plan.html)")
    return lines


def engine_lines(plan: Plan) -> list[str]:
    """Which engine each stage uses (plan) or will use (execute, reconcile, as `auto` foresees), and why."""
    return [f"  {stage}: {choice.engine} engine — {choice.reason}" for stage, choice in plan.engines.items()]


#: Per currency, the cancelled orders keeping money: (orders, kept, paid on them).
Kept = dict[str, tuple[int, Decimal, Decimal]]


def kept_by_cancels(plan: Plan) -> Kept:
    """Per currency, the cancelled orders that keep money, sorted (`kept_totals`).

    An order cancelled while the shop keeps part of what was paid must never pass unnoticed
    (a partial refund with `action: cancel`, or refund mode `none`); orders that stay open do not count.
    """
    found = []
    for row in plan.rows:
        money = row.paid_and_kept() if row.decision is Decision.EXECUTE else None
        if money is not None and row.action is not None and row.action.cancels and row.facts is not None:
            found.append((row.facts.presentment_currency, *money))
    return kept_totals(found)


def kept_totals(orders: Iterable[tuple[str, Decimal, Decimal]]) -> Kept:
    """The (currency, paid, kept) of cancelled orders summed per currency, those keeping nothing left out."""
    found: Kept = {}
    for currency, paid, kept in orders:
        if kept > 0:
            count, kept_sum, paid_sum = found.get(currency, (0, ZERO, ZERO))
            found[currency] = (count + 1, kept_sum + kept, paid_sum + paid)
    return dict(sorted(found.items()))


def _orders(count: int) -> str:
    return "1 order" if count == 1 else f"{count} orders"


def repeated_orders(plan: Plan) -> int:
    """Executable rows whose order an earlier run already finished (planned with --allow-repeat)."""
    return sum(
        1
        for row in plan.rows
        if row.decision is Decision.EXECUTE and row.facts is not None and repeats(row.facts)
    )


def summary_json(plan: Plan, run_dir: Path, seal: str | None = None) -> dict[str, Any]:
    """The `plan --json` document."""
    return {
        "run_id": plan.run_id,
        "run_dir": str(run_dir),
        "seal": seal,
        "rows": len(plan.rows),
        "decisions": plan.counts_by_decision(),
        "totals": [
            {"currency": currency, "method": method, "amount": str(amount)}
            for (currency, method), amount in plan.totals_by_currency_and_method().items()
        ],
        "customers_notified": plan.customers_notified(),
        "units_to_restock": plan.units_to_restock(),
        "repeats": repeated_orders(plan),
        "gift_cards_not_sent": plan.unsent_gift_cards(),
        "kept_by_cancels": [
            {"currency": currency, "orders": orders, "kept": str(kept), "paid": str(paid)}
            for currency, (orders, kept, paid) in kept_by_cancels(plan).items()
        ],
        "engines": {stage: choice.as_json() for stage, choice in plan.engines.items()},
    }
