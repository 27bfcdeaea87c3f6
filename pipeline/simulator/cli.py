"""`bulkcancel simulator ...`: serve a seeded store on loopback, or write one."""

from __future__ import annotations

import errno
import gc
import signal
import sys
from pathlib import Path

import click

from pipeline.errors import ConfigError
from pipeline.simulator.bulk import DEFAULT_QUERY_RATE, DEFAULT_RATE, BulkSettings
from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import DEFAULT_TOKEN, Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store, write_input_file
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.store import Store


@click.group()
def simulator() -> None:
    """The embedded Shopify Admin GraphQL API (for the demo, tests and trials)."""


@simulator.command()
@click.option("--port", default=8787, show_default=True, help="Loopback port; 0 picks a free one.")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store JSON (from `simulator seed`): loaded at start, saved back on exit, so the shop keeps "
    "its state across restarts; a missing file starts as 500 seeded orders (default: not kept).",
)
@click.option("--no-save", is_flag=True, help="Do not save the store back to --store on exit.")
@click.option("--restore-rate", default=100.0, show_default=True, help="Cost points restored per second.")
@click.option("--bucket", default=2000.0, show_default=True, help="Cost bucket size in points.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Latency added to each answer (±20%).")
@click.option("--cancel-delay-ms", default=200.0, show_default=True, help="How long an orderCancel job runs.")
@click.option("--faults", default="", help="e.g. 5xx=0.05,lost=0.02,throttle=0.01,bulk=0.2,seed=3")
@click.option(
    "--in-progress-ms",
    default=3000.0,
    show_default=True,
    help="After a lost answer, how long its idempotency key answers 'in progress'.",
)
@click.option("--token", default=DEFAULT_TOKEN, show_default=True, help="The access token it accepts.")
@click.option(
    "--bulk-rate", default=DEFAULT_RATE, show_default=True, help="Bulk mutation lines run per second."
)
@click.option(
    "--bulk-query-rate",
    default=DEFAULT_QUERY_RATE,
    show_default=True,
    help="Bulk query objects exported per second.",
)
@click.option("--scopes", default=None, help="The token's access scopes, comma-separated (default: all).")
@click.option(
    "--staff-without",
    type=click.Choice(["refund_orders", "refund_to_store_credit"]),
    multiple=True,
    help="A staff permission the token's user lacks (repeatable).",
)
def serve(
    store_path: Path | None,
    no_save: bool,
    port: int,
    restore_rate: float,
    bucket: float,
    latency_ms: float,
    cancel_delay_ms: float,
    faults: str,
    in_progress_ms: float,
    token: str,
    bulk_rate: float,
    bulk_query_rate: float,
    scopes: str | None,
    staff_without: tuple[str, ...],
) -> None:
    """Serve the simulator on 127.0.0.1 until interrupted.

    \b
    Example:
      bulkcancel simulator seed --orders 500 --seed 7 --store store.json
      bulkcancel simulator serve --port 8787 --store store.json
    """
    try:
        spec = FaultSpec.parse(faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from exc
    store = Store.load(store_path) if store_path and store_path.exists() else seed_store(orders=500, seed=7)
    # The store lives as long as the process: the collector need not walk its objects again at every
    # full collection (on a 100,000-order store that walk was half the CPU of bulk mutation lines).
    gc.freeze()
    if store_path and not no_save:
        _save(store, store_path)  # a folder that cannot take the file is said now, not at exit
    api = ShopApi(
        store,
        cancel_delay=cancel_delay_ms / 1000,
        bulk=BulkSettings(rate=bulk_rate, query_rate=bulk_query_rate),
    )
    config = SimulatorConfig(
        token=token,
        restore_rate=restore_rate,
        bucket=bucket,
        latency_ms=latency_ms,
        faults=spec,
        in_progress_s=in_progress_ms / 1000,
        scopes=tuple(s.strip() for s in scopes.split(",") if s.strip()) if scopes is not None else None,
        refund_permission="refund_orders" not in staff_without,
        store_credit_permission="refund_to_store_credit" not in staff_without,
    )
    server = _bind(Simulator(api, config), port)
    click.echo(f"simulator serving {len(store.orders)} orders at {server.url}/admin/api/2026-07/graphql.json")
    click.echo(f"inspect: {server.url}/_simulator/ledger  /_simulator/orders  /_simulator/stats")
    sys.stdout.flush()  # a script reading the URL from a pipe gets it now, not at exit
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if store_path and not no_save:
            # Requests still in flight at exit are the client's to retry; the store is saved as it is.
            _save(store, store_path)
            click.echo(f"store saved to {store_path}")


def _bind(simulator: Simulator, port: int) -> SimulatorServer:
    """The server on 127.0.0.1:`port`; ConfigError (one line, exit 2) when the port cannot be had."""
    try:
        return SimulatorServer(simulator, port=port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot serve on 127.0.0.1:{port}: the port is in use (another simulator?) — "
                "pick another with --port, or --port 0 for a free one"
            ) from None
        raise ConfigError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def _save(store: Store, path: Path) -> None:
    """Writes the store; ConfigError (one line, exit 2) when the file cannot be written."""
    try:
        store.save(path)
    except OSError as exc:
        folder = path.parent
        why = f"the folder {folder} does not exist" if not folder.is_dir() else exc.strerror or str(exc)
        raise ConfigError(f"cannot write {path}: {why}") from None


def _interrupt(*_: object) -> None:
    # serve_forever() runs on this thread, so shutdown() here would wait forever: unwind instead.
    raise KeyboardInterrupt


@simulator.command()
@click.option("--orders", required=True, type=click.IntRange(1, 1_000_000), help="How many orders.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same store.")
@click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the store JSON.",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write an input CSV referencing the seeded orders.",
)
@click.option("--rows", default=100, show_default=True, help="Rows of that input file.")
def seed(orders: int, seed: int, store_path: Path, input_path: Path | None, rows: int) -> None:
    """Write a seeded store (a realistic mix of orders), and optionally an input file.

    \b
    Example:
      bulkcancel simulator seed --orders 500 --seed 7 --store store.json --input orders.csv --rows 200
    """
    store = seed_store(orders=orders, seed=seed)
    _save(store, store_path)
    click.echo(f"wrote {store_path} ({len(store.orders)} orders, seed {seed})")
    if input_path:
        try:
            write_input_file(store, input_path, rows=rows, seed=seed)
        except OSError as exc:
            raise ConfigError(f"cannot write {input_path}: {exc.strerror or exc}") from None
        click.echo(f"wrote {input_path} ({rows} rows)")
