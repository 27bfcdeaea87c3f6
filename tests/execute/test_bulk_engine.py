"""The bulk write engine (SPEC §15) against the simulator in process, its clock moved by the polls:
every planned step exactly once in the ledger, through FAILED operations and lost start answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from pipeline.execute.executor import ExecutionResult, execute_run
from pipeline.plan.files import load_plan
from pipeline.plan.model import Plan
from pipeline.plan.planner import plan_input
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.shopify.client import load_document
from pipeline.simulator.bulk import BulkSettings
from pipeline.simulator.cancel import order_cancel
from pipeline.simulator.faults import FaultSpec
from pipeline.simulator.handler import Simulator, SimulatorConfig
from pipeline.simulator.resolvers import ShopApi
from pipeline.simulator.seed import seed_store, write_input_file
from pipeline.simulator.transport import SimulatorTransport
from pipeline.validate.check import validate_table
from pipeline.validate.read import read_input
from pipeline.validate.rows import Defaults
from tests.harness import assert_ledger_matches_plan, make_run, settings
from tests.simulator.factory import FakeClock

FAST = {"cancel_wait": 0.3, "poll": 0.01}


def cancel_by_hand(sim: Simulator, order_id: str) -> None:
    """Someone cancels the order in the admin, refunding nothing."""
    variables = {
        "orderId": order_id,
        "staffNote": "by hand",
        "reason": "OTHER",
        "restock": False,
        "notifyCustomer": False,
        "refundMethod": {"originalPaymentMethodsRefund": False},
    }
    order_cancel(sim.api.store, variables)


def cancelling_at_read(
    sim: Simulator, clock: FakeClock, order_id: str, nth: int
) -> tuple[httpx.BaseTransport, list[str]]:
    """A transport to the simulator through which another hand cancels `order_id` as the engine
    starts its `nth` bulk read; with the list of the reads seen."""
    inner = SimulatorTransport(sim)
    reads: list[str] = []

    class AnotherHand(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if b"bulkOperationRunQuery" in request.read():
                reads.append("read")
                if len(reads) == nth:
                    # The shop's clock started before planning: stamp the cancel after the plan.
                    clock.now = max(clock.now, dt.datetime.now(dt.UTC))
                    cancel_by_hand(sim, order_id)
            return inner.handle_request(request)

    return AnotherHand(), reads


def bulk_simulator(orders: int, seed: int = 7, faults: str = "") -> tuple[Simulator, FakeClock]:
    """A shop whose bulk work follows a fake clock that the engine's polls move (no background thread)."""
    clock = FakeClock()
    clock.now = dt.datetime.now(dt.UTC)  # the plan and reconcile stamp real time: the shop starts there
    store = seed_store(orders=orders, seed=seed, clock=clock)
    store.refund_settle_delay = dt.timedelta(0)  # pending refunds settle at once: reconcile can match
    api = ShopApi(store, cancel_delay=0.0, bulk=BulkSettings(rate=200, query_rate=2000, background=False))
    # A large bucket: planning and reconciling here are paced, and pacing is the governor's tests' business.
    config = SimulatorConfig(faults=FaultSpec.parse(faults), bucket=20000, restore_rate=5000)
    return Simulator(api, config), clock


def run_bulk(run_dir: Path, sim: Simulator, clock: FakeClock, transport: Any = None) -> ExecutionResult:
    return execute_run(
        run_dir,
        settings(),
        transport=transport or SimulatorTransport(sim),
        runner_options=FAST,
        engine="bulk",
        bulk_options={"sleep": clock.advance, "clock": lambda: clock().timestamp()},
    )


