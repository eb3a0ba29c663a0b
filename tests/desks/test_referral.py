"""A desk refers a case to another desk only when the family consented; the other desk then
reads the testimony and nothing of the referring desk's own work; a referral killed before
it commits shares nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.desk import audit
from intake.store.models import AuditEvent, CaseDesk, Note, Submission
from intake.testimonies import cases
from intake.web.database import get_session
from tests.desks.conftest import logged_in
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_own_work import triage
from tests.review.conftest import page_token
from tests.submit.conftest import filled_form, post_form


def send(app: Flask, desks: list[str], consent: bool) -> str:
    """Store a case for these desks, with or without the coalition consent; return its id."""
    before = set()
    with app.app_context():
        before = {s.id for s in get_session().query(Submission)}
    form = filled_form(desks=desks, consent_coalition="y" if consent else None)
    assert post_form(app.test_client(), form).status_code == 200
    with app.app_context():
        (new,) = {s.id for s in get_session().query(Submission)} - before
    return new


def refer(client: FlaskClient, case_id: str, to: str):  # type: ignore[no-untyped-def]
    """Press the case page's Refer button."""
    return client.post(f"/review/{case_id}/refer",
                       data={"csrf_token": page_token(client, f"/review/{case_id}"), "desk": to})


def test_a_referral_without_the_familys_consent_is_refused_and_shares_nothing(
        app: Flask) -> None:
    case_id = send(app, ["main"], consent=False)
    response = refer(logged_in(app, "reviewer"), case_id, "c")
    assert response.status_code == 409
    assert "The family did not agree" in response.get_data(as_text=True) or \
        "خانواده نپذیرفته بود" in response.get_data(as_text=True)
    with app.app_context():
        assert get_session().query(CaseDesk).count() == 0
    assert logged_in(app, "c-reviewer").get(f"/review/{case_id}").status_code == 404


def test_a_consented_referral_gives_the_testimony_not_the_referring_desks_work(
        app: Flask) -> None:
    """main alone was chosen, with consent; main labels it and writes a note (under
    generation 0, as single-desk cases are), then refers it to c. c reads the answers; main's
    note and labels, moved to a generation c does not hold, do not open with c's keys; main
    still reads them; the audit log records the referral from main to c; the family's page
    says c has it, shared by main."""
    case_id = send(app, ["main"], consent=True)
    main = logged_in(app, "reviewer")
    triage(main, case_id, "in_triage", "main-label")
    assert refer(main, case_id, "c").status_code == 302
    c = logged_in(app, "c-reviewer")
    page = c.get(f"/review/{case_id}").get_data(as_text=True)
    assert "علی رضایی" in page
    assert "main-label" not in page
    assert "note of main-label" not in page
    assert "note of main-label" in main.get(f"/review/{case_id}").get_data(as_text=True)
    with app.app_context():
        db = get_session()
        case = db.get(Submission, case_id)
        c_keys = cases.data_key(case, epoch_keys_of(app, "c-reviewer"), db)
        (note,) = db.query(Note)
        assert cases.readable(cases.note_text, case, c_keys, note) is None
        assert cases.readable(cases.labels, case, c_keys) is None
        events = [(e.action, e.detail) for e in db.query(AuditEvent).filter_by(
            subject_id=case_id)]
        assert ("refer", "from:main to:c") in events
        assert ("referred", "desk:c by:main") in events
        assert db.get(CaseDesk, (case_id, "c")).referred_by == "main"


def test_a_referral_killed_before_it_commits_shares_nothing_and_loses_nothing(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The referral dies at its audit record, after re-encrypting main's note and sealing
    to c, before the commit: c gets no row, main's note still opens with main's keys."""
    case_id = send(app, ["main"], consent=True)
    main = logged_in(app, "reviewer")
    triage(main, case_id, "in_triage", "kept")

    class Killed(BaseException):
        """Stands in for kill -9 here."""

    def dies(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise Killed

    monkeypatch.setattr(audit, "record", dies)
    with pytest.raises(Killed):
        refer(main, case_id, "c")
    monkeypatch.undo()
    with app.app_context():
        db = get_session()
        assert db.query(CaseDesk).count() == 0
        case = db.get(Submission, case_id)
        assert case.key_generation == 0
        keys = cases.data_key(case, epoch_keys_of(app, "reviewer"), db)
        (note,) = db.query(Note)
        assert cases.note_text(case, keys, note) == "note of kept"
    assert logged_in(app, "c-reviewer").get(f"/review/{case_id}").status_code == 404
    assert refer(main, case_id, "c").status_code == 302


def test_the_family_sees_who_shared_its_testimony_with_whom(app: Flask) -> None:
    from tests.review.test_cases import submit

    family = app.test_client()
    code = submit(family, desks=["b", "main"], consent_coalition="y")  # type: ignore[arg-type]
    with app.app_context():
        (case_id,) = [s.id for s in get_session().query(Submission)]
    assert refer(logged_in(app, "b-reviewer"), case_id, "c").status_code == 302
    page = family.get("/followup?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    status = family.post("/followup/?lang=en", data={"csrf_token": token.group(1),
                                                     "code": code}).get_data(as_text=True)
    assert "Status at Mothers of Khavaran desk" in status
    assert "Shared with them by Justice for Iran desk, as you allowed" in status


def test_referral_refuses_a_case_the_desk_was_not_given(app: Flask) -> None:
    """c's reviewer cannot refer main's case anywhere: it gets the 404 of a missing case."""
    case_id = send(app, ["main"], consent=True)
    c = logged_in(app, "c-reviewer")
    response = c.post(f"/review/{case_id}/refer",
                      data={"csrf_token": page_token(c, "/review/passphrase"), "desk": "b"})
    assert response.status_code == 404
    with app.app_context():
        assert get_session().query(CaseDesk).count() == 0
