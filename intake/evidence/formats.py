"""Formats others use: the WGEID case form, and HURIDOCS-style rows that Uwazi can import.

The form is in English, as the UN Working Group on Enforced or Involuntary
Disappearances receives it; the answers stay in the family's words (the
Persian originals are in the same bundle), dates are given as written and as
Gregorian ranges. Nothing here translates: a translator's work is the
desk's. Both formats are built from the record as the bundle holds it, so
what the consent left out is left out here too.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from typing import Any

from intake.dates import DateAnswer, format_gregorian_range
from intake.evidence import channels

CALENDARS = {"solar_hijri": "Solar Hijri", "gregorian": "Gregorian",
             "lunar_hijri": "lunar Hijri"}
CHOICES = {"sex": {"female": "female", "male": "male", "other": "other"},
           "inside_country": {"yes": "yes", "no": "no", "prefer_not": "prefers not to say"},
           "belongings_returned": {"yes": "yes", "no": "no", "unknown": "does not know"},
           "death_certificate": {"yes": "yes", "no": "no", "unknown": "does not know"}}

# The Working Group's minimum elements, each with the answers that hold it.
WGEID_ELEMENTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("1. Identity of the person", [
        ("Name", "name"), ("Other names", "other_names"), ("Father's name", "fathers_name"),
        ("Sex", "sex"), ("Date of birth", "birth_date"), ("Age at arrest", "age"),
        ("Place of birth", "birthplace"), ("Occupation", "occupation"),
        ("Political affiliation, as the authorities labelled it", "affiliation_labelled")]),
    ("2. Date of the arrest or disappearance", [("Date", "arrest_date")]),
    ("3. Place of the arrest or disappearance", [("Place", "arrest_place")]),
    ("4. Forces believed responsible", [("Forces", "arrest_forces")]),
    ("5. Steps taken by the family", [
        ("Authorities approached, and their answers", "authorities"),
        ("Earlier reports to the UN or to organisations", "earlier_reports"),
        ("Reprisals suffered", "reprisals")]),
]
FURTHER = [("Earlier sentence", "earlier_sentence"), ("Places of detention", "prisons"),
           ("Last family visit", "last_visit_date"), ("How the family was told", "told_how"),
           ("When the family was told", "told_date"),
           ("Belongings or a will returned", "belongings_returned"),
           ("Death certificate issued", "death_certificate"),
           ("Cause of death stated by the authorities", "stated_cause"),
           ("Date of death, as the family knows it", "death_date"),
           ("Known or suspected burial place", "burial_place")]


def text_of(answers: dict[str, Any], name: str) -> str:
    """Render one answer in English terms: dates as written and as a Gregorian range."""
    value = answers.get(name)
    if isinstance(value, dict) and "calendar" in value:
        answer = DateAnswer.from_dict(value)
        if not answer.text:
            return ""
        calendar = CALENDARS.get(answer.calendar, answer.calendar)
        gregorian = format_gregorian_range(answer)
        return f"{answer.text} ({calendar}" + (f"; Gregorian {gregorian})" if gregorian
                                                else "; not understood, kept as written)")
    if value in (None, "", False):
        return ""
    return CHOICES.get(name, {}).get(str(value), str(value))


def wgeid(record: dict[str, Any], organisation: str) -> dict[str, Any]:
    """Fill the Working Group's minimum elements from a case; say which are missing."""
    answers = record["answers"]
    elements, missing = [], []
    for title, fields in WGEID_ELEMENTS:
        rows = [(label, text_of(answers, name)) for label, name in fields]
        held = [(label, value) for label, value in rows if value]
        if title.startswith("1.") and (answers.get("name_unknown") or not answers.get("name")):
            held = []
        if not held:
            missing.append(title)
        elements.append({"element": title, "answers": held, "missing": not held})
    elements.append(_source(answers, organisation))
    elements.append(_confidentiality(answers))
    further = [(label, v) for label, name in FURTHER if (v := text_of(answers, name))]
    return {"case": record["id"], "received_on": record["received_on"], "elements": elements,
            "missing": missing, "further_information": further,
            "originals": "data/case.json and data/case.html (in the family's words)"}


def _source(answers: dict[str, Any], organisation: str) -> dict[str, Any]:
    relation = answers.get("relationship_other") or answers.get("relationship") or "unknown"
    return {"element": "6. The source", "missing": False, "answers": [
        ("Submitted by", organisation),
        ("On the testimony of", f"the person's {relation}".replace("_", " ")),
        ("Testimony received", channels.describe(answers))]}


def _confidentiality(answers: dict[str, Any]) -> dict[str, Any]:
    allowed = [label for box, label in (
        ("consent_un", "UN mechanisms"), ("consent_courts", "courts and prosecutors"),
        ("consent_anonymised", "reports that do not name the family"),
        ("consent_publish", "publishing the person's name and story"),
        ("consent_internal", "the organisation's internal documentation")) if answers.get(box)]
    confidential = "no" if answers.get("consent_publish") else (
        "yes: the family did not allow publication; keep the source's identity confidential")
    return {"element": "7. Confidentiality", "missing": False, "answers": [
        ("The family allowed use by", ", ".join(allowed) or "nothing"),
        ("Source's identity to be kept confidential", confidential)]}


