"""Date answers: the calendars families remember in, and the Gregorian ranges they become."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from persiantools.jdatetime import JalaliDate

from intake.dates import (
    CALENDARS,
    PRECISIONS,
    DateAnswer,
    DateError,
    format_gregorian_range,
    normalise_digits,
    normalise_letters,
    parse_date,
    read_date,
)

SOLAR, GREGORIAN, LUNAR = CALENDARS
ZWNJ = "\u200c"
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def span(answer: DateAnswer) -> tuple[str, str]:
    """The answer's normalised range as ISO strings."""
    assert answer.earliest is not None
    assert answer.latest is not None
    return answer.earliest.isoformat(), answer.latest.isoformat()


@pytest.mark.parametrize(
    "text",
    [
        "1367/5/1",
        "۱۳۶۷/۵/۱",
        "١٣٦٧/٥/١",
        "1 Mordad 1367",
        "۱ مرداد ۱۳۶۷",
        "1 مرداد 1367",
        "1367-05-01",
        "1367.5.1",
        "۱۳۶۷٫۵٫۱",
        "1/5/1367",
        "1 MORDAD 1367",
        "1 Amordad 1367",
        "۱ امرداد ۱۳۶۷",
        f"۱ مرداد{ZWNJ}ماه ۱۳۶۷",
        "۱ مردادماه سال ۱۳۶۷",
        "1367/5/1 ه.ش",
        "۱ مرداد ۶۷",
        "67/5/1",
        "1/5/67",
    ],
)
def test_1_mordad_1367_is_23_july_1988_however_it_is_written(text: str) -> None:
    answer = parse_date(text, SOLAR, "exact")
    assert answer.precision == "exact"
    assert span(answer) == ("1988-07-23", "1988-07-23")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مرداد ۱۳۶۷", ("1988-07-23", "1988-08-22")),
        ("Mordad 1367", ("1988-07-23", "1988-08-22")),
        ("Mordad 67", ("1988-07-23", "1988-08-22")),
        ("1367/5", ("1988-07-23", "1988-08-22")),
        ("5/1367", ("1988-07-23", "1988-08-22")),
        # Shahrivar has 31 days: 1 Mehr 1367 is 23 September 1988.
        ("Shahrivar 1367", ("1988-08-23", "1988-09-22")),
        ("شهريور ۱۳۶۷", ("1988-08-23", "1988-09-22")),
        ("Mehr 1367", ("1988-09-23", "1988-10-22")),
        # Esfand has 30 days in the leap year 1366 and 29 in 1367.
        ("اسفند ۱۳۶۶", ("1988-02-20", "1988-03-20")),
        ("Esfand 1367", ("1989-02-20", "1989-03-20")),
    ],
)
def test_a_solar_month_runs_from_its_first_to_its_last_day(
    text: str, expected: tuple[str, str]
) -> None:
    answer = parse_date(text, SOLAR, "month")
    assert answer.precision == "month"
    assert span(answer) == expected


@pytest.mark.parametrize("text", ["1367", "۱۳۶۷", "سال ۱۳۶۷", "1367 شمسی"])
def test_a_solar_year_runs_from_nowruz_to_the_eve_of_the_next(text: str) -> None:
    answer = parse_date(text, SOLAR, "year")
    assert answer.precision == "year"
    assert span(answer) == ("1988-03-21", "1989-03-20")


@pytest.mark.parametrize(
    ("text", "precision", "expected"),
    [
        ("1 Mordad 1367", "month", ("1988-07-23", "1988-08-22")),
        ("1367/5/1", "year", ("1988-03-21", "1989-03-20")),
        ("Mordad 1367", "year", ("1988-03-21", "1989-03-20")),
    ],
)
def test_text_more_detailed_than_the_precision_is_narrowed_to_the_precision(
    text: str, precision: str, expected: tuple[str, str]
) -> None:
    answer = parse_date(text, SOLAR, precision)
    assert answer.precision == precision
    assert span(answer) == expected


