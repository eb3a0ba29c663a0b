"""Dates as families remember them: read, check and normalise to a Gregorian range."""

from __future__ import annotations

import calendar as gregorian_calendar
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from persiantools.jdatetime import JalaliDate

CALENDARS = ("solar_hijri", "gregorian", "lunar_hijri")
PRECISIONS = ("exact", "month", "year", "range", "approximate", "unknown")

_CALENDAR_NAMES = {
    "solar_hijri": "Solar Hijri",
    "gregorian": "Gregorian",
    "lunar_hijri": "lunar Hijri",
}
_PLAUSIBLE_YEARS = {
    "solar_hijri": (1280, 1420),
    "gregorian": (1900, 2100),
    "lunar_hijri": (1320, 1470),
}
_APPROXIMATE_DAYS = datetime.timedelta(days=15)
# The tabular Islamic calendar is arithmetical; the months Iran actually observed start
# with the sighting of the crescent and can fall a day or two either side of it. Every
# lunar Hijri range is therefore widened by this much at each end.
_LUNAR_SLACK = datetime.timedelta(days=2)
# 1 Muharram 1 AH is Friday 16 July 622 (Julian), 19 July 622 in the proleptic Gregorian.
_LUNAR_EPOCH = datetime.date(622, 7, 19).toordinal()


class DateError(ValueError):
    """A date answer that cannot be read; `code` is a short machine key, str() a sentence."""

    code: str

    def __init__(self, code: str, message: str) -> None:
        """Keep the machine key beside the English message."""
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DateAnswer:
    """One date field as typed, with its calendar, precision and Gregorian range."""

    text: str
    calendar: str
    precision: str
    earliest: datetime.date | None
    latest: datetime.date | None

    def __post_init__(self) -> None:
        """Refuse answers whose parts contradict each other."""
        _check_choice(self.calendar, CALENDARS, "calendar")
        _check_choice(self.precision, PRECISIONS, "precision")
        unknown = self.precision == "unknown"
        if (self.earliest is None) != unknown or (self.latest is None) != unknown:
            raise ValueError("Only an unknown date has no range, and it has none.")
        if self.earliest and self.latest and self.earliest > self.latest:
            raise ValueError("A date range cannot end before it starts.")

    def to_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready dictionary with ISO dates."""
        return {
            "text": self.text,
            "calendar": self.calendar,
            "precision": self.precision,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "latest": self.latest.isoformat() if self.latest else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DateAnswer:
        """Rebuild an answer from to_dict output, checking its shape."""
        return cls(
            text=_str_field(data, "text"),
            calendar=_str_field(data, "calendar"),
            precision=_str_field(data, "precision"),
            earliest=_date_field(data, "earliest"),
            latest=_date_field(data, "latest"),
        )


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    """Raise ValueError (a programming error, not a DateError) for an unknown choice."""
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}; expected one of {', '.join(choices)}.")


def _str_field(data: Mapping[str, object], key: str) -> str:
    """Read a required string from a stored answer."""
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"Stored date answer has no text field {key!r}.")
    return value


def _date_field(data: Mapping[str, object], key: str) -> datetime.date | None:
    """Read an optional ISO date from a stored answer."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"Stored date answer field {key!r} is not an ISO date.")
    return datetime.date.fromisoformat(value)


# --- Text normalisation -------------------------------------------------------------

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه"})
# Only for matching inside this module: hamza and madda forms, Arabic punctuation,
# apostrophes of transliterations ("Sha'ban"), and invisible direction marks.
_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "ٱ": "ا", "آ": "ا", "ئ": "ی", "ؤ": "و", "٫": ".", "،": " ", ",": " "}
    | dict.fromkeys("'’‘ʿʾ`ـ")
    | dict.fromkeys("\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    | dict.fromkeys([chr(c) for c in range(0x064B, 0x0653)] + ["\u0670"])
)


def normalise_digits(text: str) -> str:
    """Turn Persian ۰-۹ and Arabic-Indic ٠-٩ digits into ASCII digits."""
    return text.translate(_DIGITS)


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def format_day(day: datetime.date | str, locale: str) -> str:
    """Write a day as a reader of `locale` expects it: Solar Hijri in Persian digits for fa."""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    if locale == "fa":
        jalali = JalaliDate(day)  # type: ignore[no-untyped-call]
        return f"{jalali.day} {_SOLAR_MONTHS[jalali.month - 1][0]} {jalali.year}".translate(
            _PERSIAN_DIGITS)
    return f"{day.day} {gregorian_calendar.month_name[day.month]} {day.year}"


