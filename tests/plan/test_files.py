"""The five plan files: plan.json is exactly the plan, the hash guards it, the views tie out and are safe."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.errors import RefusedError
from pipeline.models import Action, RefundMode
from pipeline.plan.decide import decide
from pipeline.plan.files import load_plan, plan_bytes, verify_plan_hash, write_plan_files
from pipeline.plan.head import plan_head, plan_span
from pipeline.plan.model import OrderSpan, Plan, PlannedAction
from pipeline.plan.quote import QuotedLine
from pipeline.reports.cells import from_csv_text
from tests.plan.test_decide import CARD, RUN, make_facts, make_quote, make_row, plan_one

HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'


def facts(number: int, currency: str = "EUR", **changes: object):
    return make_facts(
        id=f"gid://shopify/Order/{number}", name=f"#{number}", presentment_currency=currency, **changes
    )


def jpy_quote(amount: int):
    card = replace(CARD, amount=D(amount), maximum_refundable=D(amount))
    return make_quote(amount=D(amount), maximum_refundable=D(amount), transactions=(card,))


def build_plan() -> Plan:
    lines = (QuotedLine("gid://shopify/LineItem/1", "BC-01M", 2, 2),)
    usd = facts(1003, "USD", net_payment=D("30.0"))
    return Plan(
        run_id=RUN,
        rows=[
            # cancel refunding everything to the card, 3 units restocked, note that looks like a formula
            plan_one(make_row(notify=True, restock=True, note=HYPERLINK), facts(1001)),
            # cancel without refund, then exactly the amount (never counted twice)
            plan_one(make_row(row=3, amount=D("20.5"), note="Rückerstattung"), facts(1002)),
            # cancel refunding everything as store credit, USD
            plan_one(make_row(row=4, mode=RefundMode.STORE_CREDIT, notify=True), usd),
            # cancel without refund, then a gift card
            plan_one(make_row(row=5, mode=RefundMode.GIFT_CARD, amount=D(5)), facts(1004)),
            # cancel, no refund
            plan_one(make_row(row=6, mode=RefundMode.NONE), facts(1005)),
            # cancel with lines restocked by the refund: 2 units
            plan_one(
                make_row(row=7, lines=(("BC-01M", 2),), restock=True),
                facts(1006),
                make_quote(amount=D("30.0"), lines=lines, transactions=(replace(CARD, amount=D(30)),)),
            ),
            # refund only, JPY, to the card
            plan_one(
                make_row(row=8, action=Action.REFUND_ONLY, amount=D(1200)),
                facts(1007, "JPY", net_payment=D(5400)),
                jpy_quote(5400),
            ),
            # refund only, store credit and gift card (sent to the customer)
            plan_one(
                make_row(row=9, action=Action.REFUND_ONLY, mode=RefundMode.STORE_CREDIT, amount=D(10)),
                facts(1008),
            ),
            plan_one(
                make_row(
                    row=10, action=Action.REFUND_ONLY, mode=RefundMode.GIFT_CARD, amount=D(7), notify=True
                ),
                facts(1009, "USD"),
            ),
            # blocked: not found, as written with a leading `+`; exceeds refundable; skipped: already done
            decide(make_row(row=11, order="+1001", order_name="+1001"), [], None, run_id=RUN),
            plan_one(make_row(row=12, amount=D(99)), facts(1010)),
            plan_one(
                make_row(row=13, mode=RefundMode.NONE), facts(1011, cancelled_at="2026-11-02T08:00:00Z")
            ),
        ],
        created_at="2026-11-05T09:30:00Z",
        shop="demo.myshopify.com",
        api_version="2026-07",
        input_name="stockout é.csv",
        input_sha256="ab" * 32,
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan()


@pytest.fixture(scope="module")
def files(plan, tmp_path_factory):
    return write_plan_files(plan, tmp_path_factory.mktemp("run"))


def test_the_plan_built_covers_every_case(plan):
    kinds = {tuple(str(step.kind) for step in row.action.steps[1:]) for row in plan.rows if row.action}
    assert kinds >= {("cancel", "tag"), ("cancel", "refund", "tag"), ("cancel", "gift_card", "tag")}
    assert {("refund", "tag"), ("gift_card", "gift_card_notify", "tag")} <= kinds
    assert plan.counts_by_decision() == {"execute": 9, "skip": 1, "blocked": 2}
    assert {str(row.reason) for row in plan.rows if row.action is None} == {
        "not_found",
        "exceeds_refundable",
        "already_done",
    }


# --- plan.json and plan.sha256 --------------------------------------------------------------------


def test_plan_json_is_exactly_to_json_serialised_deterministically(plan, files, tmp_path):
    data = files.json.read_bytes()
    assert json.loads(data) == plan.to_json()
    lines = data.decode("utf-8").splitlines()
    assert lines[:2] == ["{", f'  "run_id": "{plan.run_id}",'] and lines[-2:] == ["  ]", "}"]
    rows = [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("    {")]
    assert rows == plan.to_json()["rows"]  # one row a line
    assert "stockout é.csv" in data.decode("utf-8")  # not \u00e9
    steps = [step for row in json.loads(data)["rows"] if row["action"] for step in row["action"]["steps"]]
    assert {step["amount"] for step in steps} >= {"50.00", "20.50", "1200", "5.00"}  # strings, exact
    again = write_plan_files(build_plan(), tmp_path)
    assert again.json.read_bytes() == data and again.digest == files.digest


def test_plan_sha256_is_in_sha256sum_format_and_verifies(files):
    digest = hashlib.sha256(files.json.read_bytes()).hexdigest()
    assert files.sha256.read_bytes() == f"{digest}  plan.json\n".encode()
    assert files.digest == digest and verify_plan_hash(files.json.parent)
    if shutil.which("sha256sum"):
        done = subprocess.run(["sha256sum", "-c", "plan.sha256"], cwd=files.json.parent, capture_output=True)
        assert done.returncode == 0, done.stderr


def test_load_plan_returns_the_approved_plan_typed(plan, files):
    loaded = load_plan(files.json.parent)
    assert loaded == plan and loaded.to_json() == plan.to_json()


def test_plan_head_is_the_plan_without_rows_and_never_reads_them(plan, tmp_path):
    written = write_plan_files(plan, tmp_path)
    span = plan.order_span()  # the head counts the actions' orders and spans their ids
    numbers = [int(a.order_id.rsplit("/", 1)[1]) for a in plan.actions()]
    assert span == OrderSpan(len(set(numbers)), min(numbers), max(numbers))
    assert plan_head(tmp_path) == replace(load_plan(tmp_path), rows=[])
    assert plan_span(tmp_path) == span
    text = written.json.read_text(encoding="utf-8")
    head = text.split('  "rows": [', 1)[0]
    written.json.write_text(head + '  "rows": [not json at all', encoding="utf-8")
    assert plan_head(tmp_path) == replace(plan, rows=[])  # the rows are never parsed
    assert plan_span(tmp_path) == span


def test_plan_head_of_another_layout_reads_the_whole_plan(plan, tmp_path):
    write_plan_files(plan, tmp_path)
    document = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    flat = json.dumps(document).encode()  # one line: no head to read apart
    (tmp_path / "plan.json").write_bytes(flat)
    (tmp_path / "plan.sha256").write_text(f"{hashlib.sha256(flat).hexdigest()}  plan.json\n")
    assert plan_head(tmp_path).rows == plan.rows
    assert plan_span(tmp_path) is None  # no head to read apart: the rows say


def test_a_hashed_document_that_is_not_a_plan_is_refused(plan, tmp_path):
    document = plan.to_json()
    del document["rows"][0]["action"]["steps"][0]["idempotency_key"]
    data = json.dumps(document).encode()
    (tmp_path / "plan.json").write_bytes(data)
    (tmp_path / "plan.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  plan.json\n")
    with pytest.raises(RefusedError, match="is not a plan"):
        load_plan(tmp_path)


def test_a_one_byte_edit_is_refused(plan, tmp_path):
    written = write_plan_files(plan, tmp_path)
    data = bytearray(written.json.read_bytes())
    at = data.index(b'"50.00"') + 1
    data[at] = ord("9")  # 50.00 → 90.00
    written.json.write_bytes(bytes(data))
    assert verify_plan_hash(tmp_path) is False
    with pytest.raises(RefusedError, match=r"plan\.json does not match plan\.sha256"):
        load_plan(tmp_path)


@pytest.mark.parametrize("name", ["plan.json", "plan.sha256"])
def test_a_missing_file_is_refused_naming_it(plan, tmp_path, name):
    write_plan_files(plan, tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(RefusedError, match=re.escape(name) + " is missing"):
        load_plan(tmp_path)


def test_a_garbled_hash_file_is_refused(plan, tmp_path):
    write_plan_files(plan, tmp_path)
    (tmp_path / "plan.sha256").write_text("not a digest\n")
    with pytest.raises(RefusedError, match=r"plan\.sha256"):
        verify_plan_hash(tmp_path)


# --- plan.xlsx ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book(files):
    return load_workbook(files.xlsx)


def table(sheet) -> list[dict]:
    """A sheet's table: its first line is the banner (the seal), its second the header."""
    rows = list(sheet.iter_rows(values_only=True))[1:]
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if any(row[1:])]


