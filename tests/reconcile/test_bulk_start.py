"""When reconcile's bulk engine starts its reads (SPEC §15): the orders' query before the plan's rows are
read (plan.json's head spans the orders), the balance transactions' query as soon as that one completes
and before its file is read; nothing for a plan that no longer matches its seal; a plan.json whose
head does not span the orders (written before it did) read as it always was; the files the rows alone
make written while the balance query runs, the rest once the payouts are read."""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pipeline.errors import RefusedError, TieOutError
from pipeline.plan.files import load_plan, write_plan_files
from pipeline.plan.head import plan_span
from pipeline.reconcile import reconciler
from pipeline.reconcile.payouts import NOTHING_TO_TIE, read_payouts, start_balance_read
from pipeline.reconcile.reconciler import RunReads, reconcile_run
from pipeline.shopify.bulk import BulkOperations
from pipeline.shopify.client import ShopifyClient
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import settings
from tests.reconcile.runs import executed
from tests.simulator.factory import FakeClock


class Recording(httpx.BaseTransport):
    """The simulator's transport, noting what each request was, in order."""

    def __init__(self, sim, events: list[str]) -> None:
        self.inner, self.events = SimulatorTransport(sim), events

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        if request.method == "GET":
            self.events.append("file")
        elif b"bulkOperationRunQuery" in body:
            self.events.append("balance query" if b"balanceTransactions" in body else "orders query")
        else:
            self.events.append("call")
        return self.inner.handle_request(request)


def test_the_orders_query_starts_before_the_rows_are_read_the_balance_one_before_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    paced = reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim), engine="paced")
    events: list[str] = []

    def load(run: Path) -> object:
        events.append("rows read")
        return load_plan(run)

    monkeypatch.setattr(reconciler, "load_plan", load)
    result = reconcile_run(run_dir, settings(), transport=Recording(sim, events), engine="bulk")
    assert events.index("orders query") < events.index("rows read")  # the head spans the orders
    assert events.count("rows read") == 1
    assert events.index("rows read") < events.index("balance query") < events.index("file")
    assert events.count("balance query") == 1 and events.count("file") == 2  # the orders', the balances'
    assert result.reconciliation.counts() == paced.reconciliation.counts() and result.all_matched
    assert result.orders_read == len({a.order_id for a in load_plan(run_dir).actions()})


def test_a_plan_that_no_longer_matches_its_seal_reads_nothing(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=10)
    plan_json = run_dir / "plan.json"
    data, count = re.subn(rb'"highest_id": (\d+)', rb'"highest_id": \g<1>0', plan_json.read_bytes(), count=1)
    assert count == 1 and plan_span(run_dir) is not None  # the head still reads: only the seal refuses it
    plan_json.write_bytes(data)
    events: list[str] = []
    with pytest.raises(RefusedError, match=r"does not match plan\.sha256"):
        reconcile_run(run_dir, settings(), transport=Recording(sim, events), engine="bulk")
    assert events == []


def test_a_plan_whose_head_does_not_span_its_orders_is_read_as_before(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    paced = reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim), engine="paced")
    plan_json = run_dir / "plan.json"
    data, count = re.subn(rb'\n  "orders": \{[^}]*\},', b"", plan_json.read_bytes(), count=1)
    assert count == 1
    plan_json.write_bytes(data)
    (run_dir / "plan.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  plan.json\n")
    assert plan_span(run_dir) is None
    events: list[str] = []
    result = reconcile_run(run_dir, settings(), transport=Recording(sim, events), engine="bulk")
    assert events.count("orders query") == 1 and events.count("balance query") == 1
    assert result.reconciliation.counts() == paced.reconciliation.counts() and result.all_matched


class Starts:
    """A stand-in for BulkOperations that notes the bulk reads begun."""

    def __init__(self) -> None:
        self.begun: list[str] = []

    def begin(self, document: str, variables: dict) -> object:
        self.begun.append(document)
        return object()


def test_the_balance_read_starts_ahead_only_when_the_plan_gives_money_back(tmp_path: Path) -> None:
    _sim, run_dir = executed(tmp_path, rows=20)
    plan = load_plan(run_dir)
    assert plan.totals_by_currency_and_method()
    giving = Starts()
    RunReads(run_dir).start_balance(giving)  # type: ignore[arg-type]
    assert giving.begun == ["BalanceTransactionsBulk"]
    moving = [r for r in plan.rows if r.action and any(s.money_moved for s in r.action.steps)]
    quiet = replace(plan, rows=[r for r in plan.rows if r not in moving])
    (tmp_path / "quiet").mkdir()
    write_plan_files(quiet, tmp_path / "quiet")
    assert not load_plan(tmp_path / "quiet").totals_by_currency_and_method()
    none = Starts()
    RunReads(tmp_path / "quiet").start_balance(none)  # type: ignore[arg-type]
    assert none.begun == []


