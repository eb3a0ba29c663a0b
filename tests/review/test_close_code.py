"""Closing a coerced code, and the safety hold: what the code's holder still reaches."""

from __future__ import annotations

import http.client
import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app
from intake.store.models import AuditEvent, Reply, Submission
from intake.web.database import get_session
from tests import live
from tests.conftest import stored_bytes
from tests.review.conftest import log_in, page_token
from tests.review.test_cases import case_ids, submit
from tests.submit.test_followup import open_case
from tests.test_untimed import finer_than_a_day

REPLY = "پاسخ پیش از بستن REPLY-before"


def reply(reviewer: FlaskClient, case_id: str, text: str) -> None:
    token = page_token(reviewer, f"/review/{case_id}")
    response = reviewer.post(f"/review/{case_id}/reply", data={"csrf_token": token, "text": text})
    assert response.status_code == 302


def close(reviewer: FlaskClient, case_id: str, confirm: bool = True) -> None:
    token = page_token(reviewer, f"/review/{case_id}")
    data = {"csrf_token": token} | ({"confirm": "y"} if confirm else {})
    assert reviewer.post(f"/review/{case_id}/close-code", data=data).status_code == 302


def set_status(reviewer: FlaskClient, case_id: str, status: str) -> None:
    token = page_token(reviewer, f"/review/{case_id}")
    response = reviewer.post(f"/review/{case_id}/triage", data={
        "csrf_token": token, "status": status, "family_status": "reviewing", "priority": "0",
        "assignee": "", "labels": "", "violation": "", "reliability": "", "connection": ""})
    assert response.status_code == 302


def neutral(response: TestResponse) -> tuple[int, list[str], str]:
    """A response without its one-time values (CSRF token, the code typed back into the form)."""
    body = re.sub(r'value="[^"]*"|<textarea[^>]*>[^<]*', "", response.get_data(as_text=True))
    headers = sorted(f"{name}: {value}" for name, value in response.headers
                     if name not in ("Content-Length", "Set-Cookie"))
    return response.status_code, headers, body


def add(family: FlaskClient, code: str) -> TestResponse:
    token = page_token(family, "/followup")
    return family.post("/followup/add", content_type="multipart/form-data", data={
        "csrf_token": token, "code": code, "form_nonce": "n" * 32, "addition": "more",
        "attachments": [(io.BytesIO(b"letter"), "l.txt")]})