def summary_block(book, title: str) -> list[dict]:
    rows = list(book["Summary"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title) + 1
    header, out = rows[start], []
    for row in rows[start + 1 :]:
        if row[0] is None:
            break
        out.append(dict(zip(header, row, strict=False)))
    return out


def summary_value(book, label: str):
    return next(row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0] == label)


def test_xlsx_has_the_three_sheets_frozen_and_filtered(book, plan):
    assert book.sheetnames == ["Summary", "Actions", "Blocked"]
    for name, count in (("Actions", 9), ("Blocked", 3)):
        sheet = book[name]
        assert sheet.freeze_panes == "A3"
        assert sheet.auto_filter.ref == f"A2:{sheet.cell(2, sheet.max_column).column_letter}{count + 2}"
        assert len(table(sheet)) == count
    blocked = table(book["Blocked"])
    assert [row["Reason code"] for row in blocked] == ["not_found", "exceeds_refundable", "already_done"]


def test_xlsx_amounts_carry_their_currency_format(book):
    header = [cell.value for cell in book["Actions"][2]]
    amount, currency = header.index("To refund"), header.index("Currency")
    rows = book["Actions"].iter_rows(min_row=3, max_row=11)
    formats = {row[currency].value: row[amount].number_format for row in rows}
    assert formats["EUR"] == '#,##0.00 "EUR"' and formats["JPY"] == '#,##0 "JPY"'
    assert formats["USD"] == '#,##0.00 "USD"'


