"""The inbox search and link suggestions find a name written in another script or spelling."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.review.test_inbox import listed, store


def test_a_latin_search_finds_the_persian_case_and_the_reverse(
        app: Flask, reviewer: FlaskClient) -> None:
    """Searching "Ahmadi" found nothing when the family wrote احمدی, and the reverse."""
    persian, latin, other = store(app, [{"name": "مریم احمدی"}, {"name": "Mohammad Rezaei"},
                                        {"name": "علی احمدیان"}])
    # As a typed word finds "Ahmadian" in Latin text, a name finds the names it begins.
    assert set(listed(reviewer, q="Ahmadi")) == {persian, other}
    assert listed(reviewer, q="Maryam Ahmadi") == [persian]
    assert listed(reviewer, q="محمد رضایی") == [latin]
    assert listed(reviewer, q="Muhammad Rezaie") == [latin]
    assert listed(reviewer, q="Mahmoud") == []


def test_a_word_of_the_testimony_still_matches_only_as_typed(
        app: Flask, reviewer: FlaskClient) -> None:
    """Names are matched across scripts in the name fields only, not in the testimony's prose."""
    evin, = store(app, [{"name": "Ali Karimi", "testimony": "Ahmadi was in Evin"}])
    assert listed(reviewer, q="احمدی") == []
    assert listed(reviewer, q="Ahmadi") == [evin]


def test_link_suggestions_offer_the_latin_duplicate_of_a_persian_case(
        app: Flask, reviewer: FlaskClient) -> None:
    """Suggestions for احمدی found the Persian duplicate but not "Ahmadi", nor the reverse."""
    persian, latin, arabic_letters, lookalike = store(app, [
        {"name": "مریم احمدی"}, {"name": "Maryam Ahmadi"}, {"name": "مريم احمدي"},
        {"name": "Maryam Ahmadian"}])
    page = reviewer.get(f"/review/{persian}/links").get_data(as_text=True)
    suggested = set(re.findall(r'href="/review/([0-9a-f]{32})"', page)) - {persian}
    assert suggested == {latin, arabic_letters}
    page = reviewer.get(f"/review/{latin}/links").get_data(as_text=True)
    assert set(re.findall(r'href="/review/([0-9a-f]{32})"', page)) - {latin} == {
        persian, arabic_letters}
    assert lookalike not in page


def test_no_file_holds_a_searched_name_or_its_keys(app: Flask, reviewer: FlaskClient) -> None:
    """Names and the keys matched across scripts are computed in memory and never written."""
    case, = store(app, [{"name": "عبدالحسین نوروزی"}])
    assert listed(reviewer, q="Abdolhossein Nowruzi") == [case]
    assert reviewer.get(f"/review/{case}/links").status_code == 200
    settings = app.extensions["intake.settings"]
    needles = [text.encode() for text in ("عبدالحسین", "نوروزی", "Abdolhossein", "abdolhossein",
                                          "Nowruzi", "nowruzi", "bdlhsIn", "nUrUzI")]
    for folder in (settings.instance_path, settings.keys_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(needle in data for needle in needles), path