@pytest.mark.parametrize(
    ("text", "precision", "expected_precision"),
    [("1367", "exact", "year"), ("Mordad 1367", "exact", "month"), ("1367", "month", "year")],
)
def test_text_vaguer_than_the_precision_keeps_its_own_detail(
    text: str, precision: str, expected_precision: str
) -> None:
    assert parse_date(text, SOLAR, precision).precision == expected_precision


@pytest.mark.parametrize(
    ("text", "calendar", "expected"),
    [
        ("مرداد ۱۳۶۷ تا مهر ۱۳۶۷", SOLAR, ("1988-07-23", "1988-10-22")),
        ("Mordad 1367 - Mehr 1367", SOLAR, ("1988-07-23", "1988-10-22")),
        ("از مرداد تا مهر ۱۳۶۷", SOLAR, ("1988-07-23", "1988-10-22")),
        ("1367/5/1 – 1367/6/31", SOLAR, ("1988-07-23", "1988-09-22")),
        ("1 تا 5 مرداد 1367", SOLAR, ("1988-07-23", "1988-07-27")),
        ("1366 to 1367", SOLAR, ("1987-03-21", "1989-03-20")),
        ("July 1988 until September 1988", GREGORIAN, ("1988-07-01", "1988-09-30")),
        ("1988-1990", GREGORIAN, ("1988-01-01", "1990-12-31")),
        ("1988—1990", GREGORIAN, ("1988-01-01", "1990-12-31")),
    ],
)
def test_a_range_runs_from_the_start_of_its_first_end_to_the_end_of_its_second(
    text: str, calendar: str, expected: tuple[str, str]
) -> None:
    answer = parse_date(text, calendar, "range")
    assert answer.precision == "range"
    assert span(answer) == expected


def test_a_solar_season_covers_its_three_months() -> None:
    answer = parse_date("تابستان ۱۳۶۷", SOLAR, "range")
    assert span(answer) == ("1988-06-22", "1988-09-22")


@pytest.mark.parametrize(
    ("text", "calendar", "precision", "expected"),
    [
        ("1 Mordad 1367", SOLAR, "approximate", ("1988-07-08", "1988-08-07")),
        ("Mordad 1367", SOLAR, "approximate", ("1988-06-22", "1988-09-22")),
        ("Esfand 1367", SOLAR, "approximate", ("1989-01-21", "1989-04-20")),
        ("1367", SOLAR, "approximate", ("1987-03-21", "1990-03-20")),
        ("حدود ۱۳۶۷", SOLAR, "year", ("1987-03-21", "1990-03-20")),
        ("تقریباً مرداد ۱۳۶۷", SOLAR, "month", ("1988-06-22", "1988-09-22")),
        ("1367?", SOLAR, "year", ("1987-03-21", "1990-03-20")),
        ("23 July 1988", GREGORIAN, "approximate", ("1988-07-08", "1988-08-07")),
        ("about July 1988", GREGORIAN, "month", ("1988-06-01", "1988-08-31")),
        ("c. 1988", GREGORIAN, "year", ("1987-01-01", "1989-12-31")),
    ],
)
def test_an_approximate_date_is_widened_by_a_step_of_its_own_detail(
    text: str, calendar: str, precision: str, expected: tuple[str, str]
) -> None:
    answer = parse_date(text, calendar, precision)
    assert answer.precision == "approximate"
    assert span(answer) == expected


@pytest.mark.parametrize(
    ("text", "precision", "expected"),
    [
        ("23 July 1988", "exact", ("1988-07-23", "1988-07-23")),
        ("July 23, 1988", "exact", ("1988-07-23", "1988-07-23")),
        ("23rd Jul 1988", "exact", ("1988-07-23", "1988-07-23")),
        ("1988-07-23", "exact", ("1988-07-23", "1988-07-23")),
        ("23/07/1988", "exact", ("1988-07-23", "1988-07-23")),
        ("23.7.1988", "exact", ("1988-07-23", "1988-07-23")),
        ("۲۳ ژوئیه ۱۹۸۸", "exact", ("1988-07-23", "1988-07-23")),
        ("۲۳ جولای ۱۹۸۸ میلادی", "exact", ("1988-07-23", "1988-07-23")),
        ("July 1988", "month", ("1988-07-01", "1988-07-31")),
        ("1988-07", "month", ("1988-07-01", "1988-07-31")),
        ("فوریه ۱۹۸۸", "month", ("1988-02-01", "1988-02-29")),
        ("1988", "year", ("1988-01-01", "1988-12-31")),
    ],
)
def test_gregorian_dates_are_read_in_their_usual_forms(
    text: str, precision: str, expected: tuple[str, str]
) -> None:
    answer = parse_date(text, GREGORIAN, precision)
    assert answer.precision == precision
    assert span(answer) == expected