def test_summary_totals_equal_the_sums_of_the_actions_rows_and_the_plan(book, plan):
    sums: dict[tuple[str, str], D] = {}
    counts: dict[tuple[str, str], int] = {}
    for row in table(book["Actions"]):
        if row["To refund"] is not None:
            key = (row["Currency"], row["Method"])
            sums[key] = sums.get(key, D(0)) + D(str(row["To refund"]))
            counts[key] = counts.get(key, 0) + 1
    totals = summary_block(book, "Totals per currency and method")
    summary = {(r["Currency"], r["Method"]): D(str(r["To refund"])) for r in totals}
    orders = {(r["Currency"], r["Method"]): r["Orders"] for r in totals}
    assert summary == sums == plan.totals_by_currency_and_method()
    assert orders == counts
    # the refunding cancel counts once, the cancel-then-refund once, the JPY refund keeps no decimals
    assert summary[("EUR", "original")] == D("50.00") + D("20.50") + D("30.00")
    assert summary[("JPY", "original")] == D(1200) and summary[("USD", "gift_card")] == D(7)


def test_summary_figures(book, plan):
    decisions = {r["Decision"]: r["Rows"] for r in summary_block(book, "Rows per decision")}
    assert decisions == {"execute": 9, "skip": 1, "blocked": 2}
    assert summary_value(book, "Customers to be notified") == plan.customers_notified() == 1
    restocked = sum(row["Units to restock"] for row in table(book["Actions"]))
    assert summary_value(book, "Units to restock") == plan.units_to_restock() == restocked == 5
    assert summary_value(book, "Input sha256") == "ab" * 32
    assert summary_value(book, "Run id") == RUN and summary_value(book, "API version") == "2026-07"


def test_actions_describe_the_steps_in_words(book):
    steps = {row["Order"]: row["Steps"] for row in table(book["Actions"])}
    assert steps["#1001"] == "claim → cancel and refund 50.00 EUR to the original payment → tag"
    assert steps["#1002"] == "claim → cancel (no refund) → refund 20.50 EUR to the original payment → tag"
    assert steps["#1003"] == "claim → cancel and refund 30.00 USD as store credit → tag"
    assert (
        steps["#1004"]
        == "claim → cancel (no refund) → gift card of 5.00 EUR (not sent: code in gift_card_codes.csv) → tag"
    )
    assert steps["#1009"] == "claim → gift card of 7.00 USD → send the gift card to the customer → tag"
    assert steps["#1005"] == "claim → cancel (no refund) → tag"
    assert steps["#1007"] == "claim → refund 1,200 JPY to the original payment → tag"
    assert steps["#1008"] == "claim → refund 10.00 EUR as store credit → tag"


