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


def report_invalid(
    table: InputTable,
    result: Validation,
    errors_dir: Path,
    as_json: bool,
    *,
    skip_invalid: bool = False,
    stem: str | None = None,
    json_summary: bool = True,
) -> None:
    """Prints the validation summary and problems and writes the error files into `errors_dir`; exits 2
    when there are problems, unless `skip_invalid` and some orders are valid (SPEC §3 --skip-invalid).
    `json_summary` False: the caller prints its own JSON unless the input is refused."""
    from pipeline.validate import report

    problems = result.problems
    written = report.write_error_files(problems, errors_dir, stem or report.ERRORS_STEM) if problems else None
    refused = bool(problems) and not (skip_invalid and result.valid)
    if as_json and (json_summary or refused):
        click.echo(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    elif not as_json:
        for line in report.summary_lines(result, table.source) + report.problem_lines(problems):
            click.echo(line, err=bool(problems))
        if written:
            click.echo(
                f"{report.count(len(problems), 'problem')} written to {written[0]} and {written[1]}", err=True
            )
        if problems and not refused:
            left_out = report.count(result.invalid, "invalid order")
            click.echo(f"--skip-invalid: {left_out} left out, {result.valid} valid going on", err=True)
        elif problems and skip_invalid:
            click.echo("--skip-invalid: no valid order to go on with", err=True)
    if refused:
        # SystemExit, not ctx.exit: `main()` runs click with standalone_mode=False.
        sys.exit(2)


@click.command()
@input_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where validation_errors-<time>.csv and .xlsx go when there are errors.",
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
    skip_invalid: bool,
    only_sku: tuple[str, ...],
) -> None:
    """Check an input file offline: every problem with its row and column; exit 2 if any.

    \b
    Example:
      bulkcancel validate inputs/annulations_rupture.csv --notify
    """
    from pipeline.validate.report import timestamped_stem

    table, result = read_and_validate(inputs, sheet, default_mode, restock, notify, reason, only_sku)
    report_invalid(table, result, out, as_json, skip_invalid=skip_invalid, stem=timestamped_stem(out))


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
