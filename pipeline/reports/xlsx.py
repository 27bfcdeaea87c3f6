"""Excel workbooks for people: a Summary of titled blocks, then one formatted sheet per table."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TypeAlias

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from pipeline import currencies
from pipeline.reports.cells import FORMULA_STARTS, as_date, display, number, xlsx_text
from pipeline.reports.files import replacing
from pipeline.reports.sheetdata import XmlCell, fill_sheets, sheet_part
from pipeline.reports.table import Column, Row, Sheet

#: A Summary item: a `(label, value)` line, or a small titled table (its `name` is the title).
Block = tuple[str, object] | Sheet
# What a write-only row takes: a bare value streams fastest, a Cell carries a style.
_Out: TypeAlias = Cell | str | None

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
#: Excel's own "light red fill" for bad values, which reviewers already read as "look here".
EXCEPTION_FILL = PatternFill("solid", fgColor="FFC7CE")
MAX_WIDTH = 60
MIN_WIDTH = 8
# Widths come from the first rows only: enough to size a column, cheap at 100,000 rows.
_WIDTH_SAMPLE = 2_000
_MAX_ROWS = 1_048_575
# Excel refuses a header longer than 255 characters with its codes.
_HEADER_MAX = 240
_BOLD = Font(bold=True)
_ITALIC = Font(italic=True)
_TITLE = Font(bold=True, size=12)
_HEADING = Font(bold=True, size=14)
_FORMATS = {"int": "#,##0", "percent": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}


def number_format(column: Column, currency: str | None) -> str:
    """The Excel format for one cell: `#,##0.00 "EUR"`, `#,##0 "JPY"`, `#,##0.000 "KWD"`, …"""
    if column.kind != "money":
        return _FORMATS.get(column.kind, "General")
    code = re.sub(r"[^A-Za-z0-9]", "", currency or "")[:8]  # shop data goes inside a format string
    places = currencies.decimals(code) if code else 2
    digits = "#,##0" + ("." + "0" * places if places else "")
    return f'{digits} "{code}"' if code else digits


def write_workbook(
    path: Path | str,
    sheets: Sequence[Sheet],
    summary: Sequence[Block] | None = None,
    *,
    title: str = "",
    banner: str = "",
) -> Path:
    """Write `sheets` (after a Summary sheet when `summary` is given) to `path`, replacing it whole.

    A `banner` heads every sheet, on screen (a frozen first line above the table) and on every printed
    page (the page header): what a reviewer must see whichever sheet or page is in front of them.
    """
    path = Path(path)
    workbook = Workbook(write_only=True)  # streams rows: 100,000 rows in seconds, little memory
    workbook.properties.title = title or path.stem
    workbook.properties.creator = "bulkcancel"  # never the login name of whoever ran it
    if summary is not None:
        worksheet = workbook.create_sheet("Summary")
        _page_header(worksheet, banner)
        write_blocks(worksheet, summary, heading=title or "Summary", banner=banner)
    tables = {}
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.name)
        _page_header(worksheet, banner)
        tables[sheet_part(len(workbook.worksheets) - 1)] = _write_sheet(worksheet, sheet, banner)
    with replacing(path) as temporary:
        workbook.save(temporary)  # the table sheets empty: their rows are streamed in after
        fill_sheets(temporary, tables)
    return path


def write_blocks(
    worksheet: WriteOnlyWorksheet, blocks: Sequence[Block], heading: str = "", banner: str = ""
) -> None:
    """Write label/value lines and small titled tables down one sheet, a blank line between tables."""
    widths: dict[int, int] = {}
    for block in blocks:
        if isinstance(block, Sheet):
            _measure(block, widths)
        else:
            _widen(widths, 0, len(block[0]))
            _widen(widths, 1, len(display(block[1])))
    _set_widths(worksheet, widths)
    cells = _Cells(worksheet)
    if heading:
        worksheet.append([cells.text(heading, _HEADING)])
    if banner:
        worksheet.append([cells.text(banner, _BOLD)])
    if heading or banner:
        worksheet.append([])
    for block in blocks:
        if isinstance(block, Sheet):
            worksheet.append([])
            worksheet.append([cells.text(block.name, _TITLE)])
            _append_table(cells, block)
        else:
            label, value = block
            worksheet.append([cells.text(label, _BOLD), cells.value(value)])


def _write_sheet(
    worksheet: WriteOnlyWorksheet, sheet: Sheet, banner: str = ""
) -> Iterator[list[XmlCell | None]]:
    """Set the sheet up (widths, frozen header, filter) and return its rows, for `fill_sheets`."""
    top = 2 if banner else 1  # the header's line
    if len(sheet.rows) + top > _MAX_ROWS + 1:
        raise ValueError(f"sheet {sheet.name!r}: {len(sheet.rows)} rows is more than Excel opens")
    widths: dict[int, int] = {}
    _measure(sheet, widths)
    _set_widths(worksheet, widths)
    worksheet.freeze_panes = f"A{top + 1}"
    last = get_column_letter(max(len(sheet.columns), 1))
    worksheet.auto_filter.ref = f"A{top}:{last}{len(sheet.rows) + top}"
    cells = _Cells(worksheet)
    cells.register(sheet)  # styles.xml is written on save, before the rows are
    return _table_rows(cells, sheet, banner)


def _table_rows(cells: _Cells, sheet: Sheet, banner: str) -> Iterator[list[XmlCell | None]]:
    if banner:
        yield [cells.xml_text(banner, _BOLD)]
    yield [cells.xml_text(column.title, _BOLD, HEADER_FILL) for column in sheet.columns]
    for row in sheet.rows:
        fill = EXCEPTION_FILL if sheet.is_exception(row) else None
        yield [cells.xml(column, row, fill) for column in sheet.columns]
    if sheet.notes:
        yield []
        for note in sheet.notes:
            yield [cells.xml_text(note, _ITALIC)]


def _page_header(worksheet: WriteOnlyWorksheet, banner: str) -> None:
    """The banner atop every printed page, the page number below (`&` starts Excel's header codes)."""
    if banner:
        worksheet.oddHeader.center.text = xlsx_text(banner).replace("&", "&&")[:_HEADER_MAX]
        worksheet.oddFooter.center.text = "&A, page &P of &N"


def _append_table(cells: _Cells, sheet: Sheet) -> None:
    cells.sheet.append([cells.text(column.title, _BOLD, HEADER_FILL) for column in sheet.columns])
    for row in sheet.rows:
        fill = EXCEPTION_FILL if sheet.is_exception(row) else None
        cells.sheet.append([cells.data(column, row, fill) for column in sheet.columns])


class _Cells:
    """Makes one worksheet's cells, sharing a style per look (a style per cell costs seconds)."""

    def __init__(self, worksheet: WriteOnlyWorksheet) -> None:
        self.sheet = worksheet
        self._styles: dict[tuple[object, ...], object] = {}
        self._ids: dict[tuple[object, ...], int] = {}
        self._numbers: dict[tuple[object, ...], int] = {}
        self._registered = False

    def data(self, column: Column, row: Row, fill: PatternFill | None = None) -> _Out:
        """One table cell, typed by its column's kind; anything that is not what the kind says is text."""
        value = row.get(column.key)
        if column.kind == "text" or value is None:
            return self.text("" if value is None else str(value), fill=fill)
        if column.kind == "date":
            return self.value(as_date(value) or value, fill)
        amount = number(value)
        if amount is None:
            return self.text(str(value), fill=fill)
        return self._cell(amount, number_format(column, column.currency(row)), fill)

    def xml(self, column: Column, row: Row, fill: PatternFill | None = None) -> XmlCell | None:
        """`data`'s cell for `sheetdata`: the same value and look, as (value, style id)."""
        value = row.get(column.key)
        if column.kind == "text" or value is None:
            return self.xml_text("" if value is None else str(value), fill=fill)
        if column.kind == "date":
            when = as_date(value)
            if when is None:
                return self.xml_text(str(value), fill=fill)
            if isinstance(when, dt.datetime):
                if when.tzinfo is not None:  # Excel has no time zones: UTC, as the title says
                    when = when.astimezone(dt.UTC).replace(tzinfo=None)
                return when, self._id(_FORMATS["datetime"], fill, None, False)
            return when, self._id(_FORMATS["date"], fill, None, False)
        amount = number(value)
        if amount is None:
            return self.xml_text(str(value), fill=fill)
        look = (column.kind, column.currency(row), id(fill))  # a format per kind and currency
        if look not in self._numbers:
            self._numbers[look] = self._id(number_format(column, look[1]), fill, None, False)
        return amount, self._numbers[look]

    def xml_text(
        self, text: str, font: Font | None = None, fill: PatternFill | None = None
    ) -> XmlCell | None:
        """`text`'s cell for `sheetdata`; None for a blank without a look (nothing to write)."""
        text = xlsx_text(text)
        inert = text.startswith(FORMULA_STARTS) or text in ERROR_CODES
        if not (text or font or fill):
            return None
        return (text or None), self._id("General", fill, font, inert)

    def register(self, sheet: Sheet) -> None:
        """Register every look `sheet`'s cells can take (a money format per currency in its rows)."""
        money = [column for column in sheet.columns if column.kind == "money"]
        codes = {column.currency(row) for column in money for row in sheet.rows}
        formats = {number_format(column, code) for column in money for code in codes | {None}}
        formats |= set(_FORMATS.values()) | {"General"}
        for quote in (False, True):
            for fill in (None, EXCEPTION_FILL):
                for number_format_ in formats:
                    self._id(number_format_, fill, None, quote)
            for font, fill in ((_BOLD, HEADER_FILL), (_BOLD, None), (_ITALIC, None)):
                self._id("General", fill, font, quote)
        self._registered = True

    def _id(self, number_format: str, fill: PatternFill | None, font: Font | None, quote: bool) -> int:
        """The workbook's style id (cellXfs index) of a look; registering it puts it in styles.xml."""
        key = ("id", number_format, id(fill), id(font), quote)
        if key not in self._ids:
            if self._registered:  # a bug: a look `register` missed would point past styles.xml
                raise AssertionError(f"sheet {self.sheet.title!r}: look {key} was not registered")
            style = self._style(number_format, fill, font, quote)
            self._ids[key] = self.sheet.parent._cell_styles.add(style)
        return self._ids[key]

    def value(self, value: object, fill: PatternFill | None = None) -> _Out:
        """A cell formatted by the Python type of `value` (Summary values, dates)."""
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:  # Excel has no time zones: write UTC and say so in the title
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return self._cell(value, _FORMATS["datetime"], fill)
        if isinstance(value, dt.date):
            return self._cell(value, _FORMATS["date"], fill)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return self._cell(value, _FORMATS["int"] if isinstance(value, int) else "General", fill)
        return self.text("" if value is None else str(value), fill=fill)

    def text(self, text: str, font: Font | None = None, fill: PatternFill | None = None) -> _Out:
        """A text cell that Excel shows as typed and never evaluates (SPEC §8)."""
        text = xlsx_text(text)
        # openpyxl takes `=…` for a formula and `#N/A` for an error value.
        inert = text.startswith(FORMULA_STARTS) or text in ERROR_CODES
        if not (inert or font or fill):
            return text or None  # a bare str streams without a Cell object: most cells, so the speed
        cell = Cell(
            self.sheet,
            row=1,
            column=1,
            value=text or None,
            style_array=self._style("General", fill, font, inert),
        )
        if inert:
            cell.data_type = "s"  # a plain string; quotePrefix keeps it text when someone edits it in Excel
        return cell

    def _cell(self, value: object, number_format: str, fill: PatternFill | None) -> Cell:
        return Cell(
            self.sheet,
            row=1,
            column=1,
            value=value,
            style_array=self._style(number_format, fill, None, False),
        )

    def _style(self, number_format: str, fill: PatternFill | None, font: Font | None, quote: bool) -> object:
        key = (number_format, id(fill), id(font), quote)
        if key not in self._styles:
            model = Cell(self.sheet, row=1, column=1)
            model.number_format = number_format
            model.quotePrefix = quote
            if fill is not None:
                model.fill = fill
            if font is not None:
                model.font = font
            self._styles[key] = model._style
        return self._styles[key]


def _measure(sheet: Sheet, widths: dict[int, int]) -> None:
    for index, column in enumerate(sheet.columns):
        if column.width is not None:
            widths[index] = max(widths.get(index, 0), column.width)
            continue
        _widen(widths, index, len(column.title) + 3)  # room for the filter button
        for row in sheet.rows[:_WIDTH_SAMPLE]:
            _widen(widths, index, len(display(row.get(column.key), column.kind, column.currency(row))))


def _widen(widths: dict[int, int], index: int, length: int) -> None:
    widths[index] = max(widths.get(index, 0), min(length + 2, MAX_WIDTH))


def _set_widths(worksheet: WriteOnlyWorksheet, widths: dict[int, int]) -> None:
    for index, width in widths.items():
        worksheet.column_dimensions[get_column_letter(index + 1)].width = max(width, MIN_WIDTH)
