"""Finding the named parts of a date: months, seasons, early/mid/late, calendar words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .words import (
    CALENDAR_MARKERS,
    FILLER,
    GREGORIAN_MONTHS,
    LUNAR_MONTHS,
    NAMED_DAYS,
    NOT_LETTER_AFTER,
    NOT_LETTER_BEFORE,
    PARTS,
    SEASONS,
    SOLAR_MONTHS,
    VAGUE,
    alternation,
    match_key,
    squash,
)


@dataclass(frozen=True)
class Name:
    """A month of one calendar, or a season (calendar None, month = its place 1-4)."""

    calendar: str | None
    month: int
    english: bool = False
    day: int | None = None  # a named day: نوروز is 1 Farvardin


def _names() -> dict[str, Name]:
    """Every month and season name, squashed, with what it names."""
    names: dict[str, Name] = {}
    for calendar, table in (("solar_hijri", SOLAR_MONTHS), ("gregorian", GREGORIAN_MONTHS),
                            ("lunar_hijri", LUNAR_MONTHS)):
        for number, spellings in enumerate(table, start=1):
            names.update({squash(s): Name(calendar, number) for s in spellings})
    for number, persian, english in SEASONS:
        names.update({squash(s): Name(None, number) for s in persian})
        names.update({squash(s): Name(None, number, english=True) for s in english})
    for (calendar, month, day), spellings in NAMED_DAYS.items():
        names.update({squash(s): Name(calendar, month, day=day) for s in spellings})
    return names


_NAMES = _names()
_SPELLINGS = [s for _, table in (("", SOLAR_MONTHS), ("", GREGORIAN_MONTHS), ("", LUNAR_MONTHS))
              for spellings in table for s in spellings]
_SPELLINGS += [s for _, persian, english in SEASONS for s in (*persian, *english)]
_SPELLINGS += [s for spellings in NAMED_DAYS.values() for s in spellings]


def _word_pattern(alternatives: str, suffix: str = "") -> re.Pattern[str]:
    """Match whole words only, whatever script they are in."""
    return re.compile(rf"{NOT_LETTER_BEFORE}(?:{alternatives}){suffix}{NOT_LETTER_AFTER}")


# A month name may be followed by "ماه" (مردادماه, مرداد ماه).
_NAME_RE = re.compile(
    rf"{NOT_LETTER_BEFORE}(?P<name>{alternation(_SPELLINGS)})(?:[\s\u200c]*ماه)?"
    rf"{NOT_LETTER_AFTER}"
)
# Ezafe after a part word: نیمه‌ی مرداد, ابتدای, اواسطِ (the kasra is folded away).
_PART_RE = {part: _word_pattern(alternation(list(words)), r"(?!\d)(?:[\s\u200c]?ی)?(?:[\s\-])?")
            for part, words in PARTS.items()}
_MARKER_RE = {calendar: re.compile(
    rf"{NOT_LETTER_BEFORE}(?:{alternation(list(words))})\.?(?=$|[\s\d])")
    for calendar, words in CALENDAR_MARKERS.items()}
_FILLER_RE = _word_pattern(alternation(list(FILLER)))
_DECADE_RE = re.compile(r"(?:دهه(?:[\s\u200c]*ی)?|سال[\s\u200c]*های)\s*(\d{2,4})(?!\d)"
                        r"|(?<!\d)(\d{2,4})\s?s"
                        + NOT_LETTER_AFTER)
_WEEKDAYS_RE = _word_pattern(alternation([w for w in FILLER if "شنبه" in w or "جمعه" in w]))


# "Mordad-Shahrivar", "summer/autumn": two names joined without spaces are a range.
_JOINED_NAMES = re.compile(
    rf"{NOT_LETTER_BEFORE}(?P<first>{alternation(_SPELLINGS)})\s*[/\-]\s*"
    rf"(?=(?:{alternation(_SPELLINGS)}){NOT_LETTER_AFTER})")


def join_names(text: str) -> str:
    """Write "Mordad-Shahrivar" as "Mordad to Shahrivar"."""
    return _JOINED_NAMES.sub(r"\g<first> to ", text)


def remove_weekdays(text: str) -> str:
    """Drop weekday names (before number words: سه‌شنبه holds سه)."""
    return _WEEKDAYS_RE.sub(" ", text)


def take_calendar_markers(text: str) -> tuple[str, set[str]]:
    """Remove words that name a calendar (شمسی, AD, ه.ق) and say which they named."""
    named = set()
    for calendar, pattern in _MARKER_RE.items():
        text, count = pattern.subn(" ", text)
        if count:
            named.add(calendar)
    return text, named


def take_name(text: str) -> tuple[str, list[Name], str]:
    """Remove month and season names from text; return them and the text before the first."""
    matches = list(_NAME_RE.finditer(text))
    before = text[: matches[0].start()] if matches else ""
    return _NAME_RE.sub(" ", text), [_NAMES[squash(m.group("name"))] for m in matches], before


def take_part(text: str) -> tuple[str, list[str]]:
    """Remove early/mid/late words and return which were there."""
    parts = []
    for part, pattern in _PART_RE.items():
        text, count = pattern.subn(" ", text)
        parts += [part] * count
    return text, parts


def take_decade(text: str) -> tuple[str, str | None, bool]:
    """Remove "دهه ۶۰" or "1980s"; return the decade's digits and whether it was English."""
    match = _DECADE_RE.search(text)
    if not match:
        return text, None, False
    rest = text[: match.start()] + " " + text[match.end():]
    return rest, match.group(1) or match.group(2), match.group(2) is not None


def remove_filler(text: str) -> str:
    """Drop words that carry nothing (سال, ماه, "of the")."""
    return _FILLER_RE.sub(" ", text)


def key(text: str) -> str:
    """The folded text the reader works on."""
    return match_key(text)


_VAGUE_PREFIX = re.compile(rf"^(?:(?:{alternation(list(VAGUE))})(?![^\W\d_])\.?|~|±)\s*")
_VAGUE_SUFFIX = re.compile(rf"(?:\s*[?؟]+|\s+(?:{alternation(list(VAGUE))})\.?|\s+or so)$")


def strip_vagueness(text: str) -> str:
    """Remove "about", "حدود", "~" or a trailing "?" (the caller compares to see if any was)."""
    return _VAGUE_SUFFIX.sub("", _VAGUE_PREFIX.sub("", text)).strip()
