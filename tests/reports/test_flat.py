"""CSV files: Excel-friendly bytes, exact numbers, inert text that tools can read back."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

from pipeline.reports import Column, write_csv
from pipeline.reports.cells import from_csv_text

COLUMNS = [
    Column("row", "Row", "int"),
    Column("order_name", "Order"),
    Column("amount", "Amount", "money", currency_key="currency"),
    Column("currency", "Currency"),
    Column("at", "At", "date"),
    Column("note", "Note"),
]
NOTES = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "\tx", "\rx", "'=quoted", "Zoë, «été»"]


def rows():
    at = dt.datetime(2026, 5, 1, 10, 30, tzinfo=dt.UTC)
    amounts = [Decimal("1E+2"), Decimal("-12.50"), Decimal("0.10"), "3.005", None, Decimal("5000"), 7, "n/a"]
    return [
        {
            "row": index + 2,
            "order_name": f"#{1001 + index}",
            "amount": amount,
            "currency": "EUR",
            "at": at,
            "note": note,
        }
        for index, (amount, note) in enumerate(zip(amounts, NOTES, strict=True))
    ]


def test_bom_and_header_of_keys(tmp_path):
    path = write_csv(tmp_path / "plan.csv", COLUMNS, rows())
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrow,order_name,amount,currency,at,note\r\n")
    assert "Zoë, «été»".encode() in data
    titled = write_csv(tmp_path / "titled.csv", COLUMNS, [], header="title")
    assert titled.read_bytes() == b"\xef\xbb\xbfRow,Order,Amount,Currency,At,Note\r\n"


def test_round_trip_with_the_csv_module(tmp_path):
    path = write_csv(tmp_path / "plan.csv", COLUMNS, rows())
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert [row["amount"] for row in read] == [
        "100.00",
        "-12.50",
        "0.10",
        "3.005",
        "",
        "5000.00",
        "7.00",
        "n/a",
    ]
    assert {row["at"] for row in read} == {"2026-05-01T10:30:00+00:00"}
    assert [from_csv_text(row["note"]) for row in read] == NOTES
    assert [Decimal(row["amount"]) for row in read[:4]] == [
        Decimal(100),
        Decimal("-12.50"),
        Decimal("0.1"),
        Decimal("3.005"),
    ]


def test_formula_like_text_gets_a_leading_quote(tmp_path):
    path = write_csv(tmp_path / "plan.csv", COLUMNS, rows())
    with path.open(encoding="utf-8-sig", newline="") as handle:
        notes = [row["note"] for row in csv.DictReader(handle)]
    assert notes[:7] == ["'" + note for note in NOTES[:7]]
    assert notes[7] == NOTES[7]
    # numbers stay numbers: a negative amount is not text, so it gets no quote
    assert "-12.50" in path.read_text(encoding="utf-8-sig").splitlines()[2].split(",")


def test_replaces_the_file_whole(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("old", encoding="utf-8")
    write_csv(path, COLUMNS, rows()[:1])
    assert "old" not in path.read_text(encoding="utf-8-sig")
    assert sorted(item.name for item in tmp_path.iterdir()) == ["plan.csv"]


def test_money_carries_its_currency_decimals(tmp_path):
    money = [
        {"amount": Decimal("393.1"), "currency": "EUR"},
        {"amount": Decimal("77990.0"), "currency": "JPY"},
        {"amount": Decimal("5"), "currency": "KWD"},
    ]
    path = write_csv(tmp_path / "money.csv", COLUMNS[2:4], money)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = [row["amount"] for row in csv.DictReader(handle)]
    assert read == ["393.10", "77990", "5.000"]


def test_each_field_is_the_cell_of_its_column(tmp_path):
    """The per-column writers of `write_csv` give exactly `cell` for every kind and odd value."""
    from pipeline.reports.flat import ENCODING, cell

    columns = [*COLUMNS, Column("units", "Units", "int"), Column("share", "Share", "percent")]
    odd = [None, True, 3, "3", "x", "'q", "=1", Decimal("2.5"), "", dt.date(2026, 5, 1), "\x01a"]
    table = [
        {**row, "units": odd[index % len(odd)], "share": odd[(index + 3) % len(odd)], "note": odd[index % 11]}
        for index, row in enumerate(rows() * 3)
    ]
    table += [{**table[0], "amount": Decimal(odd)} for odd in ("NaN", "-Infinity", "1.23456")]
    table += [{**table[0], "currency": code} for code in ("JPY", "KWD", None, "")]
    path = write_csv(tmp_path / "odd.csv", columns, table)
    with open(path, encoding=ENCODING, newline="") as stream:
        read = list(csv.reader(stream))[1:]
    assert read == [[cell(c, row.get(c.key), c.currency(row)) for c in columns] for row in table]
