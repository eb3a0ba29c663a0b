"""Each chosen desk's work on a case is its own: triage, labels, assessment, notes and replies,
written under a key generation the other desks do not hold."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.crypto import DecryptionError
from intake.store.models import CaseDesk, Note, Submission
from intake.testimonies import cases
from intake.web.database import get_session
from tests.desks.conftest import Coalition, Path, logged_in
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_routes import SEEN, send_to
from tests.review.conftest import page_token


def triage(client: FlaskClient, case_id: str, status: str, label: str) -> None:
    """Set a desk's status and label of a case, and write a note and a reply."""
    path = f"/review/{case_id}"
    token = page_token(client, path)
    assert client.post(f"{path}/triage", data={
        "csrf_token": token, "status": status, "family_status": "reviewing", "priority": "1",
        "assignee": "", "labels": label, "violation": "likely", "reliability": "",
        "connection": ""}).status_code == 302
    assert client.post(f"{path}/note", data={"csrf_token": token,
                                             "text": f"note of {label}"}).status_code == 302


def test_two_chosen_desks_triage_independently_and_read_none_of_each_others_work(
        app: Flask) -> None:
    """Case for b and c: b marks it corroborated with label b-label and a note; c marks it
    rejected with c-label. Each desk's page and inbox show its own status, label and note
    only, and c's keys do not open b's note or labels."""
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    b, c = logged_in(app, "b-reviewer"), logged_in(app, "c-reviewer")
    triage(b, case_id, "corroborated", "b-label")
    triage(c, case_id, "rejected", "c-label")
    b_page = b.get(f"/review/{case_id}").get_data(as_text=True)
    c_page = c.get(f"/review/{case_id}").get_data(as_text=True)
    assert "b-label" in b_page
    assert "note of b-label" in b_page
    assert "c-label" not in b_page
    assert "c-label" in c_page
    assert "b-label" not in c_page
    assert "note of b-label" not in c_page
    # Not even that b wrote a note, or when: c's page holds its own note and no other.
    assert c_page.count('<article class="note">') == 1
    assert "b-label" in b.get("/review/", query_string={"label": "b-label"}).get_data(
        as_text=True)
    assert case_id not in c.get("/review/", query_string={"status": "corroborated"}
                                ).get_data(as_text=True)
    assert case_id in c.get("/review/", query_string={"status": "rejected"}).get_data(
        as_text=True)
    with app.app_context():
        db = get_session()
        case = db.get(Submission, case_id)
        rows = {row.desk_id: row for row in db.query(CaseDesk)}
        # b was chosen first: its triage is on the submission row, c's on c's own row.
        assert (case.status, rows["c"].status) == ("corroborated", "rejected")
        c_keys = cases.data_key(case, epoch_keys_of(app, "c-reviewer"), db)
        with pytest.raises(DecryptionError):
            cases.labels(case, c_keys)
        assert cases.labels(rows["c"], c_keys) == ["c-label"]
        opened = [cases.readable(cases.note_text, case, c_keys, note)
                  for note in db.query(Note)]
        assert sorted(text for text in opened if text) == ["note of c-label"]


def test_the_first_chosen_desk_writes_under_a_generation_the_others_do_not_hold(
        app: Flask) -> None:
    """Case for main and b: main's note is under main's own generation 1; b's keys (which
    open the family's answers, generation 0) do not open it."""
    SEEN.clear()
    case_id, _ = send_to(app, ["main", "b"])
    main = logged_in(app, "reviewer")
    triage(main, case_id, "in_triage", "main-label")
    with app.app_context():
        db = get_session()
        case = db.get(Submission, case_id)
        assert case.key_generation == 1
        b_keys = cases.data_key(case, epoch_keys_of(app, "b-reviewer"), db)
        assert cases.answers(case, b_keys)["relationship"] == "sister"
        (note,) = db.query(Note)
        assert cases.readable(cases.note_text, case, b_keys, note) is None
        with pytest.raises(DecryptionError):
            cases.labels(case, b_keys)