def wgeid_html(form: dict[str, Any]) -> bytes:
    """Render the filled form as a page (English, left to right; answers keep their script)."""
    parts = ['<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8">',
             f"<title>WGEID case form: {html.escape(form['case'])}</title></head><body>",
             "<h1>Information on an enforced or involuntary disappearance</h1>",
             f"<p>Case {html.escape(form['case'])}, received on "
             f"{html.escape(form['received_on'])}.</p>"]
    if form["missing"]:
        parts.append("<p><strong>Missing minimum elements:</strong> "
                     + html.escape("; ".join(form["missing"])) + "</p>")
    for element in [*form["elements"], {"element": "Further information",
                                        "answers": form["further_information"],
                                        "missing": False}]:
        parts.append(f"<h2>{html.escape(element['element'])}</h2>")
        if element["missing"]:
            parts.append("<p><em>Not given by the family.</em></p>")
        parts += [f'<p><b>{html.escape(label)}:</b> <bdi dir="auto">{html.escape(value)}'
                  "</bdi></p>" for label, value in element["answers"]]
    parts.append(f"<p>Originals: {html.escape(form['originals'])}.</p></body></html>\n")
    return "\n".join(parts).encode()


# HURIDOCS-style columns: who (person), what and when (events), by whom (perpetrators),
# according to whom (source). Uwazi imports one entity per row; "|" separates values.
COLUMNS = ["title", "case", "person_name", "other_names", "fathers_name", "sex",
           "date_of_birth", "place_of_birth", "occupation", "political_affiliation",
           "arrest_date", "arrest_place", "perpetrators", "detention_places",
           "death_date", "burial_place", "violation_assessment", "source", "received_on"]


def huridocs(record: dict[str, Any]) -> dict[str, Any]:
    """Describe a case as person, events, perpetrators and source."""
    a = record["answers"]
    person = {"name": a.get("name") or "unknown", "other_names": a.get("other_names") or "",
              "fathers_name": a.get("fathers_name") or "", "sex": text_of(a, "sex"),
              "date_of_birth": _iso(a.get("birth_date")), "place_of_birth": a.get(
                  "birthplace") or "", "occupation": a.get("occupation") or "",
              "political_affiliation": a.get("affiliation_labelled") or ""}
    events = [{"type": "arrest", "date": _iso(a.get("arrest_date")),
               "date_as_written": text_of(a, "arrest_date"), "place": a.get("arrest_place")
               or "", "perpetrators": _split(a.get("arrest_forces"))},
              {"type": "detention", "places": _split(a.get("prisons"))},
              {"type": "death", "date": _iso(a.get("death_date")),
               "date_as_written": text_of(a, "death_date"),
               "burial_place": a.get("burial_place") or ""}]
    return {"case": record["id"], "person": person, "events": events,
            "violation_assessment": (record.get("assessment") or {}).get("violation", ""),
            "source": {"relationship": a.get("relationship_other") or a.get("relationship")
                       or "", "received_on": record["received_on"]}}


def huridocs_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """Render HURIDOCS-style descriptions as an Uwazi-importable CSV (UTF-8, header row)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _inert(v) for k, v in _columns(row).items()})
    return buffer.getvalue().encode()


def _inert(value: str) -> str:
    """Keep a family's words from running as a formula when the CSV is opened in a
    spreadsheet: a cell starting with = + - @ or a control character gets a leading '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _columns(row: dict[str, Any]) -> dict[str, str]:
    person, (arrest, detention, death) = row["person"], row["events"]
    return {
        "title": person["name"], "case": row["case"], "person_name": person["name"],
        **{k: person[k] for k in ("other_names", "fathers_name", "sex", "date_of_birth",
                                  "place_of_birth", "occupation", "political_affiliation")},
        "arrest_date": arrest["date"], "arrest_place": arrest["place"],
        "perpetrators": "|".join(arrest["perpetrators"]),
        "detention_places": "|".join(detention["places"]), "death_date": death["date"],
        "burial_place": death["burial_place"],
        "violation_assessment": row["violation_assessment"],
        "source": row["source"]["relationship"], "received_on": row["source"]["received_on"]}


def _iso(value: object) -> str:
    """Return a date answer's Gregorian range as ISO dates ("" when not understood)."""
    if not isinstance(value, dict) or "calendar" not in value:
        return ""
    return format_gregorian_range(DateAnswer.from_dict(value)).replace(" – ", "/")


def _split(value: object) -> list[str]:
    """Split a free-text list (lines, commas, Persian commas) into its items."""
    text = str(value or "")
    for separator in ("\n", "،", ";"):
        text = text.replace(separator, ",")
    return [item.strip() for item in text.split(",") if item.strip()]
