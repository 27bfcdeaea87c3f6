"""Execution against the in-process simulator: done once, resumed safely, drift, approval."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest

from pipeline.errors import RefusedError
from pipeline.execute.executor import execute_run
from pipeline.execute.journal import Journal
from pipeline.plan.files import load_plan
from pipeline.simulator.transport import SimulatorTransport
from tests.harness import assert_ledger_matches_plan, make_run, settings, simulator

FAST = {"cancel_wait": 0.3, "poll": 0.01}


def run(run_dir, sim, **kwargs):
    kwargs.setdefault("runner_options", FAST)
    return execute_run(run_dir, settings(), transport=SimulatorTransport(sim), **kwargs)


def test_a_clean_run_does_every_planned_step_once(tmp_path):
    sim = simulator(orders=120, seed=3)
    run_dir = make_run(tmp_path, sim, rows=60, seed=3)
    result = run(run_dir, sim)
    plan = load_plan(run_dir)
    executable = len(plan.actions())
    assert result.all_done and result.counts["done"] == executable > 20
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])
    rows = (run_dir / "execution.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 1 + len(plan.rows)
    # A second run finds nothing to do and sends nothing.
    before = len(sim.api.ledger_json()["entries"])
    assert run(run_dir, sim).all_done
    assert len(sim.api.ledger_json()["entries"]) == before


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_faults_lost_answers_and_throttling_never_double_anything(tmp_path, seed, fast_retries):
    sim = simulator(orders=150, seed=seed, faults=f"5xx=0.05,lost=0.1,throttle=0.05,seed={seed}")
    run_dir = make_run(tmp_path, sim, rows=80, seed=seed)
    for _attempt in range(10):
        if run(run_dir, sim).all_done:
            break
    else:
        pytest.fail("not done after 10 runs")
    assert sim.faults.counts()["lost"] > 0
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_an_order_changed_since_the_plan_is_drifted_and_left_alone(tmp_path):
    sim = simulator(orders=80, seed=4)
    run_dir = make_run(tmp_path, sim, rows=30, seed=4)
    plan = load_plan(run_dir)
    victim = plan.actions()[0]
    order = sim.api.store.orders[int(victim.order_id.rsplit("/", 1)[1])]
    order.updated_at = order.updated_at + dt.timedelta(minutes=5)  # someone edited it in the admin
    result = run(run_dir, sim)
    assert result.counts["drifted"] == 1 and not result.all_done
    touched = {e["order_id"] for e in sim.api.ledger_json()["entries"]}
    assert victim.order_id not in touched
    text = (run_dir / "execution.csv").read_text(encoding="utf-8-sig")
    assert "drifted" in text and "changed since the plan: updated_at" in text


def test_a_tampered_plan_is_refused(tmp_path):
    sim = simulator(orders=40, seed=5)
    run_dir = make_run(tmp_path, sim, rows=10, seed=5)
    text = (run_dir / "plan.json").read_text(encoding="utf-8")
    tampered = re.sub(r'"amount": "[0-9.]+"', '"amount": "99999.00"', text, count=1)
    assert tampered != text
    (run_dir / "plan.json").write_text(tampered, encoding="utf-8")
    with pytest.raises(RefusedError, match=r"plan\.sha256"):
        run(run_dir, sim)
    assert sim.api.ledger_json()["entries"] == []


def test_max_total_below_the_plan_total_is_refused(tmp_path):
    sim = simulator(orders=40, seed=5)
    run_dir = make_run(tmp_path, sim, rows=20, seed=5)
    with pytest.raises(RefusedError, match="max-total"):
        run(run_dir, sim, max_total=Decimal("1.00"))
    assert sim.api.ledger_json()["entries"] == []
    assert not (run_dir / "journal.sqlite").exists()


def test_an_old_plan_another_shop_or_no_confirmation_is_refused(tmp_path):
    sim = simulator(orders=40, seed=5)
    run_dir = make_run(tmp_path, sim, rows=10, seed=5)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    with pytest.raises(RefusedError, match="hours old"):
        run(run_dir, sim, now=lambda: later)
    with pytest.raises(RefusedError, match="made for"):
        execute_run(run_dir, settings("https://other.myshopify.com"), transport=SimulatorTransport(sim))
    with pytest.raises(RefusedError, match="not confirmed"):
        run(run_dir, sim, confirm=lambda _plan: False)
    assert sim.api.ledger_json()["entries"] == []


def test_stop_finishes_in_flight_and_a_rerun_completes(tmp_path):
    sim = simulator(orders=120, seed=6)
    run_dir = make_run(tmp_path, sim, rows=60, seed=6)
    stop = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.finished >= 5:
            stop.set()

    first = run(run_dir, sim, stop=stop, progress=progress, concurrency=2)
    assert first.interrupted and not first.all_done
    with Journal.open(run_dir / "journal.sqlite", load_plan(run_dir).run_id) as journal:
        states = journal.summary()["steps"]
    assert states["done"] > 0 and states["pending"] > 0
    assert run(run_dir, sim).all_done
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_the_journal_and_reports_never_hold_the_token(tmp_path, caplog, monkeypatch, fast_retries):
    from tests import harness

    secret = "shpat_0123456789abcdef0123456789abcdef"
    sim = simulator(orders=40, seed=8, token=secret, faults="5xx=0.1,lost=0.1,seed=8")
    original = harness.settings
    monkeypatch.setattr(
        harness, "settings", lambda url="http://127.0.0.1:1", token=secret: original(url, token)
    )
    run_dir = make_run(tmp_path, sim, rows=15, seed=8)
    for _ in range(6):
        outcome = execute_run(
            run_dir, harness.settings(), transport=SimulatorTransport(sim), runner_options=FAST
        )
        if outcome.all_done:
            break
    assert outcome.all_done
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name
    assert secret not in caplog.text


def test_a_refusal_never_counts_as_approval_for_the_next_run(tmp_path):
    sim = simulator(orders=40, seed=9)
    run_dir = make_run(tmp_path, sim, rows=10, seed=9)
    with pytest.raises(RefusedError, match="not confirmed"):
        run(run_dir, sim, confirm=lambda _plan: False)
    asked = []
    with pytest.raises(RefusedError, match="not confirmed"):
        run(run_dir, sim, confirm=lambda plan: asked.append(plan.run_id) or False)
    assert asked and sim.api.ledger_json()["entries"] == []


def test_a_small_bucket_paces_without_throttled_reaching_the_user_and_within_the_ceiling(
    tmp_path, caplog, monkeypatch
):
    from pipeline.execute.action import Executor
    from pipeline.simulator.bucket import CostBucket

    sim = simulator(orders=120, seed=21)
    run_dir = make_run(tmp_path, sim, rows=50, seed=21)
    sim.bucket = CostBucket(120, 3000)  # planned on a big bucket; executed on a tiny, quick one
    inside, most, lock = [0], [0], threading.Lock()
    run_action = Executor.run_action

    def counted(self, pending):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return run_action(self, pending)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(Executor, "run_action", counted)
    figures: list[int] = []
    result = run(run_dir, sim, concurrency=6, progress=lambda p: figures.append(p.concurrency))
    assert result.all_done
    assert most[0] <= 6 and max(figures) <= 6 and min(f for f in figures if f) >= 1
    told = [r for r in caplog.records if r.levelno >= 30 and "throttl" in r.getMessage().lower()]
    assert told == []
    assert_ledger_matches_plan(load_plan(run_dir), sim.api.ledger_json()["entries"])


def test_a_plentiful_bucket_lets_more_orders_in_before_the_first_has_finished(tmp_path, monkeypatch):
    """Slow start: each answer raises the figure, so a full bucket is not held back by long orders."""
    from pipeline.execute.action import Executor
    from pipeline.shopify.concurrency import START

    sim = simulator(orders=60, seed=22)
    run_dir = make_run(tmp_path, sim, rows=30, seed=22)
    inside, lock = [0], threading.Lock()
    more_than_start = threading.Event()
    seen: list[bool] = []  # per order: were more than START in before it could finish
    run_action = Executor.run_action

    def held(self, pending):
        with lock:
            inside[0] += 1
            if inside[0] > START:
                more_than_start.set()
        try:
            run_action(self, pending)  # its answers are in; held until others get in beside it
            seen.append(more_than_start.wait(10))
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(Executor, "run_action", held)
    assert run(run_dir, sim).all_done
    assert all(seen)  # the first orders did not have to finish for more to start
