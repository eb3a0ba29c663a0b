"""The search index of a shared case: one row per chosen desk, each under that desk's own
epoch's index key, read and written by that desk's reviewers only."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.crypto import DecryptionError, IndexKey
from intake.store.models import SearchRow
from intake.web.database import get_session
from tests.desks.conftest import logged_in, passphrase_of
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_desk_rotation import rotate
from tests.desks.test_routes import SEEN, send_to
from tests.review.conftest import log_in, totp_now

# A word of the name filled_form gives every case ("علی رضایی" and a marker).
WORD = "رضایی"


def listed(client: FlaskClient, query: str) -> set[str]:
    """Return the ids of the cases a search lists."""
    response = client.get("/review/", query_string={"q": query})
    assert response.status_code == 200
    return set(re.findall(r'href="/review/([0-9a-f]{32})[?"]', response.get_data(as_text=True)))


def again(app: Flask, name: str) -> FlaskClient:
    """A second session of an account: a TOTP code is accepted once, so the next step's."""
    client = app.test_client()
    assert log_in(app, client, name, passphrase_of(name),
                  totp_now(app, name, 30)).status_code == 302
    return client


def rows(app: Flask) -> dict[tuple[str, str], tuple[int, bytes]]:
    """Every index row: (case, desk) -> (epoch, ciphertext)."""
    with app.app_context():
        return {(row.submission_id, row.desk_id): (row.epoch_id, bytes(row.sealed_text))
                for row in get_session().query(SearchRow)}


def test_two_chosen_desks_each_search_a_shared_case_under_their_own_key_and_a_third_finds_nothing(
        app: Flask) -> None:
    """Reproduction: a case for b and c; b's reviewer searches, then c's, then b's again in
    new sessions. Each finds it; there is one row per desk, each opening under its own desk's
    index key only, and neither search rewrites the other desk's row (with one row per case,
    each desk re-indexed it under its own key in turn). main's reviewer finds nothing, and
    main gets no row."""
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    assert listed(logged_in(app, "b-reviewer"), WORD) == {case_id}
    assert listed(logged_in(app, "c-reviewer"), WORD) == {case_id}
    first = rows(app)
    assert set(first) == {(case_id, "b"), (case_id, "c")}
    assert listed(again(app, "b-reviewer"), WORD) == {case_id}
    assert listed(again(app, "c-reviewer"), WORD) == {case_id}
    assert rows(app) == first
    keys = {desk: IndexKey(epoch_keys_of(app, f"{desk}-reviewer")[(desk, 1)], desk_id=desk,
                           epoch_id=1) for desk in ("b", "c")}
    for desk, other in (("b", "c"), ("c", "b")):
        assert WORD.encode() in keys[desk].decrypt(first[case_id, desk][1], record_id=case_id)
        try:
            keys[other].decrypt(first[case_id, desk][1], record_id=case_id)
        except DecryptionError:
            pass
        else:
            raise AssertionError(f"{other}'s index key opened {desk}'s row")
    assert listed(logged_in(app, "reviewer"), WORD) == set()
    assert set(rows(app)) == {(case_id, "b"), (case_id, "c")}


def test_rotating_one_desk_rekeys_its_index_rows_only(app: Flask) -> None:
    """After b and c indexed a shared case, rotating c moves c's row to c's epoch 2 and leaves
    b's row byte for byte; both still find the case."""
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    listed(logged_in(app, "b-reviewer"), WORD)
    listed(logged_in(app, "c-reviewer"), WORD)
    before = rows(app)
    rotate(app, "c")
    after = rows(app)
    assert after[case_id, "b"] == before[case_id, "b"]
    assert after[case_id, "c"][0] == 2
    assert listed(again(app, "c-reviewer"), WORD) == {case_id}
    assert listed(again(app, "b-reviewer"), WORD) == {case_id}
    assert rows(app)[case_id, "b"] == before[case_id, "b"]


def test_the_bulk_read_of_many_rows_reads_the_desks_own_rows_only(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past _MANY cases a search reads every row of its desk straight from the driver (one
    parameter, marked as SQLite's or psycopg's driver wants): with that path taken for two
    cases, b and c each find their shared cases from their own rows, without rewriting the
    other's, and main finds nothing."""
    from intake.testimonies import search

    monkeypatch.setattr(search, "_MANY", 1)
    SEEN.clear()
    shared = {send_to(app, ["b", "c"])[0] for _ in range(2)}
    assert listed(logged_in(app, "b-reviewer"), WORD) == shared
    assert listed(logged_in(app, "c-reviewer"), WORD) == shared
    first = rows(app)
    assert listed(again(app, "c-reviewer"), WORD) == shared
    assert listed(again(app, "b-reviewer"), WORD) == shared
    assert rows(app) == first
    assert listed(logged_in(app, "reviewer"), WORD) == set()
    assert set(rows(app)) == {(case_id, desk) for case_id in shared for desk in "bc"}
