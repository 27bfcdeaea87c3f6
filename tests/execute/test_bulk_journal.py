"""The bulk engine's journal transitions (bulkjournal.py): a staged operation moves its steps to `sent`
and records its lines at once; answers settle them only from `sent` or `unknown`, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.errors import JournalError
from pipeline.execute.bulkjournal import BulkJournal
from pipeline.execute.journal import Journal
from pipeline.execute.runner import Outcome, Status
from pipeline.plan.files import load_plan
from tests.execute.test_bulk_engine import bulk_simulator
from tests.harness import make_run


def states(run_dir: Path) -> dict[tuple[str, int], tuple[str, int]]:
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        rows = db.execute("SELECT action_key, idx, state, attempts FROM steps").fetchall()
    return {(k, i): (s, a) for k, i, s, a in rows}


def test_lines_are_staged_and_settled_once_and_an_illegal_answer_changes_nothing(tmp_path: Path) -> None:
    sim, _clock = bulk_simulator(orders=60, seed=4)
    run_dir = make_run(tmp_path, sim, rows=20, seed=4)
    plan = load_plan(run_dir)
    with Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        journal.seed(plan.actions())
        bulk = BulkJournal(journal)
        claims = [(a.action_key, 0) for a in plan.actions()[:3]]
        record = bulk.stage("claim", "tmp/claim.jsonl", 0, claims)
        assert all(states(run_dir)[step] == ("sent", 1) for step in claims)
        lines = bulk.lines(record.seq)
        assert [(line.action_key, line.index) for line in lines] == claims
        bulk.settle(record.seq, [(lines[0], Outcome(Status.DONE))])
        assert states(run_dir)[claims[0]] == ("done", 1)
        before = states(run_dir)
        with pytest.raises(JournalError, match=r"illegal transition done → done"):
            bulk.settle(record.seq, [(lines[1], Outcome(Status.DONE)), (lines[0], Outcome(Status.DONE))])
        assert states(run_dir) == before  # the whole answer set is refused, its first line too
        assert [line.result for line in bulk.lines(record.seq)] == ["done", None, None]
        bulk.settle(record.seq, [(lines[1], Outcome(Status.FAILED, code="X", message="no"))])
        failed_key = claims[1][0]
        assert {s for (k, _i), (s, _a) in states(run_dir).items() if k == failed_key} <= {"failed", "skipped"}
        with pytest.raises(JournalError, match="cannot be sent before the earlier steps are done"):
            bulk.stage("cancel", "tmp/cancel.jsonl", 0, [(claims[2][0], 1)])


def test_a_file_naming_an_action_twice_is_refused_and_nothing_is_staged(tmp_path: Path) -> None:
    sim, _clock = bulk_simulator(orders=30, seed=5)
    run_dir = make_run(tmp_path, sim, rows=5, seed=5)
    plan = load_plan(run_dir)
    with Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        journal.seed(plan.actions())
        before = states(run_dir)
        key = plan.actions()[0].action_key
        with pytest.raises(JournalError, match="came twice"):
            BulkJournal(journal).stage("claim", "tmp/claim.jsonl", 0, [(key, 0), (key, 0)])
        assert states(run_dir) == before  # neither copy was sent
