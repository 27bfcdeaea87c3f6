"""The journal: named transitions, seeding once, resume after a crash, threads, and no secrets stored."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.errors import PipelineError, RefusedError
from pipeline.execute.journal import ACTION_STATES, STEP_STATES, Journal, JournalError, JournalStep
from pipeline.models import RefundMode
from pipeline.plan.facts import Fingerprint
from pipeline.plan.model import PlannedAction
from pipeline.plan.steps import Step, StepKind

REPO = Path(__file__).resolve().parents[2]
RUN = "run-2026-01-01"
TOKEN = "shpat_PLANTED_0123456789abcdef"
GIFT_CODE = "ABCD2345EFGH6789"


def plan(n: int = 2) -> list[tuple]:
    """n actions of cancel → refund (with its idempotency key) → tag, as plain tuples."""
    return [
        (
            f"a{i}",
            f"gid://shopify/Order/{i}",
            f"#{1000 + i}",
            [(0, "cancel", None), (1, "refund", f"k{i}"), (2, "tag", None)],
        )
        for i in range(n)
    ]


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite", RUN) as j:
        j.seed(plan())
        yield j


def step(j: Journal, action: str = "a0", index: int = 0) -> JournalStep:
    return next(s for s in _steps(j) if (s.action_key, s.index) == (action, index))


def _steps(j: Journal) -> list[JournalStep]:
    rows = j.rows_for_report()
    return [
        JournalStep(r["action_key"], r["idx"], r["kind"], r["state"], r["attempts"], r["idempotency_key"])
        for r in rows
    ]


def action_state(j: Journal, action: str = "a0") -> str:
    return next(r["action_state"] for r in j.rows_for_report() if r["action_key"] == action)


# --- opening and seeding --------------------------------------------------------------------------


def test_open_creates_a_wal_journal_with_full_sync(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal.open(path, RUN) as j:
        assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with Journal.open(path, RUN) as j:
        assert j.summary()["steps"]["pending"] == 0


def test_a_journal_of_another_run_is_refused(tmp_path):
    path = tmp_path / "journal.sqlite"
    Journal.open(path, RUN).close()
    with pytest.raises(RefusedError, match="belongs to run 'run-2026-01-01'"):
        Journal.open(path, "another-run")


def test_a_file_that_is_not_a_journal_is_refused(tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError, match="unusable"):
        Journal.open(path, RUN)
    with pytest.raises(JournalError, match="cannot open"):
        Journal.open(tmp_path / "missing-dir" / "journal.sqlite", RUN)


def test_journal_error_is_a_pipeline_error():
    assert issubclass(JournalError, PipelineError) and not JournalError.retryable


def test_seed_twice_is_a_no_op(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal.open(path, RUN) as j:
        assert j.seed(plan()) is True
        j.mark_sent(step(j))
        assert j.seed(plan()) is False
    with Journal.open(path, RUN) as j:
        assert j.seed(plan()) is False
        assert j.summary()["steps"] == {**dict.fromkeys(STEP_STATES, 0), "pending": 5, "sent": 1}


def typed_plan(amount: Decimal = Decimal(1)) -> list[PlannedAction]:
    fingerprint = Fingerprint("2026-01-01T00:00:00Z", "PAID", "UNFULFILLED", Decimal(0))
    return [
        PlannedAction(
            f"gid://shopify/Order/{i}",
            f"#{1000 + i}",
            f"a{i}",
            fingerprint,
            (
                Step(StepKind.CANCEL, None, None, None, f"c{i}"),
                Step(StepKind.REFUND, RefundMode.ORIGINAL, amount, "EUR", f"k{i}"),
                Step(StepKind.TAG, None, None, None, f"t{i}"),
            ),
        )
        for i in range(2)
    ]


def test_planned_actions_seed_as_their_steps_and_the_seal_covers_every_field(tmp_path):
    typed = typed_plan()
    tuples = [
        (
            a.action_key,
            a.order_id,
            a.order_name,
            [(i, str(s.kind), s.idempotency_key) for i, s in enumerate(a.steps)],
        )
        for a in typed
    ]
    with Journal.open(tmp_path / "journal.sqlite", RUN) as j:
        assert j.seed(typed) is True
        assert j.seed(typed_plan()) is False
        assert [r["kind"] for r in j.rows_for_report()] == ["cancel", "refund", "tag"] * 2
        # Same keys, kinds and idempotency keys, another amount: not the plan this run started with.
        for other in (typed_plan(Decimal("1.01")), tuples):
            with pytest.raises(RefusedError, match="a different plan from the one this run started with"):
                j.seed(other)


def test_seed_refuses_a_different_plan_for_the_same_run(journal):
    changed = plan()
    changed[1] = ("a1", "gid://shopify/Order/1", "#1001", [(0, "cancel", None)])
    with pytest.raises(RefusedError, match="different plan"):
        journal.seed(changed)
    assert journal.summary()["steps"]["pending"] == 6


@pytest.mark.parametrize(
    "bad",
    [
        [("a", "o", "#1", [(0, "explode", None)])],
        [("a", "o", "#1", [(1, "cancel", None), (0, "tag", None)])],
        [("a", "o", "#1", [])],
        [("a", "o", "#1", [(0, "refund", "same")]), ("b", "o", "#2", [(0, "refund", "same")])],
    ],
    ids=["unknown kind", "indexes out of order", "no steps", "shared idempotency key"],
)
def test_seed_refuses_a_malformed_plan_and_keeps_nothing(tmp_path, bad):
    with Journal.open(tmp_path / "journal.sqlite", RUN) as j:
        with pytest.raises(JournalError):
            j.seed(bad)
        assert j.pending_work() == []
        assert j.seed(plan()) is True


def test_seed_refuses_two_actions_on_one_order_naming_both(tmp_path):
    twice = [("a", "o", "#1", [(0, "cancel", None)]), ("a", "o", "#1", [(0, "tag", None)])]
    with Journal.open(tmp_path / "journal.sqlite", RUN) as j:
        with pytest.raises(RefusedError, match=r"action 1 \(#1\) and action 2 \(#1\) both act on one order"):
            j.seed(twice)
        assert j.pending_work() == []
        assert j.seed(plan()) is True


# --- transitions -------------------------------------------------------------------------------------

MOVES = {
    "sent": lambda j, s: j.mark_sent(s),
    "done": lambda j, s: j.mark_done(s, {"job_id": "gid://shopify/Job/1"}),
    "failed": lambda j, s: j.mark_failed(s, "INVALID", "Order cannot be cancelled"),
    "unknown": lambda j, s: j.mark_unknown(s, "read timeout"),
    "pending": lambda j, s: j.mark_verified_not_applied(s),
}
# Paths that bring a step to each state; "skipped" is the step after a failed one.
REACH = {
    "pending": [],
    "sent": ["sent"],
    "done": ["sent", "done"],
    "failed": ["sent", "failed"],
    "unknown": ["sent", "unknown"],
}
LEGAL = {
    "pending": {"sent"},
    "sent": {"done", "failed", "unknown", "pending"},
    "unknown": {"done", "failed", "pending"},
    "done": set(),
    "failed": set(),
    "skipped": set(),
}
RESENDABLE = {"sent", "unknown"}  # a refund with its idempotency key may be re-sent from these


def _bring(j: Journal, index: int, state: str) -> None:
    if state == "skipped":  # a failed first step skips every later one
        MOVES["sent"](j, step(j))
        MOVES["failed"](j, step(j))
        return
    for earlier in range(index):
        MOVES["sent"](j, step(j, "a0", earlier))
        MOVES["done"](j, step(j, "a0", earlier))
    for move in REACH[state]:
        MOVES[move](j, step(j, "a0", index))


@pytest.mark.parametrize("index", [0, 1], ids=["cancel", "refund"])
@pytest.mark.parametrize("to", list(MOVES))
@pytest.mark.parametrize("start", list(LEGAL))
def test_every_transition_is_legal_or_refused(journal, start, to, index):
    index = 2 if (start, index) == ("skipped", 0) else index  # then the tag step after a failed cancel
    _bring(journal, index, start)
    before = step(journal, "a0", index)
    assert before.state == start
    legal = to in LEGAL[start] or (to == "sent" and before.kind == "refund" and start in RESENDABLE)
    if legal:
        after = MOVES[to](journal, before)
        assert after.state == to
        assert after.attempts == before.attempts + (to == "sent")
    else:
        with pytest.raises(JournalError, match=f"illegal transition {start} → {to}"):
            MOVES[to](journal, before)
        assert step(journal, "a0", index) == before


def test_a_step_cannot_be_sent_before_the_earlier_ones_are_done(journal):
    with pytest.raises(JournalError, match="earlier steps"):
        journal.mark_sent(step(journal, "a0", 1))
    journal.mark_sent(step(journal, "a0", 0))
    with pytest.raises(JournalError, match="earlier steps"):
        journal.mark_sent(step(journal, "a0", 1))
    assert step(journal, "a0", 1).state == "pending"


def test_an_unknown_step_is_refused(journal):
    with pytest.raises(JournalError, match="no step"):
        journal.mark_sent(JournalStep("nope", 0, "cancel", "pending", 0, None))


def test_a_whole_action_runs_to_done_with_its_ids(journal):
    ids = [
        {"job_id": "gid://shopify/Job/9"},
        {"refund_id": "gid://shopify/Refund/7", "transaction_ids": ["gid://shopify/OrderTransaction/1", 2]},
        {},
    ]
    for index, found in enumerate(ids):
        journal.mark_sent(step(journal, "a0", index))
        assert action_state(journal) == "running"
        journal.mark_done(step(journal, "a0", index), found)
    assert action_state(journal) == "done"
    assert [a.action_key for a in journal.pending_work()] == ["a1"]
    rows = [r for r in journal.rows_for_report() if r["action_key"] == "a0"]
    assert rows[0]["job_id"] == "gid://shopify/Job/9" and rows[0]["run_id"] == RUN
    assert rows[1]["transaction_ids"] == ["gid://shopify/OrderTransaction/1", "2"]
    assert all(r["finished_at"] >= r["sent_at"] >= r["created_at"] for r in rows)
    assert rows[0]["created_at"].endswith("+00:00")


def test_a_failed_step_fails_its_action_and_skips_the_rest(journal):
    journal.mark_sent(step(journal))
    journal.mark_failed(step(journal), "ALREADY_CANCELLED", "Order has already been cancelled")
    assert [step(journal, "a0", i).state for i in range(3)] == ["failed", "skipped", "skipped"]
    assert action_state(journal) == "failed"
    row = journal.rows_for_report()[0]
    assert (row["error_code"], row["error_message"]) == (
        "ALREADY_CANCELLED",
        "Order has already been cancelled",
    )
    assert [a.action_key for a in journal.pending_work()] == ["a1"]


def test_a_drifted_action_is_left_alone(journal):
    journal.mark_drifted("a1", "financial status changed: PAID → REFUNDED")
    assert action_state(journal, "a1") == "drifted"
    assert {step(journal, "a1", i).state for i in range(3)} == {"skipped"}
    assert [a.action_key for a in journal.pending_work()] == ["a0"]
    journal.mark_sent(step(journal))
    for action in ("a0", "a1", "missing"):
        with pytest.raises(JournalError, match="→ drifted"):
            journal.mark_drifted(action, "late")


def test_verified_not_applied_sends_again_and_counts_attempts(journal):
    journal.mark_sent(step(journal))
    journal.mark_unknown(step(journal), "connection dropped")
    assert step(journal).needs_verification
    journal.mark_verified_not_applied(step(journal))
    assert step(journal).state == "pending" and not step(journal).needs_verification
    assert journal.mark_sent(step(journal)).attempts == 2
    assert action_state(journal) == "running"


def test_reopening_after_sent_reports_the_step_as_needing_verification(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal.open(path, RUN) as j:
        j.seed(plan())
        j.mark_sent(step(j))
        j.mark_sent(step(j, "a1", 0))
        j.mark_unknown(step(j, "a1", 0), "timeout")
    with Journal.open(path, RUN) as j:
        work = j.pending_work()
    assert [a.action_key for a in work] == ["a0", "a1"]
    assert [[s.index for s in a.steps] for a in work] == [[0, 1, 2], [0, 1, 2]]
    first = [a.steps[0] for a in work]
    assert [(s.state, s.needs_verification) for s in first] == [("sent", True), ("unknown", True)]
    assert not any(s.needs_verification for a in work for s in a.steps[1:])


def test_summary_counts_every_state(journal):
    journal.mark_sent(step(journal))
    journal.mark_drifted("a1", "changed")
    summary = journal.summary()
    assert summary["actions"] == {**dict.fromkeys(ACTION_STATES, 0), "running": 1, "drifted": 1}
    assert summary["steps"] == {**dict.fromkeys(STEP_STATES, 0), "sent": 1, "pending": 2, "skipped": 3}


# --- secrets -------------------------------------------------------------------------------------------


def test_no_column_could_hold_a_header_token_or_gift_card_code(journal):
    columns = {row[1] for row in journal._db.execute("PRAGMA table_info(steps)")}
    assert columns == {
        "action_key", "idx", "kind", "state", "attempts", "idempotency_key", "job_id", "refund_id",
        "gift_card_id", "gift_card_last_chars", "transaction_ids", "error_code", "error_message",
        "created_at", "sent_at", "finished_at", "updated_at",
    }  # fmt: skip


def test_tokens_and_gift_card_codes_never_reach_the_file(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal.open(path, RUN) as j:
        j.seed([("a0", "o", "#1", [(0, "gift_card", "g0"), (1, "tag", None)])])
        first = step(j)
        j.mark_sent(first)
        for ids in ({"code": GIFT_CODE}, {"headers": {"X-Shopify-Access-Token": TOKEN}}):
            with pytest.raises(JournalError, match="no field"):
                j.mark_done(first, ids)
        with pytest.raises(JournalError, match="last 4 characters"):
            j.mark_done(
                first, {"gift_card_id": "gid://shopify/GiftCard/1", "gift_card_last_chars": GIFT_CODE}
            )
        j.mark_unknown(first, f"timeout; request had X-Shopify-Access-Token: {TOKEN}")
        j.mark_done(
            first, {"gift_card_id": "gid://shopify/GiftCard/1", "gift_card_last_chars": GIFT_CODE[-4:]}
        )
        j.mark_sent(step(j, "a0", 1))
        j.mark_failed(step(j, "a0", 1), "INVALID", f"bad token {TOKEN}")
        rows = j.rows_for_report()
    assert rows[0]["gift_card_last_chars"] == "6789"
    assert "<hidden>" in rows[0]["error_message"] and "<hidden>" in rows[1]["error_message"]
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert TOKEN.encode() not in stored and GIFT_CODE.encode() not in stored


# --- threads and crashes -------------------------------------------------------------------------------


def test_eight_threads_write_concurrently_without_losing_a_transition(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite", RUN) as j:
        j.seed(plan(40))
        work = j.pending_work()
        errors: list[BaseException] = []

        def run(actions):
            try:
                for action in actions:
                    for s in action.steps:
                        j.mark_sent(s)
                        j.mark_done(s, {"job_id": f"job-{s.action_key}-{s.index}"})
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(work[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert j.summary()["steps"]["done"] == 120 and j.summary()["actions"]["done"] == 40
        assert all(r["attempts"] == 1 for r in j.rows_for_report())


def test_eight_threads_racing_for_one_step_send_it_once(journal):
    target = step(journal)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def race():
        barrier.wait()
        try:
            journal.mark_sent(target)
            results.append("sent")
        except JournalError:
            results.append("refused")

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused"] * 7 + ["sent"]
    assert step(journal).attempts == 1


# A tiny executor: resumes from pending_work, verifies what needs it, and writes as fast as it can.
WRITER = """
import random, sys
from pipeline.execute.journal import Journal
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
with Journal.open(path, "crash-run") as j:
    j.seed([(f"a{i}", f"o{i}", f"#{i}", [(0, "cancel", None), (1, "refund", f"k{i}"), (2, "tag", None)])
            for i in range(60)])
    print("ready", flush=True)
    for action in j.pending_work():
        for s in action.steps:
            if s.state == "done":
                continue
            if s.needs_verification:
                if rng.random() < 0.5:
                    j.mark_done(s, {"job_id": f"verified-{s.action_key}-{s.index}"})
                    continue
                s = j.mark_verified_not_applied(s)
            s = j.mark_sent(s)
            roll = rng.random()
            if roll < 0.05:
                j.mark_failed(s, "INVALID", "refused")
                break
            if roll < 0.15:
                j.mark_unknown(s, "lost")
                break
            j.mark_done(s, {"job_id": f"job-{s.action_key}-{s.index}"})
            print("step", flush=True)  # the test kills at the n-th of these: an event, not a clock
