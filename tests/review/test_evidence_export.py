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
