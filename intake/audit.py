"""The audit log: a hash chain of who did what to which id, never what anyone wrote.

Each entry hashes the one before it, so an edited, deleted, inserted or
reordered entry breaks the chain from that point. A head row, updated in the
same transaction as each entry, records how many entries there are and the
last one's hash, so entries cut from the end show too. Someone who can write
the whole database can still rewrite the chain and its head together: only
a copy of the head kept elsewhere (`intake audit verify` prints it) reveals that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


class AuditError(Exception):
    """The audit log has been altered, or its head is missing."""


def _digest(prev_hash: str, at: str, actor_id: str | None, action: str,
            subject_id: str | None, detail: str) -> str:
    canonical = json.dumps([prev_hash, at, actor_id, action, subject_id, detail],
                           separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(session: Session, actor_id: str | None, action: str, subject_id: str | None = None,
           detail: str = "") -> AuditEvent:
    """Append an entry to the chain, and move its head, in the caller's transaction."""
    head = _locked_head(session)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    event = AuditEvent(at=at, actor_id=actor_id, action=action, subject_id=subject_id,
                       detail=detail, prev_hash=head.hash,
                       hash=_digest(head.hash, at, actor_id, action, subject_id, detail))
    session.add(event)
    head.count, head.hash = head.count + 1, event.hash
    return event


def _locked_head(session: Session) -> AuditHead:
    """Take the head row's write lock, then read it fresh.

    Two requests that read the same head would both link to it; the unique
    prev_hash refuses the second, and its whole change (a status, a reply)
    would be lost. An update of the head, even one that changes nothing, takes
    SQLite's write lock (and the row's lock elsewhere) for the rest of the
    transaction, so concurrent writers queue instead.
    """
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count))
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        # Never rebuilt from the chain: that would hide a cut tail.
        raise AuditError("the audit log's head is missing: run `intake audit verify`")
    return head


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


def verify(session: Session) -> AuditHead:
    """Check every entry and the head; return the head, or raise AuditError saying where."""
    broken = first_broken(session)
    if broken is not None:
        raise AuditError(f"the audit log is broken at entry {broken}")
    count = session.query(AuditEvent).count()
    last = session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    head = session.get(AuditHead, 1)
    if head is None:
        raise AuditError("the audit log's head is missing: entries may have been cut")
    if head.count != count or head.hash != (last.hash if last else GENESIS):
        raise AuditError(f"the audit log holds {count} entries but its head records "
                         f"{head.count}: entries were cut from or added to its end")
    return head


def trail(session: Session, subject_id: str) -> list[AuditEvent]:
    """Return the entries about one subject, oldest first."""
    return (session.query(AuditEvent).filter_by(subject_id=subject_id)
            .order_by(AuditEvent.seq).all())
