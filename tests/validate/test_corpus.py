"""Every file of the broken-and-tricky corpus (tests/data/, from make_corpus.py) and what it must give."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults

DATA = Path(__file__).parents[1] / "data"

# file → exact problems as (row, column, kind), in report order.
PROBLEMS: dict[str, list[tuple[int, str, str]]] = {
    "utf8_bom_semicolon_decimal_comma.csv": [],
    "utf16_excel_unicode_text.txt": [],
    "cp1252_french_accents.csv": [],
    "tab_delimited.tsv": [],
    "pipe_delimited.txt": [],
    "french_headers_accents_spaces.csv": [],
    "invisible_chars_and_apostrophes.csv": [],
    "unknown_columns_warning.csv": [],
    "excel_float_order_numbers.xlsx": [],
    "xlsx_renamed_as_csv.csv": [],
    "second_sheet_has_data.xlsx": [],
    "duplicate_orders.csv": [
        (2, "order", "duplicate_order"),
        (4, "order", "duplicate_order"),
        (5, "order", "duplicate_order"),
    ],
    "huge_cell_10000_chars.csv": [(2, "note", "too_long")],
    "csv_formula_injection.csv": [
        (2, "order", "not_an_order"),
        (3, "amount", "not_positive"),
        (5, "amount", "not_a_number"),
    ],
    "title_rows_above_header.csv": [(6, "amount", "not_a_number")],
    "title_rows_merged_above_header.xlsx": [(5, "refund_mode", "unknown_value")],
    "missing_required_column.csv": [(1, "order", "missing_column")],
    "no_data_rows.csv": [(1, "", "no_rows")],
    "blank_rows_between.csv": [(6, "refund_mode", "unknown_value")],
    "hidden_empty_rows.xlsx": [(5, "refund_mode", "unknown_value")],
    "unquoted_comma_in_note.csv": [(2, "", "extra_cells")],
    "scientific_notation_orders.csv": [(2, "order", "scientific_notation")],
    "crlf_multiline_note.csv": [(3, "refund_mode", "unknown_value")],
    "duplicate_columns.csv": [(1, "amount", "duplicate_column")],
    "only_order_column.csv": [(1, "refund_mode", "missing_column")],
    "formula_cells.xlsx": [(3, "order", "missing_value")],
    "merged_header_cells.xlsx": [(2, "", "merged_header"), (2, "refund_mode", "missing_column")],
    "merged_value_cells.xlsx": [
        (2, "refund_mode", "merged_cells"),
        (3, "refund_mode", "missing_value"),
        (4, "refund_mode", "missing_value"),
    ],
    "bad_values_every_kind.csv": [
        (2, "order", "missing_value"),
        (3, "order", "not_an_order"),
        (4, "refund_mode", "unknown_value"),
        (5, "action", "unknown_value"),
        (6, "amount", "not_a_number"),
        (7, "amount", "not_positive"),
        (8, "amount", "too_many_decimals"),
        (9, "amount", "too_many_decimals"),
        (10, "amount", "ambiguous_number"),
        (11, "currency", "unknown_currency"),
        (12, "lines", "malformed_lines"),
        (13, "lines", "malformed_lines"),
        (14, "lines", "malformed_lines"),
        (15, "shipping", "unknown_value"),
        (16, "restock", "unknown_value"),
        (17, "notify", "unknown_value"),
        (18, "reason", "unknown_value"),
        (19, "amount", "not_allowed"),
        (20, "lines", "not_allowed"),
        (21, "refund_mode", "partial_without_amount"),
        (22, "action", "nothing_to_do"),
        (23, "refund_mode", "missing_value"),
        (24, "note", "too_long"),
        (25, "order", "excel_error"),
        (26, "shipping", "not_allowed"),
    ],
}

# file → words the one-line error must contain.
UNREADABLE = {
    "binary_junk_renamed.csv": "cannot be read as text",
    "empty_file.csv": "the file is empty",
    "whitespace_only.csv": "the file is empty",
    "empty_sheet.xlsx": "every sheet is empty",
    "truncated_xlsx.xlsx": "cannot be read as a spreadsheet",
    "one_quoted_field_per_row.csv": "every row is one quoted cell",
}


def test_the_corpus_has_at_least_25_files_and_each_is_checked() -> None:
    from tests.validate.test_exports import COVERED  # the merchant-file corpus (SPEC §5a) is checked there

    files = {path.name for path in DATA.iterdir() if path.suffix != ".py"} - COVERED
    assert len(files) >= 25
    assert files == set(PROBLEMS) | set(UNREADABLE)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_each_file_gives_exactly_its_problems(name: str) -> None:
    result = validate_table(read_input([DATA / name]), Defaults())
    assert [(p.row, p.column, p.kind) for p in result.problems] == PROBLEMS[name]
    invalid_rows = {p.row for p in result.problems}
    assert all(row.row not in invalid_rows for row in result.rows)


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_files_raise_one_clear_input_error(name: str) -> None:
    with pytest.raises(InputError, match=UNREADABLE[name]):
        read_input([DATA / name])


def test_encodings_and_decimal_commas_come_through_intact() -> None:
    bom = validate_table(read_input([DATA / "utf8_bom_semicolon_decimal_comma.csv"]))
    assert [str(row.amount) for row in bom.rows] == ["12.50", "1234.56", "None"]
    utf16 = validate_table(read_input([DATA / "utf16_excel_unicode_text.txt"]))
    assert [row.note for row in utf16.rows] == ["Café crème", "Été"]
    assert str(utf16.rows[0].amount) == "7.5"
    cp1252 = validate_table(read_input([DATA / "cp1252_french_accents.csv"]))
    assert [row.note for row in cp1252.rows] == ["Réf. été", "Noël — 2e envoi"]


def test_excel_numbers_become_the_text_a_person_sees() -> None:
    result = validate_table(read_input([DATA / "excel_float_order_numbers.xlsx"]))
    assert [(row.order, row.order_key) for row in result.rows] == [
        ("1001", "1001"),
        ("1002", "1002"),
        ("1003", "1003"),
    ]
    assert [str(row.amount) for row in result.rows] == ["None", "12.5", "0.3"]


def test_invisible_characters_and_apostrophes_are_cleaned_from_orders() -> None:
    result = validate_table(read_input([DATA / "invisible_chars_and_apostrophes.csv"]))
    assert [row.order_name for row in result.rows] == ["#1001", "#1002", "#1003", "1004"]


def test_warnings_name_skipped_title_rows_and_unknown_columns() -> None:
    title = read_input([DATA / "title_rows_above_header.csv"])
    assert title.header_row == 4
    assert title.warnings == ["rows 1–2 above the header (row 4) skipped"]
    unknown = validate_table(read_input([DATA / "unknown_columns_warning.csv"]))
    assert unknown.warnings == [
        'column C "customer email" is not a bulkcancel column: it is ignored',
        'column D "total" is not a bulkcancel column: it is ignored',
    ]


def test_merged_cells_are_named_by_their_range() -> None:
    result = validate_table(read_input([DATA / "merged_value_cells.xlsx"]))
    assert result.problems[0].value == "B2:B4"
    header = validate_table(read_input([DATA / "merged_header_cells.xlsx"]))
    assert header.problems[0].value == "A2:B2"


def test_formula_results_are_read_not_formulas() -> None:
    result = validate_table(read_input([DATA / "formula_cells.xlsx"]))
    assert [(row.order, str(row.amount)) for row in result.rows] == [("#1002", "10")]


@pytest.mark.parametrize("name", ["annulations_rupture.csv", "cancellations.xlsx"])
def test_the_demo_samples_are_valid_and_mix_every_mode(name: str) -> None:
    result = validate_table(read_input([DATA.parent.parent / "inputs" / name]))
    assert result.problems == []
    assert set(result.by_mode) == {"original", "store_credit", "gift_card", "none"}
    assert set(result.by_action) == {"cancel", "refund_only"}
    assert any(row.amount is not None for row in result.rows)
    assert any(row.lines for row in result.rows)