"""


def _assert_consistent(path: Path) -> None:
    """Every row in a legal state, and no transition half-applied (step and action always agree)."""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        steps: dict[str, list[tuple]] = {}
        for row in db.execute(
            "SELECT action_key, state, attempts, sent_at, finished_at, job_id, error_code"
            " FROM steps ORDER BY action_key, idx"
        ):
            steps.setdefault(row[0], []).append(row[1:])
        actions = dict(db.execute("SELECT action_key, state FROM actions"))
    for key, rows in steps.items():
        states = [r[0] for r in rows]
        assert set(states) <= set(STEP_STATES)
        for state, attempts, sent_at, finished_at, job_id, error_code in rows:
            assert (attempts >= 1 and sent_at) if state not in ("pending", "skipped") else True
            assert (finished_at and job_id) if state == "done" else True
            assert (finished_at and error_code) if state == "failed" else True
        expected = (
            "failed" if "failed" in states
            else "done" if set(states) == {"done"}
            else "pending" if all(r[1] == 0 for r in rows)
            else "running"
        )  # fmt: skip
        assert actions[key] == expected, (key, rows)
        if "failed" in states:
            assert states[states.index("failed") + 1 :] == ["skipped"] * (2 - states.index("failed"))


def test_sigkill_mid_write_leaves_a_journal_that_reopens_and_resumes(tmp_path):
    path = tmp_path / "journal.sqlite"
    rng = random.Random(2026)
    kills, before = 0, None
    for attempt in range(30):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, path, str(attempt)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            for _ in range(rng.randint(0, 12)):  # the writer goes on while the kill is on its way
                if not proc.stdout.readline():
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        _assert_consistent(path)
        with Journal.open(path, "crash-run") as j:
            summary, work = j.summary(), j.pending_work()
        # A kill counts when it struck after some writes and before the end of the work.
        kills += proc.returncode == -signal.SIGKILL and summary != before and bool(work)
        before = summary
        if not work:
            break
    assert kills >= 3, "the writer was never killed mid-run: the test would prove nothing"
    with Journal.open(path, "crash-run") as j:
        for seed in range(100, 120):  # finish without kills: resume is simply running again
            if not j.pending_work():
                break
            subprocess.run([sys.executable, "-c", WRITER, path, str(seed)], cwd=REPO, check=True)
        summary = j.summary()
    _assert_consistent(path)
    assert summary["actions"]["done"] + summary["actions"]["failed"] == 60


def test_drift_stops_a_running_action_only_with_its_one_step_in_flight(journal):
    first = journal.mark_done(journal.mark_sent(step(journal, "a0", 0)), {"job_id": "gid://shopify/Job/1"})
    assert first.state == "done"
    journal.mark_drifted("a0", "refunded by someone else since the plan")  # running, nothing in flight
    assert action_state(journal) == "drifted"
    assert [s.state for s in _steps(journal) if s.action_key == "a0"] == ["done", "skipped", "skipped"]
    sent = journal.mark_sent(step(journal, "a1", 0))
    with pytest.raises(JournalError, match="illegal transition running → drifted"):
        journal.mark_drifted("a1", "cancelled by someone else")  # a step in flight must be named
    journal.mark_drifted("a1", "cancelled by someone else", sent)
    assert action_state(journal, "a1") == "drifted"
    assert [s.state for s in _steps(journal) if s.action_key == "a1"] == ["skipped"] * 3


def test_a_journal_of_the_earlier_format_is_sealed_in_full_on_its_first_resume(tmp_path):
    from pipeline.execute.journal_format import legacy_digest
    from pipeline.execute.seal import seed_rows

    path = tmp_path / "journal.sqlite"
    with Journal.open(path, RUN) as j:
        assert j.seed(typed_plan()) is True
        legacy = legacy_digest(seed_rows(typed_plan()))
        j._db.execute("UPDATE meta SET key = 'plan_hash', value = ? WHERE key = 'plan_seal'", (legacy,))
    with Journal.open(path, RUN) as j:
        assert j.seed(typed_plan()) is False
        with pytest.raises(RefusedError, match="different plan"):
            j.seed(typed_plan(Decimal("2")))


def test_the_seal_hashed_an_action_at_a_time_is_the_digest_of_the_whole_plan_dumped_at_once():
    import hashlib
    import json

    from pipeline.execute.seal import seal, seed_rows

    actions = typed_plan()
    whole = json.dumps([a.to_json() for a in actions], sort_keys=True, separators=(",", ":"))
    assert seal(seed_rows(actions)) == hashlib.sha256(whole.encode()).hexdigest()
    assert all(isinstance(row.record, str) for row in seed_rows(actions))  # text, not a copy in dicts
