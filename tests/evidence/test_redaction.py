"""An export obeys the family's consent; contact details stay out unless a reviewer says why."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.evidence import verify_bundle
from intake.evidence.bag import BagReader, parse_bag_info
from intake.evidence.redact import Choice, ConsentRefused, redact
from intake.store.models import AuditEvent
from tests.review.conftest import log_in, page_token
from tests.review.test_cases import case_ids
from tests.submit.conftest import filled_form, post_form

CONTACT = "Signal +98 912 000 0000 CONTACTMARKER"


def record(**answers: object) -> dict[str, object]:
    return {"answers": {"consent_internal": True, "consent_un": True, "name": "x", **answers}}


def test_contact_details_are_left_out_unless_a_reason_is_given() -> None:
    plain = redact(record(contact=CONTACT, inside_country="yes"), Choice("un"))
    assert "contact" not in plain.record["answers"]
    assert "inside_country" not in plain.record["answers"]
    assert plain.summary() == "the submitter's contact details (left out)"
    assert plain.audit_detail() == "purpose:un;left-out:contact"
    kept = redact(record(contact=CONTACT), Choice("un", contact_reason="the court asks"))
    assert kept.record["answers"]["contact"] == CONTACT
    assert kept.statement()["included_despite_the_rules"] == [
        {"what": "the submitter's contact details", "reason": "the court asks"}]
    assert kept.audit_detail() == "purpose:un;override:contact"


def test_a_use_the_family_did_not_allow_is_refused_without_a_reason() -> None:
    with pytest.raises(ConsentRefused):
        redact(record(), Choice("courts"))
    with pytest.raises(ConsentRefused):
        redact(record(), Choice("courts", consent_reason="   "))
    allowed = redact(record(), Choice("courts", consent_reason="a prosecutor's request"))
    assert allowed.audit_detail() == "purpose:courts;override:consent"
    assert allowed.statement()["consent"] == {
        "internal": True, "anonymised": False, "un": True, "courts": False, "publish": False}


@pytest.fixture
def case_with_contact(app: Flask) -> tuple[FlaskClient, str]:
    post_form(app.test_client(), filled_form(contact=CONTACT))
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    [case_id] = case_ids(app)
    return reviewer, case_id


def every_byte(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_a_download_leaves_the_contact_details_out_and_says_so(
        case_with_contact: tuple[FlaskClient, str]) -> None:
    reviewer, case_id = case_with_contact
    data = reviewer.get(f"/review/{case_id}/export").get_data()
    assert b"CONTACTMARKER" not in every_byte(data)
    bag = BagReader(zipfile.ZipFile(io.BytesIO(data)))
    assert parse_bag_info(bag.read("bag-info.txt"))["Intake-Left-Out"] == (
        "the submitter's contact details (left out)")
    assert json.loads(bag.read("data/redactions.json"))["left_out"] == [
        "the submitter's contact details"]


def export_form(reviewer: FlaskClient, case_id: str, **fields: str):  # type: ignore[no-untyped-def]
    token = page_token(reviewer, f"/review/{case_id}")
    return reviewer.post(f"/review/{case_id}/export", data={"csrf_token": token, **fields})


def export_entries(app: Flask) -> list[str]:
    with Session(app.extensions["intake.db"]) as db:
        return [e.detail for e in db.query(AuditEvent).filter_by(action="export")]


def test_an_export_for_courts_without_the_familys_consent_is_refused_and_not_audited(
        app: Flask, case_with_contact: tuple[FlaskClient, str]) -> None:
    reviewer, case_id = case_with_contact
    response = export_form(reviewer, case_id, purpose="courts")
    assert response.status_code == 409
    assert export_entries(app) == []


def test_a_stated_reason_exports_for_courts_and_is_kept_in_the_bundle_notes_and_audit(
        app: Flask, case_with_contact: tuple[FlaskClient, str], tmp_path: Path) -> None:
    reviewer, case_id = case_with_contact
    response = export_form(reviewer, case_id, purpose="courts",
                           consent_reason="Prosecutor's request REASONMARKER",
                           contact_reason="The court must summon the witness")
    assert response.status_code == 200
    (tmp_path / "case.zip").write_bytes(response.get_data())
    assert verify_bundle(tmp_path / "case.zip").verified
    bag = BagReader(zipfile.ZipFile(tmp_path / "case.zip"))
    assert json.loads(bag.read("data/case.json"))["answers"]["contact"] == CONTACT
    assert json.loads(bag.read("data/redactions.json"))["included_despite_the_rules"] == [
        {"what": "use not covered by the family's consent",
         "reason": "Prosecutor's request REASONMARKER"},
        {"what": "the submitter's contact details",
         "reason": "The court must summon the witness"}]
    assert export_entries(app) == ["purpose:courts;override:consent;override:contact"]
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    assert "Prosecutor&#39;s request REASONMARKER" in page
    with Session(app.extensions["intake.db"]) as db:
        assert not any("REASONMARKER" in (e.detail or "") for e in db.query(AuditEvent))
