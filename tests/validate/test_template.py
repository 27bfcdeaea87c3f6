"""`bulkcancel template`: the columns, dropdowns, the example row and the help sheet."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.validate import columns as C
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from pipeline.validate.template import TEMPLATE_COLUMNS, write_template


def test_template_has_every_column_and_dropdowns_for_the_enumerations(tmp_path: Path) -> None:
    book = load_workbook(write_template(tmp_path / "t.xlsx"))
    sheet = book["Orders"]
    assert [cell.value for cell in sheet[1]] == list(TEMPLATE_COLUMNS)
    lists = {str(rule.sqref)[0]: rule.formula1 for rule in sheet.data_validations.dataValidation}
    assert lists == {
        "B": '"original,store_credit,gift_card,none,partial"',
        "C": '"cancel,refund_only"',
        "G": '"yes,no"',
        "H": '"yes,no"',
        "I": '"yes,no"',
        "J": '"customer,inventory,fraud,declined,staff,other"',
    }
    assert sheet.freeze_panes == "A2"
    assert [row[0].value for row in book["Columns"].iter_rows(min_row=2, max_row=13)] == list(C.COLUMNS)


def test_the_example_row_is_valid_except_that_it_must_be_deleted(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    result = validate_table(read_input([path]), Defaults())
    assert [(p.row, p.column, p.kind) for p in result.problems] == [(2, "note", "template_example")]
    sheet = load_workbook(path)["Orders"]
    sheet.delete_rows(2)
    sheet.append(["#1001", "store credit"])
    sheet.parent.save(path)
    assert validate_table(read_input([path]), Defaults()).ok


def test_template_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "cancellations.xlsx"
    result = CliRunner().invoke(cli, ["template", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and str(out) in result.output


def test_a_csv_template_is_a_csv_with_the_header_and_the_example_row(tmp_path: Path) -> None:
    out = tmp_path / "tpl.csv"
    result = CliRunner().invoke(cli, ["template", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(TEMPLATE_COLUMNS)
    assert lines[1].startswith("#1001,original,cancel,")
    problems = validate_table(read_input([out]), Defaults()).problems
    assert [(p.row, p.column, p.kind) for p in problems] == [(2, "note", "template_example")]


def test_a_template_with_another_ending_is_refused_in_one_line(tmp_path: Path) -> None:
    from pipeline.errors import InputError

    out = tmp_path / "tpl.ods"
    try:
        write_template(out)
    except InputError as exc:
        assert str(exc) == "tpl.ods: a template is written as .xlsx or .csv (for example cancellations.xlsx)"
    else:
        raise AssertionError("no error")
    assert not out.exists()
