"""Names across Persian and Latin script and their common spellings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.testimonies.names import compare, fold, same_name


@pytest.mark.parametrize(("first", "second"), [
    ("Ahmadi", "احمدی"), ("احمدی", "Ahmadi"),
    ("Mohammad", "محمد"), ("Muhammad", "محمد"), ("Mohamad", "Mohammed"), ("Muhammad", "Mohammad"),
    ("Hossein", "Husayn"), ("Hosein", "حسین"),
    ("محمد رضایی", "Mohammad Rezaei"), ("Rezaei Mohammad", "محمد رضایی"),
    ("Mohammad Reza Rezaei", "محمدرضا رضایی"),
    ("Ebrahim", "ابراهیم"), ("Omid", "امید"),  # a word-initial alef carries the vowel only
    ("Abdollah", "عبدالله"), ("Nooreddin", "نورالدین"),  # the Arabic article
])
def test_the_same_name_matches_across_script_spelling_and_order(first: str, second: str) -> None:
    assert same_name(first, second)


@pytest.mark.parametrize(("first", "second"), [
    ("علي رضايي", "علی رضایی"),        # Arabic yeh ي, Persian ی
    ("كاظم كريمي", "کاظم کریمی"),      # Arabic kaf ك, Persian ک
    ("مهدی‌زاده", "مهدیزاده"),          # with and without a zero-width non-joiner
    ("رضائی", "رضایی"),                # hamza seat ئ for یی
    ("مـحـمـد", "محمد"),               # tatweel
    ("مُحَمَّد", "محمد"),                # harakat and shadda
])
def test_letter_forms_within_persian_are_the_same_name(first: str, second: str) -> None:
    assert same_name(first, second)


@pytest.mark.parametrize(("first", "second"), [
    ("علي رضايي", "Ali Rezaei"), ("كاظم كريمي", "Kazem Karimi"), ("مهدی‌زاده", "Mahdizadeh"),
])
def test_arabic_letter_forms_and_zwnj_match_the_latin_spelling(first: str, second: str) -> None:
    assert same_name(first, second)


def test_arabic_letter_forms_fold_to_persian_before_comparison() -> None:
    assert fold("علي كريمي ۱۳۶۷ ١٣٦٧") == "علی کریمی 1367 1367"
    assert fold("مهدی\u200cزاده") == "مهدیزاده"


@pytest.mark.parametrize(("first", "second"), [
    ("Ali Ahmadi", "Ali Ahmadian"), ("علی احمدی", "Ali Ahmadian"),
    ("Ali Hosseini", "Ali Hassani"), ("علی حسینی", "Ali Hassani"), ("Ali Hosseini", "علی حسنی"),
    ("Reza Rezaei", "رضا رضوانی"), ("Mohammad Karimi", "محمود کریمی"),
    ("Mahmoud Karimi", "Mohammad Karimi"), ("Ali Karimi", "علی کاظمی"),
])
def test_different_names_that_look_alike_do_not_match(first: str, second: str) -> None:
    assert not same_name(first, second)


def test_one_shared_word_of_two_is_not_the_same_name() -> None:
    match = compare("علی رضایی", "Ali Karimi")
    assert (match.matched, match.same) == (1, False)


SPELLINGS = ["محمد", "Muhammad", "Mahmoud", "علی", "Ali Reza", "علیرضا", "حسینی", "Hassani",
             "Rezaei", "رضوانی", "Ahmadi", "احمدیان", "عبدالله", "Abdullah", "Ebrahim", "Fatemeh"]


@given(st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=3),
       st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=3))
def test_matching_is_symmetric_so_two_cases_suggest_each_other(first: list[str],
                                                                second: list[str]) -> None:
    """A link suggested from one case is suggested from the other, and a name matches itself."""
    one, other = " ".join(first), " ".join(second)
    forth, back = compare(one, other), compare(other, one)
    assert (forth.matched, forth.first, forth.second) == (back.matched, back.second, back.first)
    assert same_name(one, one)
