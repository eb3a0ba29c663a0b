"""Audit: each reviewer action adds its row (action, actor, case); no row holds content."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from intake.store.models import AuditEvent, User
from intake.web.database import get_session
from tests.review.conftest import log_in, page_token
from tests.review.test_cases import case_ids, submit
from tests.submit.conftest import MARKER

NOTE = "یادداشت محرمانه NOTE-41d2"
REPLY = "پاسخ به خانواده REPLY-9c07"
LABELS = ["برچسب‌ویژه LABEL-5e1b", "Khavaran LABEL-77aa"]
# What the family and the reviewer typed, and the files' names: none of it may reach the log.
CONTENT = [MARKER, "علی رضایی", "مریم احمدی", "گوهردشت", "ملاقات", "نامه.txt", "portrait.jpg",
           NOTE, REPLY, *LABELS]


@pytest.fixture
def reviewer(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert log_in(app, client).status_code == 302
    return client


@pytest.fixture
def cases(app: Flask) -> tuple[str, str]:
    """Two testimonies, each with a letter and a photo."""
    family = app.test_client()
    submit(family)
    submit(family, name="مریم احمدی")
    first, second = case_ids(app)
    return first, second


def file_links(reviewer: FlaskClient, case_id: str) -> dict[str, str]:
    """Map each file's name to its download path on the case page."""
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    return {name: link for link, name in re.findall(
        r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)">([^<]+)</a>', page)}


def triage_form(token: str) -> dict[str, str]:
    return {"csrf_token": token, "status": "corroborated", "family_status": "reviewing",
            "priority": "1", "assignee": "", "labels": ", ".join(LABELS),
            "violation": "likely", "reliability": "", "connection": ""}


Request = Callable[[FlaskClient, str, str, str, dict[str, str]], TestResponse]
# Each action as one bare request: (client, case, other case, CSRF token, file links).
REQUESTS: dict[str, Request] = {
    "view": lambda c, case, _o, _t, _f: c.get(f"/review/{case}"),
    "download": lambda c, _c, _o, _t, files: c.get(files["نامه.txt"]),
    "preview": lambda c, _c, _o, _t, files: c.get(files["portrait.jpg"] + "?inline=1"),
    "status": lambda c, case, _o, t, _f: c.post(f"/review/{case}/triage", data=triage_form(t)),
    "note": lambda c, case, _o, t, _f: c.post(f"/review/{case}/note",
                                              data={"csrf_token": t, "text": NOTE}),
    "reply": lambda c, case, _o, t, _f: c.post(f"/review/{case}/reply",
                                               data={"csrf_token": t, "text": REPLY}),
    "export": lambda c, case, _o, _t, _f: c.get(f"/review/{case}/export"),
    "link": lambda c, case, other, t, _f: c.post(f"/review/{case}/link/{other}",
                                                 data={"csrf_token": t}),
    "close_code": lambda c, case, _o, t, _f: c.post(f"/review/{case}/close-code",
                                                    data={"csrf_token": t, "confirm": "y"}),
}


def last_seq(app: Flask) -> int:
    with app.app_context():
        return max(seq for (seq,) in get_session().query(AuditEvent.seq))


def rows_after(app: Flask, seq: int) -> list[tuple[str, str | None, str | None]]:
    """Return (action, actor id, subject id) of every entry after `seq`."""
    with app.app_context():
        return [(e.action, e.actor_id, e.subject_id) for e in get_session().query(AuditEvent)
                .filter(AuditEvent.seq > seq).order_by(AuditEvent.seq)]


def user_id(app: Flask, name: str) -> str:
    with app.app_context():
        return get_session().query(User).filter_by(name=name).one().id


def do(reviewer: FlaskClient, action: str, case_id: str, other_id: str) -> None:
    """Perform one action from the case page, as a reviewer would."""
    token, files = page_token(reviewer, f"/review/{case_id}"), file_links(reviewer, case_id)
    response = REQUESTS[action](reviewer, case_id, other_id, token, files)
    assert response.status_code in (200, 302)
    response.get_data()


@pytest.mark.parametrize("action", REQUESTS)
def test_each_reviewer_action_adds_a_row_naming_the_action_the_reviewer_and_the_case(
        app: Flask, reviewer: FlaskClient, cases: tuple[str, str], action: str) -> None:
    case_id, other_id = cases
    token, files = page_token(reviewer, f"/review/{case_id}"), file_links(reviewer, case_id)
    before = last_seq(app)
    response = REQUESTS[action](reviewer, case_id, other_id, token, files)
    assert response.status_code in (200, 302)
    response.get_data()
    added = rows_after(app, before)
    me = user_id(app, "reviewer")
    assert [row for row in added if row[0] == action] == [(action, me, case_id)]
    assert all(actor == me and subject == case_id for _, actor, subject in added)


def forms_of(secret: str) -> list[str]:
    """The ways a leaked text could be written into a column."""
    raw = secret.encode()
    return [secret, secret.casefold(), json.dumps(secret)[1:-1], raw.hex(),
            base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")]


def test_no_audit_row_holds_any_content_in_any_column(
        app: Flask, reviewer: FlaskClient, cases: tuple[str, str]) -> None:
    case_id, other_id = cases
    for action in REQUESTS:
        do(reviewer, action, case_id, other_id)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    for typed in (NOTE, REPLY, *LABELS):
        assert typed in page
    with app.app_context():
        rows = get_session().execute(text("SELECT * FROM audit_events")).all()
        actions = {row.action for row in rows}
    assert set(REQUESTS) <= actions
    cells = [str(cell) for row in rows for cell in row]
    for secret in CONTENT:
        for form in forms_of(secret):
            assert not [cell for cell in cells if form in cell], secret


def test_one_preview_and_one_download_of_a_photo_log_one_preview_and_one_download(
        app: Flask, reviewer: FlaskClient, cases: tuple[str, str]) -> None:
    """An inline thumbnail on the case page was logged as a download (14 for 2 real ones)."""
    case_id, _ = cases
    photo = file_links(reviewer, case_id)["portrait.jpg"]
    before = last_seq(app)
    shown = reviewer.get(photo + "?inline=1")
    assert shown.headers["Content-Disposition"].startswith("inline")
    saved = reviewer.get(photo)
    assert saved.headers["Content-Disposition"].startswith("attachment")
    file_id = photo.rsplit("/", 1)[1]
    me = user_id(app, "reviewer")
    with app.app_context():
        rows = [(e.action, e.actor_id, e.subject_id, e.detail) for e in get_session()
                .query(AuditEvent).filter(AuditEvent.seq > before).order_by(AuditEvent.seq)]
    assert rows == [("preview", me, case_id, file_id), ("download", me, case_id, file_id)]


def test_asking_inline_for_a_file_that_is_never_shown_inline_logs_a_download(
        app: Flask, reviewer: FlaskClient, cases: tuple[str, str]) -> None:
    """?inline=1 on a letter still sends it as an attachment, so the log says download."""
    case_id, _ = cases
    letter = file_links(reviewer, case_id)["نامه.txt"]
    before = last_seq(app)
    sent = reviewer.get(letter + "?inline=1")
    assert sent.headers["Content-Disposition"].startswith("attachment")
    assert [row[0] for row in rows_after(app, before)] == ["download"]