def test_a_balance_read_started_ahead_that_no_refund_needs_is_cancelled(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=20)  # Shopify Payments refunds: balance transactions to export
    clock = FakeClock()  # the shop's time stands still and only polls do bulk work: the read runs on
    clock.now = sim.api.store.now()
    sim.api.store.clock = clock
    sim.api.bulk.settings.background = False
    since = load_plan(run_dir).since
    with ShopifyClient(settings(), SimulatorTransport(sim)) as client:
        operations = BulkOperations(client, SimulatorTransport(sim))
        started = start_balance_read(operations, since)
        operations.close()
    assert started is not None
    queries = [op for op in sim.api.bulk.operations.values() if op.type == "QUERY"]
    assert [op.status for op in queries] in (["CREATED"], ["RUNNING"])
    paid = read_payouts(settings(), [], since, transport=SimulatorTransport(sim), bulk=True, started=started)
    assert paid.note == NOTHING_TO_TIE and paid.points > 0  # the cancel's points are counted
    assert [op.status for op in queries] in (["CANCELING"], ["CANCELED"])


LATER = ("reconciliation.xlsx", "refund_transactions.csv", "report.html")


class FilesAtBalance(Recording):
    """Notes which files the reconcile folder holds when the balance transactions' file is asked for;
    `fail`: that request fails instead (an error no read catches)."""

    def __init__(self, sim, run_dir: Path, fail: bool = False) -> None:
        super().__init__(sim, [])
        self.run_dir, self.fail, self.seen = run_dir, fail, None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.events.count("file") == 1:  # the orders' file came first
            (folder,) = self.run_dir.glob("reconcile-*")
            self.seen = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
            if self.fail:
                raise RuntimeError("lost")
        return super().handle_request(request)


def test_the_files_the_rows_make_are_written_while_the_balance_query_runs(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=30)
    paced = reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim), engine="paced")
    for old in run_dir.glob("reconcile-*"):
        shutil.rmtree(old)
    watching = FilesAtBalance(sim, run_dir)
    result = reconcile_run(run_dir, settings(), transport=watching, engine="bulk")
    assert watching.seen is not None and "customers.csv" in watching.seen
    assert "reconciliation.csv" in watching.seen and "refund_transactions.csv" not in watching.seen
    assert "reconciliation.xlsx" not in watching.seen  # its Payouts and Summary sheets wait for the payouts
    assert result.reconciliation.counts() == paced.reconciliation.counts()
    (folder,) = run_dir.glob("reconcile-*")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*watching.seen, *LATER])


def test_a_reconcile_that_fails_before_the_payouts_leaves_no_folder_of_its_own(tmp_path: Path) -> None:
    sim, run_dir = executed(tmp_path, rows=10)
    watching = FilesAtBalance(sim, run_dir, fail=True)
    with pytest.raises(RuntimeError, match="lost"):
        reconcile_run(run_dir, settings(), transport=watching, engine="bulk")
    assert watching.seen == ["customers.csv", "reconciliation.csv"]  # written, then taken back
    assert list(run_dir.glob("reconcile-*")) == [] and not (run_dir / "reconciliation.xlsx").exists()


def test_a_reconcile_that_fails_while_its_query_runs_cancels_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, run_dir = executed(tmp_path, rows=10)
    clock = FakeClock()  # the shop's time stands still and only polls do bulk work: the query runs on
    clock.now = sim.api.store.now()
    sim.api.store.clock = clock
    sim.api.bulk.settings.background = False

    def broken(_run: Path) -> object:
        raise RefusedError("the journal is not this run's")

    monkeypatch.setattr(reconciler, "load_plan", broken)
    with pytest.raises(RefusedError, match="not this run's"):
        reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim), engine="bulk")
    queries = [op.status for op in sim.api.bulk.operations.values() if op.type == "QUERY"]
    assert queries in (["CANCELING"], ["CANCELED"])  # not left holding one of the shop's five slots


def test_a_balance_read_started_ahead_is_cancelled_when_the_reconcile_fails_before_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, run_dir = executed(tmp_path, rows=10)
    clock = FakeClock()  # the shop's time moves only with the client's waits: nothing else ends a query
    clock.now = sim.api.store.now()
    sim.api.store.clock = clock
    sim.api.bulk.settings.background = False
    options = {"sleep": clock.advance, "clock": lambda: clock().timestamp()}

    def untied(*_args: object, **_kwargs: object) -> object:
        raise TieOutError("refunded EUR: rows 1 ≠ transactions and cards 2")

    monkeypatch.setattr(reconciler, "Reports", untied)
    with pytest.raises(TieOutError):
        reconcile_run(
            run_dir, settings(), transport=SimulatorTransport(sim), engine="bulk", bulk_options=options
        )
    queries = {op.query: op.status for op in sim.api.bulk.operations.values() if op.type == "QUERY"}
    (balance,) = [status for text, status in queries.items() if "balanceTransactions" in text]
    assert balance in ("CANCELING", "CANCELED") and len(queries) == 2
