"""The `bulkcancel` command line: parse, call one function, print. No business logic here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pipeline import __version__
from pipeline.errors import PipelineError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulkcancel")
def cli() -> None:
    """Cancel and refund Shopify orders in bulk from a CSV or Excel file, safely.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv
    """


_MODES = ("original", "store_credit", "gift_card", "none")
_REASONS = ("customer", "inventory", "fraud", "declined", "staff", "other")


def _input_options(command: Callable) -> Callable:
    """The options that say how to read and default an input file (validate, plan, run)."""
    options = [
        click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--sheet", help="Sheet of an Excel or ODS file (default: the first non-empty one)."),
        click.option("--default-mode", type=click.Choice(_MODES), help="Refund mode for blank cells."),
        click.option(
            "--restock/--no-restock",
            default=False,
            show_default=True,
            help="Default for a blank restock cell.",
        ),
        click.option(
            "--notify/--no-notify", default=False, show_default=True, help="Default for a blank notify cell."
        ),
        click.option(
            "--reason",
            type=click.Choice(_REASONS),
            default="inventory",
            show_default=True,
            help="Default cancel reason for a blank reason cell.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout."),
        click.option(
            "--only-sku",
            multiple=True,
            metavar="SKU",
            help="Stock-out: act only on the lines with this SKU (repeatable; needs a Shopify orders export "
            "or a Matrixify sheet). All lines affected: cancel; some: refund those lines only.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _connection_options(command: Callable) -> Callable:
    """Where the shop is and how to authenticate (SPEC §3); the token never on the command line."""
    options = [
        click.option(
            "--shop",
            help="mystore, mystore.myshopify.com, or http://127.0.0.1:PORT for the "
            "simulator (default: $SHOPIFY_SHOP).",
        ),
        click.option(
            "--token-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="File holding the access token (default: $SHOPIFY_ACCESS_TOKEN).",
        ),
        click.option("--api-version", help="Admin API version (default: $SHOPIFY_API_VERSION or 2026-07)."),
        click.option("--timeout", type=float, help="Seconds one answer may take (default 30)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _read_and_validate(
    inputs: tuple[Path, ...],
    sheet: str | None,
    default_mode: str | None,
    restock: bool,
    notify: bool,
    reason: str,
    only_sku: tuple[str, ...] = (),
):  # type: ignore[no-untyped-def]
    from pipeline.models import Reason, RefundMode
    from pipeline.validate.check import validate_table
    from pipeline.validate.read import read_input
    from pipeline.validate.rows import Defaults

    mode = RefundMode(default_mode) if default_mode else None
    table = read_input(list(inputs), sheet)
    if only_sku:
        from pipeline.validate.exports import only_sku as keep_skus

        table = keep_skus(table, only_sku)
    return table, validate_table(table, Defaults(mode, restock, notify, Reason(reason)))


def _report_invalid(table, result, out: Path, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Prints the validation summary and problems; exits 2 when there are any."""
    from pipeline.validate import report as report

    written = report.write_error_files(result.problems, out) if result.problems else None
    if as_json and result.problems:
        click.echo(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    elif not as_json:
        for line in report.summary_lines(result, table.source) + report.problem_lines(result.problems):
            click.echo(line, err=bool(result.problems))
        if written:
            click.echo(f"{len(result.problems)} problems written to {written[0]} and {written[1]}", err=True)
    if result.problems:
        # SystemExit, not ctx.exit: `main()` runs click with standalone_mode=False.
        sys.exit(2)


@cli.command()
@_input_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where validation_errors.csv and .xlsx go when there are errors.",
)
def validate(
    inputs: tuple[Path, ...],
    sheet: str | None,
    default_mode: str | None,
    restock: bool,
    notify: bool,
    reason: str,
    out: Path,
    as_json: bool,
    only_sku: tuple[str, ...],
) -> None:
    """Check an input file offline: every problem with its row and column; exit 2 if any.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv --notify
    """
    table, result = _read_and_validate(inputs, sheet, default_mode, restock, notify, reason, only_sku)
    if as_json and not result.problems:
        click.echo(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    _report_invalid(table, result, out, as_json)


def _plan_options(command: Callable) -> Callable:
    """What `plan` and `run` share: the input options, the connection, test orders, where runs go."""
    options = [
        _input_options,
        _connection_options,
        click.option("--include-test", is_flag=True, help="Also act on test orders (blocked by default)."),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("reports"),
            show_default=True,
            help="Root folder of run directories.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@_plan_options
def plan(**options: Any) -> None:
    """Validate, look every order up in Shopify, decide, and write the plan files. Never writes to Shopify.

    \b
    Example:
      export SHOPIFY_ACCESS_TOKEN=shpat_...   # or --token-file token.txt
      bulkcancel plan inputs/cancellations.xlsx --shop mystore --notify
    """
    _make_plan(options, _connection(options))


def _connection(options: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The connection settings from the command's options (and the environment)."""
    from pipeline.settings import ConnectionSettings

    keys = ("shop", "token_file", "api_version", "timeout")
    return ConnectionSettings.from_options(**{key: options[key] for key in keys})


def _make_plan(options: dict[str, Any], settings) -> Path:  # type: ignore[no-untyped-def]
    """validate → look up → decide → plan files; prints the summary; returns the run directory."""
    from pipeline.plan.planner import plan_input
    from pipeline.plan.summary import summary_json, summary_lines

    out, as_json, only_sku = options["out"], options["as_json"], options["only_sku"]
    table, result = _read_and_validate(
        options["inputs"],
        options["sheet"],
        options["default_mode"],
        options["restock"],
        options["notify"],
        options["reason"],
        only_sku,
    )
    _report_invalid(table, result, out, as_json)
    rows = result.rows
    with click.progressbar(length=len(rows), label="looking up orders", file=sys.stderr) as bar:
        the_plan, run_dir = plan_input(
            table, rows, settings, out, include_test=options["include_test"], progress=bar.update
        )
    if as_json:
        click.echo(json.dumps(summary_json(the_plan, run_dir), ensure_ascii=False, indent=2))
        return run_dir
    for line in summary_lines(the_plan):
        click.echo(line)
    if only_sku:
        click.echo(f"--only-sku: {table.left_out} orders without those SKUs left out")
    click.echo(f"plan written: {run_dir}/plan.xlsx (review it), plan.json, plan.csv, plan.html")
    click.echo(str(run_dir))
    return run_dir


def _settings_for_run(
    run_dir: Path, shop: str | None, token_file: Path | None, api_version: str | None, timeout: float | None
):  # type: ignore[no-untyped-def]
    """Connection settings for a run directory: the plan's shop and API version unless told otherwise."""
    import os

    from pipeline.plan.files import load_plan
    from pipeline.settings import ConnectionSettings

    plan = load_plan(run_dir)
    if not shop and not os.environ.get("SHOPIFY_SHOP"):
        shop = plan.shop_url or plan.shop
    settings = ConnectionSettings.from_options(
        shop=shop, token_file=token_file, api_version=api_version or plan.api_version, timeout=timeout
    )
    return plan, settings


def _execution_options(command: Callable) -> Callable:
    """What `execute` and `run --execute` share: confirmation, pace, and the safety limits."""
    options = [
        click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts)."),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 64),
            default=8,
            show_default=True,
            help="Orders processed at once (the cost governor paces them).",
        ),
        click.option("--max-total", help="Refuse if the refund total in any currency is above this amount."),
        click.option(
            "--max-age",
            type=float,
            default=24.0,
            show_default=True,
            help="Refuse a plan older than this many hours.",
        ),
        click.option(
            "--job-wait",
            type=float,
            default=30.0,
            show_default=True,
            help="Seconds to wait for a cancel job (or to prove a lost cancel never happened).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_EXECUTION_KEYS = ("yes", "concurrency", "max_total", "max_age", "job_wait")


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_connection_options
@_execution_options
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
def execute(run_dir: Path, as_json: bool, **options: Any) -> None:
    """Carry out an approved plan. Rerunning the same command resumes where it stopped.

    \b
    Example:
      bulkcancel execute reports/20261126-101500-cancellations
    """
    _plan, settings = _settings_for_run(
        run_dir, options["shop"], options["token_file"], options["api_version"], options["timeout"]
    )
    result = _execute(run_dir, settings, as_json, **{key: options[key] for key in _EXECUTION_KEYS})
    sys.exit(0 if result.all_done else 1)


def _execute(run_dir, settings, as_json, *, yes, concurrency, max_total, max_age, job_wait):  # type: ignore[no-untyped-def]
    """Confirm, carry out, report; returns the ExecutionResult."""
    import datetime as dt
    from decimal import Decimal, InvalidOperation

    from pipeline.execute.console import ExecutionConsole
    from pipeline.execute.executor import execute_run

    try:
        limit = Decimal(max_total) if max_total else None
    except InvalidOperation:
        raise click.BadParameter(f"{max_total!r} is not an amount", param_hint="--max-total") from None
    console = ExecutionConsole(yes=yes, quiet=as_json)
    with console.interrupts() as stop:
        result = execute_run(
            run_dir,
            settings,
            concurrency=concurrency,
            max_total=limit,
            max_age=dt.timedelta(hours=max_age),
            confirm=console.confirm,
            progress=console.progress,
            stop=stop,
            runner_options={"cancel_wait": job_wait},
        )
    if as_json:
        outcome = {"run_dir": str(run_dir), "actions": result.counts, "interrupted": result.interrupted}
        click.echo(json.dumps(outcome, indent=2))
    else:
        click.echo("actions: " + ", ".join(f"{state} {n}" for state, n in result.counts.items() if n))
        if result.interrupted:
            click.echo("interrupted: run the same command again to resume")
        click.echo(f"execution report: {run_dir / 'execution.csv'}")
    return result


@cli.command()
@_plan_options
@click.option("--execute", "then_execute", is_flag=True, help="After planning, execute and reconcile.")
@_execution_options
def run(then_execute: bool, **options: Any) -> None:
    """Plan, then (with --execute) execute and reconcile, in one command.

    \b
    Example:
      bulkcancel run inputs/cancellations.xlsx --shop mystore --execute
    """
    settings = _connection(options)
    run_dir = _make_plan(options, settings)
    if not then_execute:
        return
    as_json = options["as_json"]
    executed = _execute(run_dir, settings, as_json, **{key: options[key] for key in _EXECUTION_KEYS})
    reconciled = _reconcile(run_dir, settings, as_json)
    sys.exit(0 if executed.all_done and reconciled.all_matched else 1)


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Root folder of the demo's run directories.",
)
def demo(out: Path) -> None:
    """The whole job on the embedded simulator: seed, serve, plan, execute, reconcile the samples.

    \b
    Example:
      bulkcancel demo
    """
    from pipeline.demo import run_demo

    sys.exit(run_demo(Path("inputs"), out, echo=click.echo))


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_connection_options
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
def reconcile(
    run_dir: Path,
    shop: str | None,
    token_file: Path | None,
    api_version: str | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Re-read every planned order and compare it with the plan and the journal; exit 1 on exceptions.

    \b
    Example:
      bulkcancel reconcile reports/20261126-101500-cancellations
    """
    _plan, settings = _settings_for_run(run_dir, shop, token_file, api_version, timeout)
    result = _reconcile(run_dir, settings, as_json)
    sys.exit(0 if result.all_matched else 1)


def _reconcile(run_dir, settings, as_json):  # type: ignore[no-untyped-def]
    """Re-read, compare, write the reconciliation; prints the outcome; returns the ReconcileResult."""
    from pipeline.reconcile.reconciler import reconcile_run

    result = reconcile_run(run_dir, settings)
    counts = result.reconciliation.counts()
    files = result.files
    paths = {
        "reconciliation_xlsx": files.xlsx,
        "reconciliation_csv": files.csv,
        "refund_transactions_csv": files.transactions,
        "customers_csv": files.customers,
        "report_html": files.html,
    }
    if as_json:
        summary = {
            "run_dir": str(run_dir),
            "statuses": counts,
            "exceptions": len(result.reconciliation.exceptions),
            "orders_read": result.orders_read,
            "cost_points": result.points,
            "files": {key: str(path) for key, path in paths.items()},
        }
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo("rows: " + ", ".join(f"{status} {n}" for status, n in counts.items() if n))
        for row in result.reconciliation.exceptions[:20]:
            click.echo(f"  row {row.row} {row.order_name or row.order}: {row.status}: {row.detail}", err=True)
        if len(result.reconciliation.exceptions) > 20:
            click.echo(
                f"  ... {len(result.reconciliation.exceptions) - 20} more in the Exceptions sheet", err=True
            )
        click.echo(f"reconciliation: {files.xlsx} (and {files.csv.name}, {files.transactions.name})")
        click.echo(f"customers to tell: {files.customers}")
        click.echo(f"report: {files.html}")
    return result


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template(out: Path) -> None:
    """Write an input template: the columns, dropdowns, an example row and a sheet explaining each column.

    \b
    Example:
      bulkcancel template cancellations.xlsx
    """
    from pipeline.validate.template import write_template

    click.echo(f"template written to {write_template(out)}")


def _wire_simulator() -> None:
    # The simulator is its own subpackage; only the CLI, the demo and the tests wire it in.
    from pipeline.simulator.cli import simulator

    cli.add_command(simulator)


_wire_simulator()


def main() -> None:
    """Console entry point: expected failures become one line and an exit code."""
    try:
        # Without standalone mode click returns `ctx.exit(n)`'s code instead of exiting: pass it on.
        code = cli.main(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except PipelineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
