"""Plan files at 100,000 rows (SPEC §12, §15): how long writing the five files takes, and whether the
memory it needs grows linearly with the rows.

The plan is built by the planner's own rules (`decide`) over invented orders, so no shop is needed:
mostly full cancels to the card, some partial refunds that keep money, some gift cards, some rows
blocked or skipped, as a stock-out file of a large merchant would give.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.decide import decide, needs_quote
from pipeline.plan.facts import OrderFacts
from pipeline.plan.model import Plan, PlannedRow
from pipeline.plan.quote import RefundQuote, SuggestedTransaction
from pipeline.validate.rows import OrderRow

Figure = dict[str, Any]
RUN_ID = "20261130-100000-stockout-100k"
TARGET_SECONDS = 30.0


def large_plan(rows: int, seed: int = 5) -> Plan:
    """A plan of `rows` rows, one order each, decided by `decide` as the planner would."""
    rng = random.Random(seed)
    planned = [_one(row, rng) for row in range(2, rows + 2)]
    return Plan(
        run_id=RUN_ID,
        rows=planned,
        created_at="2026-11-30T10:00:00Z",
        shop="bench.myshopify.com",
        api_version="2026-07",
        input_name="stockout-100k.csv",
        input_sha256="0" * 64,
    )


def _one(number: int, rng: random.Random) -> PlannedRow:
    paid = Decimal(rng.randrange(1_000, 250_000)) / 100
    kind = rng.random()
    amount = (paid / 4).quantize(Decimal("0.01")) if kind < 0.15 else None
    mode = RefundMode.GIFT_CARD if 0.15 <= kind < 0.2 else RefundMode.ORIGINAL
    row = OrderRow(
        row=number,
        order=f"#{100_000 + number}",
        order_name=f"#{100_000 + number}",
        order_key=str(100_000 + number),
        order_gid=None,
        mode=mode,
        action=Action.REFUND_ONLY if 0.2 <= kind < 0.3 else Action.CANCEL,
        amount=amount,
        currency=None,
        lines=(),
        shipping=amount is None,
        restock=True,
        notify=kind > 0.5,
        reason=Reason.INVENTORY,
        note="Rupture fournisseur — remboursé" if kind < 0.6 else "",
    )
    if kind > 0.97:  # not found: blocked
        return decide(row, [], None, run_id=RUN_ID)
    facts = OrderFacts(
        id=f"gid://shopify/Order/{6_100_000_000_000 + number}",
        name=row.order_name,
        test=False,
        cancelled_at="2026-11-20T08:00:00Z" if 0.95 < kind <= 0.97 else None,
        financial_status="PAID",
        fulfillment_status="UNFULFILLED",
        presentment_currency="EUR" if kind < 0.9 else "USD",
        shop_currency="EUR",
        updated_at="2026-11-29T10:00:00Z",
        total_refunded=Decimal(0),
        net_payment=paid,
        customer_id=f"gid://shopify/Customer/{number}",
        email=f"customer{number}@example.com",
        can_notify=True,
        units=rng.randrange(1, 4),
    )
    quote = None
    if needs_quote(row, facts):
        card = SuggestedTransaction(
            f"gid://shopify/OrderTransaction/{number}", "shopify_payments", "SUGGESTED_REFUND", paid, paid
        )
        quote = RefundQuote(amount=paid, maximum_refundable=paid, transactions=(card,))
    return decide(row, [facts], quote, run_id=RUN_ID)


def write_seconds(plan: Plan) -> tuple[float, float]:
    """Seconds `write_plan_files` takes for `plan` into a fresh directory: elapsed, and this process's CPU
    (on a machine shared with other work, elapsed time also measures the others)."""
    from pipeline.plan.files import write_plan_files

    with tempfile.TemporaryDirectory() as directory:
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        write_plan_files(plan, Path(directory))
        return time.perf_counter() - started, time.process_time() - cpu


def peak_bytes(plan: Plan) -> int:
    """Peak Python memory allocated while writing `plan`'s files (tracemalloc: slower, so timed apart)."""
    from pipeline.plan.files import write_plan_files

    with tempfile.TemporaryDirectory() as directory:
        gc.collect()
        tracemalloc.start()
        try:
            write_plan_files(plan, Path(directory))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def plan_files_figures(quick: bool = False, rows: int | None = None) -> list[Figure]:
    """Writing time of the plan files for 100,000 rows (≤ 30 s), and memory per row at 10% and 100%."""
    rows = rows or (10_000 if quick else 100_000)
    plan = large_plan(rows)
    seconds, cpu = write_seconds(plan)
    small = large_plan(rows // 10)
    per_row_small = peak_bytes(small) / len(small.rows)
    per_row = peak_bytes(plan) / len(plan.rows)
    growth = per_row / per_row_small  # 1.0 is linear; above it, memory grows faster than the rows
    label = f"plan files {rows:,} rows"
    return [
        {"name": f"{label}: writing time", "value": round(seconds, 2), "unit": "s",
         "target": TARGET_SECONDS, "ceiling": TARGET_SECONDS, "ok": seconds <= TARGET_SECONDS},
        {"name": f"{label}: writing CPU time", "value": round(cpu, 2), "unit": "s",
         "target": "info", "ceiling": "", "ok": True},
        {"name": f"{label}: peak memory per row", "value": round(per_row / 1024, 2), "unit": "KiB",
         "target": "info", "ceiling": "", "ok": True},
        {"name": f"{label}: memory per row vs 1/10 the rows", "value": round(growth, 2), "unit": "x",
         "target": 1.25, "ceiling": 1.25, "ok": growth <= 1.25},
    ]  # fmt: skip
