"""Nothing moves money twice: each retry path meets the case where the first attempt succeeded but its
answer was lost, or another hand got to the order first. Proven on the simulator's ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pipeline.errors import JournalError, RefusedError
from pipeline.execute.approval import check
from pipeline.execute.executor import execute_run
from pipeline.execute.journal import Journal
from pipeline.execute.ours import carries_key
from pipeline.execute.runner import Status, StepRunner
from pipeline.models import RefundMode
from pipeline.plan.files import load_plan
from pipeline.plan.model import Decision, PlannedAction
from pipeline.plan.steps import Step, StepKind
from pipeline.shopify.client import ShopifyClient, load_document
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import assert_ledger_matches_plan, make_run, settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}
IN_PROGRESS = "This request is currently in progress, please try again."
Hook = Callable[[str, dict[str, Any], "Watch"], httpx.Response | None]


class Watch(httpx.BaseTransport):
    """The simulator's transport counting documents sent; a hook plays another hand or loses an answer."""

    def __init__(self, sim: Any, hook: Hook | None = None) -> None:
        self.inner = SimulatorTransport(sim)
        self.hook = hook
        self.sent: Counter[str] = Counter()
        self.request: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        name = re.search(r"^(?:query|mutation) (\w+)", body["query"], re.M)[1]  # type: ignore[index]
        self.sent[name] += 1
        self.request = request
        answer = self.hook(name, body["variables"], self) if self.hook else None
        return answer if answer is not None else self.inner.handle_request(request)

    def forward(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Sends a document of our own to the shop, as another person or tool would."""
        assert self.request is not None
        request = httpx.Request(
            "POST",
            self.request.url,
            headers=self.request.headers,
            json={"query": load_document(name).text, "variables": variables},
        )
        return json.loads(self.inner.handle_request(request).read())


def run(run_dir, transport, **kwargs):
    kwargs.setdefault("runner_options", FAST)
    return execute_run(run_dir, settings(), transport=transport, **kwargs)


def first_action(run_dir, kinds: tuple[str, ...]) -> PlannedAction:
    return next(a for a in load_plan(run_dir).actions() if tuple(str(s.kind) for s in a.steps) == kinds)


def applied(sim, order_id: str) -> list[dict[str, Any]]:
    return [e for e in sim.api.ledger_json()["entries"] if e["order_id"] == order_id and not e["replayed"]]


def action_row(run_dir, action_key: str) -> dict[str, Any]:
    with Journal.open(run_dir / "journal.sqlite", load_plan(run_dir).run_id) as journal:
        return next(r for r in journal.rows_for_report() if r["action_key"] == action_key)


STAFF_CANCEL = {"reason": "STAFF", "restock": False, "staffNote": "cancelled at the counter"}


def staff_cancel(watch: Watch, order_id: str) -> None:
    answer = watch.forward("OrderCancel", {"orderId": order_id, **STAFF_CANCEL})
    assert answer["data"]["orderCancel"]["orderCancelUserErrors"] == []


# --- 1. a slow cancel job---


def test_a_cancel_answered_with_a_job_is_never_sent_again_in_this_run_or_on_resume(tmp_path):
    sim = simulator(orders=60, seed=3, cancel_delay=4.0)
    run_dir = make_run(tmp_path, sim, rows=12, seed=3)
    plan = load_plan(run_dir)
    cancels = sum(1 for a in plan.actions() if a.cancels)
    watch = Watch(sim)
    first = run(run_dir, watch)  # --job-wait 0.3 with 4 s jobs: every cancel is still running
    assert not first.all_done and watch.sent["OrderCancel"] == cancels > 3
    with Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        waiting = [r for r in journal.rows_for_report() if r["kind"] == "cancel"]
    assert all(r["state"] == "sent" and r["job_id"].startswith("gid://shopify/Job/") for r in waiting)
    assert run(run_dir, watch).counts["done"] < len(plan.actions())  # resumed: waits again, sends nothing
    assert watch.sent["OrderCancel"] == cancels
    started = sim.api.store.now()
    sim.api.store.clock = lambda: started + dt.timedelta(seconds=5)  # the jobs are done now
    assert run(run_dir, watch).all_done
    assert watch.sent["OrderCancel"] == cancels and watch.sent["CancelJob"] > 0
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])


def test_the_journal_refuses_to_resend_a_step_answered_with_a_job(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite", "run-1") as journal:
        journal.seed([("a", "gid://shopify/Order/1", "#1", [(0, "cancel", None), (1, "tag", None)])])
        step = journal.pending_work()[0].steps[0]
        step = journal.mark_job_started(journal.mark_sent(step), "gid://shopify/Job/7")
        assert (step.state, step.job_id) == ("sent", "gid://shopify/Job/7")
        with pytest.raises(JournalError, match="never sent again"):
            journal.mark_verified_not_applied(step)
        with pytest.raises(JournalError, match="illegal transition sent → sent"):
            journal.mark_sent(step)
        assert journal.pending_work()[0].steps[0].job_id == "gid://shopify/Job/7"


# --- 2. "already cancelled"---


def test_already_cancelled_on_our_first_attempt_is_drift_and_nothing_more_is_sent(tmp_path):
    sim = simulator(orders=80, seed=7)
    run_dir = make_run(tmp_path, sim, rows=30, seed=7)
    victim = first_action(run_dir, ("claim", "cancel", "refund", "tag"))

    ours = Counter[str]()

    def another_hand(name, variables, watch):
        if name == "OrderCancel" and variables["orderId"] == victim.order_id:
            ours[name] += 1
            if ours[name] == 1:
                staff_cancel(watch, victim.order_id)  # between our drift read and our orderCancel
        return None

    result = run(run_dir, Watch(sim, another_hand))
    assert result.counts["drifted"] == 1
    row = action_row(run_dir, victim.action_key)
    assert row["action_state"] == "drifted" and "cancelled by someone else" in row["action_detail"]
    # Our claim, then the staff's cancel: nothing of ours moved money.
    assert [e["kind"] for e in applied(sim, victim.order_id)] == ["claim", "cancel"]
    assert "cancelled by someone else" in (run_dir / "execution.csv").read_text(encoding="utf-8-sig")


def test_a_lost_cancel_answer_finding_someone_elses_cancel_is_drift(tmp_path):
    sim = simulator(orders=80, seed=7)
    run_dir = make_run(tmp_path, sim, rows=30, seed=7)
    victim = first_action(run_dir, ("claim", "cancel", "refund", "tag"))

    def lose_ours(name, variables, watch):
        if name == "OrderCancel" and variables["orderId"] == victim.order_id:
            staff_cancel(watch, victim.order_id)
            raise httpx.ReadTimeout("answer lost")  # ours never arrives; the read finds a cancel
        return None

    run(run_dir, Watch(sim, lose_ours))
    row = action_row(run_dir, victim.action_key)
    assert row["action_state"] == "drifted" and "staff note is not ours" in row["action_detail"]
    assert [e["kind"] for e in applied(sim, victim.order_id)] == ["claim", "cancel"]


# --- 3. a refund still in progress---


def test_a_refund_still_in_progress_is_resent_with_its_key_and_lands_once(tmp_path, fast_retries):
    sim = simulator(orders=80, seed=7)
    run_dir = make_run(tmp_path, sim, rows=30, seed=7)
    victim = first_action(run_dir, ("claim", "cancel", "refund", "tag"))
    answers = iter(["lost", "in progress"])

    def slow_shop(name, variables, watch):
        if name != "RefundCreate" or variables["input"]["orderId"] != victim.order_id:
            return None
        what = next(answers, "answer")
        if what == "lost":
            watch.inner.handle_request(watch.request)  # applied, but the answer is lost
            raise httpx.ReadTimeout("answer lost")
        if what == "in progress":
            body = {
                "data": {
                    "refundCreate": {"refund": None, "userErrors": [{"field": None, "message": IN_PROGRESS}]}
                }
            }
            return httpx.Response(200, json=body)
        return None

    watch = Watch(sim, slow_shop)
    assert run(run_dir, watch).all_done
    assert watch.sent["RefundCreate"] >= 3
    assert action_row(run_dir, victim.action_key)["action_state"] == "done"
    refunds = [e for e in applied(sim, victim.order_id) if e["kind"] == "refund"]
    assert [e["idempotency_key"] for e in refunds] == [victim.steps[2].idempotency_key]
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


# --- 4. the seal---


def test_an_amount_edited_and_resealed_after_the_run_began_is_refused(tmp_path):
    sim = simulator(orders=80, seed=6)
    run_dir = make_run(tmp_path, sim, rows=40, seed=6)
    stop = threading.Event()
    run(
        run_dir,
        SimulatorTransport(sim),
        stop=stop,
        concurrency=1,
        progress=lambda p: p.finished >= 2 and stop.set(),
    )
    before = sim.api.ledger_json()["entries"]
    text = (run_dir / "plan.json").read_text(encoding="utf-8")
    edited = re.sub(r'"amount": "([0-9]+)\.([0-9]+)"', r'"amount": "1\1.\2"', text)
    assert edited != text
    (run_dir / "plan.json").write_text(edited, encoding="utf-8")
    digest = hashlib.sha256((run_dir / "plan.json").read_bytes()).hexdigest()
    (run_dir / "plan.sha256").write_text(f"{digest}  plan.json\n", encoding="utf-8")
    with pytest.raises(RefusedError, match="different plan from the one this run started with") as refused:
        run(run_dir, SimulatorTransport(sim))
    assert refused.value.exit_code == 3 and "plan again" not in str(refused.value)
    assert sim.api.ledger_json()["entries"] == before


# --- 5. gift cards matched by the whole key---


def test_carries_key_matches_the_whole_token_only():
    assert carries_key("goodwill [bc-run-6100000000049]", "bc-run-6100000000049")
    assert carries_key("bc-run-6100000000049", "bc-run-6100000000049")
    assert not carries_key("goodwill [bc-run-61000000000490]", "bc-run-6100000000049")
    assert not carries_key("bc-run-61000000000490", "bc-run-6100000000049")
    assert not carries_key(None, "bc-run-6100000000049")


def test_a_lost_gift_card_is_found_by_its_exact_key_only(tmp_path):
    sim = simulator(orders=20, seed=5)
    customer = next(iter(sim.api.store.customers))
    customer_id = f"gid://shopify/Customer/{customer}"
    short, long = "bc-run-6100000000049", "bc-run-61000000000490"
    with ShopifyClient(settings(), SimulatorTransport(sim)) as client:
        made = client.execute(
            "GiftCardCreate",
            {
                "input": {
                    "initialAmount": {"amount": "20.00", "currencyCode": "EUR"},
                    "customerId": customer_id,
                    "note": f"goodwill [{long}]",
                }
            },
            mutation=True,
        ).data["giftCardCreate"]
        assert made["userErrors"] == []
        runner = StepRunner(client, **FAST)
        card = Step(
            StepKind.GIFT_CARD, RefundMode.GIFT_CARD, Decimal(20), "EUR", "k", customer_id=customer_id
        )
        assert runner.verify("gid://shopify/Order/1", card, short).status is Status.NOT_APPLIED
        found = runner.verify("gid://shopify/Order/1", card, long)
        assert found.status is Status.DONE and found.ids["gift_card_id"] == made["giftCard"]["id"]


# --- 6. --max-age refuses to start, never to resume -----------------------------------------------


def test_an_interrupted_run_resumes_past_max_age_without_a_second_refund(tmp_path):
    sim = simulator(orders=120, seed=6)
    run_dir = make_run(tmp_path, sim, rows=60, seed=6)
    stop = threading.Event()
    first = run(
        run_dir,
        SimulatorTransport(sim),
        stop=stop,
        concurrency=2,
        progress=lambda p: p.finished >= 5 and stop.set(),
    )
    assert first.interrupted and not first.all_done
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)
    assert run(run_dir, SimulatorTransport(sim), now=lambda: later).all_done
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_a_plan_never_started_is_refused_past_max_age(tmp_path):
    sim = simulator(orders=40, seed=5)
    run_dir = make_run(tmp_path, sim, rows=10, seed=5)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)
    with pytest.raises(RefusedError, match="hours old"):
        run(run_dir, SimulatorTransport(sim), now=lambda: later)
    assert not (run_dir / "journal.sqlite").exists()


# --- 7. re-read before every money step, on resume too --------------------------------------------


def test_a_refund_by_someone_else_between_our_steps_stops_the_action_on_resume(tmp_path):
    sim = simulator(orders=80, seed=7)
    run_dir = make_run(tmp_path, sim, rows=30, seed=7)
    victim = first_action(run_dir, ("claim", "cancel", "refund", "tag"))
    stop = threading.Event()

    def interrupt_after_our_cancel(name, variables, watch):
        if name == "OrderCancel" and variables["orderId"] == victim.order_id:
            stop.set()  # Ctrl-C while our cancel is in flight: it is finished, the refund is not sent
        return None

    watch = Watch(sim, interrupt_after_our_cancel)
    run(run_dir, watch, stop=stop, concurrency=1)
    assert action_row(run_dir, victim.action_key)["action_state"] == "running"
    order = sim.api.store.orders[int(victim.order_id.rsplit("/", 1)[1])]
    paid = next(t for t in order.transactions if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS")
    goodwill = {
        "orderId": victim.order_id,
        "currency": order.presentment_currency,
        "note": "goodwill at the counter",
        "transactions": [
            {
                "orderId": victim.order_id,
                "parentId": f"gid://shopify/OrderTransaction/{paid.id}",
                "gateway": paid.gateway,
                "kind": "REFUND",
                "amount": "1.00",
            }
        ],
    }
    made = watch.forward("RefundCreate", {"input": goodwill, "idempotencyKey": "staff-goodwill-1"})
    assert made["data"]["refundCreate"]["userErrors"] == []
    run(run_dir, watch)
    row = action_row(run_dir, victim.action_key)
    assert (
        row["action_state"] == "drifted" and "refunded by someone else since the plan" in row["action_detail"]
    )
    ours = [
        e for e in applied(sim, victim.order_id) if e["idempotency_key"] == victim.steps[1].idempotency_key
    ]
    assert ours == []


# --- 8. one order twice---


def test_approval_refuses_two_executable_rows_of_one_action_key_naming_both():
    from tests.plan.test_files import build_plan

    plan = build_plan()
    executable = [r for r in plan.rows if r.decision is Decision.EXECUTE]
    twin = dataclasses.replace(executable[0], row=99)
    doubled = dataclasses.replace(plan, rows=[*plan.rows, twin])
    with pytest.raises(RefusedError, match=rf"row {executable[0].row} and row 99 both act on one order"):
        check(
            doubled,
            shop=plan.shop,
            now=dt.datetime(2026, 11, 5, 10, tzinfo=dt.UTC),
            max_age=dt.timedelta(days=1),
        )
