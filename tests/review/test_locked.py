"""Cases a session cannot open: damaged items, locked or tampered cases, unvetted reviewers."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.staff.accounts import create_user
from intake.store.models import Attachment, CaseLink, Note, Reply, Submission, User
from intake.web.database import get_session
from tests.review.conftest import log_in, page_token, totp_now
from tests.review.test_cases import case_ids, submit
from tests.submit.test_followup import open_case

NEWCOMER_PASSPHRASE = "a newcomer passphrase, not yet vetted"
LOCKED_MESSAGE = "sealed to a key epoch you have not been granted"
BROKEN_MESSAGE = "does not open: it may have been damaged or tampered with"
POSTED = {"status": "new", "family_status": "received", "priority": "0", "assignee": "",
          "labels": "x", "violation": "", "reliability": "", "connection": "", "text": "یادداشت"}
SHOWN = {"note": ["یادداشت محرمانه"], "reply": ["پیام شما رسید"],
         "attachment": ["portrait.jpg", "نامه.txt"], "addition": ["نامهٔ دادستانی پیدا شد"]}


def flip(blob: bytes) -> bytes:
    """Flip one bit of a ciphertext's last byte."""
    return blob[:-1] + bytes([blob[-1] ^ 1])


def add_more(family: FlaskClient, code: str, text: str) -> None:
    """Send an addition to the case through the follow-up page, as the family would."""
    page = open_case(family, code).get_data(as_text=True)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert nonce
    assert token
    response = family.post("/followup/add", content_type="multipart/form-data", data={
        "csrf_token": token.group(1), "code": code, "form_nonce": nonce.group(1),
        "addition": text, "attachments": [(io.BytesIO(b"letter"), "l.txt")]})
    assert response.status_code == 200


def parent_id(app: Flask) -> str:
    """The id of the one case that is not an addition."""
    with app.app_context():
        return get_session().query(Submission).filter_by(parent_id=None).one().id


def tamper(app: Flask, item: str, case_id: str) -> None:
    """Flip a bit in the stored ciphertext of one item of a case."""
    with app.app_context():
        db = get_session()
        if item == "note":
            row = db.query(Note).one()
            row.body = flip(row.body)
        elif item == "reply":
            row = db.query(Reply).one()
            row.for_desk = flip(row.for_desk)
        elif item == "attachment":
            row = db.query(Attachment).filter_by(submission_id=case_id).order_by(
                Attachment.position).first()
            row.meta = flip(row.meta)
        else:
            row = db.query(Submission).filter_by(parent_id=case_id).one()
            row.answers = flip(row.answers)
        db.commit()


