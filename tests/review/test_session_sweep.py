"""Session rows go when they expire or their account is revoked, whoever comes next."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import ReviewSession, User
from intake.web.database import get_session
from tests.review.conftest import log_in, page_token

IDLE_LIMIT = 30 * 60


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """The admin's browser, logged in."""
    client = app.test_client()
    assert log_in(app, client, name="admin").status_code == 302
    return client


def rows_of(app: Flask, name: str) -> int:
    with app.app_context():
        db = get_session()
        user = db.query(User).filter_by(name=name).one()
        return db.query(ReviewSession).filter_by(user_id=user.id).count()


def age(app: Flask, name: str, seconds: int) -> None:
    """Make a reviewer's sessions look last seen `seconds` ago."""
    with app.app_context():
        db = get_session()
        user = db.query(User).filter_by(name=name).one()
        for row in db.query(ReviewSession).filter_by(user_id=user.id):
            row.seen_at -= seconds
            row.started_at -= seconds
        db.commit()


def test_an_expired_session_row_is_deleted_at_another_reviewers_check(
        app: Flask, reviewer: FlaskClient, admin: FlaskClient) -> None:
    """Reproduction: an expired row stayed until its own cookie came back, so a seized
    database plus an old cookie from the reviewer's browser still opened the epoch keys."""
    age(app, "reviewer", IDLE_LIMIT + 1)
    assert rows_of(app, "reviewer") == 1
    assert admin.get("/review/").status_code == 200
    assert rows_of(app, "reviewer") == 0


def test_a_sweep_deletes_expired_rows_on_a_familys_request_when_no_reviewer_comes(
        app: Flask, instance) -> None:  # type: ignore[no-untyped-def]
    from intake import create_app

    log_in(app, app.test_client())
    age(app, "reviewer", IDLE_LIMIT + 1)
    worker = create_app(dict(instance.config))  # a worker that has not swept yet
    assert worker.test_client().get("/").status_code == 200
    assert rows_of(app, "reviewer") == 0


def test_a_session_just_under_the_idle_limit_is_kept(app: Flask, reviewer: FlaskClient,
                                                     admin: FlaskClient) -> None:
    age(app, "reviewer", IDLE_LIMIT - 60)
    assert admin.get("/review/").status_code == 200
    assert rows_of(app, "reviewer") == 1


def test_a_revoked_accounts_open_session_is_refused_on_its_next_request(
        app: Flask, reviewer: FlaskClient, admin: FlaskClient) -> None:
    with app.app_context():
        reviewer_id = get_session().query(User).filter_by(name="reviewer").one().id
    assert reviewer.get("/review/").status_code == 200
    admin.post(f"/admin/users/{reviewer_id}/revoke",
               data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"})
    assert rows_of(app, "reviewer") == 0  # at once, before it comes back
    response = reviewer.get("/review/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/login")


def test_a_session_its_revocation_missed_is_refused_and_deleted_on_its_next_request(
        app: Flask, reviewer: FlaskClient) -> None:
    """A revocation that committed the account's state but not (yet) the deletion of this
    row, as when a login finishes during the revocation, still shuts the session."""
    with app.app_context():
        db = get_session()
        db.query(User).filter_by(name="reviewer").one().state = "revoked"
        db.commit()
    assert reviewer.get("/review/").status_code == 302
    assert rows_of(app, "reviewer") == 0


def test_a_login_that_finishes_while_its_account_is_revoked_opens_no_session(
        app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproduction: revoking during a login's passphrase check deleted the sessions that
    existed, and the login then stored a new one for the revoked account."""
    from intake.staff.accounts import revoke
    from intake.web.review import views

    real = views.unlock_epochs

    def revoked_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        with app.app_context():
            db = get_session()
            revoke(db, app.extensions["intake.desk"].keyring,
                   db.query(User).filter_by(name="reviewer").one())
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "unlock_epochs", revoked_meanwhile)
    client = app.test_client()
    assert log_in(app, client).status_code == 401
    assert rows_of(app, "reviewer") == 0
    assert client.get("/review/").status_code == 302