@pytest.mark.parametrize(
    "text", ["1 Muharram 1409", "۱ محرم ۱۴۰۹", "1409/1/1", "1 moharram 1409 ه.ق"]
)
def test_a_lunar_hijri_day_is_its_tabular_date_widened_by_two_days(text: str) -> None:
    # The tabular calendar puts 1 Muharram 1409 on Sunday 14 August 1988; the crescent
    # may have been sighted a day or two either side of that, hence 12-16 August.
    answer = parse_date(text, LUNAR, "exact")
    assert answer.precision == "exact"
    assert span(answer) == ("1988-08-12", "1988-08-16")


def test_the_tabular_lunar_calendar_matches_a_published_conversion() -> None:
    # Reingold & Dershowitz, "Calendrical Calculations", appendix C (sample data): R.D.
    # 710,347 = Monday 12 November 1945 = arithmetic Islamic 1364-12-06.
    answer = parse_date("6 Dhu al-Hijjah 1364", LUNAR, "exact")
    assert span(answer) == ("1945-11-10", "1945-11-14")
    assert answer.earliest is not None
    assert (answer.earliest + datetime.timedelta(days=2)).toordinal() == 710_347


@pytest.mark.parametrize(
    "text",
    [
        "ذي\u200cالحجة 1408",
        "ذی الحجه ۱۴۰۸",
        "ذی‌الحجه ۱۴۰۸",
        "ذیالحجه ۱۴۰۸",
        "Dhu al-Hijjah 1408",
        "dhul hijja 1408",
        "1408/12",
    ],
)
def test_a_lunar_month_name_is_read_with_or_without_separators(text: str) -> None:
    answer = parse_date(text, LUNAR, "month")
    # Tabular Dhu al-Hijjah 1408 is 16 July - 13 August 1988 (29 days: 1408 is not leap).
    assert span(answer) == ("1988-07-14", "1988-08-15")


@pytest.mark.parametrize(
    ("text", "calendar", "precision", "code"),
    [
        ("31 Esfand 1367", SOLAR, "exact", "no_such_day"),
        ("30 Esfand 1367", SOLAR, "exact", "no_such_day"),
        ("1367/12/30", SOLAR, "exact", "no_such_day"),
        ("31 Mehr 1367", SOLAR, "exact", "no_such_day"),
        ("1367/13/1", SOLAR, "exact", "no_such_day"),
        ("1367/5/0", SOLAR, "exact", "no_such_day"),
        ("۳۲ مرداد", SOLAR, "exact", "no_such_day"),
        ("30 February 1988", GREGORIAN, "exact", "no_such_day"),
        ("29 February 1989", GREGORIAN, "exact", "no_such_day"),
        ("30 Safar 1409", LUNAR, "exact", "no_such_day"),
        ("مهر ۱۳۶۷ تا مرداد ۱۳۶۷", SOLAR, "range", "range_backwards"),
        ("1990 to 1988", GREGORIAN, "range", "range_backwards"),
        ("1 Mordad 1250", SOLAR, "exact", "out_of_range"),
        ("1 July 1850", SOLAR, "exact", "out_of_range"),
        ("blah", SOLAR, "exact", "unreadable"),
        ("؟؟", SOLAR, "exact", "unreadable"),
        ("xx/yy/zz", GREGORIAN, "exact", "unreadable"),
        ("Mordad", SOLAR, "month", "no_year"),
        ("Mordad 12", SOLAR, "month", "no_year"),
        ("1 Mordad Shahrivar 1367", SOLAR, "exact", "unreadable"),
        ("1 2 3 1367", SOLAR, "exact", "unreadable"),
        ("1 Mordad 1367 AD", SOLAR, "exact", "unreadable"),
        ("1367 to 1368 to 1369", SOLAR, "range", "unreadable"),
        ("1" * 201, SOLAR, "exact", "unreadable"),
    ],
)
def test_impossible_or_unreadable_dates_raise_a_date_error_with_a_code(
    text: str, calendar: str, precision: str, code: str
) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text, calendar, precision)
    assert caught.value.code == code
    assert str(caught.value).endswith(".")


