"""Shutting a family's follow-up code, and holding replies back from it.

A code a relative was forced to hand over must stop working for whoever now
holds it. Closing deletes what the server keeps of the code (its lookup id and
public key), the outline sealed to it and every reply's copy sealed to it, so
the code then finds nothing, exactly like a code that never existed, and a
seized copy of the database opens nothing with it. The family gets a new code
the next time they send anything through the form; reviewers link that new
testimony to this case and answer there.

A safety hold is softer and reversible: while any desk the family chose holds
the case, the code holder sees no replies, of any desk, and replies written
meanwhile are kept for their desk only. A held reply is encrypted under its
author desk's keys alone, so only that desk can seal it to the family's key:
once no hold remains, the desk that lifted the last one releases its own held
replies at once, and every other desk releases its own at its next status change
or when one of its reviewers next opens the case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from intake.crypto import PublicKey, seal_for_family
from intake.desk import audit
from intake.store.db import vacuum
from intake.store.models import AuditEvent, CaseDesk, Reply, Submission

HOLD = "safety_hold"
# A reply's copy for the family that is not (or no longer) sealed to any code.
NOT_FOR_FAMILY = b""


def held(db: Session, case: Submission) -> bool:
    """Say whether any desk the family chose has the case on safety hold."""
    # The hold protects the family, whose code may be in a state's hands: one desk's hold
    # must keep every desk's replies from that code, not only its own.
    if case.status == HOLD:
        return True
    return db.query(CaseDesk.desk_id).filter_by(submission_id=case.id,
                                                status=HOLD).first() is not None


def reaches_family(db: Session, case: Submission) -> bool:
    """Say whether a reply written now may be sealed to the family's code."""
    return case.family_key is not None and not held(db, case)


def close_code(db: Session, case: Submission, actor_id: str) -> None:
    """Forget the case's code and everything sealed to it, audited, and commit."""
    case.family_lookup = None
    case.family_key = None
    case.family_outline = None
    db.query(Reply).filter_by(submission_id=case.id).update(
        {Reply.for_family: NOT_FOR_FAMILY}, synchronize_session=False)
    audit.record(db, actor_id, "close_code", case.id)
    db.commit()
    forget_old_pages(db)


def forget_old_pages(db: Session) -> None:
    """Make the old row versions go: SQLite's WAL emptied, PostgreSQL's dead rows vacuumed."""
    # secure_delete zeroes the freed cells in the database file; the WAL would still hold
    # the pages as they were until the next checkpoint.
    engine = db.get_bind().engine
    if engine.dialect.name == "sqlite":
        db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.commit()
    elif engine.dialect.name == "postgresql":
        # The update left the old rows (lookup id, key, outline, replies) as dead tuples in
        # the table files; PostgreSQL's own WAL keeps them too (see SECURITY.md).
        vacuum(engine, ("submissions", "replies"))


def code_closed_on(db: Session, case: Submission) -> dt.date | None:
    """Return the day a reviewer closed this case's code, from the audit log."""
    event = db.query(AuditEvent).filter_by(action="close_code", subject_id=case.id).first()
    return dt.date.fromisoformat(event.at[:10]) if event else None


def release_held_replies(db: Session, case: Submission, authors: set[str],
                         reply_text: Callable[[Reply], str | None]) -> int:
    """Seal to the family the held replies these authors (one desk's accounts) wrote, once no
    desk holds the case; return how many."""
    if not reaches_family(db, case) or case.family_key is None:
        return 0
    family_key = PublicKey(case.family_key)
    rows = db.query(Reply).filter(Reply.submission_id == case.id,
                                  Reply.for_family == NOT_FOR_FAMILY,
                                  Reply.author_id.in_(authors)).all()
    released = 0
    for row in rows:
        text = reply_text(row)
        if text is None:  # damaged: nothing to seal, so it stays held (the desk sees it)
            continue
        row.for_family = seal_for_family(text.encode(), family_key, desk_id=case.desk_id,
                                         record_id=case.id, field=f"reply:{row.id}")
        released += 1
    return released
