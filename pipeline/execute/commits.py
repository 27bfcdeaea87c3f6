"""Group commit for the journal: the transitions of many order threads share one fsync.

Each writer runs its statements inside a savepoint of the one open transaction (an error undoes its
own part only), then waits until a COMMIT that includes them has returned: what `mark_sent` returns
is on disk before the request leaves, as with a transaction of its own. The first waiter commits for
everyone who wrote meanwhile, so at dozens of orders in flight the journal costs one fsync per
batch instead of one per transition.

Reads go on connections of their own (a pool, one per reader at once): WAL lets them read what is
committed beside the writer, so a bulk lane's pending list never waits for another lane's settle.
Whatever a writer wrote is committed before its write returns, so a thread always reads its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class GroupCommit:
    """Transactions over one connection, several writers' statements committed together."""

    def __init__(
        self, db: sqlite3.Connection, open_reader: Callable[[], sqlite3.Connection] | None = None
    ) -> None:
        self.db = db
        self._open_reader = open_reader  # None: reads share the writer's connection and its lock
        self._readers: list[sqlite3.Connection] = []  # idle ones
        self._opened: list[sqlite3.Connection] = []  # every one, closed with the journal
        self._pooled = open_reader is not None
        self._pool = threading.Lock()
        self._lock = threading.Lock()  # the connection: one statement sequence at a time
        self._writing = threading.local()  # set while this thread is inside `write`
        self._committing = threading.Lock()  # one COMMIT at a time; its holder commits for all
        self._batch = 0  # the open (or last) batch of writes
        self._committed = 0  # every batch up to this one is on disk
        self._writes = 0  # writes in the open batch
        self._failed: dict[int, BaseException] = {}  # batches whose COMMIT failed

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (IMMEDIATE: the check and the move are one) that is durable on exit."""
        with self._lock:
            if not self.db.in_transaction:
                self.db.execute("BEGIN IMMEDIATE")
                self._batch += 1
            batch = self._batch
            self.db.execute("SAVEPOINT step")
            self._writing.now = True
            try:
                yield self.db
            except BaseException as exc:
                if not self.db.in_transaction:
                    # SQLite rolled the whole batch back (disk full, I/O error): every writer's part is
                    # lost, theirs too, and each must hear it rather than return as if on disk.
                    self._failed[batch] = exc
                    self._writes = 0
                    raise
                self.db.execute("ROLLBACK TO step")
                self.db.execute("RELEASE step")
                if not self._writes:  # nobody else's in it: do not hold the write lock open
                    self.db.execute("ROLLBACK")
                raise
            finally:
                self._writing.now = False
            self.db.execute("RELEASE step")
            self._writes += 1
        self._durable(batch)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read of what is committed, in one snapshot, on a reader connection: it waits for no writer.
        Not inside a `write` of the same thread: it would not see that write (read on its connection)."""
        if getattr(self._writing, "now", False):
            raise RuntimeError("a journal read inside a write would not see the write: use its connection")
        if not self._pooled:
            with self._shared_read() as db:
                yield db
            return
        reader = self._lease()
        try:
            reader.execute("BEGIN DEFERRED")
            try:
                yield reader
            finally:
                if reader.in_transaction:
                    reader.execute("COMMIT")
        finally:
            with self._pool:
                self._readers.append(reader)

    def _lease(self) -> sqlite3.Connection:
        """An idle reader connection, or a new one."""
        with self._pool:
            opener, idle = self._open_reader, self._readers.pop() if self._readers else None
        if opener is None:  # the journal is closed
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if idle is not None:
            return idle
        reader = opener()
        with self._pool:
            self._opened.append(reader)
        return reader

    @contextmanager
    def _shared_read(self) -> Iterator[sqlite3.Connection]:
        """A read on the writer's connection; inside the open batch when there is one."""
        with self._lock:
            if self.db.in_transaction:
                yield self.db
                return
            self.db.execute("BEGIN DEFERRED")
            try:
                yield self.db
            finally:
                if self.db.in_transaction:
                    self.db.execute("COMMIT")

    def _durable(self, batch: int) -> None:
        """Returns once `batch` is committed (committing it, and whatever joined it, if need be)."""
        with self._committing:
            if batch in self._failed:
                raise self._failed[batch]
            if self._committed >= batch:
                return
            with self._lock:
                if batch in self._failed:  # lost while this writer waited for the lock
                    raise self._failed[batch]
                current, self._writes = self._batch, 0
                try:
                    if not self.db.in_transaction:  # never marked committed without a COMMIT
                        raise sqlite3.OperationalError("the journal's open transaction was rolled back")
                    self.db.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    for lost in range(self._committed + 1, current + 1):
                        self._failed[lost] = exc
                    self._committed = current
                    raise
                self._committed = current

    def close(self) -> None:
        """Commits what is open (every writer has waited for it), then closes the connection."""
        with self._lock:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
            self.db.close()
        with self._pool:
            for reader in self._opened:
                reader.close()
            self._opened, self._readers, self._open_reader = [], [], None
