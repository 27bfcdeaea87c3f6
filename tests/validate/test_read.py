"""The reader: encodings, delimiters, headers, row numbers, sheets and several files at once."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.errors import InputError
from pipeline.validate import columns as C
from pipeline.validate.csvfile import decode, sniff_delimiter
from pipeline.validate.input_table import EXTRA, SOURCE
from pipeline.validate.read import read_input


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Montant;été\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "été\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "été\n".encode("utf-16-le"), "utf-16"),
        ("order\tété\n".encode("utf-16-le"), "utf-16-le"),
        ("été\n".encode("cp1252"), "cp1252"),
    ],
)
def test_decode_recognises_each_encoding(data: bytes, encoding: str) -> None:
    text, found = decode(data, "f.csv")
    assert found == encoding
    assert "été" in text


def test_decode_refuses_binary_content() -> None:
    with pytest.raises(InputError, match="binary"):
        decode(b"order,mode\n" + b"\x01\x02\x03\x04" * 50, "f.csv")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("order,mode\n#1,a\n#2,b\n", ","),
        ("order;amount\n#1;12,50\n#2;3,10\n", ";"),
        ("order\tamount\n#1\t12,50\n", "\t"),
        ("order|amount\n#1|1\n", "|"),
        ("title\n\norder;mode;amount\n#1;a;1,5\n#2;b;2\n", ";"),
        ("order\n#1\n#2\n", ","),
    ],
)
def test_sniff_picks_the_consistent_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Order", C.ORDER),
        (" N° commande ", C.ORDER),
        ("NUMÉRO DE COMMANDE", C.ORDER),
        ("order_number", C.ORDER),
        ("Mode de remboursement", C.REFUND_MODE),
        ("refund-method", C.REFUND_MODE),
        ("Montant", C.AMOUNT),
        ("Frais de port", C.SHIPPING),
        ("Prévenir le client", C.NOTIFY),
        ("Remise en stock", C.RESTOCK),
        ("Motif", C.REASON),
        ("Staff note", C.NOTE),
        ("Devise", C.CURRENCY),
        ("Articles", C.LINES),
        ("customer", None),
        ("", None),
    ],
)
def test_headers_match_whatever_the_case_accents_spaces_and_punctuation(
    header: str, column: str | None
) -> None:
    assert C.match_header(header) == column


def test_rows_are_numbered_as_the_file_shows_them(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", 'order,note\n\n#1,"two\nlines"\n;\n#2,x\n')
    table = read_input([path])
    assert list(table.frame.index) == [3, 4, 5]
    assert table.frame[C.ORDER].tolist() == ["#1", ";", "#2"]


def test_cells_stay_text_and_formulas_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "order,amount,note\n00123,1e3,=SUM(A1)\n")
    table = read_input([path])
    assert table.frame.iloc[0].tolist() == ["00123", "1e3", "=SUM(A1)"]


def test_decimal_comma_is_set_by_the_semicolon(tmp_path: Path) -> None:
    assert read_input([write(tmp_path, "a.csv", "order;amount\n#1;1,5\n")]).decimal_comma
    assert not read_input([write(tmp_path, "b.csv", 'order,amount\n#1,"1,5"\n')]).decimal_comma


def test_cells_beyond_the_header_are_kept_for_the_validator(tmp_path: Path) -> None:
    table = read_input([write(tmp_path, "f.csv", "order,note\n#1,a\n#2,b,c,d\n")])
    assert table.frame[EXTRA].tolist() == ["", "c"]


def test_sha256_and_source_describe_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "order\n#1\n")
    table = read_input([path])
    assert table.source == "f.csv"
    assert table.sha256 == hashlib.sha256(b"order\n#1\n").hexdigest()
    assert table.files == [("f.csv", table.sha256)]


def test_several_files_are_read_as_one_table_with_their_sources(tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", "order,refund_mode\n#1,original\n")
    second = write(tmp_path, "b.csv", "Commande;Remboursement\n#2;avoir\n#3;avoir\n")
    table = read_input([first, second])
    assert table.frame[C.ORDER].tolist() == ["#1", "#2", "#3"]
    assert table.frame[SOURCE].tolist() == ["a.csv", "b.csv", "b.csv"]
    assert list(table.frame.index) == [2, 2, 3]
    assert table.source == "a.csv + b.csv"


def test_sheet_option_picks_a_sheet_by_name(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["order"])
    book.active.append(["#1"])
    book.create_sheet("Stock-out").append(["order"])
    book["Stock-out"].append(["#2"])
    path = tmp_path / "b.xlsx"
    book.save(path)
    assert read_input([path]).frame[C.ORDER].tolist() == ["#1"]
    assert read_input([path], sheet="stock-out").frame[C.ORDER].tolist() == ["#2"]
    with pytest.raises(InputError, match='no sheet named "Missing"'):
        read_input([path], sheet="Missing")


def test_sheet_option_is_refused_for_csv(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--sheet"):
        read_input([write(tmp_path, "f.csv", "order\n#1\n")], sheet="x")


@pytest.mark.parametrize("problem", ["missing", "directory"])
def test_missing_paths_are_input_errors(tmp_path: Path, problem: str) -> None:
    path = tmp_path if problem == "directory" else tmp_path / "nope.csv"
    with pytest.raises(InputError):
        read_input([path])
