"""Numbers written in words: "بیست و سوم", "اول", "شصت و هفت", "twenty-third", "first"."""

from __future__ import annotations

import re

from .words import NOT_LETTER_AFTER, NOT_LETTER_BEFORE

_FA_UNITS = {
    "یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "شیش": 6, "هفت": 7, "هشت": 8,
    "نه": 9, "ده": 10, "یازده": 11, "دوازده": 12, "سیزده": 13, "چهارده": 14, "پانزده": 15,
    "پونزده": 15, "شانزده": 16, "شونزده": 16, "هفده": 17, "هیفده": 17, "هجده": 18, "هیجده": 18,
    "نوزده": 19,
}
_FA_TENS = {"بیست": 20, "سی": 30, "چهل": 40, "پنجاه": 50, "شصت": 60, "هفتاد": 70,
            "هشتاد": 80, "نود": 90}
_FA_HUNDREDS = {"صد": 100, "یکصد": 100, "دویست": 200, "سیصد": 300, "چهارصد": 400,
                "پانصد": 500, "ششصد": 600, "هفتصد": 700, "هشتصد": 800, "نهصد": 900}
_FA_ORDINAL_ONLY = {"اول": 1, "نخست": 1, "یکم": 1, "سوم": 3, "سیام": 30, "سی ام": 30}
_EN_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90, "twentieth": 20, "thirtieth": 30}


def _fa_words() -> dict[str, int]:
    """Every Persian number word with its cardinal and ordinal spellings."""
    words: dict[str, int] = {}
    for table in (_FA_UNITS, _FA_TENS, _FA_HUNDREDS):
        for word, value in table.items():
            words[word] = value
            # دو -> دوم, ده -> دهم, بیست -> بیستم, and -مین (بیستمین) as well.
            words[word + "م"] = words[word + "مین"] = words[word + "ام"] = value
    words.update(_FA_ORDINAL_ONLY)
    words["سومین"] = 3
    words["هزار"] = 1000
    return words


_FA = _fa_words()
_EN = _EN_UNITS | _EN_TENS | {"hundred": 100, "thousand": 1000}
_WORD = "|".join(sorted((re.escape(w).replace(r"\ ", r"[\s\u200c]?") for w in (*_FA, *_EN)),
                        key=len, reverse=True))
_WORD_RE = rf"{NOT_LETTER_BEFORE}(?:{_WORD}){NOT_LETTER_AFTER}"
# A run of number words: joined by "و" / "and", spaces or hyphens ("twenty-three").
_RUN = re.compile(rf"{_WORD_RE}(?:(?:\s+و\s+|\s+and\s+|[\s\-]+){_WORD_RE})*")
_JOINERS = re.compile(r"\s+و\s+|\s+and\s+|[\s\-]+")


def _value(word: str) -> int:
    """The value of one number word, whatever separator its spelling used."""
    key = re.sub(r"[\s\u200c]", " ", word)
    return _FA.get(key, _FA.get(key.replace(" ", ""), _EN.get(key, 0)))


def _run_value(words: list[int]) -> int:
    """Add up a run of number words; "nineteen eighty-eight" and "هزار و سیصد" are years."""
    total, group = 0, 0
    for value in words:
        if value == 1000:
            total += (group or 1) * 1000
            group = 0
        elif value == 100 and 0 < group < 10:
            group *= 100
        elif group and group % 100 and value >= 10 and 10 <= group < 100 and total == 0:
            # "nineteen eighty": a pair of two-digit numbers names a year.
            total, group = group * 100, value
        else:
            group += value
    return total + group


def replace_number_words(text: str) -> str:
    """Write every run of number words in text as digits."""

    def digits(match: re.Match[str]) -> str:
        parts = [part for part in _JOINERS.split(match.group(0)) if part]
        return str(_run_value([_value(part) for part in _merge_spaced(parts)]))

    return _RUN.sub(digits, text)


def _merge_spaced(parts: list[str]) -> list[str]:
    """Rejoin "سی ام" split on its space, so it reads as one ordinal."""
    merged: list[str] = []
    for part in parts:
        if merged and part == "ام" and merged[-1] == "سی":
            merged[-1] = "سی ام"
        else:
            merged.append(part)
    return merged
