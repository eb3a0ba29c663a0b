"""Reading and triaging cases: decrypted views, files, notes, replies, audit, damage, locks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from intake.desk import audit
from intake.store.models import AuditEvent, Note, Reply, Submission
from intake.web.database import get_session
from tests.review.conftest import page_token
from tests.submit.conftest import filled_form, gps_jpeg, marker_file, post_form


def submit(family: FlaskClient, **changes: str) -> str:
    page = post_form(family, filled_form(**changes), [("نامه.txt", marker_file(300_000))],
                     photo=gps_jpeg()).get_data(as_text=True)
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', page)
    assert code
    return code.group(1)


# The database keeps no arrival order (ids are random, tables have no rowid), so
# the tests note the order in which this process stored submissions.
ARRIVED: list[str] = []
event.listen(Submission, "after_insert", lambda _mapper, _connection, row: ARRIVED.append(row.id))


def case_ids(app: Flask) -> list[str]:
    """Every case's id; those stored by this process in the order they were submitted."""
    with app.app_context():
        ids = {sid for (sid,) in get_session().query(Submission.id)}
    order = {sid: number for number, sid in enumerate(ARRIVED)}
    return sorted(ids, key=lambda sid: order.get(sid, len(order)))


def test_the_inbox_shows_decrypted_names(app: Flask, family: FlaskClient,
                                         reviewer: FlaskClient) -> None:
    submit(family)
    page = reviewer.get("/review/").get_data(as_text=True)
    assert "علی رضایی" in page
    assert "تهران" in page


@pytest.mark.parametrize(("query", "found"), [
    ("گوهردشت", True), ("ملاقات", True), ("۱۳۶۷", True), ("1367", True),
    ("ملاقات‌ها", False), ("يافت‌نشدني", False),
])
def test_search_matches_decrypted_text_across_digit_and_letter_forms(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, query: str, found: bool) -> None:
    submit(family)
    page = reviewer.get("/review/", query_string={"q": query}).get_data(as_text=True)
    assert ("علی رضایی" in page) is found


def test_search_folds_arabic_letter_forms(app: Flask, family: FlaskClient,
                                          reviewer: FlaskClient) -> None:
    submit(family, testimony="یک کتاب کهنه")
    assert "علی رضایی" in reviewer.get("/review/", query_string={"q": "كتاب"}).get_data(
        as_text=True)


def test_a_case_shows_every_answer_by_section_with_dates_in_both_calendars(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    assert "مرداد ۱۳۶۷" in page
    assert "1988-07-23" in page
    assert "اوین، گوهردشت" in page
    assert "نامه.txt" in page


@pytest.mark.parametrize(("lang", "shown", "code"), [
    ("fa", ["خواهر", "مرد", "هجری شمسی"], ["sister", "solar_hijri"]),
    ("en", ["Sister", "Male", "Solar Hijri"], ["sister", "solar_hijri"]),
])
def test_a_case_shows_chosen_options_by_their_labels_not_their_codes(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, lang: str, shown: list[str],
        code: list[str]) -> None:
    submit(family)
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}", query_string={"lang": lang}).get_data(as_text=True)
    for label in shown:
        assert label in page
    for raw in code:
        assert f">{raw}<" not in page
        assert f"({raw}," not in page


