"""Nothing moves money twice across runs (SPEC §6, §7a): the shop's claims, read by `plan` and
written once per order by `execute`, proven on the simulator's ledger."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from pipeline.errors import RefusedError
from pipeline.execute.claim import claim_input
from pipeline.execute.executor import execute_run
from pipeline.execute.release import release_run
from pipeline.plan.model import Decision, ReasonCode
from pipeline.plan.summary import summary_lines
from pipeline.reconcile.reconciler import reconcile_run
from pipeline.shopify.client import load_document
from pipeline.simulator.transport import SimulatorTransport
from tests.execute.claims_runs import MODES, outcomes, plain_orders, plan_file, write_modes
from tests.harness import assert_ledger_matches_plan, settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}


def execute(run_dir, sim, **kwargs):
    kwargs.setdefault("runner_options", FAST)
    kwargs.setdefault("transport", SimulatorTransport(sim))
    return execute_run(run_dir, settings(), **kwargs)


def entries(sim, after: int = 0) -> list[dict[str, Any]]:
    return [e for e in sim.api.ledger_json()["entries"] if e["seq"] > after and not e["replayed"]]


def test_plan_again_after_a_run_skips_every_order_naming_the_run_and_moves_nothing(tmp_path):
    sim = simulator(orders=150, seed=11)
    source = write_modes(tmp_path / "modes.csv", plain_orders(sim, len(MODES)))
    first, first_dir = plan_file(source, tmp_path / "runs", sim=sim)
    assert len(first.actions()) == len(MODES), [r.message for r in first.rows if r.action is None]
    assert execute(first_dir, sim).all_done
    assert_ledger_matches_plan(first, entries(sim))
    moved = len(entries(sim))

    again, again_dir = plan_file(source, tmp_path / "runs", sim=sim)
    assert again.actions() == []
    for row in again.rows:
        assert (row.decision, row.reason) == (Decision.SKIP, ReasonCode.ALREADY_DONE), row.message
        assert f"already done by run {first.run_id}" in row.message
    gift = next(r for r in again.rows if r.row == 2 + MODES.index(("cancel", "gift_card", "5.00")))
    assert "cancel, gift card 5.00" in gift.message
    assert execute(again_dir, sim).all_done
    assert len(entries(sim)) == moved  # nothing moved, nothing claimed


def test_allow_repeat_repeats_and_the_plan_says_so(tmp_path):
    sim = simulator(orders=150, seed=12)
    source = write_modes(tmp_path / "modes.csv", plain_orders(sim, len(MODES)))
    first, first_dir = plan_file(source, tmp_path / "runs", sim=sim)
    assert execute(first_dir, sim).all_done
    seen = max(e["seq"] for e in sim.api.ledger_json()["entries"])

    repeat, repeat_dir = plan_file(source, tmp_path / "runs", sim=sim, allow_repeat=True)
    executed = [r for r in repeat.rows if r.decision is Decision.EXECUTE]
    # A cancelled order cannot be cancelled again, and a fully refunded one has nothing left to give.
    partial = [i for i, (action, _, amount) in enumerate(MODES) if action == "refund_only" and amount]
    assert sorted(r.row - 2 for r in executed) == partial
    for row in executed:
        assert row.message.startswith(f"repeats what run {first.run_id} did"), row.message
        assert row.action is not None and row.action.steps[0].compare_digest  # replaces that claim
    assert any(f"repeats what earlier runs did (--allow-repeat): {len(executed)}" in line
               for line in summary_lines(repeat))  # fmt: skip
    assert execute(repeat_dir, sim).all_done
    assert_ledger_matches_plan(repeat, entries(sim, after=seen))
    # Reconciling the first run names the run that moved money on its orders since.
    rows = reconcile_run(first_dir, settings(), transport=SimulatorTransport(sim)).reconciliation.rows
    named = {r.row for r in rows if f"the order is claimed by run {repeat.run_id}" in r.detail}
    assert named == {r.row for r in executed}


def _stop_after_claim(sim, victim_id: str, stop: threading.Event):
    """A transport that loses the victim's first orderCancel (never applied) and asks the run to stop."""
    inner = SimulatorTransport(sim)

    class Lose(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            body = request.read()
            if b"mutation OrderCancel" in body and victim_id.encode() in body and not stop.is_set():
                stop.set()
                raise httpx.ReadTimeout("answer lost")
            return inner.handle_request(request)

    return Lose()


def test_a_stopped_run_holds_its_orders_until_resumed_or_released(tmp_path):
    sim = simulator(orders=150, seed=13)
    orders = plain_orders(sim, 6)
    modes = (("cancel", "original", ""),) * 6
    source = write_modes(tmp_path / "cancel.csv", orders, modes)
    first, first_dir = plan_file(source, tmp_path / "runs", sim=sim)
    victim = first.actions()[0]
    stop = threading.Event()
    stopped = execute(
        first_dir, sim, stop=stop, concurrency=1, transport=_stop_after_claim(sim, victim.order_id, stop)
    )
    assert stopped.interrupted and stopped.counts["running"] == 1

    second, _ = plan_file(source, tmp_path / "runs", sim=sim)
    held = next(r for r in second.rows if r.facts is not None and r.facts.id == victim.order_id)
    assert (held.decision, held.reason) == (Decision.BLOCKED, ReasonCode.CLAIMED)
    assert f"held by run {first.run_id}, which has not finished" in held.message
    assert f"bulkcancel release {first.run_id}" in held.message
    assert [r.decision for r in second.rows].count(Decision.EXECUTE) == 5  # never touched

    assert execute(first_dir, sim).all_done  # the resume completes what it claimed
    assert_ledger_matches_plan(first, entries(sim))


def test_release_frees_the_orders_of_a_stopped_run(tmp_path):
    sim = simulator(orders=150, seed=14)
    orders = plain_orders(sim, 3)
    modes = (("refund_only", "original", "5.00"), ("cancel", "original", ""), ("cancel", "none", ""))
    source = write_modes(tmp_path / "mixed.csv", orders, modes)
    first, first_dir = plan_file(source, tmp_path / "runs", sim=sim)
    victim = first.actions()[1]
    stop = threading.Event()
    execute(first_dir, sim, stop=stop, concurrency=1, transport=_stop_after_claim(sim, victim.order_id, stop))

    shown: list[str] = []
    held, stale = release_run(
        first_dir,
        settings(),
        confirm=lambda held: shown.extend(h.line() for h in held) or True,
        transport=SimulatorTransport(sim),
    )
    assert stale == [] and [h.action.order_id for h in held] == [first.actions()[0].order_id, victim.order_id]
    assert "refund 5.00" in shown[0] and "tagged" in shown[0]  # what Shopify's records say it did
    assert shown[0].endswith("finished, its claim is kept")
    assert shown[1].endswith("nothing of this run on the order")

    second, second_dir = plan_file(source, tmp_path / "runs", sim=sim)
    decisions = {r.facts.id: r for r in second.rows if r.facts is not None}
    assert decisions[victim.order_id].decision is Decision.EXECUTE  # released: free again
    assert decisions[first.actions()[0].order_id].reason is ReasonCode.ALREADY_DONE  # its work stays done
    assert execute(second_dir, sim).all_done
    cancels = [e for e in entries(sim) if e["kind"] == "cancel" and e["order_id"] == victim.order_id]
    assert len(cancels) == 1
    with pytest.raises(RefusedError, match="was released"):
        execute(first_dir, sim)


class _Hook(httpx.BaseTransport):
    """The simulator's transport; `before(name, body)` may act first, or lose the answer (True)."""

    def __init__(self, sim, before) -> None:
        self.inner = SimulatorTransport(sim)
        self.before = before

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read().decode()
        if self.before(body, request):
            self.inner.handle_request(request)  # applied, but the answer is lost
            raise httpx.ReadTimeout("answer lost")
        return self.inner.handle_request(request)


def test_a_lost_claim_answer_is_settled_by_reading_the_claim(tmp_path):
    sim = simulator(orders=150, seed=16)
    source = write_modes(tmp_path / "modes.csv", plain_orders(sim, 4))
    plan, run_dir = plan_file(source, tmp_path / "runs", sim=sim)
    lost: list[str] = []

    def lose_each_claim_once(body: str, _request) -> bool:
        if "mutation ClaimSet" in body:
            lost.append(body)
            return len(lost) % 2 == 1
        return False

    assert execute(run_dir, sim, transport=_Hook(sim, lose_each_claim_once)).all_done
    assert len(lost) == 4  # one send each: the read after the lost answer found our claim
    assert_ledger_matches_plan(plan, entries(sim))


def test_a_claim_written_by_another_run_after_our_read_makes_the_action_drifted(tmp_path):
    sim = simulator(orders=150, seed=17)
    source = write_modes(tmp_path / "modes.csv", plain_orders(sim, 2))
    plan, run_dir = plan_file(source, tmp_path / "runs", sim=sim)
    victim = plan.actions()[0]
    other = json.dumps({"run_id": "20261130-0713-x", "action_key": "bc-20261130-0713-x-1", "steps": []})

    def claim_first(body: str, request: httpx.Request) -> bool:
        if "mutation ClaimSet" in body and victim.order_id in body:
            theirs = {"metafields": [claim_input(victim.order_id, other, None)]}
            query = load_document("ClaimSet").text
            forged = httpx.Request("POST", request.url, headers=request.headers,
                                   json={"query": query, "variables": theirs})  # fmt: skip
            SimulatorTransport(sim).handle_request(forged)  # theirs lands between our read and our write
        return False

    result = execute(run_dir, sim, transport=_Hook(sim, claim_first))
    assert result.counts["drifted"] == 1 and result.counts["done"] == 1
    ours = [e for e in entries(sim) if e["order_id"] == victim.order_id]
    assert [e["kind"] for e in ours] == ["claim"]  # theirs; nothing of ours
    detail = outcomes(run_dir)[victim.order_id][1]
    assert detail == "claimed by run 20261130-0713-x"