def normalise_letters(text: str) -> str:
    """Map Arabic ي ى ك ة to Persian ی ی ک ه, keeping zero-width non-joiners."""
    return text.translate(_LETTERS)


def _match_key(text: str) -> str:
    """Fold text to the form the parser matches against (never stored)."""
    folded = normalise_letters(normalise_digits(text)).casefold().translate(_FOLD)
    return re.sub(r"\s+", " ", folded).strip()


# --- Month names --------------------------------------------------------------------

_SOLAR_MONTHS = (
    ("فروردین", "farvardin", "farvardeen"),
    ("اردیبهشت", "ordibehesht", "ordibehest", "ardibehesht"),
    ("خرداد", "khordad", "khordaad"),
    ("تیر", "tir", "teer"),
    ("مرداد", "امرداد", "mordad", "amordad", "mordaad", "amordaad"),
    ("شهریور", "shahrivar", "shahriver", "shahrewar"),
    ("مهر", "mehr"),
    ("آبان", "aban", "aaban", "abaan"),
    ("آذر", "azar", "aazar", "azer"),
    ("دی", "dey", "dei"),
    ("بهمن", "bahman"),
    ("اسفند", "esfand", "isfand", "espand"),
)
_SOLAR_SEASONS = (
    (1, 3, ("بهار", "spring")),
    (4, 6, ("تابستان", "summer")),
    (7, 9, ("پاییز", "autumn", "fall")),
    (10, 12, ("زمستان", "winter")),
)
_GREGORIAN_MONTHS = (
    ("january", "jan", "ژانویه"),
    ("february", "feb", "فوریه"),
    ("march", "mar", "مارس", "مارچ"),
    ("april", "apr", "آوریل", "آپریل"),
    ("may", "مه", "می"),
    ("june", "jun", "ژوئن", "جون"),
    ("july", "jul", "ژوئیه", "ژوییه", "جولای"),
    ("august", "aug", "اوت", "آگوست"),
    ("september", "sep", "sept", "سپتامبر"),
    ("october", "oct", "اکتبر"),
    ("november", "nov", "نوامبر"),
    ("december", "dec", "دسامبر"),
)
_LUNAR_MONTHS = (
    ("محرم", "muharram", "moharram", "muharam", "moharam"),
    ("صفر", "safar"),
    ("ربیع الاول", "rabi al awwal", "rabi ul awwal", "rabi al awal", "rabi al oula", "rabi i"),
    ("ربیع الثانی", "ربیع الاخر", "rabi al thani", "rabi ath thani", "rabi al akhir",
     "rabi ul thani", "rabi us sani", "rabi al sani", "rabi ii"),
    ("جمادی الاول", "جمادی الاولی", "jumada al awwal", "jumada al ula", "jumada al oula",
     "jamadi al awwal", "jamadi ul awwal", "jumada i"),
    ("جمادی الثانی", "جمادی الثانیه", "جمادی الاخر", "جمادی الاخره", "جمادی الاخری",
     "jumada al thani", "jumada ath thani", "jumada al akhirah", "jumada al akhira",
     "jamadi al thani", "jamadi us sani", "jamadi al sani", "jumada ii"),
    ("رجب", "rajab"),
    ("شعبان", "shaban", "shaaban"),
    ("رمضان", "ramadan", "ramazan", "ramadhan"),
    ("شوال", "shawwal", "shawal", "shavval"),
    ("ذی القعده", "ذوالقعده", "dhu al qadah", "dhu al qada", "dhul qadah", "dhul qada",
     "dhu al qidah", "dhu al qida", "dhul qidah", "zul qadah", "zul qada", "zi al qadah",
     "zilqad", "zilqadah"),
    ("ذی الحجه", "ذوالحجه", "dhu al hijjah", "dhu al hijja", "dhul hijjah", "dhul hijja",
     "zul hijjah", "zul hijja", "zi al hijjah", "zilhaj", "zilhijjah", "zil hajj"),
)
_SEPARATOR = r"[\s\-\u200c]*"
_NOT_LETTER_BEFORE, _NOT_LETTER_AFTER = r"(?<![^\W\d_])", r"(?![^\W\d_])"


def _squash(name: str) -> str:
    """Drop the spaces, hyphens and ZWNJs that may or may not separate a name's words."""
    return re.sub(r"[\s\-\u200c]", "", _match_key(name))


