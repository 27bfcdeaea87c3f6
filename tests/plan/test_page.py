"""The seal on every sheet and page; plan.html readable (skipped apart from blocked, the input's sha256,
numbers grouped, a 1,000-row cap pointing to the workbook); the streamed workbook reads back exactly."""

from __future__ import annotations

import csv
import re
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from benchmarks.plan_files import large_plan
from pipeline.plan.files import action_row, blocked_row, seal_of, write_plan_files
from pipeline.reports.chart import Chart, chart_svg, tick
from tests.plan.test_files import build_plan

VIEW = "a view of plan.json: edits here are not read; to change the plan, change the input and plan again"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_plan_files(build_plan(), tmp_path_factory.mktemp("small"))


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<section class="table" id="{element_id}">.*?</section>', page, re.S)
    assert match, f"no {element_id}"
    return match.group(0)


def rows_of(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr[^>]*>.*?</tr>", body)]


def test_the_seal_heads_every_sheet_on_screen_and_on_paper(small):
    seal = seal_of(small.json.parent)
    assert seal == small.digest[:12] == small.seal
    book = load_workbook(small.xlsx)
    assert book.sheetnames == ["Summary", "Actions", "Blocked"]
    for sheet in book.worksheets:
        top = [str(row[0]) for row in sheet.iter_rows(max_row=2, values_only=True)]
        assert any(f"seal {seal}" in line and VIEW in line for line in top), (sheet.title, top)
        assert f"seal {seal}" in sheet.oddHeader.center.text and "&P" in sheet.oddFooter.center.text
    summary = dict(row[:2] for row in book["Summary"].iter_rows(values_only=True))
    assert summary["Plan seal"] == seal and summary["Plan sha256"] == small.digest


def test_plan_html_carries_the_seal_on_every_printed_page_and_the_input_sha256(small):
    page = small.html.read_text(encoding="utf-8")
    seal = small.seal
    banner = re.search(r'<div class="banner" id="banner">([^<]*)</div>', page)
    assert banner and f"seal {seal}" in banner.group(1) and VIEW in banner.group(1)
    assert re.search(r"@media print\{\.banner\{position:fixed", page)  # repeated on each printed page
    details = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", page))
    assert details["Plan seal"] == seal and details["Input sha256"] == "ab" * 32


def test_plan_html_lists_skipped_rows_apart_from_blocked_ones(small):
    page = small.html.read_text(encoding="utf-8")
    blocked = rows_of(section(page, "table-blocked"))
    skipped = rows_of(section(page, "table-skipped"))
    assert [row[0] for row in blocked] == ["11", "12"]
    assert [(row[0], row[3]) for row in skipped] == [("13", "already_done")]
    assert "already_done" not in section(page, "table-blocked")


def test_axes_and_amounts_group_thousands():
    assert [tick(1e6), tick(2_500_000.0), tick(2.5), tick(0.0), tick(-0.0)] == [
        "1,000,000",
        "2,500,000",
        "2.5",
        "0",
        "0",
    ]
    svg = chart_svg(Chart("Amount by method (EUR)", "barh", ["original"], [D("3250000.00")], "EUR"), "c")
    assert "3,250,000.00 EUR" in svg and "1e6" not in svg and not re.search(r">\s*1e\d", svg)
    assert re.search(r">\s*3,000,000\s*<", svg), "the axis is labelled in grouped numbers"


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    plan = large_plan(2_600)
    return plan, write_plan_files(plan, tmp_path_factory.mktemp("large"))


def test_plan_html_shows_the_first_1000_rows_and_points_to_the_workbook(large):
    plan, files = large
    page = files.html.read_text(encoding="utf-8")
    actions = section(page, "table-actions")
    executable = sum(1 for row in plan.rows if row.action)
    assert executable > 1_000 and len(rows_of(actions)) == 1_000
    assert (
        f"Showing the first 1,000 of {executable:,} rows; plan.xlsx (and plan.csv) beside this page "
        "hold every row." in actions
    )
    assert len(page) < 2_000_000  # the summary and 1,000 rows a table, not the whole plan
    headline = re.search(r'Orders to cancel</span><span class="value">([^<]*)<', page)
    assert headline and int(headline.group(1).replace(",", "")) == sum(
        1 for row in plan.rows if row.action and row.action.cancels
    )


def test_the_streamed_workbook_reads_back_with_the_plans_values(large):
    plan, files = large
    book = load_workbook(files.xlsx)
    expected = [action_row(row) for row in plan.rows if row.action]
    sheet = list(book["Actions"].iter_rows(values_only=True))
    header, lines = sheet[1], [line for line in sheet[2:] if isinstance(line[0], int)]
    assert sheet[-1][0].startswith("Paid: what the customer paid")  # the note under the table
    assert len(lines) == len(expected)
    keys = ["row", "order_name", "order_id", "action", "method", "paid", "amount", "kept", "currency",
            "steps", "notify", "restock", "cancel_reason", "note"]  # fmt: skip
    assert list(header)[: len(keys)] == [
        "Row", "Order", "Order id", "Action", "Method", "Paid", "To refund", "Kept", "Currency", "Steps",
        "Notify", "Units to restock", "Cancel reason", "Note",
    ]  # fmt: skip
    for line, row in zip(lines, expected, strict=True):
        for key, value in zip(keys, line, strict=True):
            want = row[key]
            if isinstance(want, D):
                assert D(str(value)) == want, (row["row"], key)
            else:
                assert value == (want if want != "" else None), (row["row"], key)
    refused = [line for line in book["Blocked"].iter_rows(min_row=3, values_only=True) if line[0]]
    assert [line[0] for line in refused] == [blocked_row(r)["row"] for r in plan.rows if not r.action]
    amount = next(cell for cell in book["Actions"][3] if cell.column == 7)
    assert amount.data_type == "n" and amount.number_format in ('#,##0.00 "EUR"', '#,##0.00 "USD"')
    with files.csv.open(encoding="utf-8-sig", newline="") as stream:
        assert sum(1 for _ in csv.DictReader(stream)) == len(plan.rows)
