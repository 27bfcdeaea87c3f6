"""What `bulkcancel validate` shows and writes: the console summary and validation_errors.csv/.xlsx."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from pipeline.validate.rows import Problem, Validation

ERRORS_CSV = "validation_errors.csv"
ERRORS_XLSX = "validation_errors.xlsx"
#: Past this many, the console points at the files instead of printing every problem.
MAX_PRINTED = 1000
_XLSX_MAX_CELL = 32_767
_XLSX_MAX_ROWS = 1_048_575
# Text that Excel (or a formula bar edit) would take for a formula or a command.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def problem_lines(problems: list[Problem]) -> list[str]:
    """One line per problem, `row 14, amount: "12,5O" is not a number`, capped at MAX_PRINTED."""
    lines = [str(problem) for problem in problems[:MAX_PRINTED]]
    if len(problems) > MAX_PRINTED:
        lines.append(f"... and {len(problems) - MAX_PRINTED} more problems (all of them are in the files)")
    return lines


def write_error_files(problems: list[Problem], out_dir: Path) -> tuple[Path, Path]:
    """Write validation_errors.csv (exact texts, for tools) and .xlsx (formula-safe, for people)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["row", "column", "value", "problem"]
    with_file = any(problem.source for problem in problems)
    if with_file:
        header.append("file")
    csv_path = out_dir / ERRORS_CSV
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for problem in problems:
            record = [problem.row, problem.column, problem.value, problem.problem]
            writer.writerow([*record, problem.source] if with_file else record)
    xlsx_path = out_dir / ERRORS_XLSX
    _write_xlsx(problems, header, with_file, xlsx_path)
    return csv_path, xlsx_path


def _write_xlsx(problems: list[Problem], header: list[str], with_file: bool, path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Errors")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (8, 14, 30, 70, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    sheet.append([_cell(sheet, name, bold) for name in header])
    for problem in problems[:_XLSX_MAX_ROWS]:
        values = [problem.row, problem.column, problem.value, problem.problem]
        if with_file:
            values.append(problem.source)
        sheet.append([_cell(sheet, value) for value in values])
    workbook.save(path)


def _cell(sheet: object, value: object, font: Font | None = None) -> WriteOnlyCell:
    """A cell whose text Excel shows as typed and never evaluates."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value[:_XLSX_MAX_CELL])  # control characters break the xlsx
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl made `=…` a formula; store it as a plain string
        cell.quotePrefix = True  # and keep Excel from re-reading it if someone edits the cell
    if font is not None:
        cell.font = font
    return cell
