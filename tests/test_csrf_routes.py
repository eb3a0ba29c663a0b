"""CSRF: every POST route in the URL map refuses a request without a token, form or not."""

from __future__ import annotations

import time

from flask import Flask

from intake.staff import invites
from intake.store.models import Invite, Note, ReviewSession, SavedFilter, Submission, User
from intake.web.database import get_session
from tests.review.conftest import log_in
from tests.submit.conftest import filled_form, post_form

REFUSED = "This form has expired or was not sent from this site. Nothing was saved."
# Fields that would carry out each action if the token were not checked.
FIELDS = {"name": "intruder", "role": "admin", "organisation_name": "Hijacked",
          "upload_limit_mib": "1", "accepted_types": "", "status": "closed",
          "family_status": "closed", "priority": "3", "text": "forged note",
          "passphrase": "admin passphrase for tests", "code": "000000",
          "current": "admin passphrase for tests", "new": "a forged new passphrase",
          "confirm": "a forged new passphrase", "consent": "internal", "confirmed": "y"}


def fill(rule: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        rule = rule.replace(f"<{name}>", value)
    assert "<" not in rule, rule
    return rule


def test_every_post_route_refuses_a_request_without_a_csrf_token(app: Flask) -> None:
    """Grant, revoke, reset, logout and the other form-less actions included, with a live
    vetted admin session that could otherwise carry each of them out."""
    family = app.test_client()
    post_form(family, filled_form())
    post_form(family, filled_form())
    with app.app_context():
        db = get_session()
        cases = [s.id for s in db.query(Submission)]
        reviewer = db.query(User).filter_by(name="reviewer").one().id
        admin_id = db.query(User).filter_by(name="admin").one().id
        token = invites.create(db, "newcomer", "reviewer", int(time.time()))
        db.commit()
        invite_id = db.query(Invite).one().token_hash
    values = {"case_id": cases[0], "other_id": cases[1], "user_id": reviewer, "token": token,
              "invite_id": invite_id,
              "filter_id": saved_filter(app, admin_id)}
    admin = app.test_client()
    assert log_in(app, admin, name="admin").status_code == 302
    posted = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        response = admin.post(fill(rule.rule, values),
                              data={**FIELDS, "case": cases, "action": "status"},
                              query_string={"lang": "en", "status": "closed"})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert REFUSED in response.get_data(as_text=True), rule.endpoint
        posted.add(rule.endpoint)
    assert {"admin.vet", "admin.revoke", "admin.reset_totp", "review.logout", "admin.keys",
            "admin.invite", "admin.change_settings", "review.note", "review.triage",
            "review.reply", "review.confirm_link", "review.change_passphrase", "review.login",
            "enrol.enrol", "submit.submit", "followup.add", "review.bulk",
            "review.save_filter", "review.delete_filter", "review.export_for",
            "review.record", "admin.cancel_invite"} <= posted
    with app.app_context():
        db = get_session()
        assert db.get(User, reviewer).state == "active"
        assert db.query(ReviewSession).count() == 1  # not logged out
        assert db.query(Note).count() == 0
        assert db.query(Invite).count() == 1
        assert db.query(User).filter_by(name="newcomer").count() == 0
        assert {s.status for s in db.query(Submission)} == {"new"}
        # The admin's own filter, which it could otherwise delete, is kept; none is added.
        assert db.query(SavedFilter).count() == 1
    assert [e.id for e in app.extensions["intake.desk"].keyring.epochs("main")] == [1]


def saved_filter(app: Flask, user_id: str) -> str:
    """Save a filter for an account, as the inbox would; return its id."""
    with app.app_context():
        db = get_session()
        row = SavedFilter(id="f" * 32, user_id=user_id, params="status=new", position=1)
        db.add(row)
        db.commit()
        return row.id
