"""A family asks, with its code, that a further desk of the coalition be given its case.

The follow-up code opens only the family's outline and replies, never the
case's data key (so a code seized from a family reveals no testimony), so the
family cannot seal its case to another desk itself. It records a request
instead: the case, the desk asked for and the UTC day, nothing else. The
request is the family's consent for that desk: a reviewer of a desk that holds
the case carries it out as a referral (referral.refer accepts it where the
form's coalition consent was not given, and audits it then). A request is done
once the asked desk holds the case; there is nothing else to mark.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.desk.desks import open_desks
from intake.store.models import ShareRequest, Submission
from intake.store.settings import Settings
from intake.testimonies.submissions import case_desk_ids


class ShareRefused(Exception):
    """A request that is not recorded: `reason` says why ("none": no desk named; "desk": a
    desk that does not exist, is retired or already holds the case)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"share request refused: {reason}")
        self.reason = reason


def unshared(db: Session, settings: Settings, case: Submission) -> list[str]:
    """List the open desks not given the case yet, in the order the form shows them."""
    given = set(case_desk_ids(db, case))
    return [desk.id for desk in open_desks(db, settings) if desk.id not in given]


def ask(db: Session, settings: Settings, case: Submission, desk_ids: list[str],
        today: dt.date) -> None:
    """Record the family's request for each desk named (once each); refuse them all, recording
    nothing, if any cannot receive the case; commit."""
    wanted = list(dict.fromkeys(desk_ids))
    if not wanted:
        raise ShareRefused("none")
    if set(wanted) - set(unshared(db, settings, case)):
        raise ShareRefused("desk")
    # The same request sent twice at once: the second insert meets the first's row, and
    # the retry finds it recorded.
    for attempt in range(2):
        for desk_id in wanted:
            if db.get(ShareRequest, (case.id, desk_id)) is None:
                db.add(ShareRequest(submission_id=case.id, desk_id=desk_id, asked_on=today))
        try:
            db.commit()
            return
        except IntegrityError:
            db.rollback()
            if attempt:
                raise


def pending(db: Session, settings: Settings, case: Submission) -> list[str]:
    """List the open desks the family asked for that are not given the case yet."""
    asked = {desk_id for (desk_id,) in db.query(ShareRequest.desk_id).filter_by(
        submission_id=case.id)}
    return [desk_id for desk_id in unshared(db, settings, case) if desk_id in asked]


def asked_on(db: Session, case: Submission, desk_id: str) -> dt.date | None:
    """Return the day the family asked for this desk to be given its case, or None."""
    row = db.get(ShareRequest, (case.id, desk_id))
    return row.asked_on if row is not None else None


def asked_desks(db: Session, case: Submission) -> set[str]:
    """Return every desk the family asked for, given the case since or not."""
    return {desk_id for (desk_id,) in db.query(ShareRequest.desk_id).filter_by(
        submission_id=case.id)}
