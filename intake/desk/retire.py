"""Retiring a desk: it leaves the form, its accounts are revoked and every grant of its epochs
is destroyed, so its keys open nothing; the cases it shared stay readable by the other desks
the family chose, through their own sealed copies.

A case that no other open desk holds would be readable by nobody afterwards: retiring is
refused while there is one, whether the family chose this desk alone or the other desks it
chose were retired before (refer it first, with the family's consent, or keep the desk).
It is refused too while the desk has a case on safety hold: a hold keeps every desk's replies
from the family's code, and once its accounts are revoked nobody could lift it.
"""

from __future__ import annotations

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from intake.crypto import Keyring
from intake.desk import audit
from intake.desk.desks import DeskError, accounts_of, all_desks
from intake.staff.accounts import revoke
from intake.store.models import CaseDesk, DeskRecord, SearchRow, Submission
from intake.store.settings import Settings
from intake.testimonies.closing import HOLD


def sole_cases(db: Session, desk_id: str) -> int:
    """Count the cases (additions included) this desk holds and no other open desk does."""
    retired = select(DeskRecord.id).where(DeskRecord.retired)
    held = union(select(Submission.id.label("id")).where(Submission.desk_id == desk_id),
                 select(CaseDesk.submission_id.label("id")).where(CaseDesk.desk_id == desk_id)
                 ).subquery()
    other_first = select(Submission.id).where(Submission.desk_id != desk_id,
                                              Submission.desk_id.not_in(retired))
    other_shared = select(CaseDesk.submission_id).where(CaseDesk.desk_id != desk_id,
                                                        CaseDesk.desk_id.not_in(retired))
    return db.scalar(select(func.count()).select_from(held).where(
        held.c.id.not_in(other_first), held.c.id.not_in(other_shared))) or 0


def held_cases(db: Session, desk_id: str) -> int:
    """Count the cases this desk has on safety hold (as first desk or through its own share)."""
    first = db.query(Submission).filter_by(desk_id=desk_id, status=HOLD).count()
    return first + db.query(CaseDesk).filter_by(desk_id=desk_id, status=HOLD).count()


def retire(db: Session, keyring: Keyring, settings: Settings, desk_id: str) -> tuple[int, int]:
    """Retire a desk; return the accounts revoked and the grants destroyed."""
    if desk_id not in {desk.id for desk in all_desks(db, settings) if not desk.retired}:
        raise DeskError(f"there is no open desk {desk_id}")
    alone = sole_cases(db, desk_id)
    if alone:
        raise DeskError(f"{alone} cases are held by desk {desk_id} and by no other open desk, "
                        "so nobody could read them afterwards: refer them first (where the "
                        "family consented) or keep the desk")
    holding = held_cases(db, desk_id)
    if holding:
        raise DeskError(f"desk {desk_id} has {holding} cases on safety hold, which keeps every "
                        "desk's replies from the family's code and which nobody could lift "
                        "once it is retired: its reviewers lift the holds first (or keep it)")
    row = db.get(DeskRecord, desk_id)
    if row is None:
        raise DeskError("an instance's only desk cannot be retired")
    # Off the form first: from this commit on, no family can choose it.
    row.retired = True
    audit.record(db, None, "retire_desk", desk_id)
    db.commit()
    revoked = 0
    for user in accounts_of(db, desk_id, settings):
        if user.state != "revoked":
            revoke(db, keyring, user)
            audit.record(db, None, "revoke", user.id, f"desk retired: {desk_id}")
            revoked += 1
    # Its search rows open only under its epochs' keys, whose grants go next: nobody will
    # read them again, and a key kept by one of its revoked reviewers should find none.
    db.query(SearchRow).filter_by(desk_id=desk_id).delete()
    db.commit()
    destroyed = 0
    for epoch in keyring.epochs(desk_id):
        for recipient in keyring.grant_recipients(desk_id, epoch.id):
            destroyed += keyring.delete_grant(desk_id, epoch.id, recipient)
    return revoked, destroyed