@pytest.mark.parametrize(
    ("text", "chosen", "read_in"),
    [
        ("1988", SOLAR, GREGORIAN),
        ("1367", GREGORIAN, SOLAR),
        ("1409", SOLAR, LUNAR),
        ("23 July 1988", SOLAR, GREGORIAN),
        ("1 Mordad 1367", GREGORIAN, SOLAR),
        ("1 Muharram 1409", SOLAR, LUNAR),
        ("1367", LUNAR, LUNAR),
    ],
)
def test_the_calendar_is_the_one_the_words_or_the_year_say(
    text: str, chosen: str, read_in: str
) -> None:
    """A month name says its calendar; a year that fits only one calendar is read in it."""
    assert parse_date(text, chosen, "exact").calendar == read_in


@pytest.mark.parametrize(
    ("text", "code"),
    [("۳۲ مرداد", "no_such_day"), ("hello", "unreadable"), ("12 Mordad", "no_year"),
     ("۱ مرداد ۱۹۸۸", "out_of_range"), ("مهر ۱۳۶۷ تا مرداد ۱۳۶۷", "range_backwards")],
)
def test_read_date_keeps_what_it_cannot_read_as_typed_and_names_the_problem(
    text: str, code: str
) -> None:
    answer = read_date(f" {text} ", SOLAR, "exact")
    assert answer == DateAnswer(text, SOLAR, "unknown", None, None, problem=code)
    assert DateAnswer.from_dict(json.loads(json.dumps(answer.to_dict()))) == answer


def test_an_answer_stored_before_problems_existed_still_reads() -> None:
    stored = {"text": "Mordad 1367", "calendar": SOLAR, "precision": "month",
              "earliest": "1988-07-23", "latest": "1988-08-22"}
    assert DateAnswer.from_dict(stored).problem is None


TABLE = json.loads((Path(__file__).parent / "date_forms.json").read_text(encoding="utf-8"))


def expected_day(written: str) -> datetime.date:
    """Convert "sh:1367-05-end", "gr:1988-07-23" or "iso:..." to a Gregorian date."""
    scheme, _, ymd = written.partition(":")
    year, month, day = ymd.split("-")
    if scheme == "sh":
        last = JalaliDate.days_in_month(int(month), int(year))
        jalali = JalaliDate(int(year), int(month), last if day == "end" else int(day))  # type: ignore[no-untyped-call]
        converted: datetime.date = jalali.to_gregorian()
        return converted
    assert scheme in ("gr", "iso"), written
    return datetime.date(int(year), int(month), int(day))


def test_the_table_holds_at_least_80_forms_in_both_languages() -> None:
    texts = [row["text"] for row in TABLE["rows"]]
    assert len(texts) >= 80
    assert sum(any("\u0600" <= ch <= "\u06ff" for ch in text) for text in texts) >= 40
    assert sum(text.isascii() for text in texts) >= 30


@pytest.mark.parametrize("row", TABLE["rows"], ids=lambda row: f"{row['text']}|{row['calendar']}")
def test_every_form_in_the_table_reads_as_expected(row: dict[str, Any]) -> None:
    answer = read_date(row["text"], row["calendar"], row["precision"])
    expect = row["expect"]
    if "problem" in expect:
        assert (answer.problem, answer.precision, answer.earliest) == (
            expect["problem"], "unknown", None)
        assert answer.text == row["text"]
        return
    assert answer.problem is None
    assert (answer.calendar, answer.precision) == (expect["calendar"], expect["precision"])
    assert (answer.earliest, answer.latest) == (
        expected_day(expect["earliest"]), expected_day(expect["latest"]))