@pytest.mark.parametrize("item", ["note", "reply", "attachment", "addition"])
def test_a_tampered_item_is_marked_and_the_rest_of_the_case_renders(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, item: str) -> None:
    code = submit(family)
    add_more(family, code, "نامهٔ دادستانی پیدا شد")
    case_id = parent_id(app)
    token = page_token(reviewer, f"/review/{case_id}")
    reviewer.post(f"/review/{case_id}/note", data={"csrf_token": token, "text": "یادداشت محرمانه"})
    reviewer.post(f"/review/{case_id}/reply", data={"csrf_token": token, "text": "پیام شما رسید"})
    tamper(app, item, case_id)
    response = reviewer.get(f"/review/{case_id}", query_string={"lang": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("Cannot be decrypted") == 1
    assert "علی رضایی" in page
    for other, texts in SHOWN.items():
        assert sum(text in page for text in texts) == len(texts) - (other == item), other


def case_routes(app: Flask, case_id: str, file_id: str, other_id: str) -> list[tuple[str, str]]:
    """Every (method, path) of a route about one case, GET and POST."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("review.") and "<case_id>" in rule.rule:
            path = rule.rule.replace("<case_id>", case_id).replace("<file_id>", file_id)
            paths += [(method, path.replace("<other_id>", other_id)) for method in ("GET", "POST")]
            if "<other_id>" in rule.rule:
                reverse = rule.rule.replace("<case_id>", other_id).replace("<other_id>", case_id)
                paths += [(method, reverse) for method in ("GET", "POST")]
    assert len(paths) >= 16
    return paths


def break_case(app: Flask, case_id: str, how: str) -> str:
    """Seal a case to an epoch nobody holds, or flip a bit of its sealed key; return a file id."""
    with app.app_context():
        db = get_session()
        submission = db.get(Submission, case_id)
        if how == "locked":
            submission.epoch_id = 99
        else:
            submission.sealed_key = flip(submission.sealed_key)
        db.commit()
        return db.query(Attachment).filter_by(submission_id=case_id).first().id


@pytest.mark.parametrize(("how", "message"), [("locked", LOCKED_MESSAGE),
                                              ("tampered", BROKEN_MESSAGE)])
def test_every_case_route_refuses_a_locked_or_tampered_case_with_a_page_not_an_error(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, how: str, message: str) -> None:
    submit(family)
    submit(family, name="مریم احمدی")
    case_id, other_id = case_ids(app)
    file_id = break_case(app, case_id, how)
    token = page_token(reviewer, "/review/")
    for method, path in case_routes(app, case_id, file_id, other_id):
        response = reviewer.open(path, method=method, query_string={"lang": "en"},
                                 data={"csrf_token": token, **POSTED})
        assert response.status_code in (200, 403, 405), (method, path, response.status_code)
        if response.status_code != 405:
            assert message in response.get_data(as_text=True), (method, path)
    with app.app_context():
        assert get_session().query(CaseLink).count() == 0
        assert get_session().query(Note).count() == 0


def add_unvetted(app: Flask, name: str) -> None:
    """Create an account with a key pair but no grant for any epoch."""
    with app.app_context():
        db = get_session()
        create_user(db, app.extensions["intake.desk"].keyring, name=name, role="reviewer",
                    passphrase=NEWCOMER_PASSPHRASE,
                    profile=app.extensions["intake.settings"].kdf_profile, today=dt.date.today(),
                    root=app.extensions["intake.settings"].root)
        db.commit()


def test_an_unvetted_reviewer_sees_no_case_and_no_user_and_every_case_route_refuses(
        app: Flask, family: FlaskClient) -> None:
    submit(family)
    submit(family, name="مریم احمدی")
    first, second = case_ids(app)
    add_unvetted(app, "newcomer")
    newcomer = app.test_client()
    assert log_in(app, newcomer, name="newcomer", passphrase=NEWCOMER_PASSPHRASE,
                  code=totp_now(app, "newcomer")).status_code == 302
    with app.app_context():
        users = [(u.id, u.name) for u in get_session().query(User)]
    for query in ({}, {"q": "علی"}, {"status": "new"}, {"unread": "1"}):
        inbox = newcomer.get("/review/", query_string={"lang": "en", **query})
        assert inbox.status_code == 200
        page = inbox.get_data(as_text=True)
        assert "awaiting vetting" in page
        for case_id in (first, second):
            assert case_id[:8] not in page
        for user_id, name in users:
            assert user_id not in page
            assert f">{name}<" not in page
        assert dt.datetime.now(dt.UTC).date().isoformat() not in page
    with app.app_context():
        file_id = get_session().query(Attachment).filter_by(submission_id=first).first().id
    token = page_token(newcomer, "/review/")
    for method, path in case_routes(app, first, file_id, second):
        response = newcomer.open(path, method=method, query_string={"lang": "en"},
                                 data={"csrf_token": token, **POSTED})
        assert response.status_code in (403, 405), (method, path, response.status_code)
        if response.status_code == 403:
            assert "awaiting vetting" in response.get_data(as_text=True), (method, path)
    with app.app_context():
        assert get_session().query(CaseLink).count() == 0


@pytest.mark.parametrize("route", ["file/{file_id}", "export"])
def test_a_file_damaged_on_disk_is_refused_whole_before_any_byte_is_sent(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, route: str) -> None:
    submit(family)
    [case_id] = case_ids(app)
    with app.app_context():
        attachment = get_session().query(Attachment).filter_by(submission_id=case_id).order_by(
            Attachment.position.desc()).first()
        assert attachment is not None
        blob = app.extensions["intake.desk"].store.root / attachment.blob
    # Cut the last segment off a file of several segments.
    blob.write_bytes(blob.read_bytes()[:-100])
    path = f"/review/{case_id}/{route.format(file_id=attachment.id)}"
    response = reviewer.get(path, query_string={"lang": "en"})
    assert response.status_code == 403
    assert BROKEN_MESSAGE in response.get_data(as_text=True)
