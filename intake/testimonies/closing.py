"""Shutting a family's follow-up code, and holding replies back from it.

A code a relative was forced to hand over must stop working for whoever now
holds it. Closing deletes what the server keeps of the code (its lookup id and
public key), the outline sealed to it and every reply's copy sealed to it, so
the code then finds nothing, exactly like a code that never existed, and a
seized copy of the database opens nothing with it. The family gets a new code
the next time they send anything through the form; reviewers link that new
testimony to this case and answer there.

A safety hold is softer and reversible: while a case is held, the code holder
sees no replies, and replies written meanwhile are kept for the desk only; when
the hold is lifted they are sealed to the family's key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from intake.crypto import PublicKey, seal_for_family
from intake.desk import audit
from intake.store.db import vacuum
from intake.store.models import AuditEvent, Reply, Submission

HOLD = "safety_hold"
# A reply's copy for the family that is not (or no longer) sealed to any code.
NOT_FOR_FAMILY = b""


def reaches_family(case: Submission) -> bool:
    """Say whether a reply written now may be sealed to the family's code."""
    return case.family_key is not None and case.status != HOLD


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


def release_held_replies(db: Session, case: Submission,
                         reply_text: Callable[[Reply], str]) -> int:
    """Seal to the family the replies written while the case was held; return how many."""
    if not reaches_family(case) or case.family_key is None:
        return 0
    family_key = PublicKey(case.family_key)
    held = db.query(Reply).filter_by(submission_id=case.id, for_family=NOT_FOR_FAMILY).all()
    for row in held:
        row.for_family = seal_for_family(reply_text(row).encode(), family_key,
                                         desk_id=case.desk_id, record_id=case.id,
                                         field=f"reply:{row.id}")
    return len(held)
