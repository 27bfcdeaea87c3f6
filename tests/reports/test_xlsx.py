"""The workbook as Excel would open it: sheets, formats per currency, exact numbers, inert text."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from pipeline.reports import Column, Sheet, counts_by, totals_by, write_workbook
from pipeline.reports.xlsx import EXCEPTION_FILL

COLUMNS = [
    Column("row", "Row", "int"),
    Column("order", "Order"),
    Column("decision", "Decision"),
    Column("method", "Method"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("currency", "Currency"),
    Column("note", "Note"),
]
NOTES = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "\tcmd", "#N/A"]
ROWS = [
    {"row": 2, "order": "#1001", "decision": "execute", "method": "original", "amount": Decimal("1234.56"),
     "currency": "EUR", "note": NOTES[0]},
    {"row": 3, "order": "#1002", "decision": "execute", "method": "original", "amount": Decimal("5000"),
     "currency": "JPY", "note": NOTES[1]},
    {"row": 4, "order": "#1003", "decision": "blocked", "method": "store_credit", "amount": "12.345",
     "currency": "KWD", "note": NOTES[2]},
    {"row": 5, "order": "#1004", "decision": "execute", "method": "original", "amount": Decimal("0.10"),
     "currency": "EUR", "note": NOTES[3]},
    {"row": 6, "order": "#1005", "decision": "execute", "method": "store_credit", "amount": Decimal("0.20"),
     "currency": "EUR", "note": NOTES[4]},
    {"row": 7, "order": "#1006", "decision": "skip", "method": None, "amount": None, "currency": None,
     "note": NOTES[5]},
]  # fmt: skip
TOTAL_COLUMNS = [
    Column("currency", "Currency"),
    Column("method", "Method"),
    Column("count", "Orders", "int"),
    Column("amount", "Amount", "money", currency_key="currency"),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "plan.xlsx"
    actions = Sheet(
        "Actions", COLUMNS, ROWS, highlight=lambda row: row["decision"] == "blocked", notes=["=1+1"]
    )
    summary = [
        ("Run", "=run-1"),
        ("Orders", len(ROWS)),
        Sheet("Orders per decision", [Column("decision", "Decision"), Column("count", "Orders", "int")],
              counts_by(ROWS, "decision")),
        Sheet("Totals per currency and method", TOTAL_COLUMNS, totals_by(ROWS, ["currency", "method"])),
    ]  # fmt: skip
    write_workbook(path, [actions, Sheet("Blocked", COLUMNS, [])], summary, title="Plan run-1")
    return path


def test_sheets_frozen_header_and_filter(book):
    workbook = load_workbook(book)
    assert workbook.sheetnames == ["Summary", "Actions", "Blocked"]
    actions = workbook["Actions"]
    assert actions.freeze_panes == "A2"
    assert actions.auto_filter.ref == f"A1:G{len(ROWS) + 1}"
    assert [cell.value for cell in actions[1]] == [column.title for column in COLUMNS]
    assert actions["A1"].font.b
    assert workbook["Blocked"].auto_filter.ref == "A1:G1"
    assert 8 <= actions.column_dimensions["G"].width <= 60


def test_money_formats_follow_each_rows_currency(book):
    actions = load_workbook(book)["Actions"]
    formats = [actions.cell(row=index, column=5).number_format for index in range(2, 6)]
    assert formats == ['#,##0.00 "EUR"', '#,##0 "JPY"', '#,##0.000 "KWD"', '#,##0.00 "EUR"']
    assert actions["A2"].number_format == "#,##0"


def test_decimals_are_numbers_written_exactly(book):
    actions = load_workbook(book)["Actions"]
    assert [actions.cell(row=index, column=5).data_type for index in range(2, 7)] == ["n"] * 5
    with zipfile.ZipFile(book) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet2.xml").decode()
    for text in ("<v>1234.56</v>", "<v>5000</v>", "<v>12.345</v>", "<v>0.1</v>", "<v>0.2</v>"):
        assert text in sheet_xml


def test_formula_like_text_is_stored_as_text(book):
    workbook = load_workbook(book)
    actions = workbook["Actions"]
    for index, note in enumerate(NOTES, start=2):
        cell = actions.cell(row=index, column=7)
        assert (cell.value, cell.data_type) == (note, "s")
        assert cell.quotePrefix
    with zipfile.ZipFile(book) as archive:
        assert all(b"<f>" not in archive.read(name) for name in archive.namelist() if name.endswith(".xml"))
    assert actions.cell(row=len(ROWS) + 3, column=1).value == "=1+1"
    assert workbook["Summary"]["B3"].value == "=run-1"


def test_exception_rows_are_filled(book):
    actions = load_workbook(book)["Actions"]
    fills = {index: actions.cell(row=index, column=1).fill.fgColor.rgb for index in range(2, len(ROWS) + 2)}
    assert fills[4].endswith(EXCEPTION_FILL[-6:])
    assert all(rgb == "00000000" for index, rgb in fills.items() if index != 4)
    assert actions.cell(row=4, column=7).fill.fgColor.rgb == fills[4]


def test_summary_totals_equal_the_sums_of_the_rows(book):
    workbook = load_workbook(book)
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    start = summary.index(("Totals per currency and method", None, None, None)) + 2
    totals = {(row[0], row[1]): (row[2], Decimal(str(row[3]))) for row in summary[start:] if row[0]}
    expected: dict[tuple[str, str], list] = {}
    for row in load_workbook(book)["Actions"].iter_rows(min_row=2, max_row=len(ROWS) + 1, values_only=True):
        if row[5]:
            group = expected.setdefault((row[5], row[3]), [0, Decimal(0)])
            group[0] += 1
            group[1] += Decimal(str(row[4]))
    assert totals == {key: tuple(value) for key, value in expected.items()}
    assert totals[("EUR", "original")] == (2, Decimal("1234.66"))
    first = summary.index(("Orders per decision", None, None, None)) + 2
    per_decision = {row[0]: row[1] for row in summary[first : first + 3]}
    assert per_decision == {"execute": 4, "blocked": 1, "skip": 1}


def test_document_properties_name_no_person(book):
    properties = load_workbook(book).properties
    assert properties.title == "Plan run-1"
    assert properties.creator == "bulkcancel"
    assert properties.lastModifiedBy in (None, "", "bulkcancel")  # the writer copies the author


def test_timezone_aware_dates_are_written_in_utc(tmp_path):
    import datetime as dt

    when = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    sheet = Sheet("Times", [Column("at", "Processed at (UTC)", "date")], [{"at": when}, {"at": "2026-05-02"}])
    cells = load_workbook(write_workbook(tmp_path / "t.xlsx", [sheet]))["Times"]
    assert cells["A2"].value == dt.datetime(2026, 5, 1, 10, 0)
    assert cells["A3"].value == dt.datetime(2026, 5, 2)
    assert cells["A3"].number_format == "yyyy-mm-dd"


def test_a_line_is_written_as_its_cells_one_by_one(tmp_path):
    """`SheetWriter.line` (the table path) gives the same sheet and styles as `data` cell by cell."""
    from pipeline.reports.worksheet import Looks, SheetWriter, close, open_workbook

    columns = [*COLUMNS, Column("when", "When", "date")]
    odd = [None, "", "=1", "#N/A", "a\x01b", "x" * 40_000, True, "3.5", "n/a", Decimal("1E+2"), 7]
    table = [
        {**row, "note": odd[index % len(odd)], "count": odd[(index + 5) % len(odd)], "when": "2026-05-01"}
        for index, row in enumerate(ROWS * 2)
    ]

    def write(path, by_line):
        workbook = open_workbook(path, "t")
        out = SheetWriter(workbook.add_worksheet("T"), Looks(workbook))
        for index, row in enumerate(table):
            fill = EXCEPTION_FILL if index % 3 == 0 else None
            if by_line:
                out.line(columns, row, fill)
            else:
                for col, column in enumerate(columns):
                    out.data(col, column, row, fill)
            out.next()
        close(workbook)
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name) for name in ("xl/worksheets/sheet1.xml", "xl/styles.xml")]

    assert write(tmp_path / "line.xlsx", True) == write(tmp_path / "cells.xlsx", False)
