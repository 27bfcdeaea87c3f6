"""CSV files that Excel opens with accents intact and tools read back exactly."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pipeline.money import exact
from pipeline.reports.cells import FORMULA_STARTS, as_date, csv_text, money_plain, number, plain
from pipeline.reports.files import replacing
from pipeline.reports.table import Column, Row

#: The BOM makes Excel read UTF-8 (not the local code page); Python reads it with `utf-8-sig`.
ENCODING = "utf-8-sig"
# The starts `cells.csv_text` quotes: a formula's, and a quote (so reading back never eats a real one).
_QUOTED = (*FORMULA_STARTS, "'")


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
        fields = [_field(column) for column in columns]
        writer.writerows([field(row) for field in fields] for row in rows)
    return path


def _field(column: Column) -> Callable[[Row], str]:
    """`cell` for one column, its kind decided once rather than at every row (100,000 rows, 19 columns)."""
    key = column.key
    if column.kind == "text":

        def text(row: Row) -> str:
            value = row.get(key)
            if value is None:
                return ""
            value = str(value)
            return "'" + value if value.startswith(_QUOTED) else value

        return text
    if column.kind == "int":

        def whole(row: Row) -> str:
            value = row.get(key)
            return str(value) if type(value) is int else cell(column, value)

        return whole
    if column.kind == "money":

        def money(row: Row) -> str:
            value = row.get(key)
            if type(value) is Decimal and value.is_finite():
                return format(exact(value, column.currency(row)), "f")
            return cell(column, value, column.currency(row))

        return money
    return lambda row: cell(column, row.get(key), column.currency(row))


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
