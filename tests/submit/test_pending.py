"""Files of a form sent back for changes: encrypted under the form's key, never stored early."""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import create_app
from intake.store.blobs import Store
from intake.store.live_settings import save
from intake.store.models import PendingFile
from intake.testimonies import pending
from intake.testimonies.submissions import blob_names
from intake.web.database import get_session
from tests.conftest import Instance
from tests.submit.conftest import (
    MARKER,
    csrf_and_nonce,
    filled_form,
    hidden,
    marker_file,
    post_form,
    read_everything,
)
from tests.submit.test_submit import pending_blobs, store_files, stored_rows

CARRIED = ("csrf_token", "form_nonce", "code", "files_key")


def sent_back(client: FlaskClient, files: list[tuple[str, bytes]],
              **changes: str | None) -> str:
    """Post a form missing its testimony with files; return the page that came back."""
    response = post_form(client, filled_form(testimony="", **changes), files)
    assert response.status_code == 422
    return response.get_data(as_text=True)


def carried(page: str) -> dict[str, str]:
    """The hidden fields a re-rendered form carries."""
    return {name: hidden(page, name) for name in CARRIED}


def written_bytes(instance: Instance) -> list[tuple[Path, bytes]]:
    """Every file of the instance and keyring (database, its journal, store, config)."""
    return [(p, p.read_bytes()) for root in (instance.instance_path, instance.keys_dir)
            for p in Path(root).rglob("*") if p.is_file()]


def test_files_of_a_form_sent_back_are_listed_and_sent_byte_for_byte_without_choosing_again(
        app: Flask, client: FlaskClient) -> None:
    first, second = marker_file(600_000), marker_file(5000, "second")
    page = sent_back(client, [("نامه.txt", first), ("scan.pdf", second)])
    assert re.findall(r'<li><span dir="auto">([^<]+)</span>', page) == ["نامه.txt", "scan.pdf"]
    assert stored_rows(app) == (0, 0)
    assert len(pending_blobs(app)) == 2
    response = client.post("/submit", data=filled_form() | carried(page),
                           content_type="multipart/form-data")
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert [f["content"] for f in stored["files"]] == [first, second]
    assert [f["meta"]["filename"] for f in stored["files"]] == ["نامه.txt", "scan.pdf"]
    assert pending_blobs(app) == []
    assert len(store_files(app)) == 2  # the two attachments; no pending copy is left


def test_a_pending_file_its_name_and_the_forms_key_appear_nowhere_on_the_server(
        app: Flask, client: FlaskClient, instance: Instance) -> None:
    """The server alone cannot read a pending file: the key lives only in the family's form."""
    page = sent_back(client, [(f"{MARKER}.txt", marker_file(3000))])
    token = hidden(page, "files_key")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    key = pending.FormKey.from_token(token)
    assert key
    needles = [MARKER.encode(), MARKER.encode("utf-16-le"), token.encode(), raw, key.key,
               raw.hex().encode(), key.key.hex().encode()]
    hits = [str(path) for path, data in written_bytes(instance) for n in needles if n in data]
    assert hits == []
    assert len(pending_blobs(app)) == 1


def test_another_forms_key_neither_lists_nor_removes_nor_sends_a_pending_file(
        app: Flask, client: FlaskClient) -> None:
    page = sent_back(client, [("mine.txt", b"mine")])
    file_id = re.search(r'name="remove_file" value="([0-9a-f]+)"', page)
    assert file_id
    other = csrf_and_nonce(client) | filled_form() | {"remove_file": file_id.group(1)}
    shown = client.post("/submit", data=other).get_data(as_text=True)
    assert "mine.txt" not in shown
    assert len(pending_blobs(app)) == 1
    assert client.post("/submit", data=csrf_and_nonce(client) | filled_form()).status_code == 200
    [stored] = read_everything(app)
    assert stored["files"] == []
    assert len(pending_blobs(app)) == 1


