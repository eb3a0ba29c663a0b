"""A testimony given by phone, in person or on paper, recorded by a reviewer."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.evidence.bag import BagReader, parse_bag_info
from intake.store.models import AuditEvent, Submission, User
from tests.conftest import stored_bytes
from tests.review.conftest import log_in, page_token
from tests.review.test_cases import case_ids
from tests.submit.conftest import MARKER, filled_form, marker_file, post_form, read_everything


@pytest.fixture
def reviewer(app: Flask) -> FlaskClient:
    """A vetted reviewer's browser, logged in."""
    client = app.test_client()
    assert log_in(app, client).status_code == 302
    return client


def record(reviewer: FlaskClient, **changes: object):  # type: ignore[no-untyped-def]
    token = page_token(reviewer, "/review/record")
    data = {"csrf_token": token, "channel": "phone", "taken_on": "2026-11-20",
            **filled_form(), **changes}
    data["attachments"] = [(io.BytesIO(marker_file(100_000)), "scan.txt")]
    return reviewer.post("/review/record", data=data, content_type="multipart/form-data")


def test_a_recorded_testimony_is_encrypted_like_a_familys_and_keeps_its_provenance(
        app: Flask, reviewer: FlaskClient) -> None:
    response = record(reviewer)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [case_id] = case_ids(app)
    assert response.headers["Location"] == f"/review/{case_id}"
    # Nothing of the answers or the scan on disk in plaintext (database and store alike).
    assert MARKER.encode() not in stored_bytes(app)
    store = app.extensions["intake.settings"].instance_path / "store"
    assert not any(MARKER.encode() in p.read_bytes() for p in store.rglob("*") if p.is_file())
    [found] = read_everything(app)
    with Session(app.extensions["intake.db"]) as db:
        reviewer_id = db.query(User).filter_by(name="reviewer").one().id
        assert [(e.actor_id, e.action) for e in db.query(AuditEvent).filter_by(
            subject_id=case_id, action="record")] == [(reviewer_id, "record")]
        assert db.get(Submission, case_id).family_lookup is None
    assert found["answers"]["provenance"] == {
        "channel": "phone", "taken_by": reviewer_id, "taken_by_name": "reviewer",
        "day": "2026-11-20"}
    assert "channel" not in found["answers"]
    assert [f["content"] for f in found["files"]] == [marker_file(100_000)]
    page = reviewer.get(f"/review/{case_id}?lang=en").get_data(as_text=True)
    assert ('Given by phone, taken down by <bdi>reviewer</bdi> on '
            '<span class="ltr date" dir="ltr">2026-11-20</span>.') in page


def test_every_bundle_says_which_channel_a_testimony_came_through(
        app: Flask, reviewer: FlaskClient) -> None:
    record(reviewer, taken_on="2026-11-19", channel="paper")
    post_form(app.test_client(), filled_form())
    recorded, sent = case_ids(app)
    with Session(app.extensions["intake.db"]) as db:
        reviewer_id = db.query(User).filter_by(name="reviewer").one().id

    def received(case_id: str) -> str:
        data = reviewer.get(f"/review/{case_id}/export").get_data()
        bag = BagReader(zipfile.ZipFile(io.BytesIO(data)))
        return parse_bag_info(bag.read("bag-info.txt"))["Intake-Received"]
    assert received(recorded) == (f"on paper, taken down by reviewer (account {reviewer_id}) "
                                  "on 2026-11-19")
    assert received(sent) == "through the web form, by the family itself"


@pytest.mark.parametrize(("changes", "message"), [
    ({"taken_on": "2999-01-01"}, "Write the day as YYYY-MM-DD, not after today."),
    ({"taken_on": "20 Nov"}, "Write the day as YYYY-MM-DD, not after today."),
    ({"channel": "pigeon"}, "Not a valid choice"),
])
def test_a_bad_day_or_channel_is_refused_and_nothing_is_stored(
        app: Flask, reviewer: FlaskClient, changes: dict[str, str], message: str) -> None:
    reviewer.get("/review/?lang=en")
    response = record(reviewer, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert case_ids(app) == []


def test_a_family_cannot_reach_the_recording_form(client: FlaskClient) -> None:
    assert client.post("/review/record", data={}).status_code in (400, 403)
    assert client.get("/review/record").status_code == 302
