"""One vocabulary for where an action stands: execution.csv, the console and reconcile agree, and work
left says the command that finishes it."""

from __future__ import annotations

import csv

from pipeline.execute.journal import Journal
from pipeline.execute.report import write_execution_csv
from pipeline.execute.status import action_status, counted, journal_statuses, left, phrase, so_far
from pipeline.plan.files import load_plan
from tests.harness import make_run, simulator


def test_journal_states_read_as_one_vocabulary():
    assert action_status("running", ["done", "unknown", "pending"]) == "to_verify"
    assert action_status("running", ["done", "sent"]) == "to_verify"
    assert action_status("running", ["done", "pending"]) == "not_executed"
    assert action_status("pending", ["pending"]) == "not_executed"
    assert [action_status(s, ["done"]) for s in ("done", "failed", "drifted")] == [
        "done",
        "failed",
        "drifted",
    ]
    counts = counted(["done"] * 76 + ["to_verify"] * 6 + ["not_executed"] * 102)
    assert phrase(counts) == "76 done, 6 to verify, 102 not executed" and left(counts) == 108
    assert phrase(counted([])) == "nothing"


def test_execution_csv_and_the_resume_figures_use_the_same_words(tmp_path):
    sim = simulator(orders=120, seed=7)
    run_dir = make_run(tmp_path, sim, rows=12)
    plan = load_plan(run_dir)
    assert so_far(run_dir, plan)["not_executed"] == len(plan.actions())  # no journal yet: none created
    assert not (run_dir / "journal.sqlite").exists()
    with Journal.open(run_dir / "journal.sqlite", plan.run_id) as journal:
        journal.seed(plan.actions())
        lost, started, *_ = journal.pending_work()
        journal.mark_unknown(journal.mark_sent(lost.steps[0]), "read timeout")  # answer lost
        journal.mark_done(journal.mark_sent(started.steps[0]))  # a first step done, the rest not sent
        statuses = journal_statuses(journal)
        # written an action's steps at a time from the journal, with every action's status on the way
        assert write_execution_csv(run_dir, plan, journal) == statuses
        assert write_execution_csv(run_dir, plan, journal, journal.rows_for_report()) == statuses
    assert statuses[lost.action_key] == "to_verify" and statuses[started.action_key] == "not_executed"
    figures = so_far(run_dir, plan)
    assert figures == counted(statuses.values()) and figures["to_verify"] == 1
    with open(run_dir / "execution.csv", encoding="utf-8-sig", newline="") as handle:
        rows = {row["order_name"]: row for row in csv.DictReader(handle)}
    hint = f"run `bulkcancel execute {run_dir}` again"
    assert rows[lost.order_name]["status"] == "to_verify" and hint in rows[lost.order_name]["detail"]
    assert rows[started.order_name]["status"] == "not_executed" and hint in rows[started.order_name]["detail"]
    assert {row["status"] for row in rows.values()} <= {"to_verify", "not_executed", "blocked", "skipped"}
    assert "unknown" not in {row["status"] for row in rows.values()}


def test_a_stopped_progress_line_is_ended_before_the_outcome(tmp_path, capsys):
    from pipeline.execute.console import ExecutionConsole
    from pipeline.execute.executor import ExecutionProgress

    console = ExecutionConsole(tmp_path, yes=True)
    console.tty = True
    console.progress(ExecutionProgress(0, 10, 0))  # starts the clock
    console.progress(ExecutionProgress(4, 10, 0))
    assert capsys.readouterr().err.endswith("   ")  # the line is redrawn in place, still open
    lines = console.outcome(counted(["done"] * 4 + ["not_executed"] * 6), interrupted=True)
    assert capsys.readouterr().err == "\n"
    assert lines == [
        "actions: 4 done, 6 not executed",
        f"interrupted: 6 left — run `bulkcancel execute {tmp_path}` again",
    ]
