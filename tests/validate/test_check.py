"""Validation rules of SPEC §5 on plain values, the summary, and the `validate` command."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipeline.models import Action, Reason, RefundMode
from pipeline.validate import columns as C
from pipeline.validate import parse
from pipeline.validate.check import validate_table
from pipeline.validate.input_table import InputTable
from pipeline.validate.rows import Defaults


def table(*rows: dict[str, str], decimal_comma: bool = False) -> InputTable:
    frame = pd.DataFrame(list(rows), dtype=object).fillna("")
    frame.index = pd.Index(range(2, len(rows) + 2), name="row")
    return InputTable(frame=frame, source="t.csv", sha256="0" * 64, header_row=1, decimal_comma=decimal_comma)


def kinds(*rows: dict[str, str], defaults: Defaults | None = None) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.kind) for p in validate_table(table(*rows), defaults).problems]


@pytest.mark.parametrize(
    ("text", "name", "key", "gid"),
    [
        ("#1001", "#1001", "1001", None),
        ("1001", "1001", "1001", None),
        ("1001.0", "1001", "1001", None),
        ("EU-1001", "EU-1001", "eu-1001", None),
        ("#AP-512187", "#AP-512187", "ap-512187", None),
        ("'#1001", "#1001", "1001", None),
        (" #1001\u200b ", "#1001", "1001", None),
        (
            "gid://shopify/Order/123",
            "gid://shopify/Order/123",
            "gid://shopify/Order/123",
            "gid://shopify/Order/123",
        ),
    ],
)
def test_order_cells_in_every_accepted_shape(text: str, name: str, key: str, gid: str | None) -> None:
    assert parse.parse_order(text) == parse.OrderRef(name, key, gid)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "missing_value"),
        ("#10 01", "not_an_order"),
        ("ABC", "not_an_order"),
        ("6.95478E+12", "scientific_notation"),
        ("6,95478E+12", "scientific_notation"),
        ("#REF!", "excel_error"),
        ("1234567890123456", "not_an_order"),
    ],
)
def test_order_cells_refused_with_their_kind(text: str, kind: str) -> None:
    parsed = parse.parse_order(text)
    assert isinstance(parsed, parse.Bad) and parsed.kind == kind


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("12.50", False, "12.50"),
        ("12,50", False, "12.50"),
        ("12,5", True, "12.5"),
        ("1,234", True, "1.234"),
        ("1 234,56", True, "1234.56"),
        ("1.234,56", True, "1234.56"),
        ("1,234.56", False, "1234.56"),
        ("1.234.567", True, "1234567"),
        ("€12.50", False, "12.50"),
        ("12,50 €", True, "12.50"),
        ("7", False, "7"),
        ("1234,567", False, "1234.567"),
        ("", False, None),
    ],
)
def test_amounts_parse_to_decimal(text: str, decimal_comma: bool, expected: str | None) -> None:
    parsed = parse.parse_amount(text, decimal_comma)
    assert parsed == (Decimal(expected) if expected else None)
    assert parsed is None or str(parsed) == expected


@pytest.mark.parametrize(
    ("text", "decimal_comma", "kind"),
    [
        ("12,5O", True, "not_a_number"),
        ("1,234", False, "ambiguous_number"),
        ("1.234", True, "ambiguous_number"),
        ("0", False, "not_positive"),
        ("-5", False, "not_positive"),
        ("0,00", True, "not_positive"),
        ("1e3", False, "not_a_number"),
        ("12.", False, "not_a_number"),
        ("1,2,3", True, "not_a_number"),
        ("9" * 13, False, "not_a_number"),
        ("=1+1", False, "not_a_number"),
        ("1.234,5.6", False, "not_a_number"),
    ],
)
def test_bad_amounts_have_their_kind(text: str, decimal_comma: bool, kind: str) -> None:
    parsed = parse.parse_amount(text, decimal_comma)
    assert isinstance(parsed, parse.Bad) and parsed.kind == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SKU-1:2", (("SKU-1", 2),)),
        ("A:1; B:3", (("A", 1), ("B", 3))),
        ("A:1,B:2|C:3", (("A", 1), ("B", 2), ("C", 3))),
        ("A:1\nB:1", (("A", 1), ("B", 1))),
        ("X:Y:2", (("X:Y", 2),)),
        ("", ()),
    ],
)
def test_lines_parse(text: str, expected: tuple[tuple[str, int], ...]) -> None:
    assert parse.parse_lines(text) == expected


@pytest.mark.parametrize("text", ["A", ":2", "A:0", "A:-1", "A:1.5", "A:x", "A:1;A:2", "A:100001"])
def test_malformed_lines_are_refused(text: str) -> None:
    assert isinstance(parse.parse_lines(text), parse.Bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Oui", True),
        ("x", True),
        ("VRAI", True),
        ("1", True),
        ("n", False),
        ("Non", False),
        ("0", False),
    ],
)
def test_yes_no_words_in_english_and_french(text: str, expected: bool) -> None:
    assert parse.parse_word(text, C.YES_NO_WORDS, "yes or no") is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oui", True),
        ("non", False),
        ("4,90", parse.Money(Decimal("4.90"), None, "4,90")),
        ("0", False),
        ("", None),
    ],
)
def test_shipping_is_yes_no_or_an_amount(text: str, expected: object) -> None:
    assert parse.parse_shipping(text, True) == expected


def test_a_valid_row_carries_every_parsed_value() -> None:
    result = validate_table(
        table(
            {
                "order": "#1001",
                "refund_mode": "partiel",
                "action": "rembourser",
                "amount": "12,50",
                "currency": "eur",
                "lines": "SKU-1:1",
                "shipping": "non",
                "restock": "oui",
                "notify": "oui",
                "reason": "rupture",
                "note": " Sorry ",
            },
            decimal_comma=True,
        )
    )
    assert result.problems == []
    (row,) = result.rows
    assert row.row == 2 and row.order == "#1001" and row.order_key == "1001"
    assert (row.mode, row.action, row.reason) == (RefundMode.ORIGINAL, Action.REFUND_ONLY, Reason.INVENTORY)
    assert (row.amount, row.currency, row.lines) == (Decimal("12.50"), "EUR", (("SKU-1", 1),))
    assert (row.shipping, row.restock, row.notify, row.note) == (False, True, True, "Sorry")
    assert row.is_partial


def test_blank_cells_take_the_defaults() -> None:
    defaults = Defaults(
        default_mode=RefundMode.STORE_CREDIT, restock=True, notify=True, reason=Reason.CUSTOMER
    )
    result = validate_table(
        table({"order": "#1", "refund_mode": ""}, {"order": "#2", "refund_mode": "none"}), defaults
    )
    first, second = result.rows
    assert (first.mode, first.action, first.restock, first.notify, first.reason) == (
        RefundMode.STORE_CREDIT,
        Action.CANCEL,
        True,
        True,
        Reason.CUSTOMER,
    )
    assert first.shipping is True  # full refund: shipping refunded unless said otherwise
    assert second.mode is RefundMode.NONE and second.shipping is False


def test_shipping_defaults_to_no_for_a_partial_refund() -> None:
    result = validate_table(table({"order": "#1", "refund_mode": "original", "amount": "5"}))
    assert result.rows[0].shipping is False


def test_every_problem_of_every_row_is_reported() -> None:
    assert kinds(
        {"order": "", "refund_mode": "bogus", "amount": "abc", "note": "n" * 300},
        {"order": "#2", "refund_mode": "original", "restock": "maybe", "notify": "?"},
    ) == [
        (2, "order", "missing_value"),
        (2, "refund_mode", "unknown_value"),
        (2, "amount", "not_a_number"),
        (2, "note", "too_long"),
        (3, "restock", "unknown_value"),
        (3, "notify", "unknown_value"),
    ]


def test_duplicates_name_every_other_row() -> None:
    result = validate_table(
        table(*({"order": o, "refund_mode": "original"} for o in ("#1", "1", "#2", "#1.0")))
    )
    assert [(p.row, p.problem) for p in result.problems] == [
        (2, "is the same order as row 3, row 5"),
        (3, "is the same order as row 2, row 5"),
        (5, "is the same order as row 2, row 3"),
    ]
    assert (result.rows_read, result.orders, result.valid, result.invalid) == (4, 2, 1, 1)


def test_amount_decimals_follow_the_currency() -> None:
    assert kinds(
        {"order": "#1", "refund_mode": "original", "amount": "1.5", "currency": "JPY"},
        {"order": "#2", "refund_mode": "original", "amount": "1.505", "currency": "KWD"},
        {"order": "#3", "refund_mode": "original", "amount": "1.505", "currency": "EUR"},
        {"order": "#4", "refund_mode": "original", "amount": "1.5055"},
        {"order": "#5", "refund_mode": "original", "amount": "1.500", "currency": "EUR"},
    ) == [
        (2, "amount", "too_many_decimals"),
        (4, "amount", "too_many_decimals"),
        (5, "amount", "too_many_decimals"),
    ]


def test_problem_prints_as_one_line_with_the_cell_text() -> None:
    result = validate_table(
        table(
            *[{"order": f"#{i}", "refund_mode": "original"} for i in range(12)],
            {"order": "#14", "refund_mode": "original", "amount": "12,5O"},
        )
    )
    assert str(result.problems[0]) == 'row 14, amount: "12,5O" is not a number'


def test_summary_is_the_json_document_of_the_spec() -> None:
    summary = validate_table(
        table({"order": "#1", "refund_mode": "avoir"}, {"order": "#2", "refund_mode": "?"})
    ).summary()
    assert summary == {
        "rows": 2,
        "orders": 2,
        "valid": 1,
        "invalid": 1,
        "errors": [
            {
                "row": 3,
                "column": "refund_mode",
                "value": "?",
                "kind": "unknown_value",
                "problem": "is not a refund mode (original, store_credit, gift_card, none or partial)",
                "header": "",
                "order": "#2",
            }
        ],
        "warnings": [],
        "by_mode": {"store_credit": 1},
        "by_action": {"cancel": 1},
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_gift_card_row_notifies_unless_it_says_no():
    # A gift card's code reaches the customer only through Shopify's notification.
    rows = [
        {"order": "#1", "refund_mode": "gift_card", "notify": ""},
        {"order": "#2", "refund_mode": "gift_card", "notify": "no"},
        {"order": "#3", "refund_mode": "original", "notify": ""},
    ]
    result = validate_table(table(*rows), Defaults())
    assert [row.notify for row in result.rows] == [True, False, False]
    without_column = validate_table(table({"order": "#4", "refund_mode": "gift_card"}), Defaults())
    assert [row.notify for row in without_column.rows] == [True]
