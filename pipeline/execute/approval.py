"""Whether an approved plan may run now (SPEC §7 items 1–2): pure checks on the plan, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from pipeline.errors import RefusedError
from pipeline.execute.seal import refuse_repeated_keys
from pipeline.money import per_currency
from pipeline.plan.model import Decision, Plan
from pipeline.plan.words import TO_PROCESS, by_method, counted


def check(
    plan: Plan,
    *,
    shop: str,
    now: dt.datetime,
    max_age: dt.timedelta,
    max_total: Decimal | Mapping[str, Decimal] | None = None,
    started: bool = False,
) -> None:
    """Refuses (RefusedError, exit 3) a plan for another shop, one order twice, a plan too old to
    start (`started`: steps are journaled, so it resumes at any age), or above `max_total` (one
    amount for every currency, or a limit per currency)."""
    if plan.shop != shop:
        # Once steps are journaled, the only safe way on is this run, on its own shop.
        advice = f"resume it on {plan.shop}" if started else "plan again for this shop"
        raise RefusedError(f"the plan was made for {plan.shop}, not {shop}: {advice}")
    refuse_repeated_keys(
        (f"row {row.row}", row.action.action_key)
        for row in plan.rows
        if row.decision is Decision.EXECUTE and row.action
    )
    age = now - plan.since
    if age > max_age and not started:
        hours = age.total_seconds() / 3600
        raise RefusedError(
            f"the plan is {hours:.1f} hours old (more than --max-age {max_age.total_seconds() / 3600:g} h): "
            "the shop may have changed, plan again"
        )
    if isinstance(max_total, Mapping):
        _refuse_over_limits(per_currency(plan.totals_by_currency_and_method()), max_total)
    elif max_total is not None:
        per = per_currency(plan.totals_by_currency_and_method())
        over = {c: a for c, a in per.items() if a > max_total}
        if over:
            worst = ", ".join(f"{a} {c}" for c, a in sorted(over.items()))
            raise RefusedError(
                f"the plan refunds {worst}, above --max-total {max_total}: nothing was executed"
            )


def _refuse_over_limits(per: Mapping[str, Decimal], limits: Mapping[str, Decimal]) -> None:
    """Each currency against its own limit; a currency the plan refunds in without a limit is refused
    too (a limit was asked for, and amounts in two currencies cannot be compared)."""
    missing = [c for c in per if c not in limits]
    if missing:
        written = ", ".join(f"{per[c]} {c}" for c in missing)
        add = " ".join(f"--max-total AMOUNT {c}" for c in missing)
        raise RefusedError(
            f"the plan refunds {written}, and --max-total gives no limit in {', '.join(missing)}: "
            f"add {add}; nothing was executed"
        )
    over = [c for c, amount in per.items() if amount > limits[c]]
    if over:
        worst = ", ".join(f"{per[c]} {c} (limit {limits[c]} {c})" for c in over)
        raise RefusedError(f"the plan refunds {worst}, above --max-total: nothing was executed")


def summary(plan: Plan) -> list[str]:
    """What the person confirming reads before typing the number of orders."""
    counts = plan.counts_by_decision()
    lines = [
        f"plan {plan.run_id} for {plan.shop} (made {plan.created_at} from {plan.input_name})",
        f"  {counted(counts, execute=TO_PROCESS)}",
    ]
    cancels = sum(1 for action in plan.actions() if action.cancels)
    lines.append(
        f"  {cancels} cancellations, {counts[Decision.EXECUTE] - cancels} refunds without cancelling"
    )
    for (currency, method), amount in plan.totals_by_currency_and_method().items():
        lines.append(f"  to refund: {amount} {currency} by {by_method(method)}")
    return lines