def operations(run_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        return db.execute("SELECT kind, operation_id, status FROM bulk_operations ORDER BY seq").fetchall()


def mutations(sim: Simulator) -> list[Any]:
    return [op for op in sim.api.bulk.operations.values() if op.type == "MUTATION"]


def test_a_2000_order_bulk_run_does_every_planned_step_once_one_operation_per_kind(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=2600)
    run_dir = make_run(tmp_path, sim, rows=2000)
    result = run_bulk(run_dir, sim, clock)
    plan = load_plan(run_dir)
    assert result.all_done and result.counts["done"] == len(plan.actions()) > 1500
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])
    assert reconcile_run(run_dir, settings(), transport=SimulatorTransport(sim)).all_matched
    kinds = [kind for kind, _id, status in operations(run_dir) if status == "finished"]
    order = ["claim", "cancel", "refund", "gift_card", "gift_card_notify", "tag"]
    assert kinds == sorted(kinds, key=order.index) and len(kinds) == len(set(kinds)) >= 4
    assert kinds[0] == "claim" and kinds[-1] == "tag"
    assert len(mutations(sim)) == len(kinds)
    # The paced API was used only to start and poll: a few points per operation, not per order.
    before = len(sim.api.ledger_json()["entries"])
    assert run_bulk(run_dir, sim, clock).all_done  # nothing left: nothing sent
    assert len(sim.api.ledger_json()["entries"]) == before


def test_a_failed_operation_has_its_partial_results_applied_and_the_rest_verified(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=300, seed=4)
    run_dir = make_run(tmp_path, sim, rows=200, seed=4)
    inner = SimulatorTransport(sim)
    failed: list[str] = []

    class FailCancels(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.read()) if request.url.path.endswith(".json") else {}
            run_cancels = "bulkOperationRunMutation" in body.get("query", "") and "orderCancel" in str(
                body.get("variables", {}).get("mutation")
            )
            if run_cancels and not failed:
                sim.api.bulk.faults(1.0, 3)  # this operation ends FAILED part way
                try:
                    return inner.handle_request(request)
                finally:
                    sim.api.bulk.faults(0.0, 3)
                    failed.append("cancel")
            return inner.handle_request(request)

    result = run_bulk(run_dir, sim, clock, FailCancels())
    plan = load_plan(run_dir)
    assert failed and result.all_done
    ops = operations(run_dir)
    assert [(k, s) for k, _i, s in ops if k == "cancel"] == [("cancel", "failed"), ("cancel", "finished")]
    bad = next(op for op in mutations(sim) if op.status == "FAILED")
    assert 0 < bad.done < bad.total and bad.partial_data_url  # part way, with partial data
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])