_VOCABULARY = [
    "مرداد", "شهریور", "اول", "بیست و سوم", "اوایل", "اواخر", "تابستان", "بین", "و", "تا",
    "سال", "دهه", "۶۷", "۱۳۶۷", "۳۲", "July", "summer", "early", "between", "and", "to",
    "1988", "81", "23", "1st", "Muharram", "ذی‌الحجه", "۱۴۰۹", "/", "-", "?", "حدود", "AD",
    "ه.ش", "0", "99", "31", "9999", "s", "the", "of", "mid", "late", "winter", "سی‌ام",
    "(", ")", "نیمه دوم", "نوروز", "1981-82", "Mordad-Shahrivar", "or so", "سال‌های",
]


@given(st.text(max_size=60), st.sampled_from(CALENDARS), st.sampled_from(PRECISIONS))
def test_reading_any_text_never_raises_and_never_blocks(
    text: str, calendar: str, precision: str
) -> None:
    answer = read_date(text, calendar, precision)
    assert answer.text == text.strip()
    assert (answer.earliest is None) == (answer.latest is None)
    if answer.earliest is not None and answer.latest is not None:
        assert answer.earliest <= answer.latest


@given(st.lists(st.sampled_from(_VOCABULARY), max_size=7), st.sampled_from(CALENDARS),
       st.sampled_from(PRECISIONS))
def test_date_like_word_salad_never_raises_and_ranges_run_forwards(
    words: list[str], calendar: str, precision: str
) -> None:
    text = " ".join(words)
    try:
        answer = parse_date(text, calendar, precision)
    except DateError:
        answer = read_date(text, calendar, precision)
        assert answer.problem is not None
    if answer.earliest is not None and answer.latest is not None:
        assert answer.earliest <= answer.latest
    assert answer.text == text.strip()


@pytest.mark.parametrize("text", ["1 Mordad 1250", "secret name 1367", "31 Esfand 1367"])
def test_error_messages_never_repeat_what_was_typed(text: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text, SOLAR, "exact")
    message = str(caught.value)
    assert "1250" not in message
    assert "secret" not in message
    assert "31" not in message


def test_30_esfand_exists_in_a_leap_year() -> None:
    assert span(parse_date("30 Esfand 1366", SOLAR, "exact")) == ("1988-03-20", "1988-03-20")


@pytest.mark.parametrize(
    "text", [f"۱ مرداد{ZWNJ}ماه ۱۳۶۷", "۱ مرداد ۱۳۶۷", "ذي\u200cالحجة 1408", "1367/5/1"]
)
def test_the_text_is_kept_exactly_as_typed_apart_from_surrounding_space(text: str) -> None:
    calendar = LUNAR if "1408" in text else SOLAR
    answer = parse_date(f"  {text}\n", calendar, "month")
    assert answer.text == text


@pytest.mark.parametrize(
    ("text", "precision"), [("", "exact"), ("   ", "range"), ("سال‌های شصت", "unknown")]
)
def test_an_empty_or_unknown_answer_has_no_range(text: str, precision: str) -> None:
    answer = parse_date(text, SOLAR, precision)
    assert answer == DateAnswer(text.strip(), SOLAR, "unknown", None, None)
    assert format_gregorian_range(answer) == ""


@pytest.mark.parametrize(
    ("text", "calendar", "precision"),
    [
        ("۱ مرداد ۱۳۶۷", SOLAR, "exact"),
        ("مرداد ۱۳۶۷ تا مهر ۱۳۶۷", SOLAR, "range"),
        ("1 Muharram 1409", LUNAR, "approximate"),
        ("July 1988", GREGORIAN, "month"),
        ("نمی‌دانم", SOLAR, "unknown"),
    ],
)
def test_an_answer_survives_a_round_trip_through_json(
    text: str, calendar: str, precision: str
) -> None:
    answer = parse_date(text, calendar, precision)
    assert DateAnswer.from_dict(json.loads(json.dumps(answer.to_dict()))) == answer


