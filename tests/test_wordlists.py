"""The follow-up code word lists: size, alphabet, length, and unambiguous typing."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

WORDLISTS = Path(__file__).resolve().parent.parent / "intake" / "wordlists"
SIZE = 2048
# Persian letters: the Arabic block letters Persian uses (U+0621-U+064A, less
# the Arabic-only ي ك ة ى and the hamza forms), plus پ چ ژ گ ک ی.
FA_LETTERS = frozenset("آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی")
FA_FORBIDDEN = frozenset("يكةى\u200c\u200d\u0640") | frozenset("0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")


def load(lang: str) -> list[str]:
    return (WORDLISTS / f"{lang}.txt").read_text(encoding="utf-8").splitlines()


def excluded() -> set[str]:
    words = set()
    for line in (WORDLISTS / "excluded.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, tab, reason = line.partition("\t")
            assert tab, f"excluded.txt line needs a tab: {line!r}"
            assert reason.strip(), f"excluded.txt line needs a reason: {line!r}"
            words.add(word.strip())
    return words


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_exactly_2048_unique_sorted(lang: str) -> None:
    words = load(lang)
    assert len(words) == SIZE
    assert len(set(words)) == SIZE
    assert words == sorted(words)
    assert all(w == w.strip() and w for w in words)


def test_persian_letters_only() -> None:
    for w in load("fa"):
        assert unicodedata.normalize("NFC", w) == w, w
        assert set(w) <= FA_LETTERS, (w, set(w) - FA_LETTERS)
        assert not set(w) & FA_FORBIDDEN, w
        assert all("\u0621" <= ch <= "\u064a" or ch in "پچژگکی" for ch in w), w
        assert 3 <= len(w) <= 7, w


def test_persian_unique_after_arabic_letter_mapping() -> None:
    mapping = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
    words = load("fa")
    assert len({w.translate(mapping) for w in words}) == SIZE


def test_persian_not_confusable_by_dots() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("wl_build", WORDLISTS / "build.py")
    assert spec
    assert spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shapes = [build.fa_shape(w) for w in load("fa")]
    assert len(set(shapes)) == SIZE


def test_english_lowercase_ascii_3_to_8() -> None:
    for w in load("en"):
        assert re.fullmatch(r"[a-z]{3,8}", w), w


def test_english_first_four_letters_unique() -> None:
    words = load("en")
    assert len({w[:4] for w in words}) == SIZE


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_no_word_of_four_or_more_letters_prefixes_another(lang: str) -> None:
    words = load(lang)
    long_words = {w for w in words if len(w) >= 4}
    clashes = [(w[:i], w) for w in words for i in range(4, len(w)) if w[:i] in long_words]
    assert not clashes


def test_english_prefix_free() -> None:
    words = set(load("en"))
    assert not [(w[:i], w) for w in words for i in range(1, len(w)) if w[:i] in words]


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_no_excluded_word_in_list(lang: str) -> None:
    assert not set(load(lang)) & excluded()


def test_lists_match_code_module() -> None:
    from intake.testimonies import codes

    for lang in ("fa", "en"):
        codes.wordlist.cache_clear()
        assert list(codes.wordlist(lang)) == load(lang)
        assert codes.normalise_code(" ".join(load(lang)[:3])) == " ".join(load(lang)[:3])


# Words a searcher would read as death, illness, violence, prison, religion or politics.
# A code is often kept on paper at home: found in a search, it must look like nothing.
# Exact words: short stems that also begin harmless words (مرد / مرداب, war / warm).
DENY_EXACT = {
    "fa": {
        "مرد", "مرده", "تلخ", "سردرد", "درد", "داغ", "مرگ", "قبر", "گور", "خون", "زخم", "دار",
        "طناب", "جنگ", "شهید", "سیاه", "مشکی", "سکوت", "صبر", "سحر", "عزا", "ساک", "بیل", "سرب",
        "کابل", "رفیق", "سپاه", "خدا", "امام", "نماز", "دعا", "مرداد", "شهریور", "شصت", "روسری",
        "قرص", "دکتر", "پزشک", "درمان", "ویروس", "دارو", "اشک", "غم", "سوگ", "تیمی", "کارگر",
    },
    "en": {
        "dead", "die", "died", "grave", "war", "gun", "shot", "blood", "cell", "god", "hang",
        "hanged", "late", "expire", "extinct", "wreath", "ditch", "dig", "slab", "cough", "fever",
        "virus", "cure", "dose", "surgery", "clinic", "patient", "penalty", "capture", "release",
        "crescent", "robe", "scarf", "pamphlet", "majority", "struggle", "banner", "cable", "crane",
    },
}
# Stems that begin no word of either list, whatever follows them.
DENY_PREFIX = {
    "fa": (
        "اعدام", "زندان", "شکنجه", "بیمار", "سرطان", "جنازه", "کشتار", "قتل", "مرگ", "قبر",
        "تابوت", "کفن", "ماتم", "تسلیت", "بازجو", "اعتراف", "اسلحه", "تفنگ", "گلوله", "بمب",
        "شلاق", "اوین", "خاوران", "مسجد", "قرآن", "روحانی", "انقلاب", "مجاهد", "فدایی", "بسیج",
        "پاسدار", "جراح", "پزشک", "دکتر", "دارو", "تشخیص", "بهداشت", "درمان", "سردرد", "اغتشاش",
    ),
    "en": (
        "death", "kill", "murder", "execut", "prison", "jail", "tortur", "corpse", "coffin",
        "funeral", "burial", "mourn", "grief", "griev", "cancer", "tumor", "disease", "illness",
        "sick", "surg", "hospital", "wound", "bleed", "bullet", "rifle", "bomb", "weapon",
        "soldier", "police", "arrest", "hostage", "noose", "gallows", "protest", "regime",
        "revolt", "revolut", "martyr", "prophet", "pray", "church", "mosque", "holy", "sermon",
        "tribunal", "deport",
    ),
}


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_no_word_reads_as_death_illness_violence_prison_religion_or_politics(lang: str) -> None:
    """Regression for issue 9: fa.txt held مرد (man; also "died"), تلخ (bitter) and سردرد."""
    words = load(lang)
    assert not set(words) & DENY_EXACT[lang]
    assert not [w for w in words if w.startswith(DENY_PREFIX[lang])]
