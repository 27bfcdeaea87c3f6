"""What a cancel keeps, in a merchant's own file: said per order, in the summary and in every plan file.

The file is built like a French team's export (semicolons, decimal commas, French headers, one row
with an amount and no action), over orders of a seeded shop: one cancelled keeping most of its
money, one authorized only, one of a guest without email.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.plan.files import seal_of
from pipeline.plan.summary import summary_json, summary_lines
from pipeline.simulator import accounting as acc
from tests.execute.claims_runs import plan_file
from tests.harness import simulator


def _open(store, names: Counter, order) -> bool:
    return (
        names[order.name] == 1
        and not order.test
        and not order.cancelled_at
        and not order.refunds
        and acc.fulfillment_status(order) == "UNFULFILLED"
        and order.presentment_currency == "EUR"
    )


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    sim = simulator(orders=300, seed=7)
    store = sim.api.store
    names = Counter(o.name for o in store.orders.values())
    orders = sorted((o for o in store.orders.values() if _open(store, names, o)), key=lambda o: o.id)
    paid = [o for o in orders if acc.financial_status(o) == "PAID" and o.email and acc.net_payment(o) > 50]
    voided = next(o for o in orders if acc.financial_status(o) in ("AUTHORIZED", "PENDING"))
    guest = next(o for o in orders if acc.financial_status(o) == "PAID" and not o.email and not o.customer_id)
    keeper, open_one = paid[0], paid[1]
    tmp = tmp_path_factory.mktemp("kept")
    source = tmp / "annulations équipe.csv"
    source.write_text(
        "Commande;Opération;Mode de remboursement;Montant;Notifier;Note\n"
        f"{keeper.name};annuler;original;12,50;oui;Rupture fournisseur\n"
        f"{open_one.name};;original;3,20;oui;Geste commercial\n"
        f"{voided.name};annuler;original;;oui;Paiement jamais encaissé\n"
        f"{guest.name};annuler;original;;oui;Client invité\n",
        encoding="utf-8",
    )
    plan, run_dir = plan_file(source, tmp / "reports", sim=sim)
    by_order = {row.action.order_name: row for row in plan.rows if row.action}
    return plan, run_dir, by_order, keeper, open_one, voided, guest


def test_a_cancel_keeping_money_says_so_in_its_message_and_in_the_summary(planned):
    plan, run_dir, rows, keeper, open_one, _voided, _guest = planned
    paid = acc.net_payment(keeper)
    kept = paid - D("12.50")
    row = rows[keeper.name]
    assert row.action.cancels and f"keeps {kept:,.2f} of {paid:,.2f} EUR" in row.message
    # an amount and no action refunds only: the order stays open, so it keeps nothing it must warn of
    assert not rows[open_one.name].action.cancels and "keeps" not in rows[open_one.name].message
    lines = summary_lines(plan, seal_of(run_dir))
    assert f"  cancels keeping money: 1 order, keeps {kept:,.2f} of {paid:,.2f} EUR" in lines
    assert f"  plan seal {seal_of(run_dir)} (on every page of plan.xlsx and plan.html)" in lines
    document = summary_json(plan, run_dir, seal_of(run_dir))
    assert document["kept_by_cancels"] == [
        {"currency": "EUR", "orders": 1, "kept": str(kept), "paid": str(paid)}
    ]


def test_nothing_paid_reads_authorization_voided_and_a_guest_is_not_promised_an_email(planned):
    _plan, _run_dir, rows, _keeper, _open_one, voided, guest = planned
    voided_row = rows[voided.name]
    assert voided_row.message.startswith("cancel (authorization voided, nothing to refund)")
    assert "0.00" not in voided_row.message and "refund 0" not in voided_row.message
    assert "notify the customer" not in rows[guest.name].message
    assert "no email" in rows[guest.name].message


def test_the_actions_sheet_shows_paid_to_refund_and_kept_per_order(planned):
    _plan, run_dir, _rows, keeper, open_one, voided, _guest = planned
    lines = list(load_workbook(run_dir / "plan.xlsx")["Actions"].iter_rows(values_only=True))
    header = lines[1]  # the first line is the seal's banner
    rows = [dict(zip(header, line, strict=True)) for line in lines[2:] if line[0]]
    table = {row["Order"]: row for row in rows}
    paid = acc.net_payment(keeper)
    kept = paid - D("12.50")
    mine = table[keeper.name]
    assert (D(str(mine["Paid"])), D(str(mine["To refund"])), D(str(mine["Kept"]))) == (
        paid,
        D("12.50"),
        paid - D("12.50"),
    )
    assert D(str(table[open_one.name]["Kept"])) == acc.net_payment(open_one) - D("3.20")
    assert table[voided.name]["Steps"] == "claim → cancel (authorization voided, nothing to refund) → tag"
    book = load_workbook(run_dir / "plan.xlsx")
    summary = dict(line[:2] for line in book["Summary"].iter_rows(values_only=True))
    assert summary["Cancels keeping money (EUR)"] == f"1 order, keeps {kept:,.2f} of {paid:,.2f} EUR"


def test_plan_html_shows_paid_to_refund_and_kept(planned):
    _plan, run_dir, _rows, keeper, _open_one, _voided, _guest = planned
    page = (run_dir / "plan.html").read_text(encoding="utf-8")
    paid = acc.net_payment(keeper)
    kept = paid - D("12.50")
    head = re.search(r'<section class="table" id="table-actions">.*?</thead>', page, re.S)
    assert head and re.findall(r"<th[^>]*>([^<]*)</th>", head.group(0))[3:6] == ["Paid", "To refund", "Kept"]
    row = re.search(rf"<tr><td[^>]*>\d+</td><td>{re.escape(keeper.name)}</td>.*?</tr>", page)
    assert row and f"{paid:,.2f} EUR" in row.group(0) and f"{kept:,.2f} EUR" in row.group(0)
    headline = f'Kept by cancelled orders (EUR)</span><span class="value">{kept:,.2f} of {paid:,.2f} EUR'
    assert headline in page


def test_the_files_are_built_like_a_merchants_not_a_sample(planned):
    plan, _run_dir, _rows, *_ = planned
    assert plan.input_name == "annulations équipe.csv" and len(plan.rows) == 4
    assert not Path("inputs", plan.input_name).exists()


def test_a_plan_of_authorizations_only_says_nothing_of_refunding_zero():
    from pipeline.plan.model import Plan
    from tests.plan.test_decide import make_facts, plan_one

    voided = plan_one(facts=make_facts(net_payment=D("0.00"), financial_status="AUTHORIZED"))
    lines = summary_lines(Plan(run_id="r", rows=[voided]))
    assert voided.message.startswith("cancel (authorization voided, nothing to refund)")
    assert not any("to refund" in line or "keeping" in line for line in lines), lines
