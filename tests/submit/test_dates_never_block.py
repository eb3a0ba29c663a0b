"""A date never blocks a testimony: what cannot be read is sent as typed, with a note."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from intake.dates import read_date
from intake.web.review.present import shown
from intake.web.testimony_form import DATE_EXAMPLES, DateAnswerForm
from tests.submit.conftest import filled_form, post_form, read_everything


@pytest.mark.parametrize(("typed", "problem"), [
    ("۳۲ مرداد", "no_such_day"),
    ("روزی که آمدند", "unreadable"),
    ("۱۲ مرداد", "no_year"),
    ("۱ مرداد ۱۹۸۸", "out_of_range"),
    ("مهر ۱۳۶۷ تا مرداد ۱۳۶۷", "range_backwards"),
    ("x" * 400, "unreadable"),
])
def test_a_date_that_cannot_be_read_is_sent_as_typed_and_marked(
        app: Flask, client: FlaskClient, typed: str, problem: str) -> None:
    """Issue 9: one bad date used to refuse the whole submission with a 422."""
    response = post_form(client, filled_form(**{"arrest_date-text": typed}))
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert stored["answers"]["arrest_date"] == {
        "text": typed, "calendar": "solar_hijri", "precision": "unknown", "earliest": None,
        "latest": None, "problem": problem}
    assert stored["answers"]["death_date"]["earliest"] == "1988-07-23"


@pytest.mark.parametrize(("typed", "earliest", "latest"), [
    ("۲۳ ژوئیهٔ ۱۹۸۸", "1988-07-23", "1988-07-23"),
    ("اوایل شهریور ۱۳۶۷", "1988-08-23", "1988-09-01"),
    ("سال ۶۷", "1988-03-21", "1989-03-20"),
])
def test_dates_as_families_write_them_are_stored_with_their_range(
        app: Flask, client: FlaskClient, typed: str, earliest: str, latest: str) -> None:
    assert post_form(client, filled_form(**{"arrest_date-text": typed})).status_code == 200
    [stored] = read_everything(app)
    answer = stored["answers"]["arrest_date"]
    assert (answer["earliest"], answer["latest"], answer["problem"]) == (earliest, latest, None)


@pytest.mark.parametrize(("lang", "note"), [
    ("fa", "این تاریخ را همان‌طور که نوشتید نگه داشتیم، اما آن ماه چنین روزی ندارد"),
    ("en", "We kept this date as you wrote it, but that month has no such day"),
])
def test_a_form_sent_back_for_another_answer_notes_the_date_without_an_error(
        client: FlaskClient, lang: str, note: str) -> None:
    response = post_form(client, filled_form(**{"arrest_date-text": "۳۲ مرداد", "testimony": ""}),
                         lang=lang)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert note in page
    assert 'value="۳۲ مرداد"' in page
    assert 'id="arrest_date-text-note"' in page
    assert re.search(r'aria-describedby="arrest_date-text-note"[^>]*name="arrest_date-text"'
                     r'|name="arrest_date-text"[^>]*aria-describedby="arrest_date-text-note"', page)
    assert 'id="arrest_date-text-error"' not in page


@pytest.mark.parametrize(("calendar", "lang", "example"), [
    ("gregorian", "en", "e.g. 23 July 1988, 1988-07-23 or summer 1988"),
    ("gregorian", "fa", "مثلاً ۲۳ ژوئیهٔ ۱۹۸۸، ۱۹۸۸/۷/۲۳ یا تابستان ۱۹۸۸"),
    ("lunar_hijri", "en", "e.g. 1 Muharram 1409 or 1409/1/1"),
])
def test_the_example_in_the_date_box_is_in_the_calendar_chosen(
        client: FlaskClient, calendar: str, lang: str, example: str) -> None:
    changes = {"arrest_date-calendar": calendar, "arrest_date-text": "?", "testimony": ""}
    page = post_form(client, filled_form(**changes), lang=lang).get_data(as_text=True)
    assert f'placeholder="{example}"' in page
    assert example in page  # and in the note


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize("calendar", list(DATE_EXAMPLES))
def test_every_example_we_give_is_read_in_its_calendar(app: Flask, lang: str,
                                                       calendar: str) -> None:
    with app.test_request_context(), force_locale(lang):
        text = str(DATE_EXAMPLES[calendar])
    examples = re.split(r"، | or | یا |, ", re.sub(r"^(e\.g\.|مثلاً) ", "", text))
    assert len(examples) >= 2
    for example in examples:
        answer = read_date(example, calendar, "exact")
        assert (answer.problem, answer.calendar) == (None, calendar), example


def test_a_reviewer_sees_a_date_that_was_not_understood_marked_as_such(app: Flask) -> None:
    answer = read_date("روزی که آمدند", "solar_hijri", "exact").to_dict()
    with app.test_request_context(), force_locale("en"):
        assert str(shown(answer)) == "روزی که آمدند (Solar Hijri (e.g. 1 Mordad 1367); " \
                                "date not understood, kept as written)"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80), calendar=st.sampled_from(["solar_hijri", "gregorian",
                                                            "lunar_hijri"]),
       precision=st.sampled_from(["exact", "month", "year", "range", "approximate", "unknown"]))
def test_no_date_text_ever_makes_the_date_answer_invalid(app: Flask, text: str, calendar: str,
                                                         precision: str) -> None:
    """Whatever is typed in a date box, the date sub-form validates and keeps the text."""
    formdata = MultiDict({"text": text, "calendar": calendar, "precision": precision})
    with app.test_request_context():
        form = DateAnswerForm(formdata=formdata)
        assert form.validate(), form.errors
        answer = getattr(form, "answer", None)
        assert answer is None or answer.text == text.strip()


def test_a_reader_fault_still_sends_the_testimony_with_the_date_as_typed(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A calendar conversion once raised ValueError out of the reader ("۶۷ و 31"), which made
    the whole submission a 500; any such fault must leave the date as typed instead."""
    from intake import dates

    def faulty(text: str, calendar: str, precision: str) -> None:
        raise ValueError("day must be in 1..29")

    monkeypatch.setattr(dates, "parse_date", faulty)
    response = post_form(client, filled_form(**{"arrest_date-text": "۶۷ و 31"}))
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert stored["answers"]["arrest_date"]["text"] == "۶۷ و 31"
    assert stored["answers"]["arrest_date"]["problem"] == "unreadable"
