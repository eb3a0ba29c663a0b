"""What the stored rows of real submissions reveal: lengths, order, and what a code opens."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Literal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.crypto import derive_family_key, open_for_family
from intake.store.models import Attachment, Submission
from intake.web.database import get_session
from tests.conftest import stored_bytes
from tests.submit.conftest import MARKER, filled_form, post_form, read_everything

SECURITY_MD = Path(__file__).resolve().parents[2] / "SECURITY.md"


def short_form(testimony: str) -> dict[str, str]:
    """The few required answers, with a testimony of a chosen length."""
    return {"consent_internal": "y", "name": "x", "relationship": "sister",
            "testimony": testimony}


def test_two_testimonies_59_bytes_apart_are_stored_at_one_length(app: Flask,
                                                                  client: FlaskClient) -> None:
    """Answers and file descriptions once showed their length: 898 to 959 bytes tracked the text."""
    post_form(client, short_form("a" * 100), [("a.txt", b"one")])
    post_form(client, short_form("a" * 159), [("a-much-longer-file-name-than-the-first.txt",
                                               b"two")])
    first, second = sorted(read_everything(app), key=lambda s: len(s["answers"]["testimony"]))
    plain = [len(json.dumps(s["answers"])) for s in (first, second)]
    assert plain[1] - plain[0] == 59
    assert plain[1] <= 1020, "the form grew past one padding step: shorten the testimonies"
    with app.app_context():
        rows = [get_session().get(Submission, s["row"].id) for s in (first, second)]
        assert rows[0] is not None
        assert rows[1] is not None
        assert len(rows[0].answers) == len(rows[1].answers) == 1024 + 45
        assert len(rows[0].family_outline or b"") == len(rows[1].family_outline or b"")
        metas = [get_session().query(Attachment).filter_by(submission_id=row.id).one().meta
                 for row in rows]
        assert len(metas[0]) == len(metas[1]) == 1024 + 45


def test_the_family_outline_holds_exactly_the_fields_security_md_names_and_no_answer(
        app: Flask, client: FlaskClient) -> None:
    """A coerced relative's code opens the outline: it must hold the day and file count only."""
    page = post_form(client, filled_form(), [("a.txt", b"one"), ("b.txt", b"two")])
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', page.get_data(as_text=True))
    assert code
    settings = app.extensions["intake.settings"]
    [stored] = read_everything(app)
    row = stored["row"]
    _, family_key = derive_family_key(code.group(1), settings.pepper, settings.code_profile)
    opened = open_for_family(row.family_outline, family_key, desk_id=row.desk_id,
                             record_id=row.id, field="outline").decode()
    outline = json.loads(opened)
    assert set(outline) == {"received_on", "attachments"}
    assert outline["attachments"] == 2
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", outline["received_on"])
    for answer in ("علی رضایی", MARKER, "خاوران", "sister", "۱۳۶۷", "a.txt"):
        assert answer not in opened
    security = SECURITY_MD.read_text(encoding="utf-8")
    assert "holds exactly two fields: `received_on`" in security
    assert "and `attachments`" in security



@pytest.mark.sqlite_only("PostgreSQL has no rowid; what its rows reveal (xmin, position) is a "
                         "stated limit in SECURITY.md")
def test_a_seized_database_does_not_tell_in_which_order_families_came(
        app: Flask, client: FlaskClient) -> None:
    """SQLite numbered rows with a text key 1, 2, 3 in a hidden rowid, in arrival order."""
    arrived: list[str] = []
    for number in range(8):
        post_form(client, short_form(f"testimony {number}"), [("a.txt", b"x")])
        with app.app_context():
            ids = {sid for (sid,) in get_session().query(Submission.id)}
        [new] = ids - set(arrived)
        arrived.append(new)
    # Increasing by chance once in 8! = 40,320 runs; an autoincrement counter always is.
    assert arrived != sorted(arrived)
    db_file = app.extensions["intake.settings"].instance_path / "intake.sqlite3"
    with sqlite3.connect(db_file) as raw:
        for table in ("submissions", "attachments"):
            with pytest.raises(sqlite3.OperationalError, match="no such column: rowid"):
                raw.execute(f"select rowid from {table}")  # noqa: S608 (fixed names)
        # With no ORDER BY, rows come back as they are stored: by their random id.
        assert [sid for (sid,) in raw.execute("select id from submissions")] == sorted(arrived)


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_the_received_day_is_the_utc_day_the_store_uses_whatever_the_servers_time_zone(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    """Reproduction: on a server whose clock is not UTC (here UTC+14 or UTC-12: at any
    moment one of them is on another day), the received day was the local day while blob
    times were rounded to the UTC day, so a testimony whose two days differ was dated to
    the hours where the two days overlap."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        post_form(client, short_form("x"), [("a.txt", b"x")])
        utc_day = dt.datetime.now(dt.UTC).date()
    finally:
        monkeypatch.undo()
        time.tzset()
    [stored] = read_everything(app)
    assert stored["row"].received_on == utc_day
    store = app.extensions["intake.desk"].store.root
    [blob] = [p for p in store.iterdir() if p.is_file()]
    assert dt.datetime.fromtimestamp(blob.stat().st_mtime, dt.UTC).date() == utc_day


def visit_seconds_in(data: bytes, start: int, end: int,
                     byteorder: Literal["big", "little"] = "big") -> list[int]:
    """Unix times stored as 4-byte integers (SQLite's are big-endian, PostgreSQL's on x86
    little-endian) that date a visit: a second inside it, or an hour mark (not midnight) in
    the days after it."""
    found = []
    for offset in range(len(data) - 3):
        value = int.from_bytes(data[offset:offset + 4], byteorder)
        if start <= value <= end or (
                value % 3600 == 0 and value % 86400 and start < value < end + 4 * 86400):
            found.append(value)
    return found


def test_a_family_visit_leaves_no_second_or_hour_of_it_in_the_database_or_its_wal(
        app: Flask, client: FlaskClient, backend: str) -> None:
    """Reproduction: pending files kept their expiry to the hour, so a database seized
    while families corrected their forms, or its WAL afterwards, dated each visit to the
    hour. A whole visit: a form sent back with files, seized there, then sent, followed up
    and added to."""
    start = int(time.time())
    page = post_form(client, short_form(""), [("a.txt", b"one"), ("b.txt", b"two")])
    assert page.status_code == 422
    # PostgreSQL's own WAL is left out: its checkpoint records hold the time (SECURITY.md).
    seized = [stored_bytes(app)]
    carried = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"',
                               page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
               for name in ("csrf_token", "form_nonce", "code", "files_key")}
    receipt = client.post("/submit", data=carried | short_form("sent"))
    assert receipt.status_code == 200
    status = client.post("/followup/", data={"csrf_token": carried["csrf_token"],
                                             "code": carried["code"]})
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"',
                      status.get_data(as_text=True))
    assert nonce
    client.post("/followup/add", data={"csrf_token": carried["csrf_token"],
                                       "code": carried["code"], "form_nonce": nonce.group(1),
                                       "addition": "more"})
    end = int(time.time()) + 1
    seized += [stored_bytes(app)]
    assert len(read_everything(app)) == 2
    byteorder = "big" if backend == "sqlite" else "little"
    assert [visit_seconds_in(data, start, end, byteorder) for data in seized] == [[], []]
