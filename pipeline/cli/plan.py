"""`bulkcancel plan` and `bulkcancel run`: plan an input file, and with `run --execute` carry it out."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.cli.doctor import refuse_unready
from pipeline.cli.execute import execute_and_report
from pipeline.cli.options import EXECUTION_KEYS, connection_settings, execution_options, pick, plan_options
from pipeline.cli.reconcile import reconcile_and_report
from pipeline.cli.validate import read_and_validate, report_invalid

if TYPE_CHECKING:
    from pipeline.settings import ConnectionSettings
    from pipeline.shopify.readiness import ShopState


@click.command()
@plan_options
def plan(**options: Any) -> None:
    """Validate, look every order up in Shopify, decide, and write the plan files. Never writes to Shopify.

    \b
    Example:
      export SHOPIFY_ACCESS_TOKEN=shpat_...   # or --token-file token.txt
      bulkcancel plan inputs/cancellations.xlsx --shop mystore --notify
    """
    make_plan(options, connection_settings(options))


@click.command()
@plan_options
@click.option("--execute", "then_execute", is_flag=True, help="After planning, execute and reconcile.")
@execution_options
def run(then_execute: bool, **options: Any) -> None:
    """Plan, then (with --execute) execute and reconcile, in one command.

    \b
    Example:
      bulkcancel run inputs/cancellations.xlsx --shop mystore --execute
    """
    settings = connection_settings(options)
    run_dir, state = make_plan(options, settings)
    if not then_execute:
        return
    as_json = options["as_json"]
    keys = pick(options, EXECUTION_KEYS)
    executed = execute_and_report(run_dir, settings, as_json, engine=options["engine"], state=state, **keys)
    reconciled = reconcile_and_report(run_dir, settings, as_json, engine=options["engine"], state=state)
    sys.exit(0 if executed.all_done and reconciled.all_matched else 1)


def make_plan(options: Mapping[str, Any], settings: ConnectionSettings) -> tuple[Path, ShopState]:
    """validate → look up → decide → plan files; prints the summary; returns the run directory and the
    shop as its first look read it."""
    from pipeline.plan.files import seal_of
    from pipeline.plan.planner import new_run_dir, plan_engine, plan_input
    from pipeline.plan.summary import summary_json, summary_lines
    from pipeline.validate.report import ERRORS_CSV, count, timestamped_stem

    out, as_json, only_sku = options["out"], options["as_json"], options["only_sku"]
    table, result = read_and_validate(
        options["inputs"],
        options["sheet"],
        options["default_mode"],
        options["restock"],
        options["notify"],
        options["reason"],
        only_sku,
    )
    skip = options["skip_invalid"]
    if result.problems and not (skip and result.valid):
        # Refused: no run directory, the error files go beside the runs under a name of their own.
        report_invalid(table, result, out, as_json, skip_invalid=skip, stem=timestamped_stem(out))
    # A missing scope or an unreachable shop is said now, in a second, and no run directory is made.
    state = refuse_unready(settings, result.rows)
    # With --skip-invalid, the rows left out are listed in the run directory, beside what was planned.
    run_dir = new_run_dir(out, Path(table.source).stem)
    report_invalid(table, result, run_dir, as_json, skip_invalid=skip, json_summary=False)
    rows = result.rows
    engine = options["engine"]
    planning = {
        "include_test": options["include_test"],
        "allow_repeat": options["allow_repeat"],
        "run_dir": run_dir,
        "engine": engine,
        "restore_rate": state.restore_rate,
        "bucket": state.bucket,
    }
    choice = plan_engine(engine, len(rows), state.restore_rate, state.bucket)
    if choice.engine == "bulk":
        click.echo(f"reading {len(rows):,} orders through a bulk query ({choice.reason})", err=True)
        the_plan, run_dir = plan_input(table, rows, settings, out, bulk_progress=_bulk_progress, **planning)
    else:
        with click.progressbar(length=len(rows), label="looking up orders", file=sys.stderr) as bar:
            the_plan, run_dir = plan_input(table, rows, settings, out, progress=bar.update, **planning)
    seal = seal_of(run_dir)
    if as_json:
        click.echo(json.dumps(summary_json(the_plan, run_dir, seal), ensure_ascii=False, indent=2))
        return run_dir, state
    for line in summary_lines(the_plan, seal):
        click.echo(line)
    if only_sku:
        click.echo(f"--only-sku: {count(table.left_out, 'order')} without those SKUs left out")
    if result.problems:
        left_out = count(result.invalid, "invalid order")
        click.echo(f"--skip-invalid: {left_out} left out, listed in {run_dir / ERRORS_CSV}")
    click.echo(f"plan written: {run_dir}/plan.xlsx (review it), plan.json, plan.csv, plan.html")
    click.echo(str(run_dir))
    return run_dir, state


def _bulk_progress(progress: Any) -> None:
    """One line per poll of the plan's bulk query: orders exported of the total, the rate, the time left."""
    click.echo(f"bulk query: {progress}", err=True)
