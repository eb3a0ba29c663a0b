"""Calendar arithmetic: month lengths, conversion to Gregorian, plausible years."""

from __future__ import annotations

import calendar as gregorian_calendar
import datetime

from persiantools.jdatetime import JalaliDate

# 1 Muharram 1 AH is Friday 16 July 622 (Julian), 19 July 622 in the proleptic Gregorian.
_LUNAR_EPOCH = datetime.date(622, 7, 19).toordinal()
# The earliest year each calendar accepts: people born around 1900 and after.
_FIRST_YEAR = {"solar_hijri": 1280, "gregorian": 1900, "lunar_hijri": 1320}
# The longest a month can be, whatever the year (for "32 Mordad" without a year).
_LONGEST = {
    "solar_hijri": (31,) * 6 + (30,) * 6,
    "gregorian": (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
    "lunar_hijri": (30, 29) * 5 + (30, 30),
}


def lunar_is_leap(year: int) -> bool:
    """Leap years of the tabular Islamic calendar (11 in each 30-year cycle)."""
    return (14 + 11 * year) % 30 < 11


def days_in_month(calendar: str, year: int, month: int) -> int:
    """Length of a month in its own calendar."""
    if calendar == "solar_hijri":
        return int(JalaliDate.days_in_month(month, year))
    if calendar == "gregorian":
        return gregorian_calendar.monthrange(year, month)[1]
    return 30 if month % 2 or (month == 12 and lunar_is_leap(year)) else 29


def longest_month(calendar: str, month: int) -> int:
    """The most days a month of this calendar has in any year."""
    return _LONGEST[calendar][month - 1]


def to_gregorian(calendar: str, year: int, month: int, day: int) -> datetime.date:
    """Convert a valid date of any supported calendar to a Gregorian date."""
    if calendar == "solar_hijri":
        # persiantools leaves JalaliDate.__init__ unannotated.
        jalali = JalaliDate(year, month, day)  # type: ignore[no-untyped-call]
        converted: datetime.date = jalali.to_gregorian()
        return converted
    if calendar == "gregorian":
        return datetime.date(year, month, day)
    # Tabular Islamic calendar: odd months 30 days, even 29, Dhu al-Hijjah 30 in leap years.
    days_before_month = (59 * (month - 1) + 1) // 2
    days_before_year = (year - 1) * 354 + (3 + 11 * year) // 30
    return datetime.date.fromordinal(_LUNAR_EPOCH - 1 + days_before_year + days_before_month + day)


def current_year(calendar: str, today: datetime.date | None = None) -> int:
    """This year in the given calendar (the tabular one for lunar Hijri)."""
    today = today or datetime.date.today()
    if calendar == "solar_hijri":
        return int(JalaliDate(today).year)  # type: ignore[no-untyped-call]
    if calendar == "gregorian":
        return today.year
    year = round((today.toordinal() - _LUNAR_EPOCH) / 354.367) + 1
    return year if to_gregorian(calendar, year, 1, 1) <= today else year - 1


def plausible_years(calendar: str) -> tuple[int, int]:
    """The years accepted in a calendar: from about 1900 to this year (events are past)."""
    return _FIRST_YEAR[calendar], current_year(calendar)


def two_digit_year(calendar: str, digits: int) -> int:
    """Read "67" in a calendar's likely century: 13xx Solar, 19xx Gregorian, 14xx/13xx lunar.

    The people and events the form is about were born and happened in the Solar 1300s
    and the Gregorian 1900s; a lunar Hijri year is read in the 1400s unless that lies in
    the future, then in the 1300s.
    """
    if calendar == "solar_hijri":
        return 1300 + digits
    if calendar == "gregorian":
        return 1900 + digits
    return 1400 + digits if 1400 + digits <= current_year(calendar) else 1300 + digits