def test_a_lost_answer_to_the_run_call_never_starts_a_second_operation(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=200, seed=5)
    run_dir = make_run(tmp_path, sim, rows=120, seed=5)
    inner = SimulatorTransport(sim)
    lost: list[str] = []

    class LoseRunAnswers(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = inner.handle_request(request)
            if b"bulkOperationRunMutation" in request.content and len(lost) < 3:
                lost.append(re.findall(rb"mutation (\w+)", request.content)[1].decode())
                raise httpx.ReadTimeout("answer lost", request=request)  # applied, answer dropped
            return answer

    result = run_bulk(run_dir, sim, clock, LoseRunAnswers())
    assert len(lost) == 3 and result.all_done
    started = Counter(op.query for op in mutations(sim))
    assert all(n == 1 for n in started.values()), started
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_a_lines_user_error_fails_its_order_only(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=200, seed=6)
    run_dir = make_run(tmp_path, sim, rows=120, seed=6)
    plan = load_plan(run_dir)
    cancelled = [a for a in plan.actions() if any(s.kind.value == "cancel" for s in a.steps)]
    victim = sim.api.store.orders[int(cancelled[0].order_id.rsplit("/", 1)[1])]
    inner = SimulatorTransport(sim)

    class PendingAuthorization(httpx.BaseTransport):
        """Right before the cancels run, the victim gains a pending authorization: orderCancel refuses it."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            body = request.read()
            if b"bulkOperationRunMutation" in body and b"orderCancel" in body:
                first = victim.transactions[0]
                pending = dataclasses.replace(
                    first, id=first.id + 10**9, kind="AUTHORIZATION", status="PENDING"
                )
                if pending not in victim.transactions:
                    victim.transactions.append(pending)
            return inner.handle_request(request)

    result = run_bulk(run_dir, sim, clock, PendingAuthorization())
    assert result.counts["failed"] == 1 and result.counts["done"] == len(plan.actions()) - 1
    applied = [e for e in sim.api.ledger_json()["entries"] if not e["replayed"]]
    victim_gid = cancelled[0].order_id
    assert [e["kind"] for e in applied if e["order_id"] == victim_gid] == ["claim"]  # later kinds skipped
    planned = Counter(s.kind.value for a in plan.actions() for s in a.steps if a.order_id != victim_gid)
    done = Counter(e["kind"] for e in applied if e["order_id"] != victim_gid and e["kind"] in planned)
    assert done["cancel"] == planned["cancel"] and done["tag"] == planned["tag"]
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        failed = db.execute("SELECT kind, error_message FROM steps WHERE state = 'failed'").fetchall()
    assert failed == [("cancel", failed[0][1])] and "authorization" in failed[0][1].lower()


def test_a_schema_1_journal_is_migrated_on_open(tmp_path: Path) -> None:
    from pipeline.execute.journal import Journal

    path = tmp_path / "journal.sqlite"
    with Journal.open(path, "run-1"):
        pass
    with sqlite3.connect(path) as db:  # as a journal written before the bulk engine
        db.execute("DROP TABLE bulk_lines")
        db.execute("DROP TABLE bulk_operations")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    with Journal.open(path, "run-1"):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("2",)
        assert db.execute("SELECT count(*) FROM bulk_operations").fetchone() == (0,)


def test_a_lost_start_answer_finds_our_operation_by_name_not_another_tools_of_the_same_mutation(
    tmp_path: Path,
) -> None:
    from pipeline.shopify.bulk import BulkOperations
    from pipeline.shopify.client import ShopifyClient

    sim, clock = bulk_simulator(orders=200, seed=9)
    run_dir = make_run(tmp_path, sim, rows=100, seed=9)
    planned = {a.order_id for a in load_plan(run_dir).actions()}
    stranger = next(
        f"gid://shopify/Order/{i}"
        for i in sorted(sim.api.store.orders)
        if f"gid://shopify/Order/{i}" not in planned
    )
    inner = SimulatorTransport(sim)
    other = BulkOperations(ShopifyClient(settings(), inner), inner, sleep=clock.advance)
    other_path, _ = other.upload([{"id": stranger, "tags": ["another-tool"]}])
    lost: list[str] = []

    class AnotherToolAtOnce(httpx.BaseTransport):
        """Our tags run is applied, then another tool starts the same mutation, then our answer is lost."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = inner.handle_request(request)
            if b"bulkOperationRunMutation" in request.content and b"tagsAdd" in request.content and not lost:
                lost.append("tags")
                other.run_mutation("TagsAdd", other_path)
                raise httpx.ReadTimeout("answer lost", request=request)
            return answer

    result = run_bulk(run_dir, sim, clock, AnotherToolAtOnce())
    assert lost and result.all_done
    tag_ops = [(i, s) for k, i, s in operations(run_dir) if k == "tag"]
    tags_runs = [op for op in mutations(sim) if "tagsAdd" in op.query]
    assert len(tags_runs) == 2 and all(op.status == "COMPLETED" for op in tags_runs)
    theirs = next(op for op in tags_runs if op.query == load_document("TagsAdd").text)
    assert tag_ops == [(next(op.view()["id"] for op in tags_runs if op is not theirs), "finished")]
    ours = [e for e in sim.api.ledger_json()["entries"] if e["order_id"] != stranger]
    assert_ledger_matches_plan(load_plan(run_dir), ours)


def test_auto_takes_bulk_only_past_the_rule_and_a_bulk_run_stays_bulk(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=120, seed=10)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    small = make_run(tmp_path / "a", sim, rows=40, seed=10)
    options = {"sleep": clock.advance, "clock": lambda: clock().timestamp()}
    transport = SimulatorTransport(sim)
    paced = execute_run(
        small, settings(), transport=transport, runner_options=FAST, engine="auto", bulk_options=options
    )
    assert paced.all_done and operations(small) == []  # 40 orders at 100 points/s: paced, as before
    slow = make_run(tmp_path / "b", sim, rows=30, seed=11)
    # 22 orders × 35 points at half a point a second is more than 15 minutes paced: bulk.
    result = execute_run(
        slow,
        settings(),
        transport=transport,
        runner_options=FAST,
        engine="auto",
        restore_rate=0.5,
        bulk_options=options,
    )
    assert result.all_done and operations(slow)


def test_ctrl_c_while_an_operation_runs_leaves_it_to_the_next_run(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=150, seed=12)
    run_dir = make_run(tmp_path, sim, rows=100, seed=12)
    stop = threading.Event()

    def on_progress(kind: str, _progress: object) -> None:
        if kind == "cancel":
            stop.set()  # Ctrl-C at the first poll of the cancels operation

    options = {"sleep": clock.advance, "clock": lambda: clock().timestamp()}
    first = execute_run(
        run_dir,
        settings(),
        transport=SimulatorTransport(sim),
        runner_options=FAST,
        engine="bulk",
        bulk_options=options,
        stop=stop,
        bulk_progress=on_progress,
    )
    assert first.interrupted and ("cancel", "started") in [(k, s) for k, _i, s in operations(run_dir)]
    assert run_bulk(run_dir, sim, clock).all_done
    assert [k for k, _i, _s in operations(run_dir)].count("cancel") == 1
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_an_order_cancelled_by_another_hand_after_the_claims_is_dropped_from_the_cancels(
    tmp_path: Path,
) -> None:

    sim, clock = bulk_simulator(orders=150, seed=13)
    run_dir = make_run(tmp_path, sim, rows=100, seed=13)
    plan = load_plan(run_dir)
    victim = next(a for a in plan.actions() if any(s.kind.value == "cancel" for s in a.steps))
    # Between the claims and the cancels (at the read before them), someone cancels the victim.
    hand, _reads = cancelling_at_read(sim, clock, victim.order_id, 2)
    result = run_bulk(run_dir, sim, clock, hand)
    assert result.counts["drifted"] == 1 and result.counts["done"] == len(plan.actions()) - 1
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        detail = db.execute("SELECT detail FROM actions WHERE state = 'drifted'").fetchone()[0]
        lines = db.execute(
            "SELECT count(*) FROM bulk_lines JOIN bulk_operations USING (seq) WHERE kind = 'cancel'"
        ).fetchone()[0]
    assert "cancelled by someone else" in detail
    applied = [e for e in sim.api.ledger_json()["entries"] if e["order_id"] == victim.order_id]
    assert [e["kind"] for e in applied if e["kind"] in ("cancel", "tag")] == ["cancel"]  # the other hand's
    assert lines == sum(1 for a in plan.actions() for s in a.steps if s.kind.value == "cancel") - 1


def _two_plans(tmp_path: Path, sim: Simulator, rows: int, seed: int) -> tuple[Path, Path]:
    """Two runs over disjoint orders of one shop: one input written, then split in two."""
    source = tmp_path / "all.csv"
    write_input_file(sim.api.store, source, rows=rows, seed=seed)
    header, *body = source.read_text(encoding="utf-8").splitlines()
    runs = []
    for name, part in (("a", body[: len(body) // 2]), ("b", body[len(body) // 2 :])):
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join([header, *part]) + "\n", encoding="utf-8")
        table = read_input([path])
        checked = validate_table(table, Defaults())
        assert not checked.problems, checked.problems[:3]
        reports = tmp_path / f"reports-{name}"
        runs.append(
            plan_input(table, checked.rows, settings(), reports, transport=SimulatorTransport(sim))[1]
        )
    return runs[0], runs[1]


def test_another_runs_operation_of_the_same_document_is_never_taken_for_ours(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=400, seed=11)
    run_a, run_b = _two_plans(tmp_path, sim, rows=240, seed=11)
    inner = SimulatorTransport(sim)
    stage = ["idle"]

    class OtherRunBetweenStageAndStart(httpx.BaseTransport):
        """Run A does all its work after B staged its refunds file and listed the newest operation."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.read()) if request.url.path.endswith(".json") else {}
            query, sent = body.get("query", ""), json.dumps(body.get("variables", {}))
            if stage[0] == "idle" and "stagedUploadsCreate" in query and "refund.jsonl" in sent:
                stage[0] = "staged"
            elif stage[0] == "staged" and "BulkOperationsActive" in query:
                stage[0] = "listed"  # B's newest_before
            elif stage[0] == "listed":
                stage[0] = "done"
                assert run_bulk(run_a, sim, clock).all_done
            return inner.handle_request(request)

    result = run_bulk(run_b, sim, clock, OtherRunBetweenStageAndStart())
    assert stage[0] == "done" and result.all_done
    ids_a = {op_id for _k, op_id, _s in operations(run_a)}
    ids_b = {op_id for _k, op_id, _s in operations(run_b)}
    assert ids_a and ids_b and not ids_a & ids_b  # each run's lines settled by its own operations only
    # Every staged file was started exactly once.
    assert all(n == 1 for n in Counter(op.source for op in mutations(sim)).values())
    both = [*load_plan(run_a).actions(), *load_plan(run_b).actions()]  # gift cards name no order
    assert_ledger_matches_plan(
        cast(Plan, SimpleNamespace(actions=lambda: both)), sim.api.ledger_json()["entries"]
    )


def test_a_lost_start_answer_still_in_progress_is_waited_for_never_sent_again(tmp_path: Path) -> None:
    sim, clock = bulk_simulator(orders=200, seed=5)
    run_dir = make_run(tmp_path, sim, rows=120, seed=5)
    assert any(s.kind.value == "gift_card" for a in load_plan(run_dir).actions() for s in a.steps)
    inner = SimulatorTransport(sim)
    lost: list[str] = []

    class LoseTheCardsStartWhileItIsProcessed(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = inner.handle_request(request)
            run = b"bulkOperationRunMutation" in request.content
            if run and b"giftCardCreate" in request.content and not lost:
                lost.append("gift cards")
                sim.api.hold_answer(sim.config.in_progress_s)  # its operation appears only later
                raise httpx.ReadTimeout("answer lost", request=request)
            return answer

    result = run_bulk(run_dir, sim, clock, LoseTheCardsStartWhileItIsProcessed())
    assert lost and result.all_done
    clock.advance(3600)  # whatever was started has appeared and run by now
    sim.api.bulk.advance()
    cards = [op for op in mutations(sim) if "giftCardCreate" in op.query]
    assert len(cards) == 1 and cards[0].status == "COMPLETED"
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_a_cancel_line_of_a_failed_operation_whose_job_is_still_queued_is_never_sent_again(
    tmp_path: Path,
) -> None:
    sim, clock = bulk_simulator(orders=300, seed=4)
    sim.api.store.cancel_delay = dt.timedelta(seconds=5)  # shop time; within the cancel wait below
    run_dir = make_run(tmp_path, sim, rows=200, seed=4)
    inner = SimulatorTransport(sim)
    failed: list[str] = []

    def without_partial_data(answer: httpx.Response) -> httpx.Response:
        """A FAILED operation that gives no partial results: none of its lines has an answer."""
        if b'"FAILED"' not in answer.read():
            return answer
        body = answer.json()
        for node in [
            body["data"].get("bulkOperation"),
            *body["data"].get("bulkOperations", {}).get("nodes", []),
        ]:
            if node and node.get("status") == "FAILED":
                node["partialDataUrl"] = None
        return httpx.Response(answer.status_code, headers=answer.headers, json=body)

    class FailCancels(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            content = request.read()
            if b"bulkOperationRunMutation" in content and b"orderCancel" in content and not failed:
                sim.api.bulk.faults(1.0, 3)  # this operation ends FAILED part way
                try:
                    return inner.handle_request(request)
                finally:
                    sim.api.bulk.faults(0.0, 3)
                    failed.append("cancel")
            answer = inner.handle_request(request)
            return without_partial_data(answer) if request.url.path.endswith(".json") else answer

    result = execute_run(
        run_dir,
        settings(),
        transport=FailCancels(),
        runner_options={"cancel_wait": 30.0, "poll": 0.01},
        engine="bulk",
        bulk_options={"sleep": clock.advance, "clock": lambda: clock().timestamp()},
    )
    assert failed and result.all_done
    clock.advance(60)  # every queued cancel job has run
    cancels = [op for op in mutations(sim) if "orderCancel" in op.query]
    assert cancels[0].status == "FAILED" and 0 < cancels[0].done < cancels[0].total
    planned = sum(1 for a in load_plan(run_dir).actions() for s in a.steps if s.kind.value == "cancel")
    assert sum(op.done for op in cancels) == planned  # the lines that ran were read, not sent again
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


class Crash(BaseException):
    """The process dies here (no handler catches a BaseException that is not ours)."""


@pytest.mark.parametrize("gone", ["upload", "operation"])
def test_a_record_whose_upload_or_operation_is_gone_is_closed_unknown_and_its_lines_read(
    tmp_path: Path, gone: str
) -> None:
    sim, clock = bulk_simulator(orders=200, seed=6)
    run_dir = make_run(tmp_path, sim, rows=100, seed=6)
    inner = SimulatorTransport(sim)

    class DieAtTheTags(httpx.BaseTransport):
        """Dies before the tags' start (upload) or while its operation is polled (operation)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            content = request.read()
            tags = [op for op in mutations(sim) if "tagsAdd" in op.query]
            if gone == "upload" and b"bulkOperationRunMutation" in content and b"tagsAdd" in content:
                raise Crash
            if gone == "operation" and tags and b"BulkOperationStatus" in content:
                raise Crash
            return inner.handle_request(request)

    with pytest.raises(Crash):
        run_bulk(run_dir, sim, clock, DieAtTheTags())
    (kind, operation_id, status) = operations(run_dir)[-1]
    assert kind == "tag"
    if gone == "upload":
        assert (operation_id, status) == (None, "staged")
        with sqlite3.connect(run_dir / "journal.sqlite") as db:
            (path,) = db.execute("SELECT staged_path FROM bulk_operations WHERE kind = 'tag'").fetchone()
        uploaded = sim.api.bulk.files.uploaded(path)
        assert uploaded is not None
        uploaded.unlink()  # staged uploads expire
        sim.api.bulk.files._uploaded.pop(path)
    else:
        assert status == "started"
        clock.advance(60)
        sim.api.bulk.advance()  # it ran its lines, then the shop forgot it
        del sim.api.bulk.operations[int(str(operation_id).rsplit("/", 1)[-1])]
    result = run_bulk(run_dir, sim, clock)
    assert result.all_done
    assert ("tag", operation_id, "unknown") in operations(run_dir)
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_after_the_cancels_one_read_verifies_them_and_is_the_refunds_drift_check(tmp_path: Path) -> None:
    """Reads: the drift check, the re-read before the cancels, then one read that settles the cancels
    and serves as the re-read before the refunds (it is taken after the cancels ended): an order that
    another hand cancelled by then is dropped from the refunds."""

    sim, clock = bulk_simulator(orders=150, seed=13)
    run_dir = make_run(tmp_path, sim, rows=100, seed=13)
    plan = load_plan(run_dir)
    victim = next(a for a in plan.actions() if [s.kind.value for s in a.steps][:2] == ["claim", "refund"])
    hand, reads = cancelling_at_read(sim, clock, victim.order_id, 3)  # the read after the cancels
    result = run_bulk(run_dir, sim, clock, hand)
    assert result.counts["drifted"] == 1 and result.counts["done"] == len(plan.actions()) - 1
    assert [kind for kind, _id, _status in operations(run_dir)][:3] == ["claim", "cancel", "refund"]
    assert len(reads) == 3  # no read of its own before the refunds
    applied = [e for e in sim.api.ledger_json()["entries"] if e["order_id"] == victim.order_id]
    assert [e["kind"] for e in applied if e["kind"] in ("cancel", "refund", "tag")] == ["cancel"]
