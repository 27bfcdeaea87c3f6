"""Property tests: no byte string or cell text crashes the reader or the validator (SPEC §13)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.validate import columns as C
from pipeline.validate import parse
from pipeline.validate.check import validate_table
from pipeline.validate.input_table import InputTable
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Text that looks like what lands in cells: digits, separators, signs, words, quotes, odd Unicode.
CELL = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789.,;:- #'€eE+x\u00a0\u200b", max_size=15),
    st.sampled_from(
        ["", "#1001", "1001.0", "none", "oui", "12,50", "A:1;B:2", "gid://shopify/Order/1", "#N/A"]
    ),
)
HEADER = st.sampled_from([*C.COLUMNS, "Commande", "Montant", "", "other"])


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(["in.csv", "in.xlsx", "in.txt"]))
def test_arbitrary_bytes_are_read_or_refused_with_input_error(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        try:
            table = read_input([path])
        except InputError:
            return
        _every_row_valid_or_refused(validate_table(table, Defaults()), table)


@SETTINGS
@given(
    st.lists(st.lists(CELL, min_size=1, max_size=6), min_size=1, max_size=8),
    st.sampled_from([",", ";", "\t"]),
)
def test_arbitrary_csv_text_never_crashes(rows: list[list[str]], delimiter: str) -> None:
    body = "\n".join(delimiter.join(f'"{cell}"' if '"' not in cell else cell for cell in row) for row in rows)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "in.csv"
        path.write_text("order" + delimiter + "refund_mode\n" + body, encoding="utf-8")
        try:
            table = read_input([path])
        except InputError:
            return
        _every_row_valid_or_refused(validate_table(table, Defaults()), table)


@SETTINGS
@given(st.lists(HEADER, min_size=1, max_size=6, unique=True), st.data(), st.booleans())
def test_every_row_ends_valid_or_with_a_problem(
    headers: list[str], data: st.DataObject, decimal_comma: bool
) -> None:
    rows = data.draw(st.lists(st.lists(CELL, min_size=len(headers), max_size=len(headers)), max_size=6))
    frame = pd.DataFrame(
        rows, columns=[C.match_header(h) or f"x{i}" for i, h in enumerate(headers)], dtype=object
    )
    frame = frame.loc[
        :, [c in C.COLUMNS for c in frame.columns] & ~frame.columns.duplicated()
    ]  # as the reader does
    frame.index = pd.Index(range(2, len(rows) + 2), name="row")
    table = InputTable(frame=frame, source="t", sha256="", header_row=1, decimal_comma=decimal_comma)
    _every_row_valid_or_refused(validate_table(table, Defaults()), table)


@SETTINGS
@given(CELL, st.booleans())
def test_cell_parsers_return_a_value_or_bad(text: str, decimal_comma: bool) -> None:
    amount = parse.parse_amount(text, decimal_comma)
    assert amount is None or isinstance(amount, parse.Bad) or amount > 0
    assert isinstance(parse.parse_order(text), parse.OrderRef | parse.Bad)
    assert isinstance(parse.parse_lines(text), tuple)


def _every_row_valid_or_refused(result, table: InputTable) -> None:
    refused_file = any(p.kind in {"missing_column", "no_rows", "duplicate_column"} for p in result.problems)
    with_problem = {(p.source, p.row) for p in result.problems}
    valid = {(row.source, row.row) for row in result.rows}
    assert not valid & with_problem
    if not refused_file and not table.problems:
        assert len(valid) + len(with_problem - {("", table.header_row)}) == len(table.frame)
    assert result.valid == len(result.rows)
