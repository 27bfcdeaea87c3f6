"""`bulkcancel reconcile`: re-read the shop and compare; also the lines `run --execute` ends with."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import connection_options, engine_option, json_option, run_settings
from pipeline.cli.probe import shop_state

if TYPE_CHECKING:
    from pipeline.reconcile.reconciler import ReconcileResult
    from pipeline.settings import ConnectionSettings
    from pipeline.shopify.readiness import ShopState

#: Exceptions listed on the console; the rest are in the Exceptions sheet.
SHOWN_EXCEPTIONS = 20


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 while refunds are still pending, too.")
@engine_option("auto: one bulk query of the orders above 2,000 orders or 15 minutes paced (SPEC §15).")
@connection_options
@json_option("outcome")
def reconcile(run_dir: Path, strict: bool, engine: str, as_json: bool, **options: Any) -> None:
    """Re-read every planned order and compare it with the plan and the journal; exit 1 on exceptions.

    Pending refunds (Klarna, Sofort…) are in flight, not exceptions: exit 0 unless --strict.

    \b
    Example:
      bulkcancel reconcile reports/20261126-101500-cancellations --strict
    """
    settings = run_settings(run_dir, options)
    state = shop_state(settings)  # unreachable or refused: said now, exit 2
    result = reconcile_and_report(run_dir, settings, as_json, engine=engine, state=state)
    sys.exit(result.exit_code(strict=strict))


def _bulk_progress(progress: Any) -> None:
    """One line per poll of the bulk query: orders exported, the rate (as select and execute show it)."""
    click.echo(f"bulk query: {progress}", err=True)


def _paced_too(reread: dict[str, int]) -> str:
    """What a bulk read left to the paced API, e.g. `; paced: refund lines (restock) of 1,325 orders`."""
    parts = [f"refund lines (restock) of {n:,} orders" for why, n in reread.items() if why == "restock"]
    parts += [f"{n:,} orders read whole ({why})" for why, n in sorted(reread.items()) if why != "restock"]
    return f"; paced: {', '.join(parts)}" if parts else ""


def reconcile_and_report(
    run_dir: Path,
    settings: ConnectionSettings,
    as_json: bool,
    *,
    engine: str = "auto",
    state: ShopState | None = None,
) -> ReconcileResult:
    """Re-read, compare, write the reconciliation; prints the outcome; returns the ReconcileResult.

    `state`: the shop's first look, whose restore rate and bucket `--engine auto` weighs."""
    from pipeline.execute.status import phrase
    from pipeline.reconcile.reconciler import reconcile_run

    result = reconcile_run(
        run_dir,
        settings,
        engine=engine,
        restore_rate=state.restore_rate if state else None,
        bucket=state.bucket if state else None,
        bulk_progress=None if as_json else _bulk_progress,
    )
    choice = result.engine
    counts = result.reconciliation.counts()
    exceptions = result.reconciliation.exceptions
    files = result.files
    if as_json:
        paths = {
            "reconciliation_xlsx": files.xlsx,
            "reconciliation_csv": files.csv,
            "refund_transactions_csv": files.transactions,
            "customers_csv": files.customers,
            "report_html": files.html,
            "folder": files.folder,
        }
        summary = {
            "run_dir": str(run_dir),
            "statuses": counts,
            "exceptions": len(exceptions),
            "pending": len(result.reconciliation.in_flight),
            "orders_read": result.orders_read,
            "cost_points": result.points,
            "engine": choice.as_json() if choice else None,
            "reread_paced": result.reread,
            "files": {key: str(path) for key, path in paths.items()},
        }
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return result
    if choice is not None:
        click.echo(f"read through the {choice.engine} API ({choice.reason}){_paced_too(result.reread)}")
    click.echo(f"rows: {phrase(counts)}")  # `14 matched, 99 not executed`: as execute counts
    for row in exceptions[:SHOWN_EXCEPTIONS]:
        click.echo(f"  row {row.row} {row.order_name or row.order}: {row.status}: {row.detail}", err=True)
    if len(exceptions) > SHOWN_EXCEPTIONS:
        click.echo(f"  ... {len(exceptions) - SHOWN_EXCEPTIONS} more in the Exceptions sheet", err=True)
    unfinished = counts.get("to_verify", 0) + counts.get("not_executed", 0)
    if unfinished:  # the words of execute/status.py, and the command that finishes the work
        click.echo(f"{unfinished} left — run `bulkcancel execute {run_dir}` again, then reconcile")
    if result.reconciliation.in_flight:
        click.echo(
            f"pending: {len(result.reconciliation.in_flight)} rows with refunds in flight: "
            "reconcile again later (the Pending sheet lists them)"
        )
    click.echo(f"reconciliation: {files.xlsx} (and {files.csv.name}, {files.transactions.name})")
    click.echo(f"kept: {files.folder}")
    click.echo(f"customers to tell: {files.customers}")
    click.echo(f"report: {files.html}")
    return result
