"""A family asks, with its code, that a further desk be given its case; a desk that holds the
case carries the request out as a referral. The family never gave the form's coalition
consent in these tests, so only the request can allow the referral."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from intake.store.models import AuditEvent, CaseDesk, DeskRecord, ShareRequest, Submission
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.desks.test_referral import refer
from tests.review.conftest import page_token
from tests.submit.conftest import filled_form, post_form


def send(app: Flask, family: FlaskClient) -> tuple[str, str]:
    """Store a case for desk main alone, without coalition consent; return its id and code."""
    page = post_form(family, filled_form(desks=["main"])).get_data(as_text=True)
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', page)
    assert code
    with app.app_context():
        (case_id,) = [s.id for s in get_session().query(Submission)]
    return case_id, code.group(1)


def followup(family: FlaskClient, code: str, lang: str = "en") -> str:
    """Open the follow-up page with the code, as the family does; return the page."""
    page = family.get(f"/followup?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = family.post(f"/followup/?lang={lang}",
                           data={"csrf_token": token.group(1), "code": code})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ask(family: FlaskClient, code: str, desks: list[str], lang: str = "en"):  # type: ignore[no-untyped-def]
    """Tick these desks on the follow-up page and press "Ask to share it"."""
    page = followup(family, code, lang)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return family.post(f"/followup/share?lang={lang}",
                       data={"csrf_token": token.group(1), "code": code, "desks": desks})


def test_a_request_records_the_case_the_desk_and_the_day_only_once_and_audits_no_visit(
        app: Flask) -> None:
    """The family of a case for main asks, twice, for desk c: one row, with exactly the
    columns case id, desk and UTC day (no time, no address); nothing enters the audit log
    then (its time to the second would date the family's visit); the page says waiting."""
    family = app.test_client()
    case_id, code = send(app, family)
    page = followup(family, code)
    assert "Mothers of Khavaran desk" in page
    assert "Keeps the names of the buried." in page
    with app.app_context():
        events_before = get_session().query(AuditEvent).count()
    assert ask(family, code, ["c"]).status_code == 200
    response = ask(family, code, ["c"])
    assert response.status_code == 200
    assert "asked, waiting" in response.get_data(as_text=True)
    with app.app_context():
        db = get_session()
        columns = {c["name"] for c in inspect(db.get_bind()).get_columns("share_requests")}
        assert columns == {"submission_id", "desk_id", "asked_on"}
        rows = [(r.submission_id, r.desk_id, r.asked_on) for r in db.query(ShareRequest)]
        assert rows == [(case_id, "c", dt.datetime.now(dt.UTC).date())]
        assert db.query(AuditEvent).count() == events_before
        assert db.query(CaseDesk).count() == 0


@pytest.mark.parametrize("desk", ["nowhere", "main", "retired-b"])
def test_a_desk_that_does_not_exist_is_retired_or_holds_the_case_is_refused_in_persian(
        app: Flask, desk: str) -> None:
    """Asking for an unknown desk, for main, which holds the case, or for b, retired after
    the page was shown, together with a good one (c): 422, the reason in Persian, and no
    row at all, c's included."""
    family = app.test_client()
    _case_id, code = send(app, family)
    if desk == "retired-b":
        desk = "b"
        with app.app_context():
            get_session().get(DeskRecord, "b").retired = True
            get_session().commit()
    response = ask(family, code, [desk, "c"], lang="fa")
    assert response.status_code == 422
    assert "سازمانی که علامت زدید را نمی‌توان درخواست کرد" in response.get_data(as_text=True)
    with app.app_context():
        assert get_session().query(ShareRequest).count() == 0


def test_a_request_is_carried_out_as_a_referral_and_the_asked_desk_then_reads_the_case(
        app: Flask) -> None:
    """No coalition consent on the form; the family asks for c. main's reviewer sees the
    request and carries it out; c's reviewer then opens the case; the log holds the
    family's request with its day, and the referral; the family sees c, shared as it asked."""
    family = app.test_client()
    case_id, code = send(app, family)
    assert ask(family, code, ["c"]).status_code == 200
    main = logged_in(app, "reviewer")
    page = main.get(f"/review/{case_id}?lang=en").get_data(as_text=True)
    assert "The family asks to share this case with Mothers of Khavaran desk." in page
    assert refer(main, case_id, "c").status_code == 302
    assert "علی رضایی" in logged_in(app, "c-reviewer").get(
        f"/review/{case_id}").get_data(as_text=True)
    with app.app_context():
        db = get_session()
        events = [(e.action, e.detail) for e in db.query(AuditEvent).filter_by(
            subject_id=case_id)]
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert ("share_asked", f"desk:c on:{today}") in events
        assert ("refer", "from:main to:c") in events
        assert ("referred", "desk:c by:main") in events
    assert "The family asks" not in main.get(f"/review/{case_id}?lang=en").get_data(
        as_text=True)
    status = followup(family, code)
    assert "Status at Mothers of Khavaran desk" in status
    assert ", as you asked" in status
    assert "asked, waiting" not in status


def test_a_request_for_one_desk_does_not_allow_a_referral_to_another(app: Flask) -> None:
    """The family asked for c only and gave no coalition consent: main's referral to b is
    refused (409) and shares nothing."""
    family = app.test_client()
    case_id, code = send(app, family)
    assert ask(family, code, ["c"]).status_code == 200
    assert refer(logged_in(app, "reviewer"), case_id, "b").status_code == 409
    with app.app_context():
        assert get_session().query(CaseDesk).count() == 0


@pytest.mark.parametrize("reviewer", ["b-reviewer", "c-reviewer"])
def test_a_desk_not_holding_the_case_gets_404_and_cannot_carry_out_the_request(
        app: Flask, reviewer: str) -> None:
    """The family asked for c; b (not asked) and c (asked, not yet given it) get the 404 of
    a missing case on the case page and on the referral that would carry it out."""
    family = app.test_client()
    case_id, code = send(app, family)
    assert ask(family, code, ["c"]).status_code == 200
    client = logged_in(app, reviewer)
    assert client.get(f"/review/{case_id}").status_code == 404
    response = client.post(f"/review/{case_id}/refer",
                           data={"csrf_token": page_token(client, "/review/passphrase"),
                                 "desk": "c"})
    assert response.status_code == 404
    with app.app_context():
        assert get_session().query(CaseDesk).count() == 0


@pytest.mark.parametrize("site", ["same-origin", "cross-site"])
def test_an_expired_share_form_records_nothing_and_comes_back_only_to_our_own_page(
        app: Flask, site: str) -> None:
    """A stale token: from our own page the case comes back with c still ticked (400); from
    another site, the generic refusal, nothing of the case; no row either way."""
    family = app.test_client()
    _case_id, code = send(app, family)
    response = family.post("/followup/share?lang=en", headers={"Sec-Fetch-Site": site},
                           data={"csrf_token": "expired", "code": code, "desks": ["c"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    kept = 'value="c" id="share-desk-c" checked' in page
    assert kept == (site == "same-origin")
    assert ("Received on" in page) == (site == "same-origin")
    with app.app_context():
        assert get_session().query(ShareRequest).count() == 0
