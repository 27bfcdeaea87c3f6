"""Whether an approved plan may run now (SPEC §7 items 1–2): pure checks on plan.json, no I/O."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pipeline.errors import RefusedError

METHOD_WORDS = {"original": "original payment", "store_credit": "store credit", "gift_card": "gift card"}


def actions(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The executable actions, in plan order."""
    return [row["action"] for row in plan["rows"] if row["decision"] == "execute" and row["action"]]


def totals(plan: dict[str, Any]) -> dict[tuple[str, str], Decimal]:
    """Money to give back per (currency, method), by the rule of `Plan.totals_by_currency_and_method`."""
    result: dict[tuple[str, str], Decimal] = {}
    for action in actions(plan):
        for step in action["steps"]:
            if step["method"] and step["amount"] is not None and step["currency"]:
                key = (step["currency"], step["method"])
                result[key] = result.get(key, Decimal(0)) + Decimal(step["amount"])
    return dict(sorted(result.items()))


def check(
    plan: dict[str, Any],
    *,
    shop: str,
    now: dt.datetime,
    max_age: dt.timedelta,
    max_total: Decimal | None = None,
) -> None:
    """Refuses (RefusedError, exit 3) a plan for another shop, too old, or above `max_total` in a currency."""
    if plan["shop"] != shop:
        raise RefusedError(f"the plan was made for {plan['shop']}, not {shop}: plan again for this shop")
    created = dt.datetime.fromisoformat(plan["created_at"].replace("Z", "+00:00"))
    age = now - created
    if age > max_age:
        hours = age.total_seconds() / 3600
        raise RefusedError(
            f"the plan is {hours:.1f} hours old (more than --max-age {max_age.total_seconds() / 3600:g} h): "
            "the shop may have changed, plan again"
        )
    if max_total is not None:
        per_currency: dict[str, Decimal] = {}
        for (currency, _method), amount in totals(plan).items():
            per_currency[currency] = per_currency.get(currency, Decimal(0)) + amount
        over = {c: a for c, a in per_currency.items() if a > max_total}
        if over:
            worst = ", ".join(f"{a} {c}" for c, a in sorted(over.items()))
            raise RefusedError(
                f"the plan refunds {worst}, above --max-total {max_total}: nothing was executed"
            )


def summary(plan: dict[str, Any]) -> list[str]:
    """What the person confirming reads before typing the number of orders."""
    rows = plan["rows"]
    count = {d: sum(1 for r in rows if r["decision"] == d) for d in ("execute", "skip", "blocked")}
    lines = [
        f"plan {plan['run_id']} for {plan['shop']} (made {plan['created_at']} from {plan['input']['name']})",
        f"  {count['execute']} orders to process, {count['skip']} skipped, {count['blocked']} blocked",
    ]
    cancels = sum(1 for a in actions(plan) if any(s["kind"] == "cancel" for s in a["steps"]))
    lines.append(f"  {cancels} cancellations, {count['execute'] - cancels} refunds without cancelling")
    for (currency, method), amount in totals(plan).items():
        lines.append(f"  to refund: {amount} {currency} by {METHOD_WORDS.get(method, method)}")
    return lines