def test_a_closed_code_gets_exactly_the_page_of_a_wrong_code_for_reading_and_adding(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """A relative forced to hand over the code: its holder read new replies and added material."""
    code = submit(family)
    [case_id] = case_ids(app)
    reply(reviewer, case_id, REPLY)
    assert REPLY in open_case(family, code).get_data(as_text=True)
    close(reviewer, case_id)
    wrong = " ".join(reversed(code.split()))
    assert neutral(open_case(family, code)) == neutral(open_case(family, wrong))
    assert REPLY not in open_case(family, code).get_data(as_text=True)
    assert neutral(add(family, code)) == neutral(add(family, wrong))
    assert case_ids(app) == [case_id]
    assert len(list(app.extensions["intake.desk"].store.root.iterdir())) == 2  # letter, photo


def test_closing_needs_the_confirmation_box_and_is_audited(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    code = submit(family)
    [case_id] = case_ids(app)
    close(reviewer, case_id, confirm=False)
    assert '<dl class="outline">' in open_case(family, code).get_data(as_text=True)
    close(reviewer, case_id)
    assert '<dl class="outline">' not in open_case(family, code).get_data(as_text=True)
    with app.app_context():
        [event] = get_session().query(AuditEvent).filter_by(action="close_code").all()
        assert event.subject_id == case_id
        assert event.detail == ""
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    assert "این کد در" in page  # "This code was closed on"
    assert 'action="/review/' + case_id + '/close-code"' not in page


def test_after_closing_replies_are_sealed_to_no_code(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    reply(reviewer, case_id, REPLY)
    close(reviewer, case_id)
    reply(reviewer, case_id, "after closing")
    with app.app_context():
        rows = get_session().query(Reply).all()
        case = get_session().get(Submission, case_id)
        assert case is not None
        assert [row.for_family for row in rows] == [b""]
        assert (case.family_lookup, case.family_key, case.family_outline) == (None, None, None)


def test_a_seized_disk_after_closing_holds_nothing_the_code_opened(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """The old lookup id, outline and family copy of a reply lingered in the WAL (SQLite), or
    as dead rows in the table and index files until autovacuum came (PostgreSQL)."""
    submit(family)
    [case_id] = case_ids(app)
    reply(reviewer, case_id, REPLY)
    with app.app_context():
        case = get_session().get(Submission, case_id)
        [row] = get_session().query(Reply).all()
        assert case is not None
        assert case.family_outline
        gone = [case.family_lookup.encode() if case.family_lookup else b"x",
                case.family_key or b"x", case.family_outline[-64:], row.for_family[-64:]]
    close(reviewer, case_id)
    disk = stored_bytes(app)
    assert disk
    for secret in gone:
        assert secret not in disk


def test_replies_reach_the_code_only_after_a_safety_hold_is_lifted(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """A hold must keep every reply, old and new, from whoever holds the code until lifted."""
    code = submit(family)
    [case_id] = case_ids(app)
    reply(reviewer, case_id, "before the hold")
    set_status(reviewer, case_id, "safety_hold")
    reply(reviewer, case_id, "during the hold")
    page = open_case(family, code).get_data(as_text=True)
    assert '<dl class="outline">' in page
    assert "before the hold" not in page
    assert "during the hold" not in page
    with app.app_context():
        held = [row for row in get_session().query(Reply) if row.for_family == b""]
        assert len(held) == 1
    set_status(reviewer, case_id, "in_triage")
    page = open_case(family, code).get_data(as_text=True)
    assert "before the hold" in page
    assert "during the hold" in page


@pytest.mark.parametrize("status", ["new", "in_triage", "closed"])
def test_a_status_other_than_the_hold_lets_replies_through(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, status: str) -> None:
    code = submit(family)
    [case_id] = case_ids(app)
    set_status(reviewer, case_id, status)
    reply(reviewer, case_id, "a reply")
    assert "a reply" in open_case(family, code).get_data(as_text=True)


def live_followup(server: live.LiveServer, code: str) -> tuple[int, list[str], str]:
    """Open the follow-up page and send a code over HTTP, as a family's browser would."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/followup")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    # What gunicorn hands the browser dates the visit to the day at most.
    assert cookie.startswith("intake_session=")
    assert finer_than_a_day(response.getheader("Set-Cookie", "")) == []
    assert finer_than_a_day(token.group(1)) == []
    connection.request("POST", "/followup/", body=urlencode(
        {"csrf_token": token.group(1), "code": code}), headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    body = re.sub(r'value="[^"]*"|<textarea[^>]*>[^<]*', "", response.read().decode())
    headers = sorted(f"{name}: {value}" for name, value in response.getheaders()
                     if name not in ("Date", "Content-Length", "Set-Cookie"))
    connection.close()
    return response.status, headers, body


def test_through_the_real_server_a_closed_code_answers_as_a_wrong_code_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Status, every header gunicorn and the app send, and the page, tokens aside."""
    env = live.initialise(tmp_path, reviewers=("reviewer",))
    for name, value in env.items():
        if name.startswith("INTAKE_"):
            monkeypatch.setenv(name, value)
    app = create_app()
    family, reviewer = app.test_client(), app.test_client()
    code = submit(family)
    assert log_in(app, reviewer, passphrase=live.REVIEWER_PASSPHRASE).status_code == 302
    [case_id] = case_ids(app)
    close(reviewer, case_id)
    server = live.start(tmp_path, env)
    try:
        closed = live_followup(server, code)
        wrong = live_followup(server, " ".join(reversed(code.split())))
    finally:
        server.stop()
    assert closed[0] == 200
    assert closed == wrong
