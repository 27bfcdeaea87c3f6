"""The plan's summary as the console and `plan --json` show it (the files are files.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.plan.earlier import repeats
from pipeline.plan.model import Decision, Plan
from pipeline.plan.words import UNSENT_GIFT_CARD, by_method, counted


def summary_lines(plan: Plan) -> list[str]:
    """What a reviewer reads first: decisions, money per currency and method, emails, restock."""
    counts = plan.counts_by_decision()
    lines = [f"{len(plan.rows)} rows: {counted(counts)}"]
    blocked: dict[str, int] = {}
    for row in plan.rows:
        if row.reason is not None:
            blocked[str(row.reason)] = blocked.get(str(row.reason), 0) + 1
    if blocked:
        lines.append("  not executed: " + ", ".join(f"{reason} {n}" for reason, n in sorted(blocked.items())))
    for (currency, method), amount in plan.totals_by_currency_and_method().items():
        lines.append(f"  to refund: {amount} {currency} by {by_method(method)}")
    repeated = repeated_orders(plan)
    if repeated:
        lines.append(f"  repeats what earlier runs did (--allow-repeat): {repeated} orders")
    lines.append(f"  customers notified by Shopify: {plan.customers_notified()}")
    lines.append(f"  units to restock: {plan.units_to_restock()}")
    unsent = plan.unsent_gift_cards()
    if unsent:
        cards = "1 gift card" if unsent == 1 else f"{unsent} gift cards"
        lines.append(f"  warning: {cards} not sent: {UNSENT_GIFT_CARD}")
    return lines


def repeated_orders(plan: Plan) -> int:
    """Executable rows whose order an earlier run already finished (planned with --allow-repeat)."""
    return sum(
        1
        for row in plan.rows
        if row.decision is Decision.EXECUTE and row.facts is not None and repeats(row.facts)
    )


def summary_json(plan: Plan, run_dir: Path) -> dict[str, Any]:
    """The `plan --json` document."""
    return {
        "run_id": plan.run_id,
        "run_dir": str(run_dir),
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
    }
