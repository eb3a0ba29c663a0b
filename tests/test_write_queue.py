"""Writers to SQLite take turns in arrival order, through the engine the app uses.

The queue is SQLite's only: PostgreSQL has no database-wide write lock (testimonies
inserted at once do not wait for each other) and queues a row lock's waiters in the
server. A lock wait that runs out reads as busy on both.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from intake.store import db
from intake.store.db import is_busy, make_engine
from intake.store.write_queue import WriteQueue

WRITERS = 6
ARRIVAL_GAP = 0.06
HOLD = 0.6


def engine_with_table(tmp_path: Path) -> Engine:
    """The real engine (pragmas, busy_timeout, queue) on a fresh file with one table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE arrivals (writer INTEGER)")
    return engine


def queue_of(engine: Engine) -> WriteQueue:
    """Return the write queue the engine's connections take turns in."""
    with engine.connect() as connection:
        queue: WriteQueue = type(connection.connection.dbapi_connection).queue  # type: ignore[union-attr]
        return queue


def hold_the_write_lock(engine: Engine, seconds: float, holding: threading.Event) -> None:
    """Write, keep the transaction open for `seconds`, then commit."""
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO arrivals VALUES (0)"))
        holding.set()
        time.sleep(seconds)
        connection.commit()


def test_writers_who_find_the_database_busy_write_in_the_order_they_came(
        tmp_path: Path) -> None:
    """Six writers arrive 60 ms apart while another holds the write lock for 0.6 s.

    Before the queue, each waited in SQLite's busy handler, whose sleeps grow to 100 ms:
    the newest writers, still retrying every few milliseconds, wrote first, and under
    the proof suite's load the oldest waited past busy_timeout (a family's 500).
    """
    engine = engine_with_table(tmp_path)
    holding = threading.Event()
    holder = threading.Thread(target=hold_the_write_lock, args=(engine, HOLD, holding))
    holder.start()
    assert holding.wait(5)

    def write(writer: int) -> None:
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO arrivals VALUES (:w)"), {"w": writer})
            connection.commit()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(1, WRITERS + 1)]
    for thread in writers:
        thread.start()
        time.sleep(ARRIVAL_GAP)
    for thread in [holder, *writers]:
        thread.join(30)
    with engine.connect() as connection:
        # SQLite numbers the rows of this plain table in the order they were committed.
        order = connection.execute(text("SELECT writer FROM arrivals ORDER BY rowid")).scalars()
        assert list(order) == [0, 1, 2, 3, 4, 5, 6]
    engine.dispose()


def test_a_writer_kept_waiting_past_the_bound_is_told_the_database_is_busy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another transaction holds the write lock for 2 s, a writer bounded at 0.2 s
    gets a busy error after about that long, not after SQLite's 10 s busy_timeout; its
    transaction stored nothing, and the next writer after the holder writes at once."""
    engine = engine_with_table(tmp_path)
    monkeypatch.setattr(queue_of(engine), "wait_seconds", 0.2)
    holding = threading.Event()
    holder = threading.Thread(target=hold_the_write_lock, args=(engine, 2.0, holding))
    holder.start()
    assert holding.wait(5)
    began = time.monotonic()
    with engine.connect() as connection, pytest.raises(OperationalError) as raised:
        connection.execute(text("INSERT INTO arrivals VALUES (1)"))
    waited = time.monotonic() - began
    holder.join(10)
    assert is_busy(raised.value)
    assert 0.15 < waited < 1.5
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO arrivals VALUES (2)"))
        connection.commit()
        rows = connection.execute(text("SELECT writer FROM arrivals ORDER BY rowid")).scalars()
        assert list(rows) == [0, 2]
    engine.dispose()


def test_one_queue_serves_every_engine_on_the_same_file(tmp_path: Path) -> None:
    """The web app and a command in the same process queue together, not in two lines."""
    engines = [make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}"),
               make_engine(f"sqlite:///{tmp_path}/./queue.sqlite3"),
               make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")]
    first, again, other = (queue_of(engine) for engine in engines)
    assert first is again
    assert other is not first
    for engine in engines:
        engine.dispose()


def test_a_lock_wait_that_runs_out_reads_as_busy_on_either_backend(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second writer of the audit head, while a first holds it uncommitted, waits out its
    bound (cut to 0.2 s: the write queue on SQLite, lock_timeout on PostgreSQL) and gets an
    error that is_busy recognises, which the family side answers with "send again"."""
    monkeypatch.setattr(db, "POSTGRESQL_OPTIONS", "-c synchronous_commit=on -c lock_timeout=200")
    engine = make_engine(app.extensions["intake.settings"].database_url)
    if engine.dialect.name == "sqlite":
        monkeypatch.setattr(queue_of(engine), "wait_seconds", 0.2)
    touch = text("UPDATE audit_head SET count = count")
    with engine.connect() as first, engine.connect() as second:
        first.execute(touch)
        with pytest.raises(OperationalError) as raised:
            second.execute(touch)
        first.rollback()
    assert is_busy(raised.value)
    engine.dispose()


HOLD_IN_ANOTHER_PROCESS = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("INSERT INTO arrivals VALUES (1)")
print("holding", flush=True)
time.sleep(0.5)
connection.execute("COMMIT")
"""


def test_a_transaction_that_reads_before_it_writes_waits_for_another_process(
        tmp_path: Path) -> None:
    """A request reads (its nonce, the epoch), then writes. Another process writes and
    commits meanwhile. Were the read to open the transaction (a deferred BEGIN), the write
    would have to upgrade a stale snapshot and fail at once ("database is locked", with no
    busy wait); the engine opens it only at the first write, which waits its turn."""
    engine = engine_with_table(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", HOLD_IN_ANOTHER_PROCESS,
                              str(tmp_path / "queue.sqlite3")], stdout=subprocess.PIPE)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM arrivals")).scalar() == 0
            assert other.stdout is not None
            assert other.stdout.readline() == b"holding\n"
            connection.execute(text("INSERT INTO arrivals VALUES (2)"))
            connection.commit()
            rows = connection.execute(text("SELECT writer FROM arrivals ORDER BY rowid"))
            assert list(rows.scalars()) == [1, 2]
    finally:
        other.wait(10)
    engine.dispose()
