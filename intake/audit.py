"""The audit log: a hash chain of who did what to which id, never what anyone wrote."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import update
from sqlalchemy.orm import Session

from .models import AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, at: str, actor_id: str | None, action: str,
            subject_id: str | None, detail: str) -> str:
    canonical = json.dumps([prev_hash, at, actor_id, action, subject_id, detail],
                           separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(session: Session, actor_id: str | None, action: str, subject_id: str | None = None,
           detail: str = "") -> AuditEvent:
    """Append an entry to the chain in the caller's transaction."""
    _lock_chain(session)
    last = session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    prev_hash = last.hash if last else GENESIS
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    event = AuditEvent(at=at, actor_id=actor_id, action=action, subject_id=subject_id,
                       detail=detail, prev_hash=prev_hash,
                       hash=_digest(prev_hash, at, actor_id, action, subject_id, detail))
    session.add(event)
    return event


def _lock_chain(session: Session) -> None:
    """Hold the database's write lock before reading the chain's head.

    Two requests that read the same head would both link to it; the unique
    prev_hash refuses the second, and its whole change (a status, a reply)
    would be lost. A write that changes nothing takes SQLite's write lock for
    the rest of the transaction, so concurrent writers queue instead.
    """
    if session.get_bind().dialect.name == "sqlite":
        nothing = update(AuditEvent).where(AuditEvent.seq < 0)
        session.execute(nothing.values(action=AuditEvent.action))
    else:
        session.query(AuditEvent).order_by(AuditEvent.seq.desc()).with_for_update().first()


def first_broken(session: Session) -> int | None:
    """Return the sequence number of the first entry that breaks the chain, or None."""
    prev_hash = GENESIS
    for event in session.query(AuditEvent).order_by(AuditEvent.seq).yield_per(1000):
        expected = _digest(prev_hash, event.at, event.actor_id, event.action, event.subject_id,
                           event.detail)
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.seq
        prev_hash = event.hash
    return None


def trail(session: Session, subject_id: str) -> list[AuditEvent]:
    """Return the entries about one subject, oldest first."""
    return (session.query(AuditEvent).filter_by(subject_id=subject_id)
            .order_by(AuditEvent.seq).all())