def test_a_file_downloads_byte_for_byte(app: Flask, family: FlaskClient,
                                       reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    links = re.findall(r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)">([^<]+)</a>', page)
    contents = {name: reviewer.get(link).get_data() for link, name in links}
    assert contents["نامه.txt"] == marker_file(300_000)
    assert b"CameraMaker" not in contents["portrait.jpg"]


def test_triage_notes_and_replies_are_stored_encrypted_and_the_family_reads_the_reply(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    code = submit(family)
    [case_id] = case_ids(app)
    path = f"/review/{case_id}"
    token = page_token(reviewer, path)
    reviewer.post(f"{path}/triage", data={"csrf_token": token, "status": "corroborated",
                                          "family_status": "need_info", "priority": "2",
                                          "assignee": "", "labels": "خاوران, 1367",
                                          "violation": "likely", "reliability": "reliable",
                                          "connection": "family"})
    reviewer.post(f"{path}/note", data={"csrf_token": token, "text": "یادداشت محرمانه"})
    reviewer.post(f"{path}/reply", data={"csrf_token": token, "text": "پیام شما رسید"})
    page = reviewer.get(path).get_data(as_text=True)
    assert re.search(r'<option selected value="likely">|<option value="likely" selected>', page)
    assert "یادداشت محرمانه" in page
    assert "پیام شما رسید" in page
    with app.app_context():
        db = get_session()
        submission = db.get(Submission, case_id)
        assert submission.status == "corroborated"
        assert submission.family_status == "need_info"
        assert "خاوران".encode() not in (submission.labels or b"")
        assert b"likely" not in (submission.assessment or b"")
        assert "یادداشت".encode() not in db.query(Note).one().body
    assert "خاوران" in reviewer.get("/review/", query_string={"label": "خاوران"}).get_data(
        as_text=True)
    followup = family.get("/followup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', followup)
    assert token
    status = family.post("/followup/", data={"csrf_token": token.group(1), "code": code})
    assert "پیام شما رسید" in status.get_data(as_text=True)
    assert "می‌خواهیم بیشتر بدانیم" in status.get_data(as_text=True)
    assert "یادداشت محرمانه" not in status.get_data(as_text=True)


def test_every_action_is_audited_and_the_chain_verifies(app: Flask, family: FlaskClient,
                                                        reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    reviewer.get(f"/review/{case_id}")
    with app.app_context():
        db = get_session()
        actions = [e.action for e in db.query(AuditEvent).order_by(AuditEvent.seq)]
        assert actions == ["unlock", "view"]
        assert audit.first_broken(db) is None
        first = db.query(AuditEvent).order_by(AuditEvent.seq).first()
        first.subject_id = "forged"
        db.commit()
        assert audit.first_broken(db) == first.seq


def test_a_tampered_case_is_marked_and_the_inbox_still_works(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family)
    submit(family, name="مریم احمدی")
    with app.app_context():
        db = get_session()
        damaged = db.query(Submission).first()
        damaged.sealed_key = damaged.sealed_key[:-1] + bytes([damaged.sealed_key[-1] ^ 1])
        db.commit()
        damaged_id = damaged.id
    inbox = reviewer.get("/review/")
    assert inbox.status_code == 200
    assert "Cannot be decrypted" in inbox.get_data(as_text=True) or "رمزگشایی" in inbox.get_data(
        as_text=True)
    page = reviewer.get(f"/review/{damaged_id}")
    assert page.status_code == 200
    assert "علی رضایی" not in page.get_data(as_text=True)


def test_a_case_in_an_epoch_without_a_grant_is_shown_as_locked(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family)
    with app.app_context():
        db = get_session()
        submission = db.query(Submission).one()
        submission.epoch_id = 99
        db.commit()
        case_id = submission.id
    inbox = reviewer.get("/review/", query_string={"lang": "en"})
    assert inbox.status_code == 200
    assert "Locked: no grant for this epoch" in inbox.get_data(as_text=True)
    assert "علی رضایی" not in inbox.get_data(as_text=True)
    page = reviewer.get(f"/review/{case_id}", query_string={"lang": "en"})
    assert page.status_code == 200
    assert "<h1>Locked</h1>" in page.get_data(as_text=True)
    assert "علی رضایی" not in page.get_data(as_text=True)


def test_testimonies_naming_the_same_person_are_suggested_and_linked_on_both(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family, name="علی رضایی", fathers_name="حسن")
    submit(family, name="علي رضايي", fathers_name="حسن")
    submit(family, name="مریم احمدی")
    first, second, third = case_ids(app)
    page = reviewer.get(f"/review/{first}/links").get_data(as_text=True)
    targets = re.findall(r'action="/review/[0-9a-f]+/link/([0-9a-f]+)"', page)
    assert targets == [second]
    other = second
    assert third not in page
    token = page_token(reviewer, f"/review/{first}")
    reviewer.post(f"/review/{first}/link/{other}", data={"csrf_token": token})
    assert f"/review/{other}\"" in reviewer.get(f"/review/{first}").get_data(as_text=True)
    assert f"/review/{first}\"" in reviewer.get(f"/review/{other}").get_data(as_text=True)


def test_a_case_exports_as_a_bundle_that_verifies(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, tmp_path: Path) -> None:
    import io
    import json
    import zipfile

    from intake.evidence import verify_bundle
    from intake.evidence.bag import BagReader

    submit(family)
    [case_id] = case_ids(app)
    reviewer.get(f"/review/{case_id}")
    response = reviewer.get(f"/review/{case_id}/export")
    assert response.status_code == 200
    (tmp_path / "case.zip").write_bytes(response.get_data())
    verdict = verify_bundle(tmp_path / "case.zip", app.extensions["intake.settings"].root)
    assert verdict.verified, verdict.steps
    bag = BagReader(zipfile.ZipFile(io.BytesIO(response.get_data())))
    assert {"data/case.json", "data/case.html", "data/audit-trail.json", "data/files.json",
            "manifest-sha256.txt", "tagmanifest-sha256.txt"} <= bag.paths
    record = json.loads(bag.read("data/case.json"))
    assert record["answers"]["name"].startswith("علی رضایی")
    [letter] = [n for n in bag.paths if n.endswith("نامه.txt")]
    assert bag.read(letter) == marker_file(300_000)
    actions = [entry["action"] for entry in json.loads(bag.read("data/audit-trail.json"))]
    assert actions[:2] == ["view", "export"]


def test_rebuilt_images_preview_inline_and_other_files_only_download(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    links = dict((name, link) for link, name in re.findall(
        r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)">([^<]+)</a>', page))
    photo = reviewer.get(links["portrait.jpg"] + "?inline=1")
    assert photo.headers["Content-Type"] == "image/jpeg"
    assert photo.headers["Content-Disposition"].startswith("inline")
    letter = reviewer.get(links["نامه.txt"] + "?inline=1")
    assert letter.headers["Content-Type"] == "application/octet-stream"
    assert letter.headers["Content-Disposition"].startswith("attachment")


def test_assignee_filter_lists_only_assigned_cases(app: Flask, family: FlaskClient,
                                                    reviewer: FlaskClient) -> None:
    submit(family)
    [case_id] = case_ids(app)
    with app.app_context():
        db = get_session()
        from intake.store.models import User

        me = db.query(User).filter_by(name="reviewer").one().id
        db.get(Submission, case_id).assignee_id = me
        db.commit()
    assert "علی رضایی" in reviewer.get("/review/", query_string={"assignee": me}).get_data(
        as_text=True)
    assert "علی رضایی" not in reviewer.get("/review/", query_string={"assignee": "x" * 32}
                                            ).get_data(as_text=True)


def test_notes_and_replies_of_different_lengths_are_stored_at_one_length(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """Notes and replies were stored unpadded: their ciphertext length followed the text."""
    submit(family)
    [case_id] = case_ids(app)
    for text in ("کوتاه", "بلند " * 100):  # 10 and 900 bytes of UTF-8
        for kind in ("note", "reply"):
            token = page_token(reviewer, f"/review/{case_id}")
            reviewer.post(f"/review/{case_id}/{kind}", data={"csrf_token": token, "text": text})
    with app.app_context():
        db = get_session()
        notes = {len(row.body) for row in db.query(Note)}
        desk = {len(row.for_desk) for row in db.query(Reply)}
        for_family = {len(row.for_family) for row in db.query(Reply)}
        assert db.query(Note).count() == db.query(Reply).count() == 2
    assert notes == desk == {1024 + 45}
    assert len(for_family) == 1
