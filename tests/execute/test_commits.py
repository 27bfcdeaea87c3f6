"""The journal's group commit never reports a write as on disk when SQLite rolled its batch back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from pipeline.execute.commits import GroupCommit


def _journal(path: Path) -> tuple[sqlite3.Connection, GroupCommit]:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (k TEXT, v BLOB)")
    return db, GroupCommit(db)


def test_a_batch_lost_to_a_full_disk_fails_every_writer_in_it(tmp_path):
    db, commits = _journal(tmp_path / "j.sqlite")
    commits._committing.acquire()  # the committer is busy: B's write waits in the open batch
    outcome: dict[str, object] = {}
    written = threading.Event()

    def sent_step() -> None:
        try:
            with commits.write() as c:
                c.execute("INSERT INTO t VALUES ('B sent', NULL)")
                written.set()
            outcome["b"] = "returned as durable"
        except sqlite3.Error as exc:
            outcome["b"] = exc

    writer = threading.Thread(target=sent_step, daemon=True)
    writer.start()
    try:
        assert written.wait(timeout=60)
        with commits._lock:  # B's statements are in the open batch, not yet committed
            assert db.in_transaction
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk is full from now on
        with pytest.raises(sqlite3.Error) as lost, commits.write() as c:
            c.execute("INSERT INTO t VALUES ('C', zeroblob(1000000))")
        assert "full" in str(lost.value)  # its own error, not "no such savepoint"
    finally:
        commits._committing.release()
        writer.join(timeout=60)
    assert isinstance(outcome["b"], sqlite3.Error), outcome  # B must not believe it is on disk
    reader = sqlite3.connect(tmp_path / "j.sqlite")
    assert reader.execute("SELECT k FROM t").fetchall() == []


def test_writers_of_one_batch_are_all_on_disk_when_they_return(tmp_path):
    _db, commits = _journal(tmp_path / "j.sqlite")
    threads = [threading.Thread(target=lambda n=n: _insert(commits, f"step {n}")) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    reader = sqlite3.connect(tmp_path / "j.sqlite")
    assert sorted(k for (k,) in reader.execute("SELECT k FROM t")) == sorted(f"step {n}" for n in range(16))


def _insert(commits: GroupCommit, key: str) -> None:
    with commits.write() as c:
        c.execute("INSERT INTO t VALUES (?, NULL)", (key,))
