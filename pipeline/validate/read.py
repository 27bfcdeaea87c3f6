"""The only module that opens input files: CSV or a spreadsheet → one table of cell texts (SPEC §5).

`read_input(paths, sheet)` returns an `InputTable`: a DataFrame whose columns are the canonical
column names of `pipeline.validate.columns`, whose index is the row number the user sees in the file, and
whose cells are the cell texts ("" when blank), plus where it came from and what was noticed.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.validate import columns as C
from pipeline.validate import exports
from pipeline.validate.csvfile import read_text_grid
from pipeline.validate.input_table import EXTRA, SOURCE
from pipeline.validate.input_table import InputTable as InputTable  # re-exported: what read_input returns
from pipeline.validate.rows import Problem
from pipeline.validate.spreadsheet import cell_name, column_letter, is_spreadsheet, read_sheet

#: The header is the first of this many non-blank rows that names the order column (title rows above).
HEADER_SEARCH_ROWS = 20
_PART_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")


def read_input(paths: list[Path], sheet: str | None = None) -> InputTable:
    """Read one or more input files into one table; raise `InputError` when a file cannot be read."""
    if not paths:
        raise InputError("no input file given")
    tables = [table for path in paths for table in _read_parts(Path(path), sheet)]
    kinds = {table.kind for table in tables}
    if len(kinds) > 1 or (tables[0].kind and len({table.header for table in tables}) > 1):
        raise InputError(
            f"{' + '.join(t.source for t in tables)}: the files have different columns; give the parts of "
            "one export together, and other files in separate runs"
        )
    if len(tables) == 1:
        return exports.group_orders(tables[0]) if tables[0].kind else tables[0]
    frames = [table.frame.assign(**{SOURCE: table.source}) for table in tables]
    digest = hashlib.sha256("".join(table.sha256 for table in tables).encode()).hexdigest()
    combined = InputTable(
        frame=pd.concat(frames),
        source=" + ".join(table.source for table in tables),
        sha256=digest,
        header_row=tables[0].header_row,
        decimal_comma=all(table.decimal_comma for table in tables),
        headers={k: v for table in tables for k, v in table.headers.items()},
        warnings=[f"{table.source}: {warning}" for table in tables for warning in table.warnings],
        problems=[p for table in tables for p in table.problems],
        files=[pair for table in tables for pair in table.files],
        kind=tables[0].kind,
        header=tables[0].header,
    )
    return exports.group_orders(combined) if combined.kind else combined


def _read_parts(path: Path, sheet: str | None) -> list[InputTable]:
    """One table per file; a `.zip` of CSV parts (not a workbook) gives one table per part."""
    if path.suffix.casefold() != ".zip":
        return [_read_one(path, sheet)]
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: cannot be opened as a zip archive ({exc})") from None
    with archive:
        members = sorted(
            info.filename
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
        )
        readable = [m for m in members if Path(m).suffix.casefold() in _PART_SUFFIXES]
        if not readable:
            raise InputError(f"{path.name}: the zip archive holds no CSV or Excel file")
        return [_read_one(Path(member), sheet, archive.read(member)) for member in readable]


def _read_one(path: Path, sheet: str | None, data: bytes | None = None) -> InputTable:
    name = path.name
    try:
        data = path.read_bytes() if data is None else data
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    sha256 = hashlib.sha256(data).hexdigest()
    if is_spreadsheet(data):
        read = read_sheet(data, name, sheet)
        grid, merged, label, decimal_comma, is_csv = read.grid, read.merged, read.label, False, False
    else:
        if sheet is not None:
            raise InputError(f"{name}: --sheet applies to Excel and ODS files, not to CSV")
        text = read_text_grid(data, name)
        grid, merged, label, decimal_comma, is_csv = text.grid, [], name, text.delimiter == ";", True
    table = _table_from_grid(grid, label, merged, is_csv)
    return InputTable(
        frame=table.frame,
        source=label,
        sha256=sha256,
        header_row=table.header_row,
        decimal_comma=decimal_comma,
        headers=table.headers,
        warnings=table.warnings,
        problems=table.problems,
        files=[(name, sha256)],
        kind=table.kind,
        header=table.header,
    )


@dataclass
class _Table:
    frame: pd.DataFrame
    header_row: int
    headers: dict[str, str]
    warnings: list[str]
    problems: list[Problem]
    kind: str = ""
    header: tuple[str, ...] = ()


def _table_from_grid(
    grid: pd.DataFrame, name: str, merged: list[tuple[int, int, int, int]], is_csv: bool
) -> _Table:
    """Find the header, map it to canonical columns, drop blank rows; rows numbered as the file shows."""
    grid.columns = range(grid.shape[1])
    cells = [grid[c].to_numpy() for c in grid.columns]
    blank = np.logical_and.reduce([column == "" for column in cells]) if cells else np.ones(0, dtype=bool)
    filled = np.flatnonzero(~blank)
    if not len(filled):
        raise InputError(f"{name}: the file has no rows")
    header_pos = _find_header(grid, filled[:HEADER_SEARCH_ROWS])
    header_row = header_pos + 1
    warnings: list[str] = []
    problems: list[Problem] = []
    skipped = filled[filled < header_pos]
    if len(skipped):
        plural = "s" if len(skipped) > 1 else ""
        warnings.append(f"row{plural} {_ranges(skipped + 1)} above the header (row {header_row}) skipped")
    header = [C.clean_cell(str(cell)) for cell in grid.iloc[header_pos]]
    _refuse_one_field_rows(header, name)
    try:
        kind = exports.detect(header)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    if kind:
        mapping = exports.map_columns(kind, header, warnings)
        headers = {column: header[position] for position, column in mapping.items()}
    else:
        mapping, headers = _map_headers(header, header_row, warnings, problems)
    rows = _drop_totals(grid, filled[filled > header_pos], mapping, warnings)
    # The usual file has no blank row: take views rather than copying every column.
    take: slice | np.ndarray = rows
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        take = slice(int(rows[0]), int(rows[-1]) + 1)
    frame = pd.DataFrame(
        {column: cells[position][take] for position, column in mapping.items()},
        index=pd.Index(rows + 1, name="row"),
        dtype=object,
        copy=False,
    )
    last = max((i for i, text in enumerate(header) if text), default=-1)
    for position in range(len(cells)):
        if position in mapping or header[position]:
            continue
        values = cells[position][take]
        if not (values != "").any():
            continue
        if is_csv and position > last:
            # Cells beyond the header in a CSV mean a delimiter inside an unquoted cell shifted the row.
            previous = frame[EXTRA].to_numpy() if EXTRA in frame else np.full(len(rows), "", dtype=object)
            frame[EXTRA] = np.where(previous != "", previous, values)
        else:
            warnings.append(f"column {column_letter(position)} has values but no header: they are ignored")
    _check_merged(merged, header_pos, mapping, problems)
    return _Table(frame, header_row, headers, warnings, problems, kind or "", tuple(header) if kind else ())


#: Words of a totals or footer row (SPEC §5a): ignored, with a warning, when they end the data.
_TOTAL_WORDS = re.compile(r"\b(totals?|grand total|sum|subtotal|somme|total général|count|nombre)\b", re.I)
_FOOTER_SCAN = 5


def _drop_totals(
    grid: pd.DataFrame, rows: np.ndarray, mapping: dict[int, str], warnings: list[str]
) -> np.ndarray:
    """Drop the trailing rows that have no order and say "total" (a totals or footer row)."""
    order_position = next((p for p, column in mapping.items() if column == C.ORDER), None)
    end = len(rows)
    while end and len(rows) - end < _FOOTER_SCAN:
        cells = [C.clean_cell(str(cell)) for cell in grid.iloc[int(rows[end - 1])]]
        order = cells[order_position] if order_position is not None and order_position < len(cells) else ""
        if order and not _TOTAL_WORDS.fullmatch(order):
            break
        if not any(_TOTAL_WORDS.search(cell) for cell in cells if cell):
            break
        end -= 1
        label = next(cell for cell in cells if _TOTAL_WORDS.search(cell))
        warnings.append(f'row {int(rows[end]) + 1} looks like a totals row ("{label}"): it is ignored')
    return rows[:end]


def _find_header(grid: pd.DataFrame, candidates: np.ndarray) -> int:
    best, best_hits = int(candidates[0]), 0
    for pos in candidates:
        found = {C.match_header(str(cell)) for cell in grid.iloc[pos] if cell != ""}
        if found & {C.ORDER, C.ORDER_ID}:
            return int(pos)
        hits = len(found - {None})
        if hits > best_hits:
            best, best_hits = int(pos), hits
    return best


def _map_headers(
    header: list[str], header_row: int, warnings: list[str], problems: list[Problem]
) -> tuple[dict[int, str], dict[str, str]]:
    mapping: dict[int, str] = {}
    headers: dict[str, str] = {}
    for position, text in enumerate(header):
        if not text:
            continue
        column = C.match_header(text)
        if column is None:
            warnings.append(
                f'column {column_letter(position)} "{text}" is not a bulkcancel column: it is ignored'
            )
        elif column in headers:
            problems.append(
                Problem(
                    header_row,
                    column,
                    text,
                    f'names the same column as "{headers[column]}"',
                    "duplicate_column",
                )
            )
        else:
            mapping[position] = column
            headers[column] = text
    return mapping, headers


def _refuse_one_field_rows(header: list[str], name: str) -> None:
    # A CSV opened as one column and saved again: each row became a single quoted field.
    if len(header) == 1 and any(d in header[0] for d in ",;\t|"):
        cells = [cell for d in ",;\t|" for cell in header[0].split(d)]
        if any(C.match_header(cell) for cell in cells):
            raise InputError(
                f"{name}: every row is one quoted cell (the CSV was opened as a single column and saved "
                "again); export it again from the original spreadsheet"
            )


def _check_merged(
    merged: list[tuple[int, int, int, int]],
    header_pos: int,
    mapping: dict[int, str],
    problems: list[Problem],
) -> None:
    for top, left, bottom, right in merged:
        where = f"{cell_name(top, left)}:{cell_name(bottom, right)}"
        if top <= header_pos <= bottom:
            message = "header cells are merged: give each column its own header"
            problems.append(Problem(header_pos + 1, "", where, message, "merged_header"))
            continue
        # Merged value cells read as one value and blanks: refuse them rather than guess.
        hit = next((mapping[p] for p in range(left, right + 1) if p in mapping), None)
        if bottom > header_pos and hit:
            message = "merged cells: unmerge them and fill in every row"
            problems.append(Problem(max(top, header_pos + 1) + 1, hit, where, message, "merged_cells"))


def _ranges(numbers: np.ndarray) -> str:
    """`1, 3–5` from sorted row numbers."""
    runs: list[list[int]] = []
    for number in (int(x) for x in numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
