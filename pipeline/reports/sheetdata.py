"""A table sheet's rows as worksheet XML, streamed into the workbook file openpyxl saved.

openpyxl spends 20–40 µs on each cell it writes (a Cell object, its style, an XML element): the
1.4 million cells of a 100,000-row plan took a minute. So openpyxl still writes everything else (the
styles, panes, widths, filter, page header, the Summary) and saves the table sheets with an empty
`<sheetData>`; `fill_sheets` then copies the file, writing each table's rows in their place one at a
time, with the style ids openpyxl registered. Text is an inline string, never a formula.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

#: What openpyxl writes for a sheet without rows, in the forms its versions have used.
_EMPTY = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
#: A cell for XML: its value (text, number or date) and the workbook's style id for its look.
XmlCell = tuple[object, int]
_CHUNK = 1 << 20  # bytes copied at once from one zip member to the other
_BATCH = 500  # rows written to the zip at once


def sheet_part(index: int) -> str:
    """The zip member of the workbook's `index`-th sheet (from 0), as openpyxl names it."""
    return f"xl/worksheets/sheet{index + 1}.xml"


def fill_sheets(path: Path, tables: Mapping[str, Iterable[list[XmlCell | None]]]) -> None:
    """Rewrite the saved workbook at `path` with each `tables[part]`'s rows inside that sheet's XML."""
    copy = path.with_name(path.name + ".rows")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename not in tables:
                    with source.open(info) as reading, target.open(info.filename, "w") as writing:
                        while chunk := reading.read(_CHUNK):
                            writing.write(chunk)
                    continue
                before, after = _around_rows(source.read(info), info.filename)
                with target.open(info.filename, "w", force_zip64=True) as writing:
                    writing.write(before + b"<sheetData>")
                    batch: list[str] = []
                    for text in _rows_xml(tables[info.filename]):
                        batch.append(text)
                        if len(batch) == _BATCH:  # one compressor call per batch, not per row
                            writing.write("".join(batch).encode("utf-8"))
                            batch.clear()
                    writing.write("".join(batch).encode("utf-8") + b"</sheetData>" + after)
        copy.replace(path)
    finally:
        copy.unlink(missing_ok=True)


def _around_rows(xml: bytes, part: str) -> tuple[bytes, bytes]:
    match = _EMPTY.search(xml)
    if match is None:  # a bug, not a user's problem: openpyxl changed how it writes an empty sheet
        raise AssertionError(f"{part}: no empty <sheetData> to fill")
    return xml[: match.start()], xml[match.end() :]


def _rows_xml(rows: Iterable[list[XmlCell | None]]) -> Iterator[str]:
    letters: list[str] = []
    for number, row in enumerate(rows, start=1):
        while len(letters) < len(row):
            letters.append(get_column_letter(len(letters) + 1))
        cells = "".join(
            _cell_xml(f"{letters[index]}{number}", cell) for index, cell in enumerate(row) if cell is not None
        )
        yield f'<row r="{number}">{cells}</row>'


def _cell_xml(ref: str, cell: XmlCell) -> str:
    value, style = cell
    styled = f' s="{style}"' if style else ""
    if value is None:  # a styled blank: the fill of an exception row, say
        return f'<c r="{ref}"{styled}/>'
    if isinstance(value, str):
        return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    if isinstance(value, dt.datetime | dt.date):
        value = to_excel(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        # As openpyxl writes numbers: 16 significant digits, so `0.10` is `0.1` and 5000 stays 5000.
        return f'<c r="{ref}"{styled}><v>{float(value):.16g}</v></c>'
    raise TypeError(f"{ref}: cannot write {type(value).__name__} {value!r}")
