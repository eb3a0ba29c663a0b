"""Reading a typed date: what each end of it says, then its reading in the likeliest calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import lexicon
from .answer import DateError
from .calendars import longest_month, plausible_years, two_digit_year
from .lexicon import Name
from .points import Point, apply_part
from .words import RANGE_OPENERS, RANGE_SEPARATORS, alternation

MAX_LENGTH = 200  # longer text is kept as typed, not read
# Two-digit years that more than one calendar can read ("autumn 81") are read in the
# calendar that puts them nearest the 1988 killings, the founding case of this desk.
LIKELY_YEAR = 1988
_NAMES = {"solar_hijri": "Solar Hijri", "gregorian": "Gregorian", "lunar_hijri": "lunar Hijri"}
_ORDER = ("solar_hijri", "gregorian", "lunar_hijri")

_ORDINAL = re.compile(r"(\d)(?:st|nd|rd|th|ام|مین|م)(?![^\W\d_])")
_OPENER = re.compile(rf"^(?:{alternation(list(RANGE_OPENERS))})\s+")
_SEPARATOR = re.compile(
    rf"\s+(?:{alternation(list(RANGE_SEPARATORS))})\s+|\s*[–—]\s*|\s+-\s+")
_YEAR_DASH_YEAR = re.compile(r"(\d{4})\s*-\s*(\d{4})|(\d{2})-(\d{2})")
_YEAR_DASH_SHORT = re.compile(r"(\d{2})(\d{2})\s*-\s*(\d{2})")  # 1981-82, ۱۳۶۷-۶۸
_NUMERIC_REST = re.compile(r"[\d/\-.\s\u200c]*")
_YEAR_WORD = re.compile(r"(?<![^\W\d_])(?:سال|year)(?![^\W\d_])")


def unreadable() -> DateError:
    """The error for text that is not a date this module understands."""
    return DateError("unreadable", "This could not be read as a date.")


@dataclass(frozen=True)
class Piece:
    """What one end of a date says, before a calendar is chosen."""

    name: Name | None = None
    part: str | None = None
    decade: str | None = None
    year: str | None = None  # the year's digits as typed: "1367" or "67"
    month: int | None = None  # a month given as a number
    day: int | None = None
    hint: str | None = None  # a calendar the wording suggests ("summer", "80s": Gregorian)


def _is_year(digits: str) -> bool:
    """Four digits, or two that cannot be a day or a month."""
    return len(digits) == 4 or (len(digits) == 2 and int(digits) > 31)


def _numeric_piece(numbers: list[str], year_word: bool) -> Piece:
    """Read Y, Y/M, M/Y, Y/M/D, D/M/Y or M/D/Y, a lone year, or a lone day."""
    if len(numbers) == 1:
        if _is_year(numbers[0]) or (year_word and len(numbers[0]) in (2, 4)):
            return Piece(year=numbers[0])
        return Piece(day=int(numbers[0]))
    if not 2 <= len(numbers) <= 3:
        raise unreadable()
    if _is_year(numbers[0]):
        year, rest = numbers[0], [int(n) for n in numbers[1:]]
    elif _is_year(numbers[-1]):
        year, rest = numbers[-1], [int(n) for n in numbers[-2::-1]]
    else:
        raise unreadable()
    month, day = rest[0], rest[1] if len(rest) > 1 else None
    if day is not None and month > 12 >= day and not _is_year(numbers[0]):
        month, day = day, month  # 7/23/1988, as written in the United States
    return Piece(year=year, month=month, day=day)


def _named_piece(numbers: list[str], name: Name | None, part: str | None,
                 decade: str | None, day_first: bool) -> Piece:
    """Read a month or season name, a part word or a decade with a day and a year."""
    if len(numbers) > 2 or (decade and numbers):
        raise unreadable()
    year = day = None
    if len(numbers) == 2:
        first, second = numbers
        year, other = (first, second) if _is_year(first) and not _is_year(second) else (
            second, first)
        day = int(other)
    elif numbers:
        as_year = len(numbers[0]) == 4 or (_is_year(numbers[0]) and not day_first)
        year, day = (numbers[0], None) if as_year else (None, int(numbers[0]))
    if name is not None and name.day is not None:
        if day is not None:
            raise unreadable()  # "5 Nowruz" says nothing
        day = name.day
    if day is not None and (name is None or name.calendar is None or part):
        raise unreadable()  # a day needs a month, and "early 5 Mordad" says nothing
    return Piece(name=name, part=part, decade=decade, year=year, day=day)


def read_piece(text: str) -> Piece:
    """Read one end of a date: names and numbers, in no calendar yet."""
    year_word = bool(_YEAR_WORD.search(text))
    text, parts = lexicon.take_part(text)
    text, names, before = lexicon.take_name(text)
    text, decade, english_decade = lexicon.take_decade(text)
    rest = lexicon.remove_filler(_ORDINAL.sub(r"\1", text))
    if len(names) > 1 or len(parts) > 1 or not _NUMERIC_REST.fullmatch(rest):
        raise unreadable()
    numbers = re.findall(r"\d+", rest)
    name = names[0] if names else None
    part = parts[0] if parts else None
    if name is None and part is None and decade is None:
        return _numeric_piece(numbers, year_word)
    hint = "gregorian" if english_decade else None
    if name is not None and name.calendar is None:
        hint = "gregorian" if name.english else "solar_hijri"
    # "۳۲ مرداد" is day 32 (no such day), "مرداد ۳۲" the year 1332.
    day_first = len(numbers) == 1 and bool(re.search(r"\d", before)) and name is not None
    return replace(_named_piece(numbers, name, part, decade, day_first), hint=hint)


def split_range(text: str) -> list[str]:
    """Split "A to B" (تا, و, یا, between … and …, – —) into its ends."""
    text = _OPENER.sub("", lexicon.join_names(text))
    short = _YEAR_DASH_SHORT.fullmatch(text.strip())
    if short and int(short[3]) > int(short[2]):
        text = f"{short[1]}{short[2]} to {short[1]}{short[3]}"
    parts = _SEPARATOR.split(text)
    years = _YEAR_DASH_YEAR.fullmatch(text.strip())
    if len(parts) == 1 and years and all(_is_year(y) for y in years.groups() if y):
        parts = [y for y in years.groups() if y]
    if len(parts) > 2 or not all(part.strip() for part in parts):
        raise unreadable()
    return [part.strip() for part in parts]


def borrow(start: Piece, end: Piece) -> tuple[Piece, Piece]:
    """Let each end of a range take the year or month that only the other end gives."""
    if start.name is None and start.month is None and (start.day or start.part):
        start = replace(start, name=end.name, month=end.month)
    if start.year is None and start.decade is None:
        start = replace(start, year=end.year)
    if end.year is None and end.decade is None:
        end = replace(end, year=start.year)
    return start, end


def _year(piece: Piece, calendar: str) -> int:
    """The piece's year in a calendar; no_year or no_such_day when it has none."""
    digits = piece.year
    if digits is None:
        month = piece.name.month if piece.name else piece.month
        if piece.day is not None and month and 1 <= month <= 12 and not (
                1 <= piece.day <= longest_month(calendar, month)):
            raise DateError("no_such_day", f"No month of that name has that many days in "
                                           f"the {_NAMES[calendar]} calendar.")
        raise DateError("no_year", "The year is missing.")
    if len(digits) not in (2, 4):
        raise unreadable()
    return int(digits) if len(digits) == 4 else two_digit_year(calendar, int(digits))


