"""Files as merchants make them (issue 15): ids, currency signs, amounts without an action, notes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.models import Action
from pipeline.validate import parse
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults, Validation


def validate(tmp_path: Path, text: str, name: str = "in.csv") -> Validation:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return validate_table(read_input([path]), Defaults())


@pytest.mark.parametrize(
    ("text", "decimal_comma", "amount", "currency"),
    [
        ("£3.20", False, "3.20", "GBP"),
        ("3,20 €", True, "3.20", "EUR"),
        ("USD 5", False, "5", "USD"),
        ("5 EUR", False, "5", "EUR"),
        ("5 eur", False, "5", "EUR"),
        ("CA$12.50", False, "12.50", "CAD"),
        ("$7", False, "7", "USD"),
        ("1 234,50 €", True, "1234.50", "EUR"),
        ("12.50", False, "12.50", None),
    ],
)
def test_amounts_keep_the_currency_written_with_them(
    text: str, decimal_comma: bool, amount: str, currency: str | None
) -> None:
    assert parse.parse_money(text, decimal_comma) == parse.Money(Decimal(amount), currency, text)


@pytest.mark.parametrize(("text", "kind"), [("5 EUX", "unknown_currency"), ("€5 EUR", "not_a_number")])
def test_a_currency_word_that_is_no_currency_is_refused(text: str, kind: str) -> None:
    parsed = parse.parse_money(text, False)
    assert isinstance(parsed, parse.Bad) and parsed.kind == kind


def test_a_sign_that_disagrees_with_the_currency_column_is_refused(tmp_path: Path) -> None:
    result = validate(
        tmp_path, "order,refund_mode,amount,currency\n#1001,partial,£3.20,EUR\n#1002,partial,3.20 €,EUR\n"
    )
    assert [str(p) for p in result.problems] == [
        'row 2, amount: "£3.20" is in GBP but the currency column says EUR'
    ]


def test_the_written_currency_is_the_rows_currency_when_no_column_gives_one(tmp_path: Path) -> None:
    result = validate(tmp_path, "order,refund_mode,amount\n#1001,partial,£3.20\n#1002,partial,3.20\n")
    assert [(r.amount, r.currency, r.amount_text) for r in result.rows] == [
        (Decimal("3.20"), "GBP", "£3.20"),
        (Decimal("3.20"), None, ""),
    ]


def test_a_zero_decimal_currency_sign_refuses_decimals(tmp_path: Path) -> None:
    result = validate(tmp_path, "order,refund_mode,amount\n#1001,partial,¥12.5\n")
    assert [(p.column, p.kind) for p in result.problems] == [("amount", "too_many_decimals")]


def test_an_amount_without_an_action_refunds_and_leaves_the_order_open(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        "order,refund_mode,amount,lines,action\n"
        "#1001,partial,12.50,,\n"  # amount, no action: refund_only
        "#1002,original,,SKU-1:1,\n"  # lines, no action: refund_only
        "#1003,original,,,\n"  # nothing: cancel
        "#1004,partial,12.50,,cancel\n",  # asked for: cancel
    )
    assert [r.action for r in result.rows] == [
        Action.REFUND_ONLY,
        Action.REFUND_ONLY,
        Action.CANCEL,
        Action.CANCEL,
    ]


def test_without_an_action_column_a_partial_row_is_refund_only(tmp_path: Path) -> None:
    result = validate(tmp_path, "order,refund_mode,amount\n#1001,partial,45.20\n#1002,original,\n")
    assert [r.action for r in result.rows] == [Action.REFUND_ONLY, Action.CANCEL]


def test_an_order_id_column_of_numeric_ids_is_looked_up_by_id(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        "Order ID,refund_mode\n6100000002079,original\ngid://shopify/Order/6100000002080,original\n",
    )
    assert result.ok, result.problems
    assert [(r.order, r.order_gid, r.expected_name) for r in result.rows] == [
        ("6100000002079", "gid://shopify/Order/6100000002079", ""),
        ("gid://shopify/Order/6100000002080", "gid://shopify/Order/6100000002080", ""),
    ]


def test_with_order_and_order_id_both_must_name_the_same_order(tmp_path: Path) -> None:
    result = validate(tmp_path, "Order,Shopify ID,Mode\n#1001,6100000002079,original\n")
    [row] = result.rows
    assert (row.order, row.order_gid, row.expected_name) == (
        "#1001",
        "gid://shopify/Order/6100000002079",
        "#1001",
    )


@pytest.mark.parametrize("header", ["id", "legacy id", "id commande", "order id"])
def test_id_headers_name_the_order_id_column(header: str) -> None:
    from pipeline.validate import columns as C

    assert C.match_header(header) == C.ORDER_ID
    assert "order id" not in C.aliases(C.ORDER)


def test_a_row_with_neither_order_nor_id_is_refused(tmp_path: Path) -> None:
    result = validate(tmp_path, "order id,refund_mode\n6100000002079,original\n,original\n")
    assert [(p.row, p.column, p.kind) for p in result.problems] == [(3, "order_id", "missing_value")]


def test_one_problem_per_cell(tmp_path: Path) -> None:
    result = validate(tmp_path, "order,refund_mode,amount\n#1001,partial,12.5O\n")
    assert [str(p) for p in result.problems] == ['row 2, amount: "12.5O" is not a number']


def test_the_ambiguous_hint_suggests_only_values_valid_in_the_currency(tmp_path: Path) -> None:
    result = validate(tmp_path, 'order,refund_mode,amount,currency\n#1001,partial,"1,234",EUR\n')
    assert [p.problem for p in result.problems] == [
        "is ambiguous: write 1234 (EUR amounts have at most 2 decimals)"
    ]
    kwd = validate(tmp_path, 'order,refund_mode,amount,currency\n#1001,partial,"1,234",KWD\n')
    assert [p.problem for p in kwd.problems] == ["is ambiguous: write 1234 or 1.234"]


@pytest.mark.parametrize("header", ["Notes", "Comments", "Commentaires"])
def test_notes_and_comments_headers_are_the_note(tmp_path: Path, header: str) -> None:
    result = validate(tmp_path, f"order,refund_mode,{header}\n#1001,original,rupture\n")
    assert [r.note for r in result.rows] == ["rupture"]


def test_notes_keep_every_character_but_control_characters(tmp_path: Path) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    result = validate(tmp_path, f'order,refund_mode,note\n#1001,original,"{family} ok\tbye"\n')
    assert [r.note for r in result.rows] == [f"{family} ok bye"]


def export(tmp_path: Path) -> Path:
    from tests.data.make_exports import HEADER_79, Line, Spec, export_csv, export_rows

    specs = [
        Spec("#1001", "6100000001001", [Line("BC-07M", 1), Line("BC-11L", 2)]),
        Spec("#1002", "6100000001002", [Line("BC-07M", 1)]),
    ]
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(export_csv(export_rows(specs, HEADER_79)))
    return path


def test_only_sku_with_a_sku_no_line_has_says_so(tmp_path: Path) -> None:
    from pipeline.errors import InputError
    from pipeline.validate.exports import only_sku

    with pytest.raises(InputError, match=r"orders_export_1.csv: no line has SKU BC-99 \(in 2 orders\)"):
        only_sku(read_input([export(tmp_path)]), ["BC-99"])


def test_a_whole_export_needs_a_default_mode_and_says_what_every_order_gets(tmp_path: Path) -> None:
    from pipeline.models import RefundMode

    table = read_input([export(tmp_path)])
    refused = validate_table(table, Defaults())
    assert [p.problem for p in refused.problems] == [
        "the export has no refund_mode column: give --only-sku SKU to act on some lines, or "
        "--default-mode to cancel every order in it and refund it that way"
    ]
    told = validate_table(table, Defaults(default_mode=RefundMode.STORE_CREDIT))
    assert told.ok and told.warnings == [
        "no --only-sku: every order in the export is cancelled with a full refund to store_credit "
        "(--default-mode)"
    ]


def test_an_order_number_in_the_order_id_column_says_where_it_goes(tmp_path: Path) -> None:
    result = validate(tmp_path, "order id,refund_mode\n#1001,original\n")
    assert [str(p) for p in result.problems] == [
        'row 2, order_id: "#1001" is not a Shopify order id (digits such as 6100000002079, or its gid); '
        "an order number such as #1001 goes in the order column"
    ]


def test_a_shipping_amount_in_another_currency_is_refused(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        "order,refund_mode,amount,shipping\n#1001,partial,12 €,£4.90\n#1002,partial,12 €,4.90 €\n"
        "#1003,original,,£4.90\n",
    )
    assert [str(p) for p in result.problems] == [
        'row 2, shipping: "£4.90" is in GBP but the row\'s amount or currency says EUR'
    ]
    assert [(r.shipping, r.currency) for r in result.rows] == [
        (Decimal("4.90"), "EUR"),
        (Decimal("4.90"), "GBP"),
    ]


def test_a_bare_dollar_sign_is_the_currency_columns_dollar(tmp_path: Path) -> None:
    result = validate(
        tmp_path, "order,refund_mode,amount,currency\n#1001,partial,$5,CAD\n#1002,partial,$5,EUR\n"
    )
    assert [str(p) for p in result.problems] == [
        'row 3, amount: "$5" is in USD but the currency column says EUR'
    ]
    assert [r.currency for r in result.rows] == ["CAD"]
