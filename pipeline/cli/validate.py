"""`bulkcancel validate` and `bulkcancel template`: the input file, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.cli.options import input_options

if TYPE_CHECKING:
    from pipeline.validate.read import InputTable
    from pipeline.validate.rows import Validation


def read_and_validate(
    inputs: tuple[Path, ...],
    sheet: str | None,
    default_mode: str | None,
    restock: bool,
    notify: bool,
    reason: str,
    only_sku: tuple[str, ...] = (),
) -> tuple[InputTable, Validation]:
    """Reads the input files (keeping only the `only_sku` lines when given) and validates them."""
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


def report_invalid(table: InputTable, result: Validation, out: Path, as_json: bool) -> None:
    """Prints the validation summary and problems; exits 2 when there are any."""
    from pipeline.validate import report

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


@click.command()
@input_options
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
    table, result = read_and_validate(inputs, sheet, default_mode, restock, notify, reason, only_sku)
    if as_json and not result.problems:
        click.echo(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    report_invalid(table, result, out, as_json)


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template(out: Path) -> None:
    """Write an input template: .xlsx with dropdowns and a sheet explaining each column, or .csv.

    \b
    Example:
      bulkcancel template cancellations.xlsx   # or cancellations.csv
    """
    from pipeline.validate.template import write_template

    click.echo(f"template written to {write_template(out)}")
