"""The admin console: confirm steps, the rotation offered in place, its progress and end,
pending links, and the authenticator secret on its own."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.desk import rotation, trust
from intake.store.models import AuditEvent, Invite, ReviewSession, User
from intake.web.database import get_session
from tests.admin.conftest import invite_link, shown_secret
from tests.conftest import ADMIN_PASSPHRASE
from tests.review.conftest import log_in, page_token
from tests.submit.conftest import filled_form, post_form
from tests.unlock import unlock_user


def state_of(app: Flask, name: str) -> tuple[str, int, int]:
    """Return an account's state, its live sessions and the links waiting for it."""
    with app.app_context():
        db = get_session()
        user = db.query(User).filter_by(name=name).one()
        return (user.state, db.query(ReviewSession).filter_by(user_id=user.id).count(),
                db.query(Invite).filter_by(user_id=user.id).count())


def reviewer_id(app: Flask) -> str:
    with app.app_context():
        return get_session().query(User).filter_by(name="reviewer").one().id


@pytest.mark.parametrize("action", ["revoke", "reset-totp"])
def test_revoking_or_resetting_without_ticking_the_box_changes_nothing_and_asks_again(
        app: Flask, admin: FlaskClient, action: str) -> None:
    """One click on "Revoke" used to revoke at once: now the box must be ticked."""
    assert log_in(app, app.test_client()).status_code == 302
    user, before = reviewer_id(app), state_of(app, "reviewer")
    asked = admin.get(f"/admin/users/{user}/{action}", query_string={"lang": "en"})
    assert asked.status_code == 200
    assert 'name="confirmed" value="y" required' in asked.get_data(as_text=True)
    token = page_token(admin, "/admin/")
    for unticked in ({}, {"confirmed": "on"}, {"confirmed": ""}):
        refused = admin.post(f"/admin/users/{user}/{action}", query_string={"lang": "en"},
                             data={"csrf_token": token, **unticked})
        assert refused.status_code == 422
        assert "Nothing was changed: tick the box to confirm." in refused.get_data(as_text=True)
    assert state_of(app, "reviewer") == before == ("active", 1, 0)
    done = admin.post(f"/admin/users/{user}/{action}",
                      data={"csrf_token": token, "confirmed": "y"})
    assert done.status_code == 200
    assert state_of(app, "reviewer") == (("revoked", 0, 0) if action == "revoke"
                                         else ("active", 0, 1))


def test_after_a_revocation_the_page_offers_the_rotation_itself_not_the_command_line(
        app: Flask, admin: FlaskClient) -> None:
    """The message used to say "rotate the desk keys now with `intake keys rotate`"."""
    page = admin.post(f"/admin/users/{reviewer_id(app)}/revoke", query_string={"lang": "en"},
                      data={"csrf_token": page_token(admin, "/admin/"), "confirmed": "y"}
                      ).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/admin/keys" class="rotate">(.*?)</form>',
                     page, re.S)
    assert form
    assert 'type="password"' in form.group(1)
    assert 'name="csrf_token"' in form.group(1)
    assert "intake keys rotate" not in page
    assert "every session ends, yours included" in page


def test_the_keys_page_says_before_a_rotation_that_every_session_will_end(
        admin: FlaskClient) -> None:
    fa = admin.get("/admin/keys", query_string={"lang": "fa"}).get_data(as_text=True)
    en = admin.get("/admin/keys", query_string={"lang": "en"}).get_data(as_text=True)
    assert "When the rotation finishes, every session ends, yours included" in en
    assert "همهٔ نشست‌ها" in fa


def begin_rotation(app: Flask) -> None:
    """Make epoch 2 current and leave every record on epoch 1, as a rotation's first step."""
    keyring, settings = app.extensions["intake.desk"].keyring, app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        _, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.begin(db, keyring, "main", keys.key, int(time.time()), signer,
                       trust.high_water(settings.instance_path))
        db.commit()