def test_pending_files_expire_within_days_and_a_later_request_sweeps_them(
        app: Flask, client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sent_back(client, [("a.txt", b"a")])
    with app.app_context():
        [row] = get_session().query(PendingFile)
        hours = (row.expires_at - time.time()) / 3600
    # The form's token lives until the end of the day after the last round (24 to 48
    # hours); the files outlive it by a day, so an expired form still finds them.
    assert 48 <= hours <= 72
    monkeypatch.setattr(time, "time", lambda: row.expires_at + 1)
    post_form(client, filled_form(testimony=""))
    assert (pending_blobs(app), store_files(app)) == ([], [])


def test_the_store_sweep_at_start_keeps_pending_blobs_and_removes_orphans(
        app: Flask, client: FlaskClient) -> None:
    sent_back(client, [("a.txt", b"a")])
    store: Store = app.extensions["intake.desk"].store
    orphan = store.new_blob()
    orphan.commit()
    with app.app_context():
        removed = store.sweep(blob_names(get_session()))
    assert removed == 1
    assert store_files(app) == pending_blobs(app) != []


def test_files_beyond_the_limit_are_named_and_not_kept(instance: Instance) -> None:
    app = create_app(dict(instance.config, MAX_FILES=2))
    client = app.test_client()
    page = sent_back(client, [("one.txt", b"1"), ("two.txt", b"2")])
    more = filled_form(testimony="") | carried(page) | {
        "attachments": [(io.BytesIO(b"3"), "three.txt")]}
    again = client.post("/submit", data=more, content_type="multipart/form-data")
    shown = again.get_data(as_text=True)
    assert "این‌ها نگه داشته نشدند: three.txt" in shown
    assert len(pending_blobs(app)) == 2


def test_each_round_of_the_form_pushes_back_the_expiry_of_its_files(
        app: Flask, client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A family correcting the form for hours keeps its files as long as its token lives."""
    # The form's token is accepted on its day and the next: come back early the next day.
    later = (int(time.time()) // 86400 + 1) * 86400 + 3600
    page = sent_back(client, [("a.txt", b"a")])
    with app.app_context():
        [row] = get_session().query(PendingFile)
        first = row.expires_at
    monkeypatch.setattr(time, "time", lambda: later)
    again = client.post("/submit", data=filled_form(testimony="") | carried(page),
                        content_type="multipart/form-data")
    assert "a.txt" in again.get_data(as_text=True)
    with app.app_context():
        [row] = get_session().query(PendingFile)
        assert row.expires_at >= later + 48 * 3600 > first


@pytest.mark.parametrize(("change", "headers"), [
    ({"action": "language"}, {}),
    ({"csrf_token": "expired"}, {"Sec-Fetch-Site": "same-origin"}),
], ids=["language switch", "expired token"])
def test_a_file_of_a_refused_type_is_never_kept_whatever_brings_the_form_back(
        app: Flask, client: FlaskClient, change: dict[str, str], headers: dict[str, str]) -> None:
    """A kept file reaches the submission from the pending files without its type being
    checked; the expired-token path once kept every file, a refused type included."""
    with app.app_context():
        save(get_session(), {"accepted_types": "pdf, txt"})
        get_session().commit()
    payload = csrf_and_nonce(client) | filled_form() | change
    payload["attachments"] = [(io.BytesIO(b"ok"), "ok.txt"), (io.BytesIO(b"MZ"), "run.exe")]
    page = client.post("/submit?lang=en", data=payload, content_type="multipart/form-data",
                       headers=headers).get_data(as_text=True)
    assert "These kinds of file are not accepted here: run.exe" in page
    assert len(pending_blobs(app)) == 1
    sent = client.post("/submit", data=filled_form() | carried(page),
                       content_type="multipart/form-data")
    assert sent.status_code == 200
    [stored] = read_everything(app)
    assert [f["meta"]["filename"] for f in stored["files"]] == ["ok.txt"]


@pytest.mark.sqlite_only("PostgreSQL has no rowid; the day-rounded expiry is checked on both by "
                         "test_metadata's visit test")
def test_a_database_seized_mid_form_dates_pending_files_to_the_day_and_keeps_no_order(
        app: Flask, client: FlaskClient) -> None:
    """Reproduction: pending_files had a hidden rowid (1, 2, 3 in the order families sent
    files) and an expiry to the hour, so a server seized while families corrected their
    forms showed in which order and at which hour each had sent files."""
    sent_back(client, [("a.txt", b"a")])
    database = app.extensions["intake.settings"].instance_path / "intake.sqlite3"
    with sqlite3.connect(database) as raw:
        [(expires_at,)] = raw.execute("select expires_at from pending_files").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="no such column: rowid"):
            raw.execute("select rowid from pending_files")
    assert expires_at % 86400 == 0
