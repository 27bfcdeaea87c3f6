"""Excel and ODS workbooks through python-calamine (the engine behind pandas' `engine="calamine"`)."""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import python_calamine as calamine

from pipeline.errors import InputError

# Magic numbers: a zip container (xlsx, xlsm, ods) and the OLE2 container of the old .xls.
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class SheetGrid:
    """One sheet's cells as text (row i of `grid` is sheet row i + 1) and its merged ranges (0-based)."""

    grid: pd.DataFrame
    merged: list[tuple[int, int, int, int]]
    label: str


def is_spreadsheet(data: bytes) -> bool:
    """True when the bytes are a workbook, whatever the file is called (a renamed .xlsx included)."""
    return data.startswith((_ZIP, _OLE2))


def read_sheet(data: bytes, name: str, sheet: str | None) -> SheetGrid:
    """The cells of `sheet` (default: the first non-empty one) as text; `InputError` when unreadable."""
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types and plain ValueErrors alike
        kind = (
            "a zip archive, not a workbook" if data.startswith(_ZIP) else "a damaged or unsupported workbook"
        )
        raise InputError(f"{name}: cannot be read as a spreadsheet ({kind}: {_first_line(exc)})") from None
    try:
        worksheet, rows = _pick_sheet(workbook, name, sheet)
        merged = [
            (top, left, bottom, right) for (top, left), (bottom, right) in worksheet.merged_cell_ranges or []
        ]
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{name}: cannot read the sheet ({_first_line(exc)})") from None
    label = name if len(workbook.sheet_names) == 1 else f"{name} [{worksheet.name}]"
    frame = pd.DataFrame(
        {
            i: [v if type(v) is str else _text(v) for v in column]
            for i, column in enumerate(zip(*rows, strict=True))
        },
        dtype=object,
    )
    return SheetGrid(grid=frame, merged=merged, label=label)


def _pick_sheet(
    workbook: calamine.CalamineWorkbook, name: str, sheet: str | None
) -> tuple[calamine.CalamineSheet, list[list[Any]]]:
    names = list(workbook.sheet_names)
    if sheet is not None:
        chosen = next((n for n in names if n == sheet), None) or next(
            (n for n in names if n.casefold() == sheet.casefold()), None
        )
        if chosen is None:
            raise InputError(f'{name}: no sheet named "{sheet}" (sheets: {", ".join(names)})')
        worksheet = workbook.get_sheet_by_name(chosen)
        rows = worksheet.to_python(skip_empty_area=False)
        if not _has_cells(rows):
            raise InputError(f'{name}: sheet "{chosen}" is empty')
        return worksheet, rows
    # A Matrixify workbook keeps its orders on the sheet named "Orders" (SPEC §5a), wherever it is.
    preferred = [n for n in names if n.casefold() == "orders"]
    for candidate in preferred + [n for n in names if n not in preferred]:
        worksheet = workbook.get_sheet_by_name(candidate)
        rows = worksheet.to_python(skip_empty_area=False)
        if _has_cells(rows):
            return worksheet, rows
    raise InputError(f"{name}: every sheet is empty")


def _has_cells(rows: list[list[Any]]) -> bool:
    return any(cell not in ("", None) for row in rows for cell in row)


def _text(value: object) -> str:
    """A cell as the user reads it: 1001.0 → "1001", 0.1+0.2 → "0.3", dates in ISO form."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # Excel shows at most 15 significant digits
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def column_letter(position: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_name(row: int, column: int) -> str:
    """0-based (row, column) → "B7"."""
    return f"{column_letter(column)}{row + 1}"