def test_dangerous_text_is_stored_as_text(book):
    note = next(row for row in book["Actions"].iter_rows(min_row=3) if row[1].value == "#1001")[-1]
    assert (note.value, note.data_type) == (HYPERLINK, "s")
    order = next(row[1] for row in book["Blocked"].iter_rows(min_row=3) if row[0].value == 11)
    assert (order.value, order.data_type) == ("+1001", "s")


# --- plan.csv and plan.html -----------------------------------------------------------------------


def test_csv_has_every_row_flat_and_safe_text(files):
    with files.csv.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert {"row", "order", "order_name", "order_id", "decision", "reason", "method", "amount", "currency",
            "steps", "message"} <= rows[0].keys()  # fmt: skip
    assert [row["row"] for row in rows] == [str(n) for n in range(2, 14)]
    assert [row["decision"] for row in rows].count("execute") == 9
    by_row = {row["row"]: row for row in rows}
    assert by_row["2"]["note"] == "'" + HYPERLINK and from_csv_text(by_row["2"]["note"]) == HYPERLINK
    assert by_row["11"]["order"] == "'+1001" and by_row["11"]["reason"] == "not_found"
    assert (by_row["8"]["amount"], by_row["8"]["currency"]) == ("1200", "JPY")
    assert by_row["3"]["note"] == "Rückerstattung"


def test_html_is_self_contained_with_headlines_and_charts(files, plan):
    page = files.html.read_text(encoding="utf-8")
    headline = dict(re.findall(r'<span class="label">([^<]*)</span><span class="value">([^<]*)</span>', page))
    assert headline["Orders to cancel"] == "6" and headline["Orders to refund only"] == "3"
    assert (headline["Rows blocked"], headline["Rows skipped"]) == ("2", "1")
    assert headline["To refund (EUR)"] == "115.50 EUR"  # 100.00 original + 5.00 gift card + 10.00 credit
    assert headline["To refund (JPY)"] == "1,200 JPY" and headline["To refund (USD)"] == "37.00 USD"
    assert headline["Customers notified"] == str(plan.customers_notified())
    assert page.count("<svg") == 4  # one chart per currency, and decisions
    assert "HYPERLINK(&#34;http://evil.example" in page  # shown as text, escaped
    assert not re.search(r"<script|<link|<iframe|<img|@import|\bsrc=", page, re.IGNORECASE)
    assert not re.search(r"""(?:href|xlink:href)=["'](?!#)|url\((?!#)""", page)


def test_files_that_would_not_tie_out_are_never_written(plan, tmp_path):
    row = next(row for row in plan.rows if row.action and len(row.action.steps[1:]) == 3)
    cancel, refund, tag = row.action.steps[1:]  # a second refund by another method: one row, two methods
    mixed = (cancel, refund, replace(refund, method=RefundMode.STORE_CREDIT), tag)
    broken = replace(row, action=PlannedAction(**{**_fields(row.action), "steps": mixed}))
    with pytest.raises(ValueError, match="tie out"):
        write_plan_files(replace(plan, rows=[broken]), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plan_bytes_end_with_one_newline(plan):
    assert plan_bytes(plan).endswith(b"}\n") and not plan_bytes(plan).endswith(b"\n\n")


def _fields(action: PlannedAction) -> dict:
    return {name: getattr(action, name) for name in PlannedAction.__slots__}


def test_a_gift_card_not_sent_is_warned_in_the_summary_and_the_summary_sheet(plan, book):
    from pipeline.plan.summary import summary_json, summary_lines

    assert plan.unsent_gift_cards() == 1  # row 5 says nothing about notify: the default is no here
    assert any(line.startswith("  warning: 1 gift card not sent:") for line in summary_lines(plan))
    assert summary_json(plan, Path("run"))["gift_cards_not_sent"] == 1
    assert summary_value(book, "Gift cards not sent (codes in gift_card_codes.csv)") == 1


@pytest.mark.parametrize("rows", [0, 1, 999, 1_000, 1_001, 2_500])
def test_plan_json_is_the_row_per_line_document_whatever_the_chunking(plan, rows):
    """Rows are encoded a thousand at a time: the bytes are still one row a line, commas between."""
    many = replace(plan, rows=[plan.rows[index % len(plan.rows)] for index in range(rows)])
    head = many.head_json()
    assert "rows" not in head and ("orders" in head) == bool(many.actions())
    lines = [f"    {json.dumps(row.to_json(), ensure_ascii=False)}" for row in many.rows]
    body = '  "rows": []\n' if not lines else '  "rows": [\n' + ",\n".join(lines) + "\n  ]\n"
    expected = json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ",\n" + body + "}\n"
    assert plan_bytes(many) == expected.encode()
    assert json.loads(plan_bytes(many)) == many.to_json()
