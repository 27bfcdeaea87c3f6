"""Reconciliation for finance (SPEC §8): every movement once, shop-currency totals that tie out, the
currency's decimals, other runs attributed, pending apart, each reconcile kept."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline import currencies
from pipeline.cli import cli
from pipeline.execute.executor import execute_run
from pipeline.plan.keys import action_key
from pipeline.plan.planner import plan_input
from pipeline.reconcile.accounting import accounting_rows
from pipeline.simulator.giftcards import gift_card_create
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.store import ALL_SCOPES, Access
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import make_run, settings
from tests.reconcile.runs import FAST, actions, by_order, executed, read_csv, reconciled, serving, store_order

MOVES = ("REFUND", "GIFT_CARD")


@pytest.fixture
def slow_settling(monkeypatch):
    """The simulator served over HTTP, its Klarna refunds settling two days later."""
    yield from serving(monkeypatch, dt.timedelta(days=2))


def _sums(rows, amount, key="currency"):
    sums: dict[str, Decimal] = {}
    for row in rows:
        if row[amount]:
            sums[row[key]] = sums.get(row[key], Decimal(0)) + Decimal(row[amount])
    return sums


def test_every_movement_is_listed_once_and_the_shop_totals_tie_out(tmp_path):
    sim, run_dir = executed(tmp_path)
    reconciled(sim, run_dir)
    txs = read_csv(run_dir / "refund_transactions.csv")
    ids = [t["transaction_id"] for t in txs]
    assert len(ids) == len(set(ids))
    ledger = [e for e in sim.api.ledger_json()["entries"] if not e["replayed"]]
    money = [e for e in ledger if e["kind"] in ("cancel", "refund", "gift_card") and e["amount"]]
    assert Counter(e["kind"] == "gift_card" for e in money)[True] == sum(
        t["gateway"] == "gift_card" for t in txs
    )
    moved = [t for t in txs if t["kind"] in MOVES and t["status"] == "SUCCESS"]
    assert {t["method"] for t in moved} == {"original", "store_credit", "gift_card"}
    assert len({t["currency"] for t in moved}) >= 2
    by_ledger: dict[str, Decimal] = {}
    for entry in money:
        by_ledger[entry["currency"]] = by_ledger.get(entry["currency"], Decimal(0)) + Decimal(entry["amount"])
    assert _sums(moved, "amount") == by_ledger  # nothing the shop moved is missing, nothing twice
    # Shop-currency totals per currency: reconciliation.csv equals refund_transactions.csv.
    rows = read_csv(run_dir / "reconciliation.csv")
    shop_rows = {k: v for k, v in _sums(rows, "refunded_shop").items() if v}
    assert shop_rows == _sums(moved, "shop_amount")
    # The currency's decimals in every money cell of both files.
    for line in moved:
        for amount, code in (("amount", "currency"), ("shop_amount", "shop_currency")):
            places = len(line[amount].partition(".")[2])
            assert places == currencies.decimals(line[code]), (line[amount], line[code])
    for line in rows:
        if line["planned"]:
            assert len(line["planned"].partition(".")[2]) == currencies.decimals(line["currency"])
    # Settlement words finance acts on.
    manual = [t for t in moved if t["gateway"] == "manual"]
    assert manual and all(t["settlement"].startswith("pay back by hand") for t in manual)
    others = [t for t in moved if t["gateway"] in ("paypal", "klarna")]
    assert others and all(t["settlement"] == "settled outside Shopify Payments" for t in others)


def test_money_moved_by_another_run_is_reported_and_attributed(tmp_path):
    sim, run_dir = executed(tmp_path)
    victim = actions(run_dir, kind="cancel", method="original")[0]
    order = store_order(sim, victim)
    other = action_key("20261201-080000-second", victim.order_id)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal("2.00"))], f"again [{other}]")
    card = {
        "initialAmount": {"amount": "7.00", "currencyCode": order.currency},
        "customerId": f"gid://shopify/Customer/{order.customer_id}" if order.customer_id else None,
        "note": other,
    }
    made = gift_card_create(sim.api.store, card)
    assert not made.errors
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "duplicate" and "run 20261201-080000-second" in row.detail
    theirs = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["action_key"] == other]
    assert {(t["gateway"], t["run_id"], t["origin"]) for t in theirs} == {
        (parent.gateway, "20261201-080000-second", "not planned"),
        ("gift_card", "20261201-080000-second", "not planned"),
    }
    assert sorted(Decimal(t["amount"]) for t in theirs) == [Decimal("2.00"), Decimal("7.00")]


def test_pending_is_apart_and_fails_only_a_strict_reconcile_and_every_reconcile_is_kept(
    tmp_path, slow_settling
):
    sim, server = slow_settling
    run_dir = make_run(tmp_path, sim, rows=40, seed=3, url=server.url)
    execute_run(run_dir, settings(server.url), transport=SimulatorTransport(sim), runner_options=FAST)
    runner = CliRunner()
    lenient = runner.invoke(cli, ["reconcile", str(run_dir)])
    assert lenient.exit_code == 0, lenient.output
    assert "pending:" in lenient.output
    strict = runner.invoke(cli, ["reconcile", str(run_dir), "--strict"])
    assert strict.exit_code == 1
    rows = read_csv(run_dir / "reconciliation.csv")
    assert any(r["status"] == "pending" for r in rows)
    kept = sorted(p for p in run_dir.glob("reconcile-*") if p.is_dir())
    assert len(kept) == 2 and all((k / "refund_transactions.csv").is_file() for k in kept)
    assert (kept[-1] / "report.html").read_bytes() == (run_dir / "report.html").read_bytes()


def test_payouts_are_filled_in_once_the_simulators_payout_time_passes(tmp_path):
    sim, run_dir = executed(tmp_path)
    first = reconciled(sim, run_dir)
    assert first.payout_points > 0 and first.points / len(actions(run_dir)) <= 15  # SPEC §12
    ours = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["gateway"] == "shopify_payments"]
    assert (
        ours and {t["payout_status"] for t in ours} == {"PENDING"} and not any(t["payout_id"] for t in ours)
    )
    assert all(Decimal(t["net"]) == -Decimal(t["shop_amount"]) for t in ours)  # refunds carry no fee
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    sim.api.store.clock = lambda: later  # the daily payouts of the next days are issued and paid
    reconciled(sim, run_dir)
    paid = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["gateway"] == "shopify_payments"]
    assert {t["payout_status"] for t in paid} == {"PAID"}
    assert all(
        t["payout_id"].startswith("gid://shopify/ShopifyPaymentsPayout/") and t["payout_date"] for t in paid
    )
    others = [t for t in paid if t["gateway"] != "shopify_payments"]
    assert not any(t["payout_id"] for t in others)
    sheet = load_workbook(run_dir / "reconciliation.xlsx", read_only=True)["Payouts"]
    lines = [list(line) for line in sheet.iter_rows(values_only=True)]
    head, body = lines[0], [line for line in lines[1:] if line and line[0]]
    payout = body[0]
    assert payout[head.index("Status")] == "PAID"
    assert payout[head.index("Refunds")] == len(paid)
    assert Decimal(str(payout[head.index("Net")])) == sum(Decimal(t["net"]) for t in paid)
    assert all(t["order_name"] in payout[head.index("Orders")] for t in paid)
    outside = {line[0]: line[head.index("Status")] for line in body if str(line[0]).startswith("outside")}
    assert outside["outside Shopify Payments: manual"].startswith("pay back by hand")
    assert outside["outside Shopify Payments: paypal"] == "settled outside Shopify Payments"


def test_without_the_payouts_scope_reconcile_still_writes_and_says_why(tmp_path):
    sim, run_dir = executed(tmp_path)
    sim.api.grant(Access(scopes=tuple(s for s in ALL_SCOPES if "payouts" not in s)))
    before = sim.stats.points_spent
    result = reconciled(sim, run_dir)
    assert result.all_matched and result.payout_points == 1  # the refused answer's point, as the shop counts
    assert result.points == sim.stats.points_spent - before
    assert not any(t.payout for t in result.reconciliation.transactions)
    summary = [
        list(line)
        for line in load_workbook(run_dir / "reconciliation.xlsx")["Summary"].iter_rows(values_only=True)
    ]
    assert ["Payouts", "payouts not read: the token lacks read_shopify_payments_payouts"] in [
        s[:2] for s in summary
    ]


def test_the_accounting_block_ties_out_and_has_a_grand_total_in_the_shop_currency(tmp_path):
    sim, run_dir = executed(tmp_path)
    result = reconciled(sim, run_dir)
    books = accounting_rows(result.reconciliation)
    moved = [t for t in result.reconciliation.transactions if t.moves_money]
    grand = books[-1]
    assert grand["scope"] == "all currencies (EUR)" and grand["currency"] == "EUR"
    for figure, method in (
        ("to_cards", "original"),
        ("store_credit", "store_credit"),
        ("gift_cards", "gift_card"),
    ):
        assert grand[figure] == sum((t.shop_amount.amount for t in moved if t.method == method), Decimal(0))
        for row in books[:-1]:
            own = [
                t.amount.amount for t in moved if t.method == method and t.amount.currency == row["currency"]
            ]
            assert row[figure] == sum(own, Decimal(0))
    assert grand["paid_out"] == grand["to_cards"] + grand["store_credit"] + grand["gift_cards"]
    # A cancel that refunds nothing keeps the payment; one that gives a gift card instead does not.
    plan = {a.order_id: a for a in actions(run_dir)}
    kept_without_refund = []
    for row in result.reconciliation.rows:
        action = plan.get(row.order_id or "")
        if action is None or action.cancel is None or action.cancel.method is not None:
            continue
        kinds = {str(s.kind) for s in action.steps}
        if "gift_card" in kinds:
            assert row.kept == 0, row.order_name
        elif "refund" not in kinds:
            kept_without_refund.append(row.kept)
    assert any(kept > 0 for kept in kept_without_refund)
    assert sum((r.kept for r in result.reconciliation.rows if r.currency == "EUR"), Decimal(0)) == next(
        b["kept"] for b in books if b["scope"] == "EUR orders"
    )


def test_a_refund_by_a_real_second_run_on_a_planned_order_is_reported_and_attributed(tmp_path):
    sim, run_dir = executed(tmp_path)
    # The same order again in a second file, planned with --allow-repeat: a refund-only order of the
    # first run (not cancelled) whose payment still has money to refund.
    candidates = [a for a in actions(run_dir, kind="refund", method="original") if a.cancel is None]
    for number, victim in enumerate(candidates):
        second_input = tmp_path / f"second-{number}.csv"
        second_input.write_text(
            "order,refund_mode,action,amount,notify,reason,note\n"
            f"{victim.order_name},original,refund_only,1.00,no,other,again\n",
            encoding="utf-8",
        )
        table = read_input([second_input])
        validated = validate_table(table, Defaults())
        second, second_dir = plan_input(
            table,
            validated.rows,
            settings(),
            tmp_path / "second-runs",
            allow_repeat=True,
            transport=SimulatorTransport(sim),
        )
        if second.rows[0].action is not None:
            break
    else:
        raise AssertionError("no order of the first run could be planned again")
    execute_run(second_dir, settings(), transport=SimulatorTransport(sim), runner_options=FAST)
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "duplicate" and row.refunds_since_plan == 2, row.detail
    theirs = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["run_id"] == second.run_id]
    assert len(theirs) == 1 and theirs[0]["origin"] == "not planned"
    assert (
        Decimal(theirs[0]["amount"]) == Decimal("1.00")
        and theirs[0]["action_key"] == second.actions()[0].action_key
    )