def test_a_running_rotation_shows_its_progress_and_reloads_itself(
        app: Flask, admin: FlaskClient) -> None:
    """After "Rotate now" the page came back unchanged until the admin was logged out."""
    post_form(app.test_client(), filled_form())
    post_form(app.test_client(), filled_form())
    begin_rotation(app)
    instance_path = app.extensions["intake.settings"].instance_path
    with rotation.exclusive(instance_path, "main"):
        page = admin.get("/admin/keys", query_string={"lang": "en", "watching": "1"}
                         ).get_data(as_text=True)
    assert "Re-sealing records to epoch 2: 0 of 2 done (0%)." in page
    assert '<meta http-equiv="refresh" content="3; url=/admin/keys?watching=1">' in page
    assert '<progress max="100" value="0">' in page
    assert 'type="password"' not in page  # no second rotation while one runs
    stopped = admin.get("/admin/keys", query_string={"lang": "en"}).get_data(as_text=True)
    assert "Rotation interrupted" in stopped
    assert "http-equiv" not in stopped
    assert ">Resume the rotation</button>" in stopped


def test_the_end_of_a_rotation_started_on_the_page_is_said_on_the_login_page_it_lands_on(
        app: Flask, admin: FlaskClient) -> None:
    """The admin was silently logged out; only `intake keys status` showed the new epoch."""
    post_form(app.test_client(), filled_form())
    token = page_token(admin, "/admin/keys")
    started = admin.post("/admin/keys", data={"csrf_token": token,
                                              "passphrase": ADMIN_PASSPHRASE})
    assert started.headers["Location"] == "/admin/keys?watching=1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        landed = admin.get("/admin/keys?watching=1")
        if landed.status_code == 302:
            break
        time.sleep(0.2)
    assert landed.headers["Location"] == "/review/login?rotated=1"
    login = admin.get(landed.headers["Location"] + "&lang=en")
    assert ("The key rotation has finished. It ended every session, yours included: "
            "log in again.") in login.get_data(as_text=True)
    # A session that merely ended, with no rotation watched, lands on the plain login page.
    assert admin.get("/admin/keys").headers["Location"] == "/review/login"


def test_pending_links_are_listed_with_their_expiry_and_a_cancelled_one_is_dead_and_audited(
        app: Flask, admin: FlaskClient) -> None:
    link = invite_link(admin, "sima")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%d %H:")
    page = admin.get("/admin/", query_string={"lang": "en"}).get_data(as_text=True)
    row = re.search(r'<tr><td data-label="Name" class="name"><bdi>sima</bdi></td>(.*?)</tr>',
                    page, re.S)
    assert row
    assert "Enrolment as Reviewer" in row.group(1)
    assert f'<span class="ltr date" dir="ltr">{expires}' in row.group(1)
    cancel = re.search(r'action="(/admin/invites/[0-9a-f]{64}/cancel)"', row.group(1))
    assert cancel
    assert link.rsplit("/", 1)[1] not in page  # the list never shows a link again
    token = page_token(admin, "/admin/")
    assert admin.post(cancel.group(1), data={"csrf_token": token}).status_code == 302
    assert app.test_client().get(link).status_code == 404
    assert "<bdi>sima</bdi>" not in admin.get("/admin/").get_data(as_text=True)
    assert admin.post(cancel.group(1), data={"csrf_token": token}).status_code == 404
    with app.app_context():
        db = get_session()
        admin_id = db.query(User).filter_by(name="admin").one().id
        rows = [(e.action, e.actor_id) for e in db.query(AuditEvent)
                .filter(AuditEvent.action == "invite_cancel")]
    assert rows == [("invite_cancel", admin_id)]


def test_an_expired_link_is_not_listed_as_pending(app: Flask, admin: FlaskClient) -> None:
    invite_link(admin, "late")
    with app.app_context():
        db = get_session()
        db.query(Invite).update({Invite.expires_at: int(time.time()) - 1})
        db.commit()
    assert "<bdi>late</bdi>" not in admin.get("/admin/").get_data(as_text=True)


def test_the_persian_enrolment_page_shows_the_secret_alone_left_to_right_in_groups_of_four(
        app: Flask, admin: FlaskClient) -> None:
    """The otpauth:// address broke apart right to left on the Persian page."""
    link = invite_link(admin, "sima")
    page = app.test_client().get(link, query_string={"lang": "fa"}).get_data(as_text=True)
    assert "otpauth://" not in page
    shown = re.search(r'<bdi dir="ltr"><code class="ltr secret" dir="ltr">(.*?)</code></bdi>',
                      page)
    assert shown
    groups = re.findall(r"<span>([A-Z2-7]+)</span>", shown.group(1))
    assert [len(group) for group in groups] == [4] * 8
    with app.app_context():
        secret = get_session().query(Invite).one().totp_secret
    assert base64.b32decode(shown_secret(page)) == secret
