"""CSV files that Excel opens with accents intact and tools read back exactly."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pipeline.reports.cells import as_date, csv_text, money_plain, number, plain
from pipeline.reports.files import replacing
from pipeline.reports.table import Column, Row

#: The BOM makes Excel read UTF-8 (not the local code page); Python reads it with `utf-8-sig`.
ENCODING = "utf-8-sig"


def write_csv(
    path: Path | str,
    columns: Sequence[Column],
    rows: Iterable[Row],
    *,
    header: Literal["key", "title"] = "key",
) -> Path:
    """Write `rows` to `path` (replacing it whole), one column each; keys head the columns by default.

    Numbers are plain digits (`1234.50`, `77990`: the currency's decimals, no grouping); text that a
    spreadsheet would run as a formula gets OWASP's leading `'` (see `cells.csv_text`;
    `cells.from_csv_text` undoes it).
    """
    path = Path(path)
    with replacing(path) as temporary, open(temporary, "w", encoding=ENCODING, newline="") as stream:
        writer = csv.writer(stream)  # `,` and quoting as Excel and the csv module expect
        writer.writerow(csv_text(column.key if header == "key" else column.title) for column in columns)
        for row in rows:
            writer.writerow(cell(column, row.get(column.key), column.currency(row)) for column in columns)
    return path


def cell(column: Column, value: object, currency: str | None = None) -> str:
    """One CSV field: numbers for number kinds (money with its currency's decimals), ISO dates,
    formula-safe text for the rest."""
    if value is None:
        return ""
    if column.kind in ("int", "money", "percent"):
        amount = number(value)
        if amount is not None:
            return money_plain(amount, currency) if column.kind == "money" else plain(amount)
    if column.kind == "date":
        when = as_date(value)
        if when is not None:
            return when.isoformat()
    return csv_text(str(value))