def test_the_family_sees_each_chosen_desks_progress_and_which_desk_replied(app: Flask) -> None:
    """Case for b and c with a code: b asks for more and replies, c is reviewing. The
    family's page names both desks with their own progress, and the reply with b's name."""
    import re

    from tests.review.test_cases import submit

    family = app.test_client()
    code = submit(family, desks=["b", "c"])  # type: ignore[arg-type]
    with app.app_context():
        (case_id,) = [c.id for c in get_session().query(Submission)]
    b, c = logged_in(app, "b-reviewer"), logged_in(app, "c-reviewer")
    for client, family_status in ((b, "need_info"), (c, "reviewing")):
        path = f"/review/{case_id}"
        token = page_token(client, path)
        client.post(f"{path}/triage", data={
            "csrf_token": token, "status": "in_triage", "family_status": family_status,
            "priority": "0", "assignee": "", "labels": "", "violation": "", "reliability": "",
            "connection": ""})
    b.post(f"/review/{case_id}/reply", data={"csrf_token": page_token(b, f"/review/{case_id}"),
                                             "text": "please send the letter"})
    page = family.get("/followup?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    status = family.post("/followup/?lang=en", data={"csrf_token": token.group(1),
                                                     "code": code}).get_data(as_text=True)
    assert re.search(r"Status at Justice for Iran desk</dt><dd>We would like to know more",
                     status), status
    assert re.search(r"Status at Mothers of Khavaran desk</dt><dd>Being reviewed", status)
    assert "please send the letter" in status
    assert "From Justice for Iran desk" in status


def test_what_the_family_adds_later_reaches_every_desk_it_chose_and_no_other(
        app: Flask) -> None:
    """Case for b and c; the family adds a letter with its code: b and c read it on the
    case page, main's reviewer gets 404 at the addition's address."""
    from tests.review.test_cases import submit
    from tests.review.test_locked import add_more

    family = app.test_client()
    code = submit(family, desks=["b", "c"])  # type: ignore[arg-type]
    add_more(family, code, "نامهٔ تازه پیدا شد")
    with app.app_context():
        db = get_session()
        case_id = db.query(Submission).filter_by(parent_id=None).one().id
        addition = db.query(Submission).filter(Submission.parent_id.is_not(None)).one()
        assert addition.desk_id == "b"
        assert [r.desk_id for r in db.query(CaseDesk).filter_by(
            submission_id=addition.id)] == ["c"]
    for name in ("b-reviewer", "c-reviewer"):
        page = logged_in(app, name).get(f"/review/{case_id}").get_data(as_text=True)
        assert "نامهٔ تازه پیدا شد" in page, name
    assert logged_in(app, "reviewer").get(f"/review/{addition.id}").status_code == 404


def test_a_desks_evidence_bundle_holds_its_own_work_custody_and_chain_only(
        app: Flask, coalition: Coalition, tmp_path: Path) -> None:
    """Case for b and c, both triage it: c's bundle has c's status and labels, no entry of
    b's reviewer in its audit trail, and c's certificate chain (not b's, the case's first
    desk); it verifies offline against c's root and not against b's."""
    import io
    import json
    import zipfile

    from intake.crypto.signing import parse_fingerprint
    from intake.evidence import verify_bundle
    from intake.store.models import User

    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    b, c = logged_in(app, "b-reviewer"), logged_in(app, "c-reviewer")
    triage(b, case_id, "corroborated", "b-label")
    triage(c, case_id, "rejected", "c-label")
    data = c.get(f"/review/{case_id}/export").data
    archive = zipfile.ZipFile(io.BytesIO(data))
    # Every member sits in the bag's one folder, named after the case and the day.
    folder = archive.namelist()[0].split("/")[0] + "/"

    def member(name: str) -> bytes:
        return archive.read(folder + name)

    record = json.loads(member("data/case.json"))
    assert (record["status"], record["labels"]) == ("rejected", ["c-label"])
    with app.app_context():
        b_id = get_session().query(User).filter_by(name="b-reviewer").one().id
        c_id = get_session().query(User).filter_by(name="c-reviewer").one().id
    trail = json.loads(member("data/audit-trail.json"))
    assert c_id in {entry["actor"] for entry in trail}
    assert b_id not in {entry["actor"] for entry in trail}
    keyring = app.extensions["intake.desk"].keyring
    assert member("custody/certificates/000000.cert") == keyring.certificates("c")[0]
    assert member("custody/certificates/000000.cert") != keyring.certificates("b")[0]
    path = tmp_path / "c.zip"
    path.write_bytes(data)
    verdict = verify_bundle(path, parse_fingerprint(coalition.roots["c"]))
    assert verdict.verified, [step for step in verdict.steps if not step.holds]
    assert not verify_bundle(path, parse_fingerprint(coalition.roots["b"])).verified
