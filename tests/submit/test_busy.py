"""A database kept busy past every bound: the family gets its form back, never a 500.

SQLite only: the bound is the write queue's (intake/store/write_queue.py), which
a test can shorten; PostgreSQL's is lock_timeout, and inserts of different
testimonies there never wait for each other.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from intake import create_app
from intake.store.db import make_engine
from intake.store.write_queue import WriteQueue
from tests.conftest import Instance
from tests.review.conftest import login_form_token
from tests.submit.conftest import (
    MARKER,
    filled_form,
    hidden,
    marker_file,
    post_form,
    read_everything,
)
from tests.submit.test_followup import open_case, submit_and_get_code
from tests.submit.test_submit import store_files, stored_rows

BUSY = "Many testimonies are arriving at this moment and yours could not be stored yet"
BUSY_FA = "در این لحظه شهادت‌های بسیاری در حال رسیدن است"
FILES_AGAIN = "The files you had just chosen were not kept"


class Holder:
    """Another connection that holds the database's write lock while the test runs."""

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        """Prepare to hold the app's database, with the write queue's bound cut to 0.3 s."""
        self.engine = make_engine(app.extensions["intake.settings"].database_url)
        self.monkeypatch = monkeypatch
        self.holding, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def start(self) -> None:
        """Take the write lock, and keep it until `release`."""
        self.thread.start()
        assert self.holding.wait(5)

    def release(self) -> None:
        """Let the lock go (rolled back: the holder writes nothing)."""
        self.done.set()
        if self.thread.is_alive():
            self.thread.join(10)

    def _hold(self) -> None:
        with self.engine.connect() as connection:
            queue: WriteQueue = type(connection.connection.dbapi_connection).queue  # type: ignore[union-attr]
            self.monkeypatch.setattr(queue, "wait_seconds", 0.3)
            connection.execute(text("UPDATE audit_head SET count = count"))
            self.holding.set()
            self.done.wait(30)
            connection.rollback()


@pytest.fixture
def holder(app: Flask, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Holder]:
    """A holder of the app's SQLite database, released at the end of the test."""
    if backend != "sqlite":
        pytest.skip("the write queue is SQLite's; PostgreSQL does not fail this way")
    # A worker's first request deletes stale counters (a write): done before any hold.
    app.test_client().get("/")
    held = Holder(app, monkeypatch)
    yield held
    held.release()
    held.engine.dispose()


def test_a_testimony_sent_while_the_database_stays_busy_comes_back_to_send_again(
        app: Flask, client: FlaskClient, holder: Holder) -> None:
    """Another writer holds SQLite past the write queue's bound while a family sends a
    testimony with a file: before, the lock timeout's OperationalError was a 500 and the
    form was lost; now the form comes back (503) with what was typed, asks
    for the file again, and leaves no row and no blob behind."""
    before = store_files(app)
    holder.start()
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
    holder.release()
    again = post_form(client, filled_form(), files=[("letter.txt", marker_file(3000))],
                      lang="en")
    assert again.status_code == 200
    assert [len(s["files"]) for s in read_everything(app)] == [1]


def test_the_busy_notice_is_in_the_familys_language(
        client: FlaskClient, holder: Holder) -> None:
    """The same refusal on the Persian form says so in Persian."""
    holder.start()
    response = post_form(client, filled_form(), lang="fa")
    assert response.status_code == 503
    assert BUSY_FA in response.get_data(as_text=True)


def test_an_addition_sent_while_the_database_stays_busy_comes_back_to_send_again(
        app: Flask, client: FlaskClient, holder: Holder) -> None:
    """The follow-up form's addition, refused the same way, keeps its text; nothing stored."""
    code = submit_and_get_code(client)
    page = open_case(client, code).get_data(as_text=True)
    holder.start()
    response = client.post("/followup/add?lang=en", content_type="multipart/form-data", data={
        "csrf_token": hidden(page, "csrf_token"), "code": code,
        "form_nonce": hidden(page, "form_nonce"), "addition": f"نامهٔ دادستانی {MARKER}",
        "attachments": [(io.BytesIO(b"letter"), "l.txt")]})
    text_sent = response.get_data(as_text=True)
    assert response.status_code == 503
    assert BUSY in text_sent
    assert f"نامهٔ دادستانی {MARKER}" in text_sent
    holder.release()
    assert len(read_everything(app)) == 1


def test_a_login_whose_lock_wait_runs_out_gets_the_try_again_page_not_a_500(
        app: Flask, client: FlaskClient, holder: Holder) -> None:
    """A login attempt writes its throttle counter: while the database stays busy, the
    reviewer gets the 503 "try again later" page, not a 500."""
    token = login_form_token(client)
    holder.start()
    response = client.post("/review/login?lang=en", data={
        "csrf_token": token, "name": "reviewer", "passphrase": "wrong", "code": "000000"})
    assert response.status_code == 503
    assert "Please try again later." in response.get_data(as_text=True)


def test_a_workers_first_visit_while_the_database_is_busy_still_gets_the_form(
        instance: Instance, holder: Holder) -> None:
    """A worker's first request deletes stale counters, and once a minute expired sessions:
    housekeeping a busy database has no time for is left to a later request, and the
    family gets the form it asked for (before: the 503 page, after the queue's wait)."""
    fresh = create_app(dict(instance.config))
    holder.start()
    response = fresh.test_client().get("/submit?lang=en")
    assert response.status_code == 200
    assert 'name="form_nonce"' in response.get_data(as_text=True)