def test_to_dict_holds_iso_dates() -> None:
    assert parse_date("Mordad 1367", SOLAR, "month").to_dict() == {
        "text": "Mordad 1367",
        "calendar": "solar_hijri",
        "precision": "month",
        "earliest": "1988-07-23",
        "latest": "1988-08-22",
        "problem": None,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"text": "x", "calendar": "julian", "precision": "year", "earliest": None, "latest": None},
        {"text": "x", "calendar": SOLAR, "precision": "soon", "earliest": None, "latest": None},
        {"text": "x", "calendar": SOLAR, "precision": "year", "earliest": None, "latest": None},
        {"text": 5, "calendar": SOLAR, "precision": "unknown", "earliest": None, "latest": None},
        {"text": "x", "calendar": SOLAR, "precision": "year", "earliest": "1988-13-01",
         "latest": "1988-12-01"},
        {"text": "x", "calendar": SOLAR, "precision": "range", "earliest": "1989-01-01",
         "latest": "1988-01-01"},
    ],
)
def test_from_dict_refuses_a_malformed_answer(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        DateAnswer.from_dict(data)


def test_an_unknown_calendar_or_precision_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="calendar") as caught:
        parse_date("1367", "julian", "year")
    assert not isinstance(caught.value, DateError)
    with pytest.raises(ValueError, match="precision"):
        parse_date("1367", SOLAR, "roughly")


def test_digits_are_normalised_to_ascii() -> None:
    assert normalise_digits("۱۳۶۷/٥/١ abc") == "1367/5/1 abc"


def test_arabic_letters_become_persian_and_zwnj_is_kept() -> None:
    assert normalise_letters(f"علي كريمي{ZWNJ}ها ذي‌الحجة") == f"علی کریمی{ZWNJ}ها ذی‌الحجه"


@pytest.mark.parametrize(
    ("text", "precision", "expected"),
    [
        ("1 Mordad 1367", "exact", "1988-07-23"),
        ("Mordad 1367", "month", "1988-07-23 – 1988-08-22"),
    ],
)
def test_the_gregorian_range_is_shown_as_iso_dates(
    text: str, precision: str, expected: str
) -> None:
    assert format_gregorian_range(parse_date(text, SOLAR, precision)) == expected


def test_every_precision_and_calendar_is_named() -> None:
    assert CALENDARS == ("solar_hijri", "gregorian", "lunar_hijri")
    assert PRECISIONS == ("exact", "month", "year", "range", "approximate", "unknown")


@st.composite
def solar_dates(draw: st.DrawFn) -> tuple[int, int, int]:
    """A valid Solar Hijri (year, month, day) between 1300 and 1404 (past years only)."""
    year = draw(st.integers(1300, 1404))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, JalaliDate.days_in_month(month, year)))
    return year, month, day


@given(solar_dates())
def test_every_solar_date_in_persian_digits_converts_like_persiantools(
    ymd: tuple[int, int, int],
) -> None:
    year, month, day = ymd
    text = f"{year}/{month}/{day}".translate(PERSIAN_DIGITS)
    expected = JalaliDate(year, month, day).to_gregorian()  # type: ignore[no-untyped-call]
    answer = parse_date(text, SOLAR, "exact")
    assert (answer.earliest, answer.latest) == (expected, expected)


@pytest.mark.parametrize(("day", "locale", "written"), [
    (datetime.date(1988, 7, 23), "fa", "۱ مرداد ۱۳۶۷"),
    ("2026-11-25", "fa", "۴ آذر ۱۴۰۵"),
    (datetime.date(1988, 7, 23), "en", "23 July 1988"),
])
def test_a_day_is_written_in_the_calendar_and_digits_of_the_reader(
        day: datetime.date | str, locale: str, written: str) -> None:
    from intake.dates import format_day

    assert format_day(day, locale) == written


@pytest.mark.parametrize("text", ["۶۷ و 31", "۳۱ اسفند ۱۳۶۷ تا ۱۳۶۹"])
def test_a_day_that_the_last_year_of_a_span_lacks_is_a_date_problem_not_an_exception(
        text: str) -> None:
    """Hypothesis found "۶۷ و 31" raising ValueError from the calendar conversion (Esfand
    1367 has 29 days), which would have made the family's submission a 500."""
    answer = read_date(text, "solar_hijri", "exact")
    assert answer.problem == "no_such_day"
    assert answer.text == text
