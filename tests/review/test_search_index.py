"""The desk's search index: ciphertext rows under an epoch's index key, read once per session."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError, IndexKey, PrivateKey, unlock_epochs
from intake.desk import rotation
from intake.staff import sessions
from intake.store.models import ReviewSession, SearchRow, Submission
from intake.testimonies import cases, search
from intake.testimonies.submissions import NewSubmission, store_submission
from intake.testimonies.uploads import UploadBatch
from intake.web.staff_auth import COOKIE
from tests.conftest import ADMIN_PASSPHRASE, stored_bytes
from tests.review.conftest import log_in, totp_now
from tests.review.test_locked import NEWCOMER_PASSPHRASE, add_unvetted
from tests.unlock import unlock_user

# What a family typed, in mixed case: the index holds it folded ("qx7-zanjir-marker").
MARKER = "Qx7-Zanjir-MARKER"
PERSIAN_MARKER = "گورستان‌خاورانِ‌نشان"


def store(app: Flask, name: str, testimony: str = "زندان اوین",
          parent_id: str | None = None) -> str:
    """Store a testimony (or a follow-up addition to `parent_id`) as the form would."""
    desk = app.extensions["intake.desk"]
    answers: dict[str, Any] = ({"addition": testimony} if parent_id else
                               {"name": name, "arrest_place": "تهران", "testimony": testimony})
    with Session(app.extensions["intake.db"]) as db:
        return store_submission(db, desk, NewSubmission(
            answers=answers, batch=UploadBatch(desk.store, 0, 0), parent_id=parent_id),
            dt.date(2026, 1, 1)).id


def listed(client: FlaskClient, query: str) -> set[str]:
    """Return the ids of the cases a search lists."""
    response = client.get("/review/", query_string={"q": query})
    assert response.status_code == 200
    return set(re.findall(r'href="/review/([0-9a-f]{32})[?"]', response.get_data(as_text=True)))


def logged_in(app: Flask, name: str = "reviewer", *, again: bool = False) -> FlaskClient:
    """A new browser with a new session; `again` logs in with the next TOTP code (a code is
    accepted once, and one step of drift ahead)."""
    client = app.test_client()
    code = totp_now(app, name, 30) if again else None
    assert log_in(app, client, name=name, code=code).status_code == 302
    return client


def index_rows(app: Flask) -> dict[str, tuple[int, bytes]]:
    """Every index row: case id -> (epoch, ciphertext)."""
    with Session(app.extensions["intake.db"]) as db:
        return {row.submission_id: (row.epoch_id, row.sealed_text)
                for row in db.query(SearchRow)}


def epoch_keys(app: Flask) -> dict[tuple[str, int], PrivateKey]:
    """The admin's unlocked epoch keys, as a login gives them."""
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        _, keys, _ = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
    return unlock_epochs(keyring, keys.key)


