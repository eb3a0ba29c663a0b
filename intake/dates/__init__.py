"""Dates as families remember them: read, check and normalise to a Gregorian range.

`read_date` never refuses: what it cannot read is kept as typed with a `problem`, so a
date never blocks a testimony. `parse_date` is the same reader raising DateError.
"""

from __future__ import annotations

import calendar as gregorian_calendar
import datetime
import re
from dataclasses import replace

from persiantools.jdatetime import JalaliDate

from . import lexicon
from .answer import (
    CALENDARS,
    PRECISIONS,
    PROBLEMS,
    DateAnswer,
    DateError,
    check_choice,
    format_gregorian_range,
)
from .numbers import replace_number_words
from .points import Point, span, widen
from .reader import (
    LIKELY_YEAR,
    MAX_LENGTH,
    Piece,
    borrow,
    read_piece,
    split_range,
    to_point,
    unreadable,
)
from .words import SOLAR_MONTHS, normalise_digits, normalise_letters

__all__ = ["CALENDARS", "PRECISIONS", "PROBLEMS", "DateAnswer", "DateError", "format_day",
           "format_gregorian_range", "normalise_digits", "normalise_letters", "parse_date",
           "read_date"]

# Observed lunar months start with the sighting of the crescent and can fall a day or two
# either side of the tabular calendar: every lunar Hijri range is widened by this much.
_LUNAR_SLACK = datetime.timedelta(days=2)
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_GLOSS = re.compile(r"\([^()]*\)")


def format_day(day: datetime.date | str, locale: str) -> str:
    """Write a day as a reader of `locale` expects it: Solar Hijri in Persian digits for fa."""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    if locale == "fa":
        jalali = JalaliDate(day)  # type: ignore[no-untyped-call]
        return f"{jalali.day} {SOLAR_MONTHS[jalali.month - 1][0]} {jalali.year}".translate(
            _PERSIAN_DIGITS)
    return f"{day.day} {gregorian_calendar.month_name[day.month]} {day.year}"


def _prepare(text: str) -> tuple[str, bool, set[str]]:
    """Fold text, note vagueness and calendar words, and write number words as digits."""
    key = lexicon.key(text)
    # "1367 (1988)": a gloss in brackets repeats the date; read what stands outside it.
    outside = _GLOSS.sub(" ", key)
    key = outside if re.search(r"\w", outside) else key
    key = " ".join(key.replace("(", " ").replace(")", " ").split())
    stripped = lexicon.strip_vagueness(key)
    vague = stripped != key
    stripped, named = lexicon.take_calendar_markers(stripped)
    stripped = replace_number_words(lexicon.remove_weekdays(stripped))
    return " ".join(stripped.split()), vague, named


def _hints(pieces: list[Piece], named: set[str]) -> tuple[set[str], str | None]:
    """Calendars the words insist on (month names, شمسی), and one they suggest ("summer")."""
    strong = set(named)
    strong |= {p.name.calendar for p in pieces if p.name and p.name.calendar}
    return strong, next((p.hint for p in pieces if p.hint), None)


def _readings(pieces: list[Piece], candidates: list[str]) -> list[tuple[str, list[Point]]]:
    """Read the pieces in each candidate calendar; raise the likeliest error if none reads."""
    readings, errors = [], []
    for calendar in candidates:
        try:
            points = [to_point(piece, calendar) for piece in pieces]
        except DateError as error:
            errors.append(error)
            continue
        readings.append((calendar, points))
    if not readings:
        # An impossible day in a plausible year says more than a year out of range.
        raise next((e for e in errors if e.code != "out_of_range"), errors[0])
    return readings


def _choose(pieces: list[Piece], chosen: str, named: set[str]) -> tuple[str, list[Point]]:
    """Pick the calendar: the one the words name, else the chosen one if its year fits."""
    strong, weak = _hints(pieces, named)
    if len(strong) > 1:
        raise unreadable()
    if strong:
        candidates = list(strong)
    else:
        candidates = [chosen] + [c for c in (weak, *CALENDARS) if c and c != chosen]
        candidates = list(dict.fromkeys(candidates))
    readings = _readings(pieces, candidates)
    two_digits = any(len(p.year or p.decade or "0000") == 2 for p in pieces)
    if two_digits and weak and weak != chosen and len(readings) > 1:
        # "autumn 81": the English season and the chosen Solar calendar disagree.
        readings = [r for r in readings if r[0] in (chosen, weak)] or readings
        return min(readings, key=lambda r: abs(span(r[1][0])[0].year - LIKELY_YEAR))
    return readings[0]


def _points(key: str, chosen: str, named: set[str]) -> tuple[str, list[Point]]:
    """Read one date or a two-ended range; the ends may borrow each other's year or month."""
    pieces = [read_piece(part) for part in split_range(key)]
    if len(pieces) == 2:
        pieces = list(borrow(*pieces))
    calendar, points = _choose(pieces, chosen, named)
    if len(points) == 2 and span(points[0])[0] > span(points[1])[1]:
        raise DateError("range_backwards", "The range ends before it starts.")
    return calendar, points


def _resolve(points: list[Point], precision: str, vague: bool
             ) -> tuple[str, datetime.date, datetime.date]:
    """Apply the chosen precision to what the text holds."""
    if vague or precision == "approximate":
        return "approximate", widen(points[0])[0], widen(points[-1])[1]
    if len(points) == 2 or precision == "range":
        return "range", span(points[0])[0], span(points[-1])[1]
    point = points[0]
    if precision == "year" and point.years == 1:
        point = replace(point, first=None, last=None, day=None, last_day=None)
    elif precision == "month" and point.day is not None and point.first == point.last:
        point = replace(point, day=None, last_day=None)
    # Text vaguer than the precision ("1367" as exact) keeps the text's own detail.
    return point.detail, *span(point)


def parse_date(text: str, calendar: str, precision: str) -> DateAnswer:
    """Read a typed date in the given calendar and precision; raise DateError if unreadable."""
    check_choice(calendar, CALENDARS, "calendar")
    check_choice(precision, PRECISIONS, "precision")
    kept = text.strip()
    if not kept or precision == "unknown":
        return DateAnswer(kept, calendar, "unknown", None, None)
    if len(kept) > MAX_LENGTH:
        raise unreadable()
    key, vague, named = _prepare(kept)
    if not key:
        raise unreadable()
    read_in, points = _points(key, calendar, named)
    final, earliest, latest = _resolve(points, precision, vague)
    if read_in == "lunar_hijri":
        earliest, latest = earliest - _LUNAR_SLACK, latest + _LUNAR_SLACK
    return DateAnswer(kept, read_in, final, earliest, latest)


def read_date(text: str, calendar: str, precision: str) -> DateAnswer:
    """Read a typed date; what cannot be read is kept as typed, marked with its problem."""
    try:
        return parse_date(text, calendar, precision)
    except DateError as error:
        return DateAnswer(text.strip(), calendar, "unknown", None, None, problem=error.code)
    except (ValueError, OverflowError):
        # A case the reader gets wrong must still never block a testimony; the property
        # tests call parse_date directly, so they still catch such a case.
        return DateAnswer(text.strip(), calendar, "unknown", None, None, problem="unreadable")
