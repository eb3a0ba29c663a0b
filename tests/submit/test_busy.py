"""A database kept busy past every bound: the family gets its form back, never a 500.

SQLite only: the bound is the write queue's (intake/store/write_queue.py), which
a test can shorten; PostgreSQL's is lock_timeout, and inserts of different
testimonies there never wait for each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from intake.store.db import make_engine
from intake.store.write_queue import WriteQueue
from tests.submit.conftest import MARKER, filled_form, marker_file, post_form, read_everything
from tests.submit.test_submit import store_files, stored_rows

BUSY = "Many testimonies are arriving at this moment and yours could not be stored yet"
BUSY_FA = "در این لحظه شهادت‌های بسیاری در حال رسیدن است"
FILES_AGAIN = "The files you had just chosen were not kept"


@pytest.fixture
def busy_database(app: Flask, backend: str,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold the database's write lock from another connection until the test sets the event."""
    if backend != "sqlite":
        pytest.skip("the write queue is SQLite's; PostgreSQL does not fail this way")
    # A worker's first request deletes stale counters (a write): done before the lock is held.
    app.test_client().get("/")
    engine = make_engine(app.extensions["intake.settings"].database_url)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as connection:
            queue: WriteQueue = type(connection.connection.dbapi_connection).queue  # type: ignore[union-attr]
            monkeypatch.setattr(queue, "wait_seconds", 0.3)
            connection.execute(text("UPDATE audit_head SET count = count"))
            holding.set()
            done.wait(30)
            connection.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    yield done
    done.set()
    holder.join(10)
    engine.dispose()


def test_a_testimony_sent_while_the_database_stays_busy_comes_back_to_send_again(
        app: Flask, client: FlaskClient, busy_database: threading.Event) -> None:
    """Another writer holds SQLite past the write queue's bound while a family sends a
    testimony with a file: before, the lock timeout's OperationalError was a 500 and the
    form was lost; now the form comes back (503) with what was typed, asks
    for the file again, and leaves no row and no blob behind."""
    before = store_files(app)
    began = time.monotonic()
    response = post_form(client, filled_form(), files=[("letter.txt", marker_file(3000))],
                         lang="en")
    page = response.get_data(as_text=True)
    assert time.monotonic() - began < 5
    assert response.status_code == 503
    assert BUSY in page
    assert FILES_AGAIN in page
    assert f"در تابستان ۱۳۶۷ دیگر اجازهٔ ملاقات ندادند. {MARKER}" in page
    assert stored_rows(app) == (0, 0)
    assert store_files(app) == before
    busy_database.set()
    time.sleep(0.1)
    again = post_form(client, filled_form(), files=[("letter.txt", marker_file(3000))],
                      lang="en")
    assert again.status_code == 200
    assert [len(s["files"]) for s in read_everything(app)] == [1]


def test_the_busy_notice_is_in_the_familys_language(
        client: FlaskClient, busy_database: threading.Event) -> None:
    """The same refusal on the Persian form says so in Persian."""
    response = post_form(client, filled_form(), lang="fa")
    assert response.status_code == 503
    assert BUSY_FA in response.get_data(as_text=True)
