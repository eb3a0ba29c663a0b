"""Rotating one desk re-seals that desk's keys of every case it was given, and nothing of any
other desk; an interrupted rotation loses nothing and runs again to the end."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake.crypto import Keyring
from intake.desk import rotation
from intake.store.models import CaseDesk, KeyGeneration, Submission
from intake.testimonies import cases
from intake.web.database import get_session
from tests.desks.conftest import logged_in, passphrase_of
from tests.desks.test_choosing import epoch_keys_of
from tests.desks.test_routes import SEEN, send_to
from tests.unlock import unlock_user


def snapshot(app: Flask) -> dict[tuple[str, str], tuple[int, bytes, bytes]]:
    """Every desk's sealed copy of every case: (case, desk) -> (epoch, sealed key, work key)."""
    with app.app_context():
        db = get_session()
        found = {(s.id, s.desk_id): (s.epoch_id, s.sealed_key, b"") for s in db.query(Submission)}
        found |= {(g.submission_id, f"generation {g.generation}"): (g.epoch_id, g.sealed_key, b"")
                  for g in db.query(KeyGeneration)}
        return found | {(r.submission_id, r.desk_id): (r.epoch_id, r.sealed_key, r.work_key)
                        for r in db.query(CaseDesk)}


def rotate(app: Flask, desk_id: str, batch: int = 500) -> None:
    """Rotate a desk as its admin, from the command line's code path."""
    settings = app.extensions["intake.settings"]
    keyring = Keyring(settings.keys_dir)
    engine = create_engine(settings.database_url)
    with Session(engine) as db:
        admin, keys, signer = unlock_user(db, keyring, f"{desk_id}-admin",
                                          passphrase_of(f"{desk_id}-admin"))
        rotation.run(db, keyring, settings.instance_path, desk_id, admin, keys.key,
                     rotation.Progress(), batch=batch, settle_seconds=0, signer=signer)
    engine.dispose()


def test_rotating_desk_c_reseals_cs_copies_only_and_c_still_reads_them(app: Flask) -> None:
    """Cases for (b, c) and (main, c). Rotating c moves c's two copies to c's epoch 2 and
    retires epoch 1 (its grants destroyed); every byte of b's and main's keys is unchanged,
    and c's reviewer, granted epoch 2, opens both cases and its own work on them."""
    SEEN.clear()
    first, _ = send_to(app, ["b", "c"])
    second, _ = send_to(app, ["main", "c"])
    before = snapshot(app)
    rotate(app, "c")
    after = snapshot(app)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {(first, "c"), (second, "c")}
    assert {after[key][0] for key in changed} == {2}
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    assert keyring.grant_recipients("c", 1) == []
    assert keyring.epoch("c", 1).retired
    keys = epoch_keys_of(app, "c-reviewer")
    assert sorted(keys) == [("c", 2)]
    with app.app_context():
        db = get_session()
        for case_id in (first, second):
            opened = cases.data_key(db.get(Submission, case_id), keys, db)
            assert cases.answers(db.get(Submission, case_id), opened)["relationship"] == "sister"
            # Generation 0 (the family's), c's work key, and the one this rotation added.
            assert len(opened.generations) == 3
    rotate(app, "c")  # again: the generation the first rotation added is re-sealed too
    with app.app_context():
        db = get_session()
        case = db.get(Submission, first)
        opened = cases.data_key(case, epoch_keys_of(app, "c-reviewer"), db)
        assert len(opened.generations) == 4


def test_a_rotation_killed_between_batches_of_shared_copies_loses_nothing(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three cases shared with c; the rotation dies while re-sealing the second batch (of 2).
    The first batch is on epoch 2, the rest still on epoch 1 whose grants are kept; c reads
    all three; running the rotation again finishes it."""
    SEEN.clear()
    ids = [send_to(app, ["b", "c"])[0] for _ in range(3)]

    class Interrupted(BaseException):
        """Stands in for kill -9 at this point."""

    calls = {"n": 0}
    real = rotation.seal_case_key

    def dies_on_the_fifth(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Two seals a copy (its work key, its new generation): the 5th is in the 2nd batch.
        calls["n"] += 1
        if calls["n"] == 5:
            raise Interrupted
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(rotation, "seal_case_key", dies_on_the_fifth)
        with pytest.raises(Interrupted):
            rotate(app, "c", batch=2)
    epochs = sorted(epoch for (case, desk), (epoch, _, _) in snapshot(app).items()
                    if desk == "c")
    assert epochs == [1, 2, 2], epochs
    keyring = Keyring(app.extensions["intake.settings"].keys_dir)
    assert keyring.grant_recipients("c", 1) != []
    keys = epoch_keys_of(app, "c-reviewer")
    with app.app_context():
        db = get_session()
        for case_id in ids:
            cases.data_key(db.get(Submission, case_id), keys, db)
    rotate(app, "c")
    assert sorted(epoch for (case, desk), (epoch, _, _) in snapshot(app).items()
                  if desk == "c") == [2, 2, 2]


def test_what_a_desk_writes_after_its_rotation_opens_with_no_key_kept_from_before(
        app: Flask) -> None:
    """Case for b and c. Someone of c keeps every key c's grants open (then is revoked); c
    rotates and writes a note: the kept keys open the family's answers, not the new note."""
    SEEN.clear()
    case_id, _ = send_to(app, ["b", "c"])
    before = epoch_keys_of(app, "c-reviewer")
    with app.app_context():
        db = get_session()
        kept = cases.data_key(db.get(Submission, case_id), before, db)
    rotate(app, "c")
    with app.app_context():
        db = get_session()
        case = db.get(Submission, case_id)
        now = cases.data_key(case, epoch_keys_of(app, "c-reviewer"), db)
        note = cases.add_note(db, case, now, "someone", "after the rotation")
        assert cases.note_text(case, now, note) == "after the rotation"
        assert cases.readable(cases.note_text, case, kept, note) is None
        assert cases.answers(case, kept)["relationship"] == "sister"


def test_rotating_desk_b_ends_bs_sessions_and_no_other_desks(app: Flask) -> None:
    """A rotation after desk b's laptop theft logs b's reviewers out; main's and c's sessions
    hold none of b's keys, so they stay (before: every session of the instance ended)."""
    SEEN.clear()
    send_to(app, ["b", "c"])
    clients = {name: logged_in(app, name) for name in ("reviewer", "b-reviewer", "c-reviewer")}
    rotate(app, "b")
    statuses = {name: client.get("/review/").status_code for name, client in clients.items()}
    assert statuses == {"reviewer": 200, "b-reviewer": 302, "c-reviewer": 200}
