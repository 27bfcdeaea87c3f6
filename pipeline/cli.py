"""The `bulkcancel` command line: parse, call one function, print. No business logic here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--sheet", help="Sheet to read in an Excel or ODS file (default: the first non-empty one).")
@click.option("--default-mode", type=click.Choice(_MODES), help="Refund mode for rows that leave it blank.")
@click.option("--restock/--no-restock", default=False, show_default=True, help="For blank restock cells.")
@click.option("--notify/--no-notify", default=False, show_default=True, help="For blank notify cells.")
@click.option(
    "--reason",
    type=click.Choice(_REASONS),
    default="inventory",
    show_default=True,
    help="For blank reason cells.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where validation_errors.csv and .xlsx go when there are errors.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def validate(
    inputs: tuple[Path, ...],
    sheet: str | None,
    default_mode: str | None,
    restock: bool,
    notify: bool,
    reason: str,
    out: Path,
    as_json: bool,
) -> None:
    """Check an input file offline: every problem with its row and column; exit 2 if any.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv --notify
    """
    # Imported here so that `bulkcancel --help` does not load pandas.
    from pipeline import validation_report as report
    from pipeline.models import Reason, RefundMode
    from pipeline.reader import read_input
    from pipeline.rows import Defaults
    from pipeline.validate import validate_table

    mode = RefundMode(default_mode) if default_mode else None
    table = read_input(list(inputs), sheet)
    result = validate_table(table, Defaults(mode, restock, notify, Reason(reason)))
    written = report.write_error_files(result.problems, out) if result.problems else None
    if as_json:
        click.echo(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    else:
        for line in report.summary_lines(result, table.source) + report.problem_lines(result.problems):
            click.echo(line)
        if written:
            click.echo(f"{len(result.problems)} problem(s) written to {written[0]} and {written[1]}")
    if result.problems:
        # SystemExit, not ctx.exit: `main()` runs click with standalone_mode=False, which drops Exit codes.
        sys.exit(2)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template(out: Path) -> None:
    """Write an input template: the columns, dropdowns, an example row and a sheet explaining each column.

    \b
    Example:
      bulkcancel template cancellations.xlsx
    """
    from pipeline.template import write_template

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
