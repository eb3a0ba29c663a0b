"""Vetting gates every role: an admin nobody has vetted reaches no admin action."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.cli import main
from intake.store.models import Invite, User
from intake.web.database import get_session
from tests.admin.conftest import NEW_PASSPHRASE, enrol, invite_link
from tests.review.conftest import log_in, page_token, totp_now
from tests.submit.conftest import filled_form, post_form
from tests.unlock import read_aloud

AWAITING = "Your account is awaiting vetting"


@pytest.fixture
def unvetted_admin(app: Flask, admin: FlaskClient) -> FlaskClient:
    """An admin invited and enrolled through the admin page, whom nobody has vetted."""
    assert enrol(app, invite_link(admin, "nasrin", role="admin")).status_code == 200
    client = app.test_client()
    # The code used at enrolment is spent: the next one logs in.
    assert log_in(app, client, name="nasrin", passphrase=NEW_PASSPHRASE,
                  code=totp_now(app, "nasrin", 30)).status_code == 302
    return client


def user_id(app: Flask, name: str) -> str:
    with app.app_context():
        return get_session().query(User).filter_by(name=name).one().id


def admin_requests(app: Flask) -> list[tuple[str, str, dict[str, str]]]:
    """Every admin route with each method it takes, aimed at the reviewer's account."""
    reviewer = user_id(app, "reviewer")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = rule.rule.replace("<user_id>", reviewer)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, {"organisation_name": "Hijacked", "upload_limit_mib": "1",
                                         "accepted_types": "", "name": "intruder",
                                         "role": "admin",
                                         "passphrase": NEW_PASSPHRASE}))
    return found


def test_an_enrolled_admin_nobody_vetted_reaches_no_admin_route_only_a_page_saying_so(
        app: Flask, unvetted_admin: FlaskClient) -> None:
    """Reproduction: an admin invited, enrolled, never vetted opened /admin/keys and rotated,
    revoked reviewers, reset second factors, changed settings and invited others."""
    post_form(app.test_client(), filled_form())
    keyring = app.extensions["intake.desk"].keyring
    token = page_token(unvetted_admin, "/review/passphrase")
    requests = admin_requests(app)
    assert len(requests) >= 8
    for method, path, data in requests:
        response = unvetted_admin.open(path, method=method, data={"csrf_token": token, **data},
                                       query_string={"lang": "en"})
        assert response.status_code == 403, (method, path, response.status_code)
        assert AWAITING in response.get_data(as_text=True), (method, path)
    assert [e.id for e in keyring.epochs("main")] == [1]
    with app.app_context():
        db = get_session()
        assert db.query(User).filter_by(name="reviewer").one().state == "active"
        assert db.query(Invite).count() == 0
        assert db.query(User).filter_by(name="intruder").count() == 0
    assert "Hijacked" not in app.test_client().get("/").get_data(as_text=True)


def test_the_awaiting_page_is_in_persian_too(unvetted_admin: FlaskClient) -> None:
    page = unvetted_admin.get("/admin/", query_string={"lang": "fa"}).get_data(as_text=True)
    assert "حساب شما در انتظار تأیید است" in page


def test_once_vetted_by_another_admin_the_new_admin_reaches_the_admin_page(
        app: Flask, admin: FlaskClient, unvetted_admin: FlaskClient) -> None:
    nasrin = user_id(app, "nasrin")
    heard = read_aloud(app, nasrin)
    admin.post(f"/admin/users/{nasrin}/grant",
        data={"csrf_token": page_token(admin, "/admin/"), "fingerprint": heard})
    page = unvetted_admin.get("/admin/", query_string={"lang": "en"})
    assert page.status_code == 200
    assert re.search(r"<h1>Administration</h1>", page.get_data(as_text=True))


def test_an_admin_whose_current_grant_is_gone_is_refused_at_once_whatever_the_session_holds(
        app: Flask, admin: FlaskClient) -> None:
    keyring = app.extensions["intake.desk"].keyring
    with app.app_context():
        fingerprint = bytes.fromhex(get_session().query(User).filter_by(name="admin").one()
                                    .key_fingerprint)
    assert admin.get("/admin/").status_code == 200
    keyring.delete_grant("main", 1, fingerprint)
    assert admin.get("/admin/", query_string={"lang": "en"}).status_code == 403


def test_an_unvetted_admin_cannot_rotate_from_the_command_line_either(
        app: Flask, runner, unvetted_admin: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    """Rotation grants the new epoch to the rotating admin: an unvetted one would then read."""
    keyring = app.extensions["intake.desk"].keyring
    result = runner.invoke(main, args=["keys", "rotate", "--admin", "nasrin", "--passphrase-stdin",
                                 "--settle-seconds", "0"], input=NEW_PASSPHRASE + "\n")
    assert result.exit_code != 0
    assert "not vetted" in result.output
    assert [e.id for e in keyring.epochs("main")] == [1]
