"""Reconciliation against the in-process simulator: statuses, files, totals that tie out, cost."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.execute.executor import execute_run
from pipeline.plan.files import load_plan
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.simulator.refunds import write_refund
from pipeline.simulator.server import SimulatorServer
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import TOKEN, make_run, settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}
FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def executed(tmp_path, seed=3, rows=60, settle=True, before=None, url="http://127.0.0.1:1"):
    sim = simulator(orders=120, seed=seed)
    if settle:  # klarna refunds settle at once: a clean run has nothing pending
        sim.api.store.refund_settle_delay = dt.timedelta(0)
    run_dir = make_run(tmp_path, sim, rows=rows, seed=seed, url=url)
    if before:
        before(sim, load_plan(run_dir))
    execute_run(run_dir, settings(url), transport=SimulatorTransport(sim), runner_options=FAST)
    return sim, run_dir


def reconciled(sim, run_dir):
    return reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim))


def store_order(sim, action):
    return sim.api.store.orders[int(action["order_id"].rsplit("/", 1)[1])]


def actions(run_dir, kind=None, method=None):
    found = []
    for row in load_plan(run_dir)["rows"]:
        action = row["action"]
        if action and any(
            (kind is None or s["kind"] == kind) and (method is None or s["method"] == method)
            for s in action["steps"]
        ):
            found.append(action)
    return found


def by_order(result, action):
    return next(r for r in result.reconciliation.rows if r.order_id == action["order_id"])


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_clean_run_is_all_matched_and_cheap(tmp_path):
    sim, run_dir = executed(tmp_path)
    points = sim.stats.points_spent
    result = reconciled(sim, run_dir)
    counts = result.reconciliation.counts()
    executable = len(actions(run_dir))
    assert counts["matched"] == executable > 20, [r.detail for r in result.reconciliation.exceptions]
    assert counts["blocked"] + counts["skipped"] + executable == len(load_plan(run_dir)["rows"])
    assert result.all_matched
    spent = sim.stats.points_spent - points
    assert spent == result.points and spent / executable <= 15  # SPEC §12
    rows = read_csv(run_dir / "reconciliation.csv")
    assert len(rows) == len(load_plan(run_dir)["rows"])
    assert {"row", "order_name", "order_id", "status", "detail"} <= set(rows[0])


def test_a_refund_altered_after_execution_is_a_mismatch(tmp_path):
    sim, run_dir = executed(tmp_path)
    victim = actions(run_dir, kind="refund", method="original")[0]
    order = store_order(sim, victim)
    ours = order.refunds[-1]
    transaction = next(t for t in order.transactions if t.id in ours.transaction_ids)
    transaction.amount -= Decimal("1.00")  # someone changed it, or the gateway took less
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "mismatch" and "planned" in row.detail
    assert not result.all_matched
    exceptions = load_workbook(run_dir / "reconciliation.xlsx", read_only=True)["Exceptions"]
    assert any(victim["order_name"] in [c for c in line] for line in exceptions.iter_rows(values_only=True))


def test_a_second_refund_is_a_duplicate(tmp_path):
    sim, run_dir = executed(tmp_path)
    victim = actions(run_dir, kind="cancel", method="original")[0]
    order = store_order(sim, victim)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal("5.00"))], None)
    result = reconciled(sim, run_dir)
    row = by_order(result, victim)
    assert row.status == "duplicate" and "2 refunds since the plan, 1 planned" in row.detail
    extra = [t for t in read_csv(run_dir / "refund_transactions.csv") if t["origin"] == "not planned"]
    assert len(extra) == 1 and Decimal(extra[0]["amount"]) == Decimal("5.00")


def test_a_klarna_refund_still_pending_is_pending(tmp_path):
    sim, run_dir = executed(tmp_path, settle=False)
    result = reconciled(sim, run_dir)
    pending = [r for r in result.reconciliation.rows if r.status == "pending"]
    assert pending and all("klarna" in r.detail for r in pending)
    statuses = {t.status for t in result.reconciliation.transactions if t.gateway == "klarna"}
    assert statuses == {"PENDING"}
    assert all(r.pending > 0 and r.refunded == 0 for r in pending)


def test_failed_and_drifted_steps_are_reported_as_such(tmp_path):
    def spoil(sim, plan):
        drift = next(r["action"] for r in plan["rows"] if r["action"])
        store_order(sim, drift).updated_at += dt.timedelta(minutes=5)
        gift = next(
            r["action"]
            for r in plan["rows"]
            if r["action"]
            and r["action"] is not drift
            and any(s["kind"] == "gift_card" for s in r["action"]["steps"])
        )
        step = next(s for s in gift["steps"] if s["kind"] == "gift_card")
        del sim.api.store.customers[int(step["customer_id"].rsplit("/", 1)[1])]  # giftCardCreate refuses
        spoiled.extend([drift, gift])

    spoiled: list = []
    sim, run_dir = executed(tmp_path, before=spoil)
    result = reconciled(sim, run_dir)
    drifted, failed = (by_order(result, a) for a in spoiled)
    assert drifted.status == "drifted" and "updated_at" in drifted.detail
    assert failed.status == "failed" and "customer could not be found" in failed.detail
    rows = {r["order_id"]: r for r in read_csv(run_dir / "reconciliation.csv")}
    assert rows[spoiled[0]["order_id"]]["status"] == "drifted"
    assert rows[spoiled[1]["order_id"]]["status"] == "failed"


def test_the_workbook_has_its_sheets_formats_totals_and_inert_text(tmp_path):
    def hostile_customer(sim, plan):
        for customer in sim.api.store.customers.values():
            customer.first_name = FORMULA

    sim, run_dir = executed(tmp_path, before=hostile_customer)
    result = reconciled(sim, run_dir)
    book = load_workbook(run_dir / "reconciliation.xlsx")
    assert book.sheetnames == ["Summary", "Orders", "Exceptions", "Refund transactions"]
    orders = book["Orders"]
    header = [c.value for c in orders[1]]
    assert orders.freeze_panes == "A2" and orders.auto_filter.ref
    col = {title: i for i, title in enumerate(header)}
    lines = list(orders.iter_rows(min_row=2))
    sums: dict[tuple[str, str], Decimal] = {}
    formats = set()
    for line in lines:
        refunded = line[col["Refunded"]]
        if line[col["Method"]].value and refunded.value is not None:
            key = (line[col["Currency"]].value, line[col["Method"]].value)
            sums[key] = sums.get(key, Decimal(0)) + Decimal(str(refunded.value))
            formats.add((line[col["Currency"]].value, refunded.number_format))
    assert ("EUR", '#,##0.00 "EUR"') in formats
    assert all(f'"{code}"' in fmt for code, fmt in formats)
    # The Summary's per currency and method totals equal the sums of the Orders rows.
    summary = [[c.value for c in line] for line in book["Summary"].iter_rows()]
    start = next(
        i for i, line in enumerate(summary) if line[0] == "Planned vs refunded per currency and method"
    )
    head = summary[start + 1]
    totals = {}
    for line in summary[start + 2 :]:
        if not line[0]:
            break
        totals[(line[0], line[1])] = Decimal(str(line[head.index("Refunded")]))
    assert totals == {k: v for k, v in sums.items()} and len(totals) >= 3
    # The hostile name is text in the workbook and in customers.csv, never a formula.
    names = [line[col["Customer"]] for line in lines if line[col["Customer"]].value]
    assert names and all(c.data_type == "s" and c.value.startswith(FORMULA) for c in names)
    people = read_csv(run_dir / "customers.csv")
    named = [p["name"] for p in people if p["name"]]
    assert named and all(name.startswith("'=HYPERLINK") for name in named)
    assert {"email", "name", "orders", "what_was_done", "amount", "method", "money_arrives"} <= set(people[0])
    arrivals = " ".join(p["money_arrives"] for p in people)
    assert "per the card issuer" in arrivals and "at once" in arrivals
    # refund_transactions.csv adds up to the settled refunds of the run, per currency.
    txs = read_csv(run_dir / "refund_transactions.csv")
    assert txs and {
        "transaction_id",
        "gateway",
        "status",
        "amount",
        "currency",
        "shop_amount",
        "action_key",
    } <= set(txs[0])
    per_currency: dict[str, Decimal] = {}
    for t in txs:
        if t["status"] == "SUCCESS":
            per_currency[t["currency"]] = per_currency.get(t["currency"], Decimal(0)) + Decimal(t["amount"])
    for code, amount in per_currency.items():
        rows = [r for r in result.reconciliation.rows if r.currency == code]
        assert amount == sum((r.refunded - r.gift_card_value for r in rows), Decimal(0))


@pytest.fixture
def served(monkeypatch):
    sim = simulator(orders=120, seed=3)
    sim.api.store.refund_settle_delay = dt.timedelta(0)
    server = SimulatorServer(sim, port=0)
    server.start_background()
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("SHOPIFY_SHOP", raising=False)
    yield sim, server
    server.shutdown()
    server.server_close()


def test_the_command_prints_counts_and_exits_by_exceptions(tmp_path, served):
    sim, server = served
    run_dir = make_run(tmp_path, sim, rows=30, seed=3, url=server.url)
    execute_run(run_dir, settings(server.url), transport=SimulatorTransport(sim), runner_options=FAST)
    runner = CliRunner()
    clean = runner.invoke(cli, ["reconcile", str(run_dir), "--json"])
    assert clean.exit_code == 0, clean.output
    assert '"matched"' in clean.output and "report.html" in clean.output
    victim = actions(run_dir, kind="cancel", method="original")[0]
    order = store_order(sim, victim)
    parent = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE"))
    write_refund(sim.api.store, order, [], Decimal(0), [(parent, Decimal("1.00"))], None)
    dirty = runner.invoke(cli, ["reconcile", str(run_dir)])
    assert dirty.exit_code == 1
    assert "duplicate 1" in dirty.output and "report:" in dirty.output


def test_a_small_bucket_gets_calls_sized_to_fit(tmp_path):
    sim, run_dir = executed(tmp_path, seed=4, rows=80)
    # A shop whose bucket holds 150 points: a 250-id read (about 450 points) could never run.
    sim.bucket = type(sim.bucket)(150, 5000)
    result = reconciled(sim, run_dir)
    assert result.all_matched and result.orders_read > 40
    # Only the calls too big for the bucket were refused (they cannot run at any pace), then split.
    assert 0 < sim.stats.throttled <= 4
