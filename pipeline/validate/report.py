"""What `bulkcancel validate` shows and writes: the console summary and validation_errors.csv/.xlsx.

The files go into the run directory (plan, run) or, for `validate`, into `--out` under a timestamped
name, so that a second validate never overwrites the first one's list.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pipeline.reports.worksheet import BOLD, Looks, SheetWriter, close, open_workbook
from pipeline.validate.rows import Problem, Validation

ERRORS_STEM = "validation_errors"
ERRORS_CSV = f"{ERRORS_STEM}.csv"
ERRORS_XLSX = f"{ERRORS_STEM}.xlsx"
#: Past this many, the console points at the files instead of printing every problem.
MAX_PRINTED = 1000
_XLSX_MAX_ROWS = 1_048_575


def summary_lines(validation: Validation, source: str) -> list[str]:
    """The human summary: counts, modes and actions, then every warning."""
    lines = [
        f"{source}: {_count(validation.rows_read, 'row')} read, {_count(validation.orders, 'order')}: "
        f"{validation.valid} valid, {validation.invalid} invalid"
    ]
    if validation.by_mode:
        lines.append("  by refund mode: " + ", ".join(f"{k} {v}" for k, v in validation.by_mode.items()))
    if validation.by_action:
        lines.append("  by action: " + ", ".join(f"{k} {v}" for k, v in validation.by_action.items()))
    lines.extend(f"warning: {warning}" for warning in validation.warnings)
    return lines


def count(number: int, noun: str) -> str:
    """`1 problem`, `2 problems`."""
    return _count(number, noun)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def problem_lines(problems: list[Problem]) -> list[str]:
    """One line per problem, `row 14, amount: "12,5O" is not a number`, capped at MAX_PRINTED."""
    lines = [str(problem) for problem in problems[:MAX_PRINTED]]
    if len(problems) > MAX_PRINTED:
        more = _count(len(problems) - MAX_PRINTED, "more problem")
        lines.append(f"... and {more} (all of them are in the files)")
    return lines


def timestamped_stem(out_dir: Path, now: dt.datetime | None = None) -> str:
    """`validation_errors-YYYYMMDD-HHMMSS` (UTC), with `-2`, `-3`… when that name is taken in `out_dir`."""
    stem = f"{ERRORS_STEM}-{(now or dt.datetime.now(dt.UTC)).strftime('%Y%m%d-%H%M%S')}"
    candidate, n = stem, 1
    while (out_dir / f"{candidate}.csv").exists() or (out_dir / f"{candidate}.xlsx").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def write_error_files(problems: list[Problem], out_dir: Path, stem: str = ERRORS_STEM) -> tuple[Path, Path]:
    """Write `<stem>.csv` (exact texts, for tools) and `.xlsx` (formula-safe, for people): the SPEC's
    `row,column,value,problem`, then the user's own header and the row's order as written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["row", "column", "value", "problem", "header", "order"]
    with_file = any(problem.source for problem in problems)
    if with_file:
        header.append("file")
    csv_path = out_dir / f"{stem}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for problem in problems:
            writer.writerow(_record(problem, with_file))
    xlsx_path = out_dir / f"{stem}.xlsx"
    _write_xlsx(problems, header, with_file, xlsx_path)
    return csv_path, xlsx_path


def _record(problem: Problem, with_file: bool) -> list[object]:
    record: list[object] = [problem.row, problem.column, problem.value, problem.problem]
    record += [problem.header, problem.order]
    return [*record, problem.source] if with_file else record


def _write_xlsx(problems: list[Problem], header: list[str], with_file: bool, path: Path) -> None:
    workbook = open_workbook(path, path.stem)
    errors = SheetWriter(workbook.add_worksheet("Errors"), Looks(workbook))
    errors.sheet.freeze_panes(1, 0)
    for position, width in enumerate((8, 14, 30, 70, 18, 18, 24)):
        errors.sheet.set_column(position, position, width)
    for position, name in enumerate(header):
        errors.text(position, name, BOLD)
    errors.next()
    for problem in problems[:_XLSX_MAX_ROWS]:
        errors.sheet.write_number(errors.row, 0, problem.row)
        for position, value in enumerate(_record(problem, with_file)[1:], start=1):
            errors.text(position, str(value))  # shown as typed, never evaluated
        errors.next()
    close(workbook)
