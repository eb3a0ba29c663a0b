"""The audit log's hash chain holds when many requests write at once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from intake.desk import audit
from intake.store.models import AuditEvent


def test_concurrent_writers_all_land_on_one_unbroken_chain(app: Flask) -> None:
    engine = app.extensions["intake.db"]
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        for n in range(25):
            try:
                with Session(engine) as session:
                    audit.record(session, f"{worker:032x}", "view", f"case-{n}")
                    session.commit()
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engine) as session:
        assert session.query(AuditEvent).filter_by(action="view").count() == 100
        assert audit.first_broken(session) is None


def forged(prev_hash: str, seq: int) -> tuple[str, ...]:
    """An entry as an attacker without any key computes it: the chain's public recipe."""
    import hashlib
    import json

    fields = ["2026-01-01T00:00:00+00:00", "f" * 32, "view", "forged-case", ""]
    digest = hashlib.sha256(json.dumps([prev_hash, *fields], separators=(",", ":"))
                            .encode()).hexdigest()
    return (str(seq), *fields, prev_hash, digest)


Statement = str | tuple[str, dict[str, str | int]]


def tamper(engine: object, statements: list[Statement]) -> None:
    """Run raw SQL on the database file, as someone who seized it would."""
    from sqlalchemy import text

    with engine.begin() as connection:  # type: ignore[attr-defined]
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, {})
            connection.execute(text(sql), params)


def append_forged(engine: object, after_seq: int, seq: int) -> list[Statement]:
    """SQL that inserts a well-formed entry linked to entry `after_seq`.

    The entry that followed `after_seq` (if any, moved to seq + 10) is relinked to the
    forged one, as the unique link would otherwise refuse the insert.
    """
    from sqlalchemy import text

    with engine.connect() as connection:  # type: ignore[attr-defined]
        prev = connection.execute(text("select hash from audit_events where seq = :seq"),
                                  {"seq": after_seq})
        entry = forged(prev.scalar_one(), seq)
    columns = ("seq", "at", "actor_id", "action", "subject_id", "detail", "prev_hash", "hash")
    return [("update audit_events set prev_hash = :hash where seq = :seq",
             {"hash": entry[-1], "seq": seq + 10}),
            ("insert into audit_events (seq, at, actor_id, action, subject_id, detail, "
             "prev_hash, hash) values (:seq, :at, :actor_id, :action, :subject_id, :detail, "
             ":prev_hash, :hash)", dict(zip(columns, entry, strict=True)))]


@pytest.mark.parametrize(("change", "message"), [
    (["update audit_events set detail = 'x' where seq = 3"], "broken at entry 3"),
    (["delete from audit_events where seq = 3"], "broken at entry 4"),
    (["update audit_events set seq = -2 where seq = 2",
      "update audit_events set seq = 2 where seq = 3",
      "update audit_events set seq = 3 where seq = -2"], "broken at entry 2"),
    (["update audit_events set seq = seq + 10 where seq > 3", "INSERT-AFTER-3"],
     "broken at entry 14"),
    (["APPEND"], "holds 6 entries but its head records 5"),
    (["delete from audit_events where seq > 3"], "holds 3 entries but its head records 5"),
    (["delete from audit_events"], "holds 0 entries but its head records 5"),
    (["delete from audit_events where seq > 3", "delete from audit_head"], "head is missing"),
], ids=["edited", "deleted", "reordered", "inserted", "appended", "tail-cut", "emptied",
        "tail-cut-and-head-deleted"])
def test_verify_fails_on_an_edited_deleted_reordered_inserted_or_cut_entry(
        app: Flask, change: list[str], message: str) -> None:
    """Five entries, then one change to the database file: verify must say what broke."""
    engine = app.extensions["intake.db"]
    with Session(engine) as session:
        for n in range(5):
            audit.record(session, "a" * 32, "view", f"case-{n}")
            session.commit()
        assert audit.verify(session).count == 5
    statements: list[Statement] = []
    for statement in change:
        if statement == "INSERT-AFTER-3":
            statements += append_forged(engine, 3, 4)
        elif statement == "APPEND":
            statements += append_forged(engine, 5, 6)
        else:
            statements.append(statement)
    tamper(engine, statements)
    with Session(engine) as session, pytest.raises(audit.AuditError, match=message):
        audit.verify(session)


def test_recording_refuses_to_rebuild_a_deleted_head(app: Flask) -> None:
    """Cutting the tail and deleting the head must not be laundered by the next entry."""
    engine = app.extensions["intake.db"]
    with Session(engine) as session:
        audit.record(session, "a" * 32, "view", "case")
        session.commit()
    tamper(engine, ["delete from audit_head"])
    with Session(engine) as session, pytest.raises(audit.AuditError, match="head is missing"):
        audit.record(session, "a" * 32, "view", "case")
