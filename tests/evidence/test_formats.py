"""The WGEID form and the HURIDOCS-style rows a bundle carries, filled from the case."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from flask import Flask

from intake.evidence.bag import BagReader
from intake.evidence.formats import huridocs, huridocs_csv, wgeid, wgeid_html
from tests.review.conftest import log_in
from tests.review.test_cases import case_ids
from tests.submit.conftest import filled_form, post_form

SOLAR_DATE = {"text": "۱۵ فروردین ۱۳۶۶", "calendar": "solar_hijri", "precision": "exact",
              "earliest": "1987-04-04", "latest": "1987-04-04", "problem": None}


def record(**answers: object) -> dict[str, object]:
    return {"id": "c0ffee", "received_on": "2026-11-27", "assessment": {"violation": "likely"},
            "answers": {"consent_un": True, "relationship": "sister", **answers}}


def test_the_wgeid_form_holds_every_minimum_element_the_case_has() -> None:
    form = wgeid(record(name="علی رضایی", arrest_date=SOLAR_DATE, arrest_place="تهران",
                        arrest_forces="سپاه", authorities="دادستانی اوین: پاسخی ندادند"),
                 "Org")
    assert form["missing"] == []
    by_title = {e["element"]: e["answers"] for e in form["elements"]}
    assert by_title["1. Identity of the person"] == [("Name", "علی رضایی")]
    assert by_title["2. Date of the arrest or disappearance"] == [
        ("Date", "۱۵ فروردین ۱۳۶۶ (Solar Hijri; Gregorian 1987-04-04)")]
    assert by_title["3. Place of the arrest or disappearance"] == [("Place", "تهران")]
    assert by_title["4. Forces believed responsible"] == [("Forces", "سپاه")]
    assert by_title["5. Steps taken by the family"] == [
        ("Authorities approached, and their answers", "دادستانی اوین: پاسخی ندادند")]
    assert by_title["6. The source"] == [
        ("Submitted by", "Org"), ("On the testimony of", "the person's sister"),
        ("Testimony received", "through the web form, by the family itself")]
    assert by_title["7. Confidentiality"] == [
        ("The family allowed use by", "UN mechanisms"),
        ("Source's identity to be kept confidential",
         "yes: the family did not allow publication; keep the source's identity confidential")]


def test_the_wgeid_form_says_which_elements_are_missing() -> None:
    form = wgeid(record(name_unknown=True, arrest_place="تهران"), "Org")
    assert form["missing"] == ["1. Identity of the person",
                               "2. Date of the arrest or disappearance",
                               "4. Forces believed responsible", "5. Steps taken by the family"]
    page = wgeid_html(form).decode()
    assert "<strong>Missing minimum elements:</strong> 1. Identity of the person; 2." in page


def test_the_wgeid_page_escapes_what_the_family_wrote() -> None:
    page = wgeid_html(wgeid(record(name="<script>x</script>"), "Org")).decode()
    assert "<script>x" not in page
    assert '<bdi dir="auto">&lt;script&gt;x&lt;/script&gt;</bdi>' in page


def test_huridocs_rows_read_back_and_formulas_stay_inert() -> None:
    row = huridocs(record(name="=HYPERLINK(\"http://x\")", arrest_date=SOLAR_DATE,
                          arrest_forces="سپاه، دادستانی", prisons="اوین\nگوهردشت"))
    assert row["events"][0]["perpetrators"] == ["سپاه", "دادستانی"]
    [read] = list(csv.DictReader(io.StringIO(huridocs_csv([row]).decode())))
    assert read["person_name"] == "'=HYPERLINK(\"http://x\")"
    assert (read["arrest_date"], read["perpetrators"], read["detention_places"]) == (
        "1987-04-04", "سپاه|دادستانی", "اوین|گوهردشت")
    assert read["violation_assessment"] == "likely"
    assert row["person"]["name"] == "=HYPERLINK(\"http://x\")"


def test_a_bundle_carries_the_form_and_rows_filled_from_the_case(app: Flask) -> None:
    post_form(app.test_client(), filled_form(arrest_forces="سپاه"))
    reviewer = app.test_client()
    assert log_in(app, reviewer).status_code == 302
    [case_id] = case_ids(app)
    bag = BagReader(zipfile.ZipFile(io.BytesIO(
        reviewer.get(f"/review/{case_id}/export").get_data())))
    form = json.loads(bag.read("data/wgeid/form.json"))
    assert form["missing"] == ["5. Steps taken by the family"]
    assert form["elements"][3]["answers"] == [["Forces", "سپاه"]]
    [row] = list(csv.DictReader(io.StringIO(bag.read("data/huridocs/case.csv").decode())))
    assert (row["case"], row["arrest_place"], row["burial_place"]) == (case_id, "تهران",
                                                                      "خاوران")
    assert json.loads(bag.read("data/huridocs/case.json"))["events"][2]["date"] == (
        "1988-07-23/1988-08-22")