def _check_year(calendar: str, year: int) -> None:
    """Refuse a year outside the calendar's plausible range (out_of_range)."""
    low, high = plausible_years(calendar)
    if not low <= year <= high:
        raise DateError("out_of_range", f"The year is outside {low}–{high}, the years "
                                        f"accepted in the {_NAMES[calendar]} calendar.")


def to_point(piece: Piece, calendar: str) -> Point:
    """Read a piece in one calendar, checking that its year, month and day exist."""
    if piece.name is not None and piece.name.calendar not in (None, calendar):
        raise unreadable()
    if piece.decade is not None:
        start = int(piece.decade) if len(piece.decade) == 4 else two_digit_year(
            calendar, int(piece.decade))
        _check_year(calendar, start)
        return apply_part(Point(calendar, start, years=10), piece.part)
    year = _year(piece, calendar)
    _check_year(calendar, year)
    if piece.name is not None and piece.name.calendar is None:
        return apply_part(_season(piece.name.month, calendar, year), piece.part)
    month = piece.name.month if piece.name else piece.month
    if month is not None and not 1 <= month <= 12:
        raise DateError("no_such_day", "There is no such month; months are numbered 1 to 12.")
    point = Point(calendar, year, month, month, piece.day, piece.day)
    if piece.day is not None:
        point.check_day()
    return apply_part(point, piece.part)


def _season(season: int, calendar: str, year: int) -> Point:
    """A season's three months; Gregorian seasons are those of Iran's solar calendar."""
    first = 3 * season - 2
    if calendar == "solar_hijri":
        return Point(calendar, year, first, first + 2)
    if calendar == "gregorian":
        # Spring to autumn of 1988 fall in Solar 1367; the winter of 1988 began in 1366.
        return Point("solar_hijri", year - (622 if season == 4 else 621), first, first + 2)
    raise unreadable()

