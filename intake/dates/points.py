"""What a read date covers: a day, days, a month or months, a year or years, in one calendar."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from .answer import DateError
from .calendars import days_in_month, to_gregorian

_APPROXIMATE_DAYS = datetime.timedelta(days=15)
_NAMES = {"solar_hijri": "Solar Hijri", "gregorian": "Gregorian", "lunar_hijri": "lunar Hijri"}


@dataclass(frozen=True)
class Point:
    """Years from `year` (`years` of them), months first-last, days day-last_day."""

    calendar: str
    year: int
    first: int | None = None
    last: int | None = None
    day: int | None = None
    last_day: int | None = None
    years: int = 1

    @property
    def detail(self) -> str:
        """The precision this point holds by itself; a season or a part counts as a range."""
        if self.day is not None:
            return "exact" if self.last_day in (None, self.day) else "range"
        if self.first is None:
            return "year" if self.years == 1 else "range"
        return "month" if self.first == self.last else "range"

    def check_day(self) -> None:
        """Raise no_such_day if the day is not in its month."""
        longest = days_in_month(self.calendar, self.year, self.first or 1)
        if self.day is not None and not 1 <= self.day <= longest:
            raise DateError("no_such_day", f"That month has no such day in that "
                                           f"{_NAMES[self.calendar]} year.")


def span(point: Point) -> tuple[datetime.date, datetime.date]:
    """First and last Gregorian day the point covers; no_such_day if either does not exist."""
    calendar, last_year = point.calendar, point.year + point.years - 1
    end_month = point.last or point.first or 12
    end_day = point.last_day or point.day or days_in_month(calendar, last_year, end_month)
    try:
        return (to_gregorian(calendar, point.year, point.first or 1, point.day or 1),
                to_gregorian(calendar, last_year, end_month, end_day))
    except ValueError:
        # A day that exists in some years only (30 Esfand, 29 February), or a range's end
        # day that its own month lacks: a date error, never an exception out of the reader.
        raise DateError("no_such_day", f"That month has no such day in that "
                                       f"{_NAMES[calendar]} year.") from None


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    """Move a (year, month) pair by a number of months."""
    quotient, remainder = divmod(year * 12 + month - 1 + months, 12)
    return quotient, remainder + 1


def widen(point: Point) -> tuple[datetime.date, datetime.date]:
    """The approximate span: days ±15 days, months ±1 month, years ±1 year."""
    start, end = span(point)
    if point.day is not None:
        return start - _APPROXIMATE_DAYS, end + _APPROXIMATE_DAYS
    calendar = point.calendar
    if point.first is None:
        before = Point(calendar, point.year - 1)
        after = Point(calendar, point.year + point.years)
    else:
        before = Point(calendar, *_twice(_shift(point.year, point.first, -1)))
        after = Point(calendar, *_twice(_shift(point.year, point.last or point.first, 1)))
    return span(before)[0], span(after)[1]


def _twice(year_month: tuple[int, int]) -> tuple[int, int, int]:
    """(year, month) as (year, first, last) for a one-month point."""
    return year_month[0], year_month[1], year_month[1]


def _half(point: Point, second: bool) -> Point:
    """The first or second half of a season, a year or a decade (months or years)."""
    if point.first is not None:
        first, last = point.first, point.last or point.first
        middle = first + (last - first + 1) // 2
        if second:
            return replace(point, first=middle, last=last)
        return replace(point, first=first, last=middle - 1)
    if point.years == 1:
        return replace(point, first=7 if second else 1, last=12 if second else 6)
    half = point.years // 2
    return replace(point, year=point.year + half if second else point.year, years=half)


def _thirds(first: int, last: int, part: str) -> tuple[int, int]:
    """The early, middle or late third of a run of units, first to last."""
    count = last - first + 1
    cuts = (first, first + count // 3, last + 1 - count // 3, last + 1)
    index = ("early", "mid", "late").index(part)
    return cuts[index], cuts[index + 1] - 1


def apply_part(point: Point, part: str | None) -> Point:
    """Narrow a point to its early, middle or late part (days 1-10, 11-20, 21-end of a month)."""
    if part is None:
        return point
    if point.day is not None:
        raise DateError("unreadable", "This could not be read as a date.")
    if point.first is not None and point.first == point.last:
        length = days_in_month(point.calendar, point.year, point.first)
        first_day, last_day = {"early": (1, 10), "mid": (11, 20), "late": (21, length),
                               "first_half": (1, 15), "second_half": (16, length)}[part]
        return replace(point, day=first_day, last_day=last_day)
    if part in ("first_half", "second_half"):
        return _half(point, part == "second_half")
    if point.first is not None:
        first, last = _thirds(point.first, point.last or point.first, part)
        return replace(point, first=first, last=last)
    if point.years == 1:
        first, last = _thirds(1, 12, part)
        return replace(point, first=first, last=last)
    first_year, last_year = _thirds(point.year, point.year + point.years - 1, part)
    return replace(point, year=first_year, years=last_year - first_year + 1)