def _name_pattern(name: str) -> str:
    """Regex for one name, its words joined by any (or no) separator."""
    return _SEPARATOR.join(re.escape(word) for word in _match_key(name).split())


def _lexicon(entries: list[tuple[int, int, tuple[str, ...]]]) -> tuple[
    re.Pattern[str], dict[str, tuple[int, int]]
]:
    """Compile month or season names into one regex and a lookup of their months."""
    lookup = {_squash(name): (first, last) for first, last, names in entries for name in names}
    names = sorted({name for _, _, group in entries for name in group}, key=len, reverse=True)
    alternatives = "|".join(_name_pattern(name) for name in names)
    pattern = rf"{_NOT_LETTER_BEFORE}(?P<name>{alternatives})(?:[\s\u200c]*ماه)?{_NOT_LETTER_AFTER}"
    return re.compile(pattern), lookup


def _months(table: tuple[tuple[str, ...], ...]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Number a table of month names from 1."""
    return [(number, number, names) for number, names in enumerate(table, start=1)]


_LEXICONS = {
    "solar_hijri": _lexicon(_months(_SOLAR_MONTHS) + list(_SOLAR_SEASONS)),
    "gregorian": _lexicon(_months(_GREGORIAN_MONTHS)),
    "lunar_hijri": _lexicon(_months(_LUNAR_MONTHS)),
}

# --- Other vocabulary ---------------------------------------------------------------

_FILLER_WORDS = (
    "ماه", "سال", "روز", "شمسی", "خورشیدی", "هجری", "قمری", "میلادی", "هش", "هق", "ش", "ق", "م",
    "در", "of", "the", "year", "month", "in", "on", "ad", "ce", "ah", "sh", "solar",
    "lunar", "hijri", "hijra", "gregorian",
)
_FILLER = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?:ه\s?\.\s?[شق]\.?|"
    + "|".join(sorted(_FILLER_WORDS, key=len, reverse=True))
    + rf"){_NOT_LETTER_AFTER}"
)
_ORDINAL = re.compile(rf"(\d)(?:st|nd|rd|th|ام|م){_NOT_LETTER_AFTER}")
_NUMERIC_REST = re.compile(r"[\d/\-.\s\u200c]*")
_VAGUE_PREFIX = re.compile(
    r"^(?:(?:approximately|approx|about|around|circa|ca|c|حدودا|در حدود|حدود|تقریبا)"
    rf"{_NOT_LETTER_AFTER}\.?|~|±)\s*"
)
_VAGUE_SUFFIX = re.compile(r"\s*[?؟]+$")
_RANGE_SEPARATOR = re.compile(r"\s+(?:to|until|till|through|تا)\s+|\s*[–—]\s*|\s+-\s+")
_RANGE_FROM = re.compile(r"^(?:from|از)\s+")
_YEAR_DASH_YEAR = re.compile(r"(\d{4})-(\d{4})")


# --- Calendar arithmetic ------------------------------------------------------------


def _lunar_is_leap(year: int) -> bool:
    """Leap years of the tabular Islamic calendar (11 in each 30-year cycle)."""
    return (14 + 11 * year) % 30 < 11


def _days_in_month(calendar: str, year: int, month: int) -> int:
    """Length of a month in its own calendar."""
    if calendar == "solar_hijri":
        return int(JalaliDate.days_in_month(month, year))
    if calendar == "gregorian":
        return gregorian_calendar.monthrange(year, month)[1]
    return 30 if month % 2 or (month == 12 and _lunar_is_leap(year)) else 29


def _to_gregorian(calendar: str, year: int, month: int, day: int) -> datetime.date:
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


def _month_start(calendar: str, year: int, month: int) -> datetime.date:
    """Gregorian date of a month's first day."""
    return _to_gregorian(calendar, year, month, 1)


def _month_end(calendar: str, year: int, month: int) -> datetime.date:
    """Gregorian date of a month's last day."""
    return _to_gregorian(calendar, year, month, _days_in_month(calendar, year, month))


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    """Move a (year, month) pair by a number of months."""
    quotient, remainder = divmod(year * 12 + month - 1 + months, 12)
    return quotient, remainder + 1


# --- What a piece of text says ------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    """A year, a run of months in one year (a month or a season), or a day."""

    calendar: str
    year: int
    first: int | None = None
    last: int | None = None
    day: int | None = None

    @property
    def detail(self) -> str:
        """The precision this point holds by itself; a season counts as a range."""
        if self.day is not None:
            return "exact"
        if self.first is None:
            return "year"
        return "month" if self.first == self.last else "range"


def _span(point: _Point) -> tuple[datetime.date, datetime.date]:
    """First and last Gregorian day the point covers."""
    calendar, year = point.calendar, point.year
    if point.day is not None:
        day = _to_gregorian(calendar, year, point.first or 1, point.day)
        return day, day
    first, last = point.first or 1, point.last or 12
    return _month_start(calendar, year, first), _month_end(calendar, year, last)


def _widen(point: _Point) -> tuple[datetime.date, datetime.date]:
    """The approximate span: a day ±15 days, months ±1 month, a year ±1 year."""
    calendar, year = point.calendar, point.year
    if point.day is not None:
        start, end = _span(point)
        return start - _APPROXIMATE_DAYS, end + _APPROXIMATE_DAYS
    if point.first is None:
        return _month_start(calendar, year - 1, 1), _month_end(calendar, year + 1, 12)
    start_month = _shift(year, point.first, -1)
    end_month = _shift(year, point.last or point.first, 1)
    return _month_start(calendar, *start_month), _month_end(calendar, *end_month)


# Error messages never quote what was typed: they may end up in logs, and everything a
# family types is kept only as ciphertext.


def _unreadable() -> DateError:
    """The error for text that is not a date this module understands."""
    return DateError("unreadable", "This could not be read as a date.")


def _make_point(
    calendar: str, year: int, first: int | None, day: int | None, last: int | None = None
) -> _Point:
    """Build a point after checking the year is plausible and the day exists."""
    low, high = _PLAUSIBLE_YEARS[calendar]
    name = _CALENDAR_NAMES[calendar]
    if not low <= year <= high:
        message = f"The year is outside {low}–{high}, the years accepted in the {name} calendar."
        raise DateError("out_of_range", message)
    if first is not None and not 1 <= first <= 12:
        raise DateError("no_such_day", "There is no such month; months are numbered 1 to 12.")
    longest = _days_in_month(calendar, year, first) if first is not None else 31
    if day is not None and not 1 <= day <= longest:
        raise DateError("no_such_day", f"That month has no such day in that {name} year.")
    return _Point(calendar, year, first, first if last is None else last, day)


def _year(digits: str, calendar: str, two_digits: bool) -> int | None:
    """Read a year: four digits, or, where allowed, a two-digit Solar Hijri year above 31."""
    if len(digits) == 4:
        return int(digits)
    if two_digits and calendar == "solar_hijri" and len(digits) == 2 and int(digits) > 31:
        return 1300 + int(digits)
    return None


def _numeric_point(numbers: list[str], calendar: str, fallback: _Point | None) -> _Point:
    """Read Y, Y/M, M/Y, Y/M/D or D/M/Y (any of / - . or space between the parts)."""
    if len(numbers) == 1 and len(numbers[0]) <= 2 and fallback and fallback.day is not None:
        return _make_point(calendar, fallback.year, fallback.first, int(numbers[0]))
    if not 1 <= len(numbers) <= 3:
        raise _unreadable()
    # Two-digit years ("67/5/1") are read as 13xx only in the Solar Hijri calendar and only
    # with all three parts present, where the part above 31 can only be the year.
    two_digits = len(numbers) == 3
    year = _year(numbers[0], calendar, two_digits)
    rest = numbers[1:]
    if year is None:
        year = _year(numbers[-1], calendar, two_digits)
        rest = numbers[-2::-1]
    if year is None:
        raise _unreadable()
    parts = [int(part) for part in rest] + [None, None]
    return _make_point(calendar, year, parts[0], parts[1])


def _named_point(
    numbers: list[str], months: tuple[int, int], calendar: str, fallback: _Point | None
) -> _Point:
    """Read a month or season name with an optional day and a year (or the fallback's)."""
    # Beside a month name a two-digit Solar Hijri year ("مرداد ۶۷") is read as 13xx.
    years = [year for n in numbers if (year := _year(n, calendar, True)) is not None]
    days = [int(n) for n in numbers if _year(n, calendar, True) is None]
    if len(years) > 1 or len(days) > 1 or (days and months[0] != months[1]):
        raise _unreadable()
    if years:
        year = years[0]
    elif fallback is not None:
        year = fallback.year
    else:
        raise _unreadable()
    return _make_point(calendar, year, months[0], days[0] if days else None, months[1])


def _find_months(text: str, calendar: str) -> tuple[tuple[int, int] | None, str]:
    """Find the one month or season name in text; return its months and the rest."""
    pattern, lookup = _LEXICONS[calendar]
    found = list(pattern.finditer(text))
    if len(found) > 1:
        raise _unreadable()
    if not found:
        return None, text
    match = found[0]
    return lookup[_squash(match.group("name"))], f"{text[: match.start()]} {text[match.end() :]}"


def _parse_point(text: str, calendar: str, fallback: _Point | None) -> _Point:
    """Read one date (a year, month, season or day); fallback supplies a missing year."""
    months, rest = _find_months(text, calendar)
    rest = _FILLER.sub(" ", _ORDINAL.sub(r"\1", rest))
    if not _NUMERIC_REST.fullmatch(rest):
        raise _unreadable()
    numbers = re.findall(r"\d+", rest)
    if months is None:
        return _numeric_point(numbers, calendar, fallback)
    return _named_point(numbers, months, calendar, fallback)


def _split_range(text: str) -> list[str]:
    """Split "A to B" (or – — " - " تا until) into its ends; a single date stays whole."""
    parts = _RANGE_SEPARATOR.split(text)
    years = _YEAR_DASH_YEAR.fullmatch(text)
    if len(parts) == 1 and years:
        parts = [years[1], years[2]]
    if len(parts) == 2:
        parts[0] = _RANGE_FROM.sub("", parts[0])
    if len(parts) > 2 or not all(part.strip() for part in parts):
        raise _unreadable()
    return [part.strip() for part in parts]


def _parse_points(text: str, calendar: str) -> list[_Point]:
    """Read one date or a two-ended range; the start may borrow the end's year or month."""
    parts = _split_range(text)
    if len(parts) == 1:
        return [_parse_point(parts[0], calendar, None)]
    end = _parse_point(parts[1], calendar, None)
    start = _parse_point(parts[0], calendar, end)
    if _span(start)[0] > _span(end)[1]:
        raise DateError("range_backwards", "The range ends before it starts.")
    return [start, end]


def _resolve(
    points: list[_Point], precision: str, vague: bool
) -> tuple[str, datetime.date, datetime.date]:
    """Apply the chosen precision to what the text holds."""
    if vague or precision == "approximate":
        return "approximate", _widen(points[0])[0], _widen(points[-1])[1]
    if len(points) == 2 or precision == "range":
        return "range", _span(points[0])[0], _span(points[-1])[1]
    point = points[0]
    if precision == "year":
        point = replace(point, first=None, last=None, day=None)
    elif precision == "month" and point.day is not None:
        point = replace(point, day=None)
    # Text vaguer than the precision ("1367" as exact) keeps the text's own detail.
    return point.detail, *_span(point)


def _strip_vagueness(text: str) -> tuple[str, bool]:
    """Remove "about", "حدود", "~" or a trailing "?", and say whether there was any."""
    stripped = _VAGUE_SUFFIX.sub("", _VAGUE_PREFIX.sub("", text)).strip()
    return stripped, stripped != text


def parse_date(text: str, calendar: str, precision: str) -> DateAnswer:
    """Read a typed date in the given calendar and precision; raise DateError if unreadable."""
    _check_choice(calendar, CALENDARS, "calendar")
    _check_choice(precision, PRECISIONS, "precision")
    kept = text.strip()
    if not kept or precision == "unknown":
        return DateAnswer(kept, calendar, "unknown", None, None)
    key, vague = _strip_vagueness(_match_key(kept))
    final, earliest, latest = _resolve(_parse_points(key, calendar), precision, vague)
    if calendar == "lunar_hijri":
        # Observed months may start a day or two off the tabular calendar: widen by 2 days.
        earliest, latest = earliest - _LUNAR_SLACK, latest + _LUNAR_SLACK
    return DateAnswer(kept, calendar, final, earliest, latest)


def format_gregorian_range(answer: DateAnswer) -> str:
    """Show the normalised range as ISO dates: one date, "a – b", or "" when unknown."""
    if answer.earliest is None or answer.latest is None:
        return ""
    if answer.earliest == answer.latest:
        return answer.earliest.isoformat()
    return f"{answer.earliest.isoformat()} – {answer.latest.isoformat()}"
