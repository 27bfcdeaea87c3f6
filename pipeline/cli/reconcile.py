"""`bulkcancel reconcile`: re-read the shop and compare; also the lines `run --execute` ends with."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.options import connection_options, json_option, run_settings
from pipeline.cli.probe import shop_state

if TYPE_CHECKING:
    from pipeline.reconcile.reconciler import ReconcileResult
    from pipeline.settings import ConnectionSettings

#: Exceptions listed on the console; the rest are in the Exceptions sheet.
SHOWN_EXCEPTIONS = 20


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 while refunds are still pending, too.")
@connection_options
@json_option("outcome")
def reconcile(run_dir: Path, strict: bool, as_json: bool, **options: Any) -> None:
    """Re-read every planned order and compare it with the plan and the journal; exit 1 on exceptions.

    Pending refunds (Klarna, Sofort…) are in flight, not exceptions: exit 0 unless --strict.

    \b
    Example:
      bulkcancel reconcile reports/20261126-101500-cancellations --strict
    """
    settings = run_settings(run_dir, options)
    shop_state(settings)  # unreachable or refused: said now, exit 2
    result = reconcile_and_report(run_dir, settings, as_json)
    sys.exit(result.exit_code(strict=strict))


def reconcile_and_report(run_dir: Path, settings: ConnectionSettings, as_json: bool) -> ReconcileResult:
    """Re-read, compare, write the reconciliation; prints the outcome; returns the ReconcileResult."""
    from pipeline.execute.status import phrase
    from pipeline.reconcile.reconciler import reconcile_run

    result = reconcile_run(run_dir, settings)
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
            "files": {key: str(path) for key, path in paths.items()},
        }
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return result
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
