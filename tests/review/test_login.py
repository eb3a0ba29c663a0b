"""Reviewer login: TOTP before the passphrase, no replay, throttled, one answer for all failures."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.staff import sessions
from intake.store.models import ReviewSession
from intake.web.database import get_session
from tests.review.conftest import log_in, totp_now


def session_rows(app: Flask) -> list[ReviewSession]:
    with app.app_context():
        return get_session().query(ReviewSession).all()


def test_a_reviewer_logs_in_with_passphrase_and_totp(app: Flask, client: FlaskClient) -> None:
    response = log_in(app, client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/")
    cookie = response.headers["Set-Cookie"]
    assert "intake_review=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert len(session_rows(app)) == 1
    assert client.get("/review/").status_code == 200


def test_every_failure_gets_the_same_answer(app: Flask, client: FlaskClient) -> None:
    bodies = set()
    for kwargs in ({"passphrase": "wrong passphrase here"}, {"code": "123456"},
                   {"name": "nobody"}):
        response = log_in(app, client, **kwargs)
        assert response.status_code == 401
        bodies.add(response.get_data(as_text=True).split('name="csrf_token"')[0])
    assert len(bodies) == 1
    assert session_rows(app) == []


def test_a_used_code_is_refused(app: Flask, client: FlaskClient) -> None:
    code = totp_now(app, "reviewer")
    assert log_in(app, client, code=code).status_code == 302
    assert log_in(app, app.test_client(), code=code).status_code == 401


def test_a_code_spent_on_a_wrong_passphrase_cannot_be_reused(app: Flask,
                                                              client: FlaskClient) -> None:
    code = totp_now(app, "reviewer")
    assert log_in(app, client, passphrase="wrong passphrase here", code=code).status_code == 401
    assert log_in(app, client, code=code).status_code == 401


def test_login_is_throttled_per_account(app: Flask, client: FlaskClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("intake.store.throttle.time.time", lambda: 1_800_000_000.0)
    statuses = [log_in(app, client, passphrase="wrong passphrase here", code="000000")
                .status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_the_session_record_does_not_hold_the_epoch_keys_in_the_clear(
        app: Flask, client: FlaskClient, instance) -> None:  # type: ignore[no-untyped-def]
    log_in(app, client)
    [row] = session_rows(app)
    with app.app_context():
        unlocked = sessions.load(get_session(), client.get_cookie("intake_review",
                                                                   path="/").value,
                                 int(time.time()))
    assert unlocked is not None
    for key in unlocked.epoch_keys.values():
        assert key.to_bytes() not in row.sealed_keys
        assert key.to_bytes().hex().encode() not in row.sealed_keys


def test_logout_deletes_the_session_record(app: Flask, client: FlaskClient) -> None:
    log_in(app, client)
    page = client.get("/review/").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/review/logout", data={"csrf_token": token.group(1)})
    assert session_rows(app) == []
    assert client.get("/review/").status_code == 302


def test_an_idle_session_expires_and_its_record_is_deleted(app: Flask,
                                                           client: FlaskClient) -> None:
    log_in(app, client)
    with app.app_context():
        db = get_session()
        row = db.query(ReviewSession).one()
        row.seen_at -= sessions.IDLE_SECONDS + 1
        db.commit()
    assert client.get("/review/").status_code == 302
    assert session_rows(app) == []


TWELVE_HOURS = 12 * 3600


@pytest.mark.parametrize(("age", "live"), [(TWELVE_HOURS - 60, True), (TWELVE_HOURS + 1, False)])
def test_a_session_older_than_twelve_hours_is_refused_and_deleted_even_if_just_seen(
        app: Flask, client: FlaskClient, age: int, live: bool) -> None:
    log_in(app, client)
    now = int(time.time())
    with app.app_context():
        db = get_session()
        row = db.query(ReviewSession).one()
        row.started_at, row.seen_at = now - age, now
        db.commit()
    assert client.get("/review/").status_code == (200 if live else 302)
    assert len(session_rows(app)) == (1 if live else 0)


def test_a_new_login_gets_a_new_session_id(app: Flask, client: FlaskClient) -> None:
    log_in(app, client)
    first = client.get_cookie("intake_review", path="/").value
    log_in(app, client, code=totp_now(app, "reviewer", offset=30))
    assert client.get_cookie("intake_review", path="/").value != first
