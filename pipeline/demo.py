"""`bulkcancel demo`: the whole job on the embedded simulator (SPEC §11), in well under a minute.

Seeds the demo store, serves it on a free loopback port, then for each sample under inputs/:
validate → plan → execute (as if the reviewer typed the confirmation) → reconcile, and prints where
the reports are. The simulator stops when the demo ends, whatever happens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pipeline.execute.executor import execute_run
from pipeline.execute.status import phrase
from pipeline.plan.files import seal_of
from pipeline.plan.planner import plan_input
from pipeline.plan.summary import summary_lines
from pipeline.settings import ConnectionSettings, Secret
from pipeline.simulator.handler import DEFAULT_TOKEN, Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store
from pipeline.simulator.server import SimulatorServer
from pipeline.validate.check import validate_table
from pipeline.validate.exports import only_sku
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults

DEMO_ORDERS = 500
DEMO_SEED = 7
#: (file under inputs/, --only-sku SKUs): the stock-out export is planned for one SKU (SPEC §5a).
SAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("annulations_rupture.csv", ()),
    ("cancellations.xlsx", ()),
    ("stock_out_orders_export.csv", ("BC-09L",)),
)
#: Last, the stock-out found in the shop itself (SPEC §15): `select` writes the file, plan takes it.
SELECT_SKUS = ("BC-02M",)


def run_demo(
    inputs: Path = Path("inputs"), out: Path = Path("reports"), echo: Callable[[str], None] = print
) -> int:
    """Runs the demo; returns the exit code (0 when every sample planned, executed and reconciled)."""
    from pipeline.reconcile.reconciler import reconcile_run

    store = seed_store(orders=DEMO_ORDERS, seed=DEMO_SEED)
    # Shopify's Standard plan: 100 points/s, a 2,000-point bucket; 20 ms of latency per answer.
    simulator = Simulator(ShopApi(store), SimulatorConfig(restore_rate=100, bucket=2000, latency_ms=20))
    server = SimulatorServer(simulator, port=0)
    server.start_background()
    echo(f"simulator: {len(store.orders)} seeded orders at {server.url} (Standard plan limits)")
    settings = ConnectionSettings(shop_url=server.url, token=Secret(DEFAULT_TOKEN))
    code = 0
    try:
        for name, skus in [*SAMPLES, ("", SELECT_SKUS)]:
            started = dt.datetime.now(dt.UTC)
            source = inputs / name if name else _select(settings, out, skus, echo)
            name = name or source.name
            table = read_input([source])
            if skus:
                table = only_sku(table, skus)
            validation = validate_table(table, Defaults())
            flag = f" --only-sku {' '.join(skus)}" if skus else ""
            echo(f"\n== {name}{flag}: {validation.rows_read} rows, {len(validation.problems)} problems")
            if skus:
                wanted = " or ".join(skus)
                echo(f"   {validation.orders} orders with {wanted}, {table.left_out} without: left out")
            if validation.problems:
                return 2
            plan, run_dir = plan_input(table, validation.rows, settings, out, engine="auto")
            for line in summary_lines(plan, seal_of(run_dir)):
                echo(f"   {line}")
            result = execute_run(run_dir, settings)
            echo(f"   executed: {phrase(result.statuses)}")
            reconciled = reconcile_run(run_dir, settings).reconciliation
            echo(f"   reconciled: {phrase(reconciled.counts())}")
            seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
            echo(f"   {seconds:.1f} s; reports:")
            for report in ("plan.xlsx", "plan.html", "execution.csv", "reconciliation.xlsx", "report.html"):
                echo(f"     {run_dir / report}")
            code = code or (0 if result.all_done else 1)
    finally:
        server.shutdown()
        server.server_close()
    stats = simulator.stats.as_json(simulator.faults)
    spent, throttled = stats["points_spent"], stats["throttled"]
    echo(f"\nsimulator: {stats['requests']} requests, {spent} cost points, {throttled} throttled")
    return code


def _select(
    settings: ConnectionSettings, out: Path, skus: tuple[str, ...], echo: Callable[[str], None]
) -> Path:
    """`bulkcancel select` into out/select-….csv: the input file of the stock-out found in the shop."""
    from pipeline.select.affected import Selection
    from pipeline.select.selector import select_orders
    from pipeline.shopify.bulk import BulkOperations
    from pipeline.shopify.client import ShopifyClient

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"select-{'-'.join(skus)}.csv"
    # The last ten days' orders: enough to show the flow, few enough to keep the demo short.
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    with ShopifyClient(settings) as client:
        bulk = BulkOperations(client)
        try:
            done = select_orders(client, bulk, Selection(skus, created_since=since), path, mode="original")
        finally:
            bulk.close()
    flags = f"--sku {' '.join(skus)} --status unfulfilled --created-since {since} --mode original"
    echo(f"\n== select {flags}: {done.written} orders ({done.engine} read) -> {path}")
    return path
