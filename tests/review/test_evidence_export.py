"""A reviewer's export is a signed BagIt bundle that `intake verify` accepts offline."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.evidence import verify_bundle
from intake.evidence.bag import BagReader, parse_bag_info
from intake.store.blobs import utc_today
from tests.review.test_cases import case_ids, submit
from tests.submit.conftest import gps_jpeg, marker_file


def export(reviewer: FlaskClient, case_id: str, lang: str = "fa") -> BagReader:
    reviewer.get(f"/review/?lang={lang}")
    response = reviewer.get(f"/review/{case_id}/export")
    assert response.status_code == 200
    return BagReader(zipfile.ZipFile(io.BytesIO(response.get_data())))


def test_each_file_carries_its_history_from_what_the_family_sent(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    """The photo was rebuilt without its GPS data; the letter was kept as sent."""
    submit(family)
    [case_id] = case_ids(app)
    bag = export(reviewer, case_id)
    histories = {h["original_name"]: h for h in json.loads(bag.read("data/files.json"))}
    letter, photo = histories["نامه.txt"], next(h for n, h in histories.items()
                                                 if n != "نامه.txt")
    assert letter["sha256_received"] == hashlib.sha256(marker_file(300_000)).hexdigest()
    assert letter["kept_as_received"] is True
    assert hashlib.sha256(bag.read(letter["path"])).hexdigest() == letter["sha256_received"]
    assert photo["sha256_received"] == hashlib.sha256(gps_jpeg()).hexdigest()
    assert photo["kept_as_received"] is False
    assert photo["removed"].startswith("the photo was rebuilt from its pixels")
    assert hashlib.sha256(bag.read(photo["path"])).hexdigest() == photo["sha256_stored"]
    assert photo["sha256_stored"] != photo["sha256_received"]


@pytest.mark.parametrize(("lang", "heading"), [("fa", "دریافت"), ("en", "Received on")])
def test_bag_info_names_desk_case_day_and_exporter_and_the_page_is_in_their_language(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, lang: str,
        heading: str) -> None:
    submit(family)
    [case_id] = case_ids(app)
    bag = export(reviewer, case_id, lang)
    info = parse_bag_info(bag.read("bag-info.txt"))
    assert (info["Intake-Desk"], info["Intake-Case"], info["Intake-Exported-By"]) == (
        "main", case_id, "reviewer")
    assert info["Bagging-Date"] == utc_today().isoformat()
    assert not re.search(r"\d\d:\d\d", bag.read("bag-info.txt").decode())
    page = bag.read("data/case.html").decode()
    assert f'lang="{lang}"' in page
    assert heading in page


def test_an_exported_bundle_verifies_against_the_desks_root_and_fails_against_another(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, tmp_path: Path) -> None:
    submit(family)
    [case_id] = case_ids(app)
    response = reviewer.get(f"/review/{case_id}/export")
    path = tmp_path / "case.zip"
    path.write_bytes(response.get_data())
    root = app.extensions["intake.settings"].root
    assert verify_bundle(path, root).verified
    assert not verify_bundle(path, bytes(32)).verified


def test_the_audit_log_extract_is_read_in_batches_and_still_verifies(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of three entries: the extract is read in several queries (no cursor held open
    between the stream's chunks), and nothing is lost or repeated at their edges."""
    import intake.evidence.case
    monkeypatch.setattr(intake.evidence.case, "_BATCH", 3)
    submit(family)
    [case_id] = case_ids(app)
    for _ in range(3):
        reviewer.get(f"/review/{case_id}")
    path = tmp_path / "case.zip"
    path.write_bytes(reviewer.get(f"/review/{case_id}/export").get_data())
    assert verify_bundle(path, app.extensions["intake.settings"].root).verified
    bag = BagReader(zipfile.ZipFile(path))
    positions = [json.loads(line)["position"]
                 for line in bag.read("custody/audit-log.jsonl").splitlines()]
    assert len(positions) >= 4
    assert positions == list(range(positions[0], positions[0] + len(positions)))


TRIAGE = {"status": "corroborated", "family_status": "reviewing", "priority": "1",
          "assignee": "", "labels": "Khavaran, گورستان خاوران", "violation": "likely",
          "reliability": "", "connection": ""}
# Each code as a whole value on the page (the reviewer's labels hold other words).
RAW_CODES = [">corroborated<", ">reviewing<", ">likely<", "· corroborated"]


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Corroborated", "Being reviewed", "Likely", "metadata were removed",
            "Nothing: this is the file exactly as the family sent it."]),
    ("fa", ["تأییدشده با شواهد", "در حال بررسی", "محتمل", "فراداده‌ها حذف شدند",
            "هیچ: این فایل دقیقاً همان است که خانواده فرستاد."]),
])
def test_the_exports_readable_page_names_status_labels_and_each_files_history_in_the_language(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, lang: str,
        words: list[str]) -> None:
    """case.html showed "corroborated" as stored, and no file's SHA-256, original name or
    "metadata removed": those were on screen only."""
    from tests.review.conftest import page_token

    submit(family)
    [case_id] = case_ids(app)
    token = page_token(reviewer, f"/review/{case_id}")
    assert reviewer.post(f"/review/{case_id}/triage",
                         data={"csrf_token": token, **TRIAGE}).status_code == 302
    bag = export(reviewer, case_id, lang)
    page = bag.read("data/case.html").decode()
    for word in words:
        assert word in page
    for code in RAW_CODES:
        assert code not in page
    assert "<bdi>Khavaran</bdi>" in page
    assert "<bdi>گورستان خاوران</bdi>" in page
    for history in json.loads(bag.read("data/files.json")):
        assert f'<code class="ltr hash" dir="ltr">{history["sha256_received"]}</code>' in page
        assert f'<code class="ltr" dir="ltr">{history["path"]}</code>' in page
    assert "<bdi>نامه.txt</bdi>" in page
    assert hashlib.sha256(marker_file(300_000)).hexdigest() in page
    assert hashlib.sha256(gps_jpeg()).hexdigest() in page
