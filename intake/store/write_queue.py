"""Writers to one SQLite database take turns in the order they came, one at a time per process.

SQLite lets one connection write at a time. A connection that finds the write
lock taken sleeps and tries again (busy_timeout), with sleeps that grow to a
tenth of a second: under a steady stream of writers, one that has waited long
keeps missing the short gaps that newcomers, still trying every millisecond,
take first. Measured with two processes of 30 threads submitting testimony:
each transaction held the lock about 10 ms, yet 1 write in 100 waited over
4 s and the longest 8 s; under the proof suite's load (bench/proof.py) some
waited past busy_timeout and the family got a 500 ("database is locked").
With the queue, the longest wait in the same run was 1.3 s.

So every connection of a process writes through a queue: its first write
statement waits here for its turn, in arrival order, and the turn passes to
the next writer when the transaction commits or rolls back. Only the head of
each process's queue ever waits in SQLite's busy handler, against the heads
of the other processes (gunicorn workers, the command line). A writer that
waits longer than the queue's bound gets `QueueTimeout`, a "database is
locked" error, which the family side answers with its "busy, send again"
page.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from typing import Any

# The statements before which Python's sqlite3 opens a transaction (its default mode):
# a transaction's first write statement is where it takes SQLite's write lock.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class QueueTimeout(sqlite3.OperationalError):
    """Earlier writers held the database for longer than a writer may wait."""

    sqlite_errorcode = 5  # SQLITE_BUSY, as SQLite's own "database is locked"


class WriteQueue:
    """A lock that writers get in the order they asked for it, waiting at most a bound."""

    def __init__(self, wait_seconds: float) -> None:
        """Make an empty queue whose writers wait at most `wait_seconds` for their turn."""
        self.wait_seconds = wait_seconds
        self._guard = threading.Lock()
        self._waiting: collections.deque[threading.Event] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        """Wait for this writer's turn; raise QueueTimeout past the bound."""
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(self.wait_seconds):
            return
        with self._guard:
            if turn.is_set():  # handed over just as the wait ran out
                return
            self._waiting.remove(turn)
        raise QueueTimeout(f"database is locked: earlier writers held it over "
                           f"{self.wait_seconds:g} s")

    def release(self) -> None:
        """Hand the turn to the writer that has waited longest, or free the queue."""
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


def _writes(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_WRITES)


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose transactions take a turn in `queue` before writing."""

    queue: WriteQueue
    _queued = False

    def cursor(self, factory: Any = None) -> Any:
        """Return a cursor that queues its connection's first write (Connection.execute too)."""
        return super().cursor(factory or QueuedCursor)

    def enter_write(self, sql: str) -> None:
        """Take a turn before a transaction's first write statement."""
        if not self._queued and not self.in_transaction and _writes(sql):
            self.queue.acquire()
            self._queued = True

    def leave_when_done(self) -> None:
        """Pass the turn on once no transaction is open (committed, rolled back, autocommit)."""
        if self._queued and not self.in_transaction:
            self._queued = False
            self.queue.release()

    def commit(self) -> None:
        """Commit, then pass the turn on."""
        try:
            super().commit()
        finally:
            self.leave_when_done()

    def rollback(self) -> None:
        """Roll back, then pass the turn on."""
        try:
            super().rollback()
        finally:
            self.leave_when_done()

    def close(self) -> None:
        """Close; a turn still held passes on (SQLite rolled the transaction back)."""
        try:
            super().close()
        finally:
            if self._queued:
                self._queued = False
                self.queue.release()

    def __del__(self) -> None:
        """Pass on a turn still held by a connection dropped unclosed, or the queue stalls."""
        if self._queued:
            self._queued = False
            self.queue.release()


class QueuedCursor(sqlite3.Cursor):
    """A cursor whose write statements wait for their connection's turn."""

    connection: QueuedConnection

    def execute(self, sql: str, *parameters: Any) -> Any:
        """Execute a statement, after taking a turn if it opens a write transaction."""
        self.connection.enter_write(sql)
        try:
            return super().execute(sql, *parameters)
        finally:
            self.connection.leave_when_done()

    def executemany(self, sql: str, *parameters: Any) -> Any:
        """Execute a statement for many rows, after taking a turn if it opens a write."""
        self.connection.enter_write(sql)
        try:
            return super().executemany(sql, *parameters)
        finally:
            self.connection.leave_when_done()

    def executescript(self, script: str) -> Any:
        """Run a script (which commits first, so a turn held passes on); it takes no turn."""
        try:
            return super().executescript(script)
        finally:
            self.connection.leave_when_done()


_QUEUES: dict[str, type[QueuedConnection]] = {}
_QUEUES_GUARD = threading.Lock()


def connection_class(database: str, wait_seconds: float) -> type[QueuedConnection]:
    """Return the connection class of this database file: one queue per file per process."""
    with _QUEUES_GUARD:
        if database not in _QUEUES:
            _QUEUES[database] = type("QueuedConnection", (QueuedConnection,),
                                     {"queue": WriteQueue(wait_seconds)})
        return _QUEUES[database]
