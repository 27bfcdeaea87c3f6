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
    run_dir = make_plan(options, settings)
    if not then_execute:
        return
    as_json = options["as_json"]
    executed = execute_and_report(run_dir, settings, as_json, **pick(options, EXECUTION_KEYS))
    reconciled = reconcile_and_report(run_dir, settings, as_json)
    sys.exit(0 if executed.all_done and reconciled.all_matched else 1)


def make_plan(options: Mapping[str, Any], settings: ConnectionSettings) -> Path:
    """validate → look up → decide → plan files; prints the summary; returns the run directory."""
    from pipeline.plan.files import seal_of
    from pipeline.plan.planner import new_run_dir, plan_input
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
    refuse_unready(settings, result.rows)
    # With --skip-invalid, the rows left out are listed in the run directory, beside what was planned.
    run_dir = new_run_dir(out, Path(table.source).stem)
    report_invalid(table, result, run_dir, as_json, skip_invalid=skip, json_summary=False)
    rows = result.rows
    with click.progressbar(length=len(rows), label="looking up orders", file=sys.stderr) as bar:
        the_plan, run_dir = plan_input(
            table,
            rows,
            settings,
            out,
            include_test=options["include_test"],
            allow_repeat=options["allow_repeat"],
            progress=bar.update,
            run_dir=run_dir,
        )
    seal = seal_of(run_dir)
    if as_json:
        click.echo(json.dumps(summary_json(the_plan, run_dir, seal), ensure_ascii=False, indent=2))
        return run_dir
    for line in summary_lines(the_plan, seal):
        click.echo(line)
    if only_sku:
        click.echo(f"--only-sku: {count(table.left_out, 'order')} without those SKUs left out")
    if result.problems:
        left_out = count(result.invalid, "invalid order")
        click.echo(f"--skip-invalid: {left_out} left out, listed in {run_dir / ERRORS_CSV}")
    click.echo(f"plan written: {run_dir}/plan.xlsx (review it), plan.json, plan.csv, plan.html")
    click.echo(str(run_dir))
    return run_dir