def set_row(app: Flask, case_id: str, sealed: bytes) -> None:
    with Session(app.extensions["intake.db"]) as db:
        db.get(SearchRow, (case_id, "main")).sealed_text = sealed  # type: ignore[union-attr]
        db.commit()


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every case whose data key is opened with an epoch key (one HPKE open each)."""
    opened: list[str] = []
    original = cases.data_key

    def counting(submission: Submission, *args: Any) -> Any:
        opened.append(submission.id)
        return original(submission, *args)

    monkeypatch.setattr(cases, "data_key", counting)
    return opened


def test_the_first_search_indexes_each_case_as_ciphertext_and_the_disk_holds_no_search_text(
        app: Flask) -> None:
    """Reproduction: search a marker typed in mixed case, then read the database files (SQLite
    with its -wal and -shm, or PostgreSQL's tables): neither the marker as typed nor as the
    index folds it is there, though the case has its index row."""
    case_id = store(app, f"علی {MARKER}", testimony=f"{PERSIAN_MARKER} در ۱۳۶۷")
    assert listed(logged_in(app), "qx7-zanjir") == {case_id}
    assert set(index_rows(app)) == {case_id}
    seized = stored_bytes(app)
    for secret in (MARKER, "qx7-zanjir-marker", PERSIAN_MARKER, "گورستانخاورانِنشان"):
        assert secret.encode() not in seized, secret
        assert secret.encode("utf-16-le") not in seized, secret


def test_an_index_row_opens_with_its_epochs_index_key_only_and_only_for_its_case(
        app: Flask) -> None:
    """A row decrypts to the folded text under the key derived from epoch 1's private key;
    a key derived from any other private key, or the row read as another case's, fails."""
    first, second = store(app, f"علی {MARKER}"), store(app, "مریم")
    listed(logged_in(app), "اوین")
    rows, key = index_rows(app), epoch_keys(app)[("main", 1)]
    assert rows[first][0] == 1
    index_key = IndexKey(key, desk_id="main", epoch_id=1)
    assert b"qx7-zanjir-marker" in index_key.decrypt(rows[first][1], record_id=first)
    with pytest.raises(DecryptionError):
        index_key.decrypt(rows[first][1], record_id=second)
    with pytest.raises(DecryptionError):
        IndexKey(PrivateKey.generate(), desk_id="main", epoch_id=1).decrypt(
            rows[first][1], record_id=first)
    with pytest.raises(DecryptionError):
        IndexKey(key, desk_id="main", epoch_id=2).decrypt(rows[first][1], record_id=first)


def test_a_later_session_searches_the_index_and_opens_only_the_data_keys_of_what_it_shows(
        app: Flask, opens: list[str]) -> None:
    """The first search ever opens each case once to index it; a new session's search opens
    no data key for the cases it does not list, however many there are."""
    gohardasht = store(app, "علی", testimony="زندان گوهردشت")
    others = [store(app, f"شاهد {n}") for n in range(3)]
    assert listed(logged_in(app), "زندان") == {gohardasht, *others}
    assert sorted(opens) == sorted([gohardasht, *others])
    opens.clear()
    admin = logged_in(app, "admin")
    assert listed(admin, "ناپیدا") == set()
    assert opens == []
    assert listed(admin, "گوهردشت") == {gohardasht}
    assert opens == [gohardasht]  # its inbox row, nothing else


def test_a_tampered_or_moved_index_row_leaves_its_case_out_logs_it_and_the_search_goes_on(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """Reproduction: flip one byte of a case's index row, and copy another case's row over a
    third's: a new session's search lists only the untouched case, logs that two rows do not
    open (counted, not named: no log line holds a record id), answers 200, and rebuilds
    neither row (the damage stays visible)."""
    flipped, moved, intact = (store(app, f"شاهد {n}") for n in range(3))
    listed(logged_in(app), "اوین")
    rows = index_rows(app)
    damaged = bytearray(rows[flipped][1])
    damaged[-5] ^= 1
    set_row(app, flipped, bytes(damaged))
    set_row(app, moved, rows[intact][1])
    with caplog.at_level(logging.ERROR, logger="intake.search"):
        assert listed(logged_in(app, again=True), "اوین") == {intact}
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "2 search index rows do not open" in logged
    assert flipped not in logged
    assert index_rows(app)[flipped][1] == bytes(damaged)


def test_a_reviewer_without_the_epoch_gets_no_index_key_and_indexes_nothing(
        app: Flask) -> None:
    """An enrolled reviewer nobody vetted holds no epoch key, so no index key; its session,
    used for a search anyway, reads no case and writes no row. A session holding epoch 1 only
    gets no index key for epoch 2."""
    store(app, f"علی {MARKER}")
    add_unvetted(app, "newcomer")
    client = app.test_client()
    assert log_in(app, client, name="newcomer", passphrase=NEWCOMER_PASSPHRASE,
                  code=totp_now(app, "newcomer")).status_code == 302
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    with Session(app.extensions["intake.db"]) as db:
        unlocked = sessions.load(db, cookie.value, int(time.time()))
        assert unlocked is not None
        assert unlocked.index_key("main", 1) is None
        assert unlocked.newest_index_key("main") is None
        ids = [case_id for (case_id,) in db.query(Submission.id)]
        assert search.texts(db, unlocked, ids) == {}
        # Nor does a session holding only epoch 1 get epoch 2's (a reviewer revoked before it).
        held = sessions.Unlocked(unlocked.record, unlocked.user, {("main", 1): PrivateKey(
            bytes(96))})
        assert held.index_key("main", 2) is None
        assert held.newest_index_key("main") is held.index_key("main", 1)
    assert index_rows(app) == {}


def test_after_a_rotation_the_old_index_key_opens_no_row_and_search_still_finds_everything(
        app: Flask) -> None:
    """A reviewer revoked before a rotation keeps epoch 1's key, and so its index key: after
    the rotation every row, and the row of a case that arrives later, is under epoch 2's
    index key, which that old key does not open; searches find old and new cases."""
    before = [store(app, f"شاهد {n}", testimony=f"زندان اوین {MARKER}") for n in range(2)]
    listed(logged_in(app), "اوین")
    old_key = IndexKey(epoch_keys(app)[("main", 1)], desk_id="main", epoch_id=1)
    settings = app.extensions["intake.settings"]
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        admin, keys, signer = unlock_user(db, keyring, "admin", ADMIN_PASSPHRASE)
        rotation.run(db, keyring, settings.instance_path, "main", admin, keys.key,
                     rotation.Progress(), settle_seconds=0, signer=signer)
    assert {epoch for epoch, _ in index_rows(app).values()} == {2}
    later = store(app, "تازه", testimony=f"زندان اوین {MARKER}")
    assert listed(logged_in(app, "admin"), "qx7-zanjir") == {*before, later}
    rows = index_rows(app)
    assert set(rows) == {*before, later}
    new_key = IndexKey(epoch_keys(app)[("main", 2)], desk_id="main", epoch_id=2)
    for case_id, (epoch, sealed) in rows.items():
        assert epoch == 2
        assert b"qx7-zanjir-marker" in new_key.decrypt(sealed, record_id=case_id)
        with pytest.raises(DecryptionError):
            old_key.decrypt(sealed, record_id=case_id)


def test_a_follow_up_addition_is_found_with_its_case_once_it_arrives(app: Flask) -> None:
    """An addition arriving after its case was indexed makes the next search index the case
    again, with what the family added."""
    case_id = store(app, "علی")
    reviewer = logged_in(app)
    assert listed(reviewer, "اوین") == {case_id}
    store(app, "", testimony="نامهٔ تازه از بند ۳", parent_id=case_id)
    assert listed(reviewer, "نامهٔ") == {case_id}
    assert listed(logged_in(app, "admin"), "نامهٔ") == {case_id}


def test_what_a_session_decrypted_for_searching_is_dropped_when_it_ends_here_or_elsewhere(
        app: Flask) -> None:
    """Logout drops the session's search text from this process at once; a session ended by
    another process (its row deleted) is dropped at the next search here."""
    store(app, "علی")
    first, second = logged_in(app), logged_in(app, "admin")
    listed(first, "اوین")
    listed(second, "اوین")
    with Session(app.extensions["intake.db"]) as db:
        owners = {row.user_id: row.id_hash for row in db.query(ReviewSession)}
    assert set(owners.values()) <= set(sessions._REMEMBERED)
    (reviewer_hash, admin_hash) = (owners[uid] for uid in sorted(
        owners, key=lambda uid: uid != _user_id(app, "reviewer")))
    first.post("/review/logout", data={"csrf_token": _token(first)})
    assert reviewer_hash not in sessions._REMEMBERED
    with Session(app.extensions["intake.db"]) as db:
        db.query(ReviewSession).filter_by(id_hash=admin_hash).delete()
        db.commit()
    listed(logged_in(app, again=True), "اوین")
    assert admin_hash not in sessions._REMEMBERED


def _user_id(app: Flask, name: str) -> str:
    with Session(app.extensions["intake.db"]) as db:
        return str(db.execute(text("select id from users where name = :n"), {"n": name})
                   .scalar())


def _token(client: FlaskClient) -> str:
    page = client.get("/review/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.sqlite_only("PostgreSQL has no rowid")
def test_the_index_table_keeps_no_hidden_row_number(app: Flask) -> None:
    """A rowid would number cases in the order a search first indexed them."""
    with app.extensions["intake.db"].connect() as connection, pytest.raises(Exception,
                                                                             match="rowid"):
        connection.execute(text("select rowid from search_index"))


def test_a_session_whose_search_text_outgrows_the_cap_keeps_none_and_still_finds(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap, nothing is kept for the session: each search decrypts the rows again."""
    monkeypatch.setattr(search, "MAX_KEPT_CHARACTERS", 10)
    case_id = store(app, "علی", testimony="زندانی در اوین در سال ۱۳۶۷")
    reviewer = logged_in(app)
    assert listed(reviewer, "اوین") == {case_id}
    assert all("search" not in kept for kept in sessions._REMEMBERED.values())
    assert listed(reviewer, "۱۳۶۷") == {case_id}


def test_a_search_with_a_label_lists_only_matching_cases_that_carry_the_label(
        app: Flask) -> None:
    """The words go through the index, the label through the matches' own case keys."""
    labelled, _, elsewhere = (store(app, name, testimony=place) for name, place in (
        ("علی", "زندان اوین"), ("مریم", "زندان اوین"), ("حسین", "زندان قزل‌حصار")))
    keys = epoch_keys(app)
    with Session(app.extensions["intake.db"]) as db:
        for case_id in (labelled, elsewhere):
            case = db.get(Submission, case_id)
            cases.set_labels(case, cases.data_key(case, keys, db), ["خاوران"])
        db.commit()
    response = logged_in(app).get("/review/", query_string={"q": "اوین", "label": "خاوران"})
    page = response.get_data(as_text=True)
    assert set(re.findall(r'href="/review/([0-9a-f]{32})[?"]', page)) == {
        labelled}


def test_a_row_under_an_epoch_the_session_does_not_hold_is_indexed_again(app: Flask) -> None:
    """A request that read the keyring before a rotation may write a row under the old epoch
    after the rotation re-keyed the rest; the next session cannot open that epoch, so it
    indexes the case again from the case itself, under the newest epoch it holds."""
    case_id = store(app, "علی")
    listed(logged_in(app), "اوین")
    with Session(app.extensions["intake.db"]) as db:
        db.get(SearchRow, (case_id, "main")).epoch_id = 7  # type: ignore[union-attr]
        db.commit()
    assert listed(logged_in(app, "admin"), "اوین") == {case_id}
    assert index_rows(app)[case_id][0] == 1
