"""How the bulk engine reads the journal at scale: a lane's pending list goes by the index of the
unfinished actions' order numbers (never a scan of every action), reads never wait behind another
lane's writes (WAL readers beside the writer), and a bulk run never builds the whole pending list."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from pipeline.execute.bulkjournal import BulkJournal
from pipeline.execute.journal import Journal
from pipeline.plan.files import load_plan
from tests.execute.test_bulk_engine import bulk_simulator, run_bulk
from tests.harness import assert_ledger_matches_plan, make_run

WAIT = 60.0  # seconds: only a failing test waits this long


def seeded(run_dir: Path) -> Journal:
    plan = load_plan(run_dir)
    journal = Journal.open(run_dir / "journal.sqlite", plan.run_id)
    journal.seed(plan.actions())
    return journal


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim, _clock = bulk_simulator(orders=80, seed=3)
    return make_run(tmp_path_factory.mktemp("reads"), sim, rows=60, seed=3)


def test_a_lanes_pending_list_reads_its_range_of_the_index_never_the_whole_table(
    run_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "run").mkdir()
    for name in ("plan.json", "plan.sha256"):
        (tmp_path / "run" / name).write_bytes((run_dir / name).read_bytes())
    journal = seeded(tmp_path / "run")
    statements: list[str] = []
    opener = journal._commits._open_reader
    assert opener is not None

    def traced() -> sqlite3.Connection:
        db = opener()
        db.set_trace_callback(statements.append)
        return db

    journal._commits._open_reader = traced
    with journal:
        bulk = BulkJournal(journal)
        numbers = sorted(bulk.pending_numbers())
        low, high = numbers[5], numbers[20]
        assert len(bulk.pending_between(low, high)) == 16
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "actions" in s]
    assert len(selects) == 3  # the numbers, the lane's actions, the lane's steps
    with sqlite3.connect(tmp_path / "run" / "journal.sqlite") as db:
        for sql in selects:
            plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert any("INDEX actions_unfinished_by_number" in step for step in plan), (sql, plan)
            # a scan only of the unfinished actions' index (the numbers), never of a table
            scans = [step for step in plan if step.startswith("SCAN")]
            assert all("INDEX actions_unfinished_by_number" in step for step in scans), (sql, plan)


def test_a_read_does_not_wait_for_another_threads_write_and_sees_only_what_is_committed(
    run_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "run").mkdir()
    for name in ("plan.json", "plan.sha256"):
        (tmp_path / "run" / name).write_bytes((run_dir / name).read_bytes())
    with seeded(tmp_path / "run") as journal:
        bulk = BulkJournal(journal)
        everything = (min(bulk.pending_numbers()), max(bulk.pending_numbers()))
        before = bulk.pending_between(*everything)
        writing, release, read = threading.Event(), threading.Event(), threading.Event()
        seen: list[int] = []

        def writer() -> None:
            with journal._tx() as db:  # a lane's settle, holding the writer's connection
                db.execute("UPDATE actions SET state = 'done'")
                writing.set()
                release.wait(WAIT)

        def reader() -> None:
            seen.append(len(bulk.pending_between(*everything)))
            read.set()

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        threads[0].start()
        assert writing.wait(WAIT)
        threads[1].start()
        try:
            assert read.wait(WAIT), "the read waited for the other thread's write"
        finally:
            release.set()
            for thread in threads:
                thread.join()
        assert seen == [len(before)]  # the uncommitted write is not seen
        assert bulk.pending_between(*everything) == []  # once committed, it is


def test_a_bulk_run_never_builds_the_whole_pending_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, clock = bulk_simulator(orders=60, seed=6)
    run_dir = make_run(tmp_path, sim, rows=40, seed=6)

    def whole(_journal: Journal) -> None:
        raise AssertionError("the whole journal's pending actions were built")

    monkeypatch.setattr(Journal, "pending_work", whole)
    result = run_bulk(run_dir, sim, clock)
    plan = load_plan(run_dir)
    assert result.all_done and result.counts["done"] == len(plan.actions())
    assert_ledger_matches_plan(plan, sim.api.ledger_json()["entries"])


def test_a_read_inside_a_write_of_the_same_thread_is_refused(run_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    for name in ("plan.json", "plan.sha256"):
        (tmp_path / "run" / name).write_bytes((run_dir / name).read_bytes())
    with seeded(tmp_path / "run") as journal:
        bulk = BulkJournal(journal)
        with journal._tx() as db:
            db.execute("UPDATE actions SET state = 'done'")
            with pytest.raises(RuntimeError, match="would not see the write"):
                bulk.pending_numbers()  # on a reader connection it would still see every action pending
        assert bulk.pending_numbers() == []  # after the write, a read sees it
