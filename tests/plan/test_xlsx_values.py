"""plan.xlsx read back: every amount is the plan's exact Decimal at its currency's decimals, every note the
text as typed, whatever it starts with."""

from __future__ import annotations

import random
import re
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from pipeline import currencies
from pipeline.models import Action, Reason, RefundMode
from pipeline.plan.decide import decide, needs_quote
from pipeline.plan.facts import OrderFacts
from pipeline.plan.files import action_row, write_plan_files
from pipeline.plan.model import Plan, PlannedRow
from pipeline.plan.quote import RefundQuote, SuggestedTransaction
from pipeline.reports.cells import money_plain
from pipeline.validate.rows import OrderRow

RUN = "20261130-100000-values"
ROWS = 2_000
CURRENCIES = ("EUR", "JPY", "KWD", "USD")
# Text a spreadsheet would run: each must read back as typed (SPEC §8).
NOTES = ('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "=1+1", "#N/A", "plain", "")
HYPERLINK_ROW = 2


def _planned(number: int, rng: random.Random) -> PlannedRow:
    currency = CURRENCIES[number % len(CURRENCIES)]
    places = currencies.decimals(currency)
    # The awkward amounts: the smallest unit, sums past a float's 15 digits of cents, plain ones.
    units = rng.choice((1, 10**places, rng.randrange(1, 10**9), 99_999_999_999_99, rng.randrange(1, 10**6)))
    paid = D(units).scaleb(-places)
    partial = number % 3 == 0
    row = OrderRow(
        row=number,
        order=f"#{100_000 + number}",
        order_name=f"#{100_000 + number}",
        order_key=str(100_000 + number),
        order_gid=None,
        mode=RefundMode.ORIGINAL,
        action=Action.REFUND_ONLY if partial else Action.CANCEL,
        amount=paid if partial else None,
        currency=None,
        lines=(),
        shipping=not partial,
        restock=False,
        notify=False,
        reason=Reason.INVENTORY,
        note=NOTES[number % len(NOTES)] if number != HYPERLINK_ROW else '=HYPERLINK("x")',
    )
    facts = OrderFacts(
        id=f"gid://shopify/Order/{6_100_000_000_000 + number}",
        name=row.order_name,
        test=False,
        cancelled_at=None,
        financial_status="PAID",
        fulfillment_status="UNFULFILLED",
        presentment_currency=currency,
        shop_currency=currency,
        updated_at="2026-11-29T10:00:00Z",
        total_refunded=D(0),
        net_payment=paid,
        customer_id=f"gid://shopify/Customer/{number}",
        email=f"customer{number}@example.com",
        can_notify=True,
        units=1,
    )
    quote = None
    if needs_quote(row, facts):
        card = SuggestedTransaction(
            f"gid://shopify/OrderTransaction/{number}", "shopify_payments", "SUGGESTED_REFUND", paid, paid
        )
        quote = RefundQuote(amount=paid, maximum_refundable=paid, transactions=(card,))
    return decide(row, [facts], quote, run_id=RUN)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    rng = random.Random(12)
    rows = [_planned(number, rng) for number in range(2, ROWS + 2)]
    plan = Plan(run_id=RUN, rows=rows, created_at="2026-11-30T10:00:00Z", shop="values.myshopify.com",
                api_version="2026-07", input_name="values.csv", input_sha256="0" * 64)  # fmt: skip
    files = write_plan_files(plan, tmp_path_factory.mktemp("values"))
    return plan, load_workbook(files.xlsx)["Actions"]


def _places(number_format: str) -> int:
    decimals = re.match(r"#,##0(?:\.(0+))?", number_format)
    assert decimals, number_format
    return len(decimals.group(1) or "")


def test_every_amount_reads_back_as_the_plans_decimal_text(written):
    plan, sheet = written
    expected = [action_row(row) for row in plan.rows if row.action]
    assert len(expected) == ROWS
    lines = sheet.iter_rows(min_row=3, max_row=ROWS + 2)
    header = [cell.value for cell in sheet[2]]
    checked = 0
    for line, row in zip(lines, expected, strict=True):
        assert line[0].value == row["row"]
        for key, title in (("paid", "Paid"), ("amount", "To refund"), ("kept", "Kept")):
            if row[key] is None:
                continue
            cell = line[header.index(title)]
            assert cell.data_type == "n"
            places = _places(cell.number_format)
            assert places == currencies.decimals(str(row["currency"])), cell.number_format
            text = f"{D(repr(cell.value)):.{places}f}"
            assert text == money_plain(row[key], str(row["currency"])), (row["row"], key)
            checked += 1
    assert checked >= 2 * ROWS


def test_a_note_that_is_a_formula_reads_back_as_its_literal_text(written):
    plan, sheet = written
    column = [cell.value for cell in sheet[2]].index("Note")
    by_row = {line[0].value: line[column] for line in sheet.iter_rows(min_row=3, max_row=ROWS + 2)}
    note = by_row[HYPERLINK_ROW]
    assert (note.value, note.data_type) == ('=HYPERLINK("x")', "s")
    notes = {row.row: row.action.note for row in plan.rows if row.action}
    assert set(notes.values()) == set(NOTES)
    for number, typed in notes.items():
        cell = by_row[number]
        assert cell.value == (typed or None), number
        if typed:
            assert cell.data_type == "s", number
