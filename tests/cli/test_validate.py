"""`bulkcancel validate` as a person runs it: exit codes, the error files, --json, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from tests.validate.test_check import write


def test_validate_command_exits_0_on_a_valid_file_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "order;remboursement;montant\n#1;avoir;12,50\n#2;partiel;3\n")
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "2 rows read, 2 orders: 2 valid, 0 invalid" in result.output
    assert "by refund mode: store_credit 1, original 1" in result.output
    assert not (tmp_path / "out").exists()


def test_validate_command_lists_problems_writes_both_files_and_exits_2(tmp_path: Path) -> None:
    path = write(
        tmp_path, "order,refund_mode,note\n=cmd|' /C calc'!A0,original,\n#2,original,@SUM(1)\n#2,x,\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "row 2, order: \"=cmd|' /C calc'!A0\" is not an order number" in result.output
    assert 'row 4, refund_mode: "x" is not a refund mode' in result.output
    [written] = out.glob("validation_errors-*.csv")
    with written.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    assert records[0] == ["row", "column", "value", "problem", "header", "order"]
    assert [record[:3] for record in records[1:]] == [
        ["2", "order", "=cmd|' /C calc'!A0"],
        ["3", "order", "#2"],
        ["4", "order", "#2"],
        ["4", "refund_mode", "x"],
    ]
    sheet = load_workbook(written.with_suffix(".xlsx")).active
    cell = sheet["C2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)


def test_validate_command_json(tmp_path: Path) -> None:
    path = write(tmp_path, "order\n#1\n#1\n")
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--json", "--default-mode", "none", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert (document["rows"], document["orders"], document["valid"], document["invalid"]) == (2, 1, 0, 1)
    assert [error["row"] for error in document["errors"]] == [2, 3]
    assert document["warnings"] == ["no refund_mode column: every row uses --default-mode none"]


def test_unreadable_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from pipeline.cli import main

    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 8)
    monkeypatch.setattr("sys.argv", ["bulkcancel", "validate", str(junk)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: junk.csv: cannot be read as text") and err.count("\n") == 1


def test_the_error_file_has_the_users_header_and_order_and_is_never_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "Commande;Remboursement;Montant\n#1001;partiel;12,5O\n#1002;avoir;3\n")
    out = tmp_path / "out"
    first = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out)])
    second = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out)])
    assert first.exit_code == second.exit_code == 2
    assert "1 problem written to" in first.output
    files = sorted(out.glob("validation_errors-*.csv"))
    assert len(files) == 2
    with files[0].open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert records == [
        {
            "row": "2",
            "column": "amount",
            "value": "12,5O",
            "problem": "is not a number",
            "header": "Montant",
            "order": "#1001",
        }
    ]


def test_skip_invalid_goes_on_with_the_valid_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "order,refund_mode\n#1001,original\n#1002,x\n#1003,avoir\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["validate", str(path), "--skip-invalid", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert 'row 3, refund_mode: "x" is not a refund mode' in result.output
    assert "--skip-invalid: 1 invalid order left out, 2 valid going on" in result.output
    assert len(list(out.glob("validation_errors-*.csv"))) == 1


def test_skip_invalid_without_any_valid_row_still_refuses(tmp_path: Path) -> None:
    path = write(tmp_path, "order,refund_mode\n#1001,x\n")
    result = CliRunner().invoke(cli, ["validate", str(path), "--skip-invalid", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--skip-invalid: no valid order to go on with" in result.output
