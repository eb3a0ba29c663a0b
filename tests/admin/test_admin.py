"""Admins: invite, enrol, vet, revoke, reset a second factor; every admin route refuses others."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.models import Invite, ReviewSession, User
from intake.web.database import get_session
from tests.admin.conftest import NEW_PASSPHRASE, enrol, invite_link
from tests.review.conftest import log_in, login_form_token, page_token
from tests.submit.conftest import filled_form, post_form
from tests.unlock import read_aloud


def test_an_invited_reviewer_enrols_and_sees_nothing_until_vetted(app: Flask,
                                                                  admin: FlaskClient) -> None:
    post_form(app.test_client(), filled_form())
    link = invite_link(admin, "sima")
    assert enrol(app, link).status_code == 200
    assert app.test_client().get(link).status_code == 404  # one time only
    sima = app.test_client()
    from tests.review.conftest import PASSPHRASES

    PASSPHRASES["sima"] = NEW_PASSPHRASE
    try:
        from tests.review.conftest import totp_now

        # The code used at enrolment is spent: the next one is needed.
        assert log_in(app, sima, name="sima", code=totp_now(app, "sima", 30)).status_code == 302
        inbox = sima.get("/review/").get_data(as_text=True)
        assert "علی رضایی" not in inbox
        with app.app_context():
            sima_id = get_session().query(User).filter_by(name="sima").one().id
        heard = read_aloud(app, sima_id)
        admin.post(f"/admin/users/{sima_id}/grant",
                   data={"csrf_token": page_token(admin, "/admin/"), "fingerprint": heard})
        with app.app_context():  # as if half a minute had passed: the next code is fresh
            db = get_session()
            db.get(User, sima_id).totp_last_step = 0
            db.commit()
        again = app.test_client()
        assert log_in(app, again, name="sima").status_code == 302
        assert "علی رضایی" in again.get("/review/").get_data(as_text=True)
        admin.post(f"/admin/users/{sima_id}/revoke",
                   data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"})
        assert again.get("/review/").status_code == 302
        with app.app_context():
            assert get_session().query(ReviewSession).filter_by(user_id=sima_id).count() == 0
    finally:
        del PASSPHRASES["sima"]


@pytest.mark.parametrize(("passphrase", "message"), [
    ("short", "12"), ("aaaaaaaaaaaaaaaa", "more different characters")])
def test_a_weak_passphrase_is_refused_at_enrolment(app: Flask, admin: FlaskClient,
                                                   passphrase: str, message: str) -> None:
    link = invite_link(admin, "weak")
    response = enrol(app, link, passphrase, lang="en")
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert get_session().query(User).filter_by(name="weak").count() == 0


def test_an_expired_invite_is_refused(app: Flask, admin: FlaskClient) -> None:
    link = invite_link(admin, "late")
    with app.app_context():
        db = get_session()
        db.query(Invite).update({Invite.expires_at: int(time.time()) - 1})
        db.commit()
    assert app.test_client().get(link).status_code == 404


def test_a_second_factor_reset_needs_the_passphrase_and_a_new_code(app: Flask,
                                                                   admin: FlaskClient) -> None:
    with app.app_context():
        reviewer = get_session().query(User).filter_by(name="reviewer").one()
        old_secret, reviewer_id = reviewer.totp_secret, reviewer.id
    page = admin.post(f"/admin/users/{reviewer_id}/reset-totp",
                      data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"}
                      ).get_data(as_text=True)
    link = re.search(r"<code>http://localhost(/enrol/[^<]+)</code>", page).group(1)  # type: ignore
    from tests.conftest import REVIEWER_PASSPHRASE

    wrong = enrol(app, link, "wrong passphrase!!", lang="en").get_data(as_text=True)
    assert "that passphrase is not right" in wrong
    assert enrol(app, link, REVIEWER_PASSPHRASE).status_code == 200
    with app.app_context():
        assert get_session().get(User, reviewer_id).totp_secret != old_secret


def admin_paths(app: Flask) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = rule.rule.replace("<user_id>", "a" * 32)
            paths += [("GET", path), ("POST", path)]
    return paths


@pytest.mark.parametrize("who", ["anonymous", "reviewer"])
def test_every_admin_route_refuses_non_admins(app: Flask, client: FlaskClient, who: str) -> None:
    if who == "reviewer":
        assert log_in(app, client).status_code == 302
    token = login_form_token(client)
    assert len(admin_paths(app)) >= 10
    for method, path in admin_paths(app):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 403, 405), (method, path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].endswith("/review/login")


def test_a_rotation_started_from_the_admin_page_completes(app: Flask, admin: FlaskClient) -> None:
    from intake.store.models import AuditEvent, Submission

    post_form(app.test_client(), filled_form())
    token = page_token(admin, "/admin/keys")
    wrong = admin.post("/admin/keys", data={"csrf_token": token, "passphrase": "not it at all"})
    assert 'class="error" role="alert"' in wrong.get_data(as_text=True)
    from tests.conftest import ADMIN_PASSPHRASE

    started = admin.post("/admin/keys", data={"csrf_token": token,
                                              "passphrase": ADMIN_PASSPHRASE})
    assert started.status_code == 302
    keys_dir = app.extensions["intake.settings"].keys_dir
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.app_context():
            epochs = {s.epoch_id for s in get_session().query(Submission)}
            # The grants go from disk just before the commit that ends the sessions.
            finished = get_session().query(AuditEvent).filter_by(action="retire").count()
        if finished:
            break
        time.sleep(0.2)
    assert epochs == {2}
    assert list((keys_dir / "desks/main/epochs/1").rglob("*.grant")) == []
    assert admin.get("/admin/keys").status_code == 302  # the rotation ended every session


def test_settings_changed_on_the_admin_page_take_effect(app: Flask, admin: FlaskClient) -> None:
    token = page_token(admin, "/admin/")
    admin.post("/admin/settings", data={"csrf_token": token, "organisation_name": "Justice Desk",
                                        "upload_limit_mib": "5", "accepted_types": ".PDF, jpg"})
    family = app.test_client()
    assert "Justice Desk" in family.get("/").get_data(as_text=True)
    refused = post_form(family, filled_form(), [("tool.exe", b"MZ")])
    assert refused.status_code == 422
    assert "tool.exe" in refused.get_data(as_text=True)
    assert post_form(family, filled_form(), [("scan.pdf", b"%PDF-1.4")]).status_code == 200
    big = post_form(family, filled_form(), [("scan.pdf", b"x" * 6 * 2**20)])
    assert big.status_code == 413


# The users are named "admin" and "reviewer" (isolated: "<bdi>admin</bdi></td>"); a code is
# a whole cell of its own, after the name cell.
CODES = ['">admin</td>', '">reviewer</td>', '">active</td>']


@pytest.mark.parametrize(("lang", "labels", "codes"), [
    ("fa", ['">مدیر</td>', '">بررسی‌کننده</td>', '">فعال</td>'], CODES),
    ("en", ['">Admin</td>', '">Reviewer</td>', '">Active</td>'], CODES),
])
def test_the_users_table_names_roles_and_states_in_the_page_language(
        admin: FlaskClient, lang: str, labels: list[str], codes: list[str]) -> None:
    page = admin.get("/admin/", query_string={"lang": lang}).get_data(as_text=True)
    for label in labels:
        assert label in page
    for code in codes:
        assert code not in page
