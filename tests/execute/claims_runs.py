"""Runs over chosen orders for the claim tests: an input of every refund mode, planned and executed
against the simulator (in process, or served over HTTP to `bulkcancel execute` processes)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.plan.model import Plan
from pipeline.plan.planner import plan_input
from pipeline.simulator import accounting as acc
from pipeline.simulator.handler import Simulator
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import TOKEN, settings

#: (action, refund_mode, amount): every mode, full and partial, cancel and refund_only.
MODES = (
    ("cancel", "original", ""),
    ("cancel", "store_credit", ""),
    ("cancel", "gift_card", ""),
    ("cancel", "original", "5.00"),
    ("cancel", "store_credit", "5.00"),
    ("cancel", "gift_card", "5.00"),
    ("cancel", "none", ""),
    ("refund_only", "original", ""),
    ("refund_only", "original", "5.00"),
    ("refund_only", "store_credit", "5.00"),
    ("refund_only", "gift_card", "5.00"),
)


def plain_orders(sim: Simulator, count: int) -> list[Any]:
    """Paid, unfulfilled, never refunded orders with a customer and a unique name, in two-decimal
    currencies: every mode can be planned on them."""
    store = sim.api.store
    names = Counter(o.name for o in store.orders.values())
    found = [
        o
        for o in sorted(store.orders.values(), key=lambda o: o.id)
        if names[o.name] == 1
        and not o.test
        and not o.cancelled_at
        and o.customer_id
        and not o.refunds
        and acc.financial_status(o) == "PAID"
        and acc.fulfillment_status(o) == "UNFULFILLED"
        and o.presentment_currency in ("EUR", "USD", "GBP")
        and acc.net_payment(o) > Decimal(20)
        and all(t.gateway not in ("klarna", "sofort") for t in o.transactions)
    ]
    assert len(found) >= count, f"only {len(found)} plain orders"
    return found[:count]


def write_modes(path: Path, orders: list[Any], modes: tuple[tuple[str, str, str], ...] = MODES) -> Path:
    """An input file: one order per mode, in order."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["order", "refund_mode", "action", "amount", "notify", "reason", "note"])
        for order, (action, mode, amount) in zip(orders, modes, strict=False):
            out.writerow([order.name, mode, action, amount, "no", "other", "claims test"])
    return path


def plan_file(
    source: Path, root: Path, *, sim: Simulator | None = None, url: str = "", allow_repeat: bool = False
) -> tuple[Plan, Path]:
    """Validates and plans `source` in process (`sim`) or over HTTP (`url`); returns the plan and run dir."""
    table = read_input([source])
    result = validate_table(table, Defaults())
    assert not result.problems, result.problems[:3]
    transport = SimulatorTransport(sim) if sim is not None else None
    return plan_input(
        table,
        result.rows,
        settings(url or "http://127.0.0.1:1"),
        root,
        transport=transport,
        allow_repeat=allow_repeat,
    )


def execute_process(run_dir: Path) -> subprocess.Popen[str]:
    """`bulkcancel execute RUN_DIR --yes` as a process of its own (the plan names the served shop)."""
    env = {**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN}
    env.pop("SHOPIFY_SHOP", None)
    command = [sys.executable, "-m", "pipeline", "execute", str(run_dir), "--yes", "--job-wait", "1"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def outcomes(run_dir: Path) -> dict[str, tuple[str, str]]:
    """execution.csv as order id → (status, detail)."""
    with (run_dir / "execution.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["order_id"]: (row["status"], row["detail"]) for row in csv.DictReader(handle)}
