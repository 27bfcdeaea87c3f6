"""Writing xlsx cells with XlsxWriter: one format per look, text that never runs, money as numbers.

Workbooks are opened in constant-memory mode: each row goes to disk once the next one starts, so a
100,000-row sheet takes seconds and no more memory than a short one, and every sheet is written top
to bottom, row after row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipeline import currencies
from pipeline.reports.cells import ERROR_CODES, FORMULA_STARTS, XLSX_MAX_TEXT, as_date, number, xlsx_text
from pipeline.reports.table import Column, Row

#: A font as XlsxWriter format properties, kept hashable: `(("bold", True),)`.
Font = tuple[tuple[str, object], ...]
BOLD: Font = (("bold", True),)
ITALIC: Font = (("italic", True),)
TITLE: Font = (("bold", True), ("font_size", 12))
HEADING: Font = (("bold", True), ("font_size", 14))
HEADER_FILL = "#DDEBF7"
#: Excel's own "light red fill" for bad values, which reviewers already read as "look here".
EXCEPTION_FILL = "#FFC7CE"
FORMATS = {"int": "#,##0", "percent": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
_OPTIONS = {
    "constant_memory": True,
    # Shop and user text stays text (SPEC §8): never a formula, a number or a link.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def open_workbook(path: Path, title: str) -> Workbook:
    """A streaming workbook that will be written to `path`, its properties naming no person."""
    workbook = Workbook(str(path), _OPTIONS)
    workbook.set_properties({"title": title, "author": "bulkcancel"})  # never whoever ran it
    return workbook


def close(workbook: Workbook) -> None:
    """Finish the file; a file that cannot be created fails with its OSError, as any file we write."""
    try:
        workbook.close()
    except FileCreateError as error:
        raise error.args[0] from None


def number_format(column: Column, currency: str | None) -> str:
    """The Excel format for one cell: `#,##0.00 "EUR"`, `#,##0 "JPY"`, `#,##0.000 "KWD"`, …"""
    if column.kind != "money":
        return FORMATS.get(column.kind, "General")
    code = re.sub(r"[^A-Za-z0-9]", "", currency or "")[:8]  # shop data goes inside a format string
    places = currencies.decimals(code) if code else 2
    digits = "#,##0" + ("." + "0" * places if places else "")
    return f'{digits} "{code}"' if code else digits


class Looks:
    """One workbook's formats, made once per look (a format per cell would cost seconds)."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._formats: dict[tuple[object, ...], Format | None] = {}

    def get(
        self, number_format: str = "General", fill: str | None = None, font: Font = (), quote: bool = False
    ) -> Format | None:
        """The format of a look; None for the plain look (a cell without a format)."""
        key = (number_format, fill, font, quote)
        if key not in self._formats:
            properties: dict[str, object] = dict(font)
            if number_format != "General":
                properties["num_format"] = number_format
            if fill is not None:
                properties |= {"pattern": 1, "bg_color": fill}
            if quote:  # keeps Excel from re-reading the text when someone edits the cell
                properties["quote_prefix"] = True
            self._formats[key] = self._workbook.add_format(properties) if properties else None
        return self._formats[key]


class SheetWriter:
    """Writes one worksheet's cells, line after line: `row` is the line being written (from 0)."""

    def __init__(self, worksheet: Worksheet, looks: Looks) -> None:
        self.sheet = worksheet
        self.looks = looks
        self.row = 0
        self._money: dict[tuple[str, str | None, str | None], Format | None] = {}
        self._inert: dict[tuple[str | None, bool], Format | None] = {}

    def next(self, lines: int = 1) -> None:
        """Move down to the next line (`lines` > 1 leaves blank lines)."""
        self.row += lines

    def text(self, col: int, text: str, font: Font = (), fill: str | None = None) -> None:
        """A text cell that Excel shows as typed and never evaluates (SPEC §8)."""
        text = xlsx_text(text)
        inert = text.startswith(FORMULA_STARTS) or text in ERROR_CODES
        look = self.looks.get("General", fill, font, inert)
        if text:
            self.sheet.write_string(self.row, col, text, look)
        elif look is not None:  # a styled blank: the fill of an exception row, say
            self.sheet.write_blank(self.row, col, None, look)

    def value(self, col: int, value: object, fill: str | None = None) -> None:
        """A cell formatted by the Python type of `value` (Summary values, dates)."""
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:  # Excel has no time zones: write UTC and say so in the title
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            self.sheet.write_datetime(self.row, col, value, self.looks.get(FORMATS["datetime"], fill))
        elif isinstance(value, dt.date):
            self.sheet.write_datetime(self.row, col, value, self.looks.get(FORMATS["date"], fill))
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            look = self.looks.get(FORMATS["int"] if isinstance(value, int) else "General", fill)
            self._number(col, value, look)
        else:
            self.text(col, "" if value is None else str(value), fill=fill)

    def data(self, col: int, column: Column, row: Row, fill: str | None = None) -> None:
        """One table cell, typed by its column's kind; anything that is not what the kind says is text."""
        value = row.get(column.key)
        if column.kind == "text" or value is None:
            self.text(col, "" if value is None else str(value), fill=fill)
            return
        if column.kind == "date":
            when = as_date(value)
            if when is None:
                self.text(col, str(value), fill=fill)
            else:
                self.value(col, when, fill)
            return
        amount = number(value)
        if amount is None:
            self.text(col, str(value), fill=fill)
            return
        currency = column.currency(row)
        look = (column.kind, currency, fill)
        if look not in self._money:  # a format per kind and currency
            self._money[look] = self.looks.get(number_format(column, currency), fill)
        self._number(col, amount, self._money[look])

    def line(self, columns: Sequence[Column], row: Row, fill: str | None = None) -> None:
        """One table line: each cell as `data` writes it, with the common cases (text, exact numbers)
        written here directly, since at 100,000 rows the per-cell calls cost seconds."""
        sheet, at, money, inert_looks = self.sheet, self.row, self._money, self._inert
        for col, column in enumerate(columns):
            value = row.get(column.key)
            kind = column.kind
            if kind == "text" or value is None:
                text = "" if value is None else str(value)
                if not text.isprintable():  # printable text has no control character to drop
                    text = xlsx_text(text)
                elif len(text) > XLSX_MAX_TEXT:
                    text = text[:XLSX_MAX_TEXT]
                inert = text.startswith(FORMULA_STARTS) or text in ERROR_CODES
                look_key = (fill, inert)
                if look_key not in inert_looks:
                    inert_looks[look_key] = self.looks.get("General", fill, (), inert)
                look = inert_looks[look_key]
                if text:
                    sheet.write_string(at, col, text, look)
                elif look is not None:
                    sheet.write_blank(at, col, None, look)
            elif kind == "date" or (amount := number(value)) is None:
                self.data(col, column, row, fill)
            else:
                code = row.get(column.currency_key) if column.currency_key else None
                currency = str(code) if code else None
                key = (kind, currency, fill)
                if key not in money:
                    money[key] = self.looks.get(number_format(column, currency), fill)
                sheet.write_number(
                    at, col, float(amount) if isinstance(amount, Decimal) else amount, money[key]
                )

    def _number(self, col: int, amount: int | Decimal, look: Format | None) -> None:
        # Excel keeps doubles: the Decimal becomes one here, at the cell, and nowhere before.
        self.sheet.write_number(self.row, col, float(amount) if isinstance(amount, Decimal) else amount, look)
