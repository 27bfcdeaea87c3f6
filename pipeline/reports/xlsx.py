"""Excel workbooks for people: a Summary of titled blocks, then one formatted sheet per table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from pipeline.reports.cells import display, xlsx_text
from pipeline.reports.files import replacing
from pipeline.reports.table import Sheet
from pipeline.reports.worksheet import (
    BOLD,
    EXCEPTION_FILL,
    HEADER_FILL,
    HEADING,
    ITALIC,
    TITLE,
    Looks,
    SheetWriter,
    close,
    number_format,
    open_workbook,
)

__all__ = ["EXCEPTION_FILL", "Block", "Book", "number_format", "open_book", "write_workbook"]

#: A Summary item: a `(label, value)` line, or a small titled table (its `name` is the title).
Block = tuple[str, object] | Sheet
MAX_WIDTH = 60
MIN_WIDTH = 8
# Widths come from the first rows only: enough to size a column, cheap at 100,000 rows.
_WIDTH_SAMPLE = 2_000
_MAX_ROWS = 1_048_575
# Excel refuses a header longer than 255 characters with its codes.
_HEADER_MAX = 240


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
    with open_book(path, title=title, banner=banner, summary=summary is not None) as book:
        for sheet in sheets:
            book.sheet(sheet)
        if summary is not None:
            book.summary(summary)
    return Path(path)


@contextmanager
def open_book(
    path: Path | str, *, title: str = "", banner: str = "", summary: bool = False
) -> Iterator[Book]:
    """A workbook replacing `path` whole once the block ends (removed if it raises), its sheets written
    one at a time as their rows are ready (`Book`); `summary`: a Summary sheet comes first, written
    whenever `Book.summary` is called."""
    path = Path(path)
    with replacing(path) as temporary:
        workbook = open_workbook(temporary, title or path.stem)
        first = _add_sheet(workbook, "Summary", banner) if summary else None
        try:
            yield Book(workbook, title or "Summary", banner, first)
        except BaseException:
            with suppress(Exception):  # the sheets' own temporary files closed; `replacing` removes the rest
                workbook.close()
            raise
        close(workbook)


class Book:
    """An open workbook: each sheet added after the ones before, the Summary (first) written at any
    time. Each sheet's rows go to disk as they are written (constant memory), so a sheet written
    early is not held while the next one's rows are being made."""

    def __init__(self, workbook: Workbook, heading: str, banner: str, first: Worksheet | None) -> None:
        self.workbook, self.heading, self.banner, self.first = workbook, heading, banner, first
        self.looks = Looks(workbook)

    def sheet(self, sheet: Sheet) -> None:
        """`sheet` as the workbook's next sheet, written now."""
        if len(sheet.rows) + (2 if self.banner else 1) > _MAX_ROWS + 1:
            raise ValueError(f"sheet {sheet.name!r}: {len(sheet.rows)} rows is more than Excel opens")
        worksheet = _add_sheet(self.workbook, sheet.name, self.banner)
        _write_sheet(SheetWriter(worksheet, self.looks), sheet, self.banner)

    def summary(self, blocks: Sequence[Block]) -> None:
        """The Summary sheet's blocks (it was added first by `open_book(summary=True)`)."""
        if self.first is None:
            raise ValueError("this workbook has no Summary sheet")
        _write_blocks(SheetWriter(self.first, self.looks), blocks, self.heading, self.banner)


def _add_sheet(workbook: Workbook, name: str, banner: str) -> Worksheet:
    """A new sheet with the banner atop every printed page, the page number below."""
    worksheet = workbook.add_worksheet(name)
    if banner:  # `&` starts Excel's header codes
        worksheet.set_header("&C" + xlsx_text(banner).replace("&", "&&")[:_HEADER_MAX])
        worksheet.set_footer("&C&A, page &P of &N")
    return worksheet


def _write_blocks(out: SheetWriter, blocks: Sequence[Block], heading: str, banner: str) -> None:
    """Write label/value lines and small titled tables down one sheet, a blank line between tables."""
    widths: dict[int, int] = {}
    for block in blocks:
        if isinstance(block, Sheet):
            _measure(block, widths)
        else:
            _widen(widths, 0, len(block[0]))
            _widen(widths, 1, len(display(block[1])))
    _set_widths(out.sheet, widths)
    for line, font in ((heading, HEADING), (banner, BOLD)):
        if line:
            out.text(0, line, font)
            out.next()
    if heading or banner:
        out.next()
    for block in blocks:
        if isinstance(block, Sheet):
            out.next()
            out.text(0, block.name, TITLE)
            out.next()
            _write_table(out, block)
        else:
            label, value = block
            out.text(0, label, BOLD)
            out.value(1, value)
            out.next()


def _write_sheet(out: SheetWriter, sheet: Sheet, banner: str = "") -> None:
    """One table on its own sheet: widths, the banner, a frozen header with a filter, the notes under."""
    top = 1 if banner else 0  # the header's line
    widths: dict[int, int] = {}
    _measure(sheet, widths)
    _set_widths(out.sheet, widths)
    out.sheet.freeze_panes(top + 1, 0)
    out.sheet.autofilter(top, 0, top + len(sheet.rows), max(len(sheet.columns), 1) - 1)
    if banner:
        out.text(0, banner, BOLD)
        out.next()
    _write_table(out, sheet)
    if sheet.notes:
        out.next()
        for note in sheet.notes:
            out.text(0, note, ITALIC)
            out.next()


def _write_table(out: SheetWriter, sheet: Sheet) -> None:
    for col, column in enumerate(sheet.columns):
        out.text(col, column.title, BOLD, HEADER_FILL)
    out.next()
    for row in sheet.rows:
        fill = EXCEPTION_FILL if sheet.is_exception(row) else None
        out.line(sheet.columns, row, fill)
        out.next()


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


def _set_widths(worksheet: Worksheet, widths: dict[int, int]) -> None:
    for index, width in widths.items():
        worksheet.set_column(index, index, max(width, MIN_WIDTH))
