"""Referring a case to another desk of the coalition, only with the family's consent.

The consent is either the form's "share with other organisations of the
coalition", which covers every desk, or the family's own request, made later
with its code, for that one desk (share_requests).

The referring desk, which can open the case, seals its data key (generation
0, under which the family's answers and files are encrypted) and every
addition's to the other desk's current epoch, with that desk in the binding,
and gives it a work key of its own. Before that, whatever the case's first
desk wrote under generation 0 is encrypted again under a generation the new
desk will not hold, so a referral shares the family's testimony and nothing
of any desk's own work. All of it is one transaction: a referral killed at
any point leaves the case shared with nobody new.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.crypto import CaseKeys, new_data_key, seal_case_key, seal_data_key
from intake.desk import audit, share_requests, trust
from intake.desk.desks import accounts_of
from intake.staff.sessions import EpochKeys
from intake.store.models import CaseDesk, KeyGeneration, Note, Reply, Submission, User
from intake.store.settings import Settings
from intake.testimonies import cases
from intake.testimonies.submissions import Desk

CONSENT = "consent_coalition"


class ReferralRefused(Exception):
    """A referral that may not be made: `reason` says why ("consent", "desk")."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"referral refused: {reason}")
        self.reason = reason


def referable(db: Session, settings: Settings, case: Submission) -> list[str]:
    """List the open desks a case could be referred to (those not given it yet)."""
    return share_requests.unshared(db, settings, case)


def refer(db: Session, desk: Desk, settings: Settings, case: Submission, keys: CaseKeys,
          epoch_keys: EpochKeys, referrer: User, from_desk: str, to_desk: str) -> None:
    """Seal a case (and its additions) to `to_desk`, if the family consented to it, on the
    form for any desk or with its code for this one; commit once."""
    asked_on = share_requests.asked_on(db, case, to_desk)
    if cases.answers(case, keys).get(CONSENT) is not True and asked_on is None:
        raise ReferralRefused("consent")
    if to_desk not in referable(db, settings, case):
        raise ReferralRefused("desk")
    # Raises TrustError unless the other desk's epoch chains to its pinned root.
    epoch = trust.sealing_epoch(desk.keyring, to_desk, desk.root_of(to_desk), db, desk.water)
    if case.desk_id == from_desk:
        _separate_first_desks_work(db, desk, settings, case, keys)
    records = [(case, keys.first)] + [
        (row, cases.data_key(row, epoch_keys, db).first)
        for row in db.query(Submission).filter_by(parent_id=case.id)]
    for record, data_key in records:
        db.add(CaseDesk(
            submission_id=record.id, desk_id=to_desk, epoch_id=epoch.id,
            sealed_key=seal_data_key(data_key, epoch.public_key, desk_id=to_desk,
                                     epoch_id=epoch.id, record_id=record.id),
            work_key=seal_case_key(new_data_key(), epoch.public_key, desk_id=to_desk,
                                   epoch_id=epoch.id, record_id=record.id, generation=1),
            status="new", family_status="received", priority=0, referred_by=from_desk))
    if asked_on is not None:
        # Audited now rather than when the family asked: an entry's time to the second,
        # and its place in the chain, would tell when the family came.
        audit.record(db, None, "share_asked", case.id, f"desk:{to_desk} on:{asked_on}")
    audit.record(db, referrer.id, "refer", case.id, f"from:{from_desk} to:{to_desk}")
    audit.record(db, None, "referred", case.id, f"desk:{to_desk} by:{from_desk}")
    db.commit()


def _separate_first_desks_work(db: Session, desk: Desk, settings: Settings, case: Submission,
                               keys: CaseKeys) -> None:
    """Give the first desk a generation the new desk will not hold, and move its work to it."""
    if case.key_generation == 0:
        epoch = desk.keyring.epoch(case.desk_id, case.epoch_id)
        newest = new_data_key()
        db.add(KeyGeneration(submission_id=case.id, generation=1, epoch_id=epoch.id,
                             sealed_key=seal_case_key(newest, epoch.public_key,
                                                      desk_id=case.desk_id, epoch_id=epoch.id,
                                                      record_id=case.id, generation=1)))
        case.key_generation = 1
        keys = CaseKeys((*keys.generations, newest))
    for row, column, field in _first_desk_work(db, settings, case):
        plaintext = keys.decrypt(getattr(row, column), record_id=case.id, field=field)
        setattr(row, column, keys.encrypt(plaintext, record_id=case.id, field=field))


def _first_desk_work(db: Session, settings: Settings,
                     case: Submission) -> list[tuple[object, str, str]]:
    """List every ciphertext the case's first desk wrote on it: (row, column, field)."""
    found: list[tuple[object, str, str]] = [
        (case, column, column) for column in ("labels", "assessment")
        if getattr(case, column)]
    authors = {user.id for user in accounts_of(db, case.desk_id, settings)}
    found += [(note, "body", f"note:{note.id}") for note in
              db.query(Note).filter(Note.submission_id == case.id,
                                    Note.author_id.in_(authors))]
    found += [(reply, "for_desk", f"reply:{reply.id}") for reply in
              db.query(Reply).filter(Reply.submission_id == case.id,
                                     Reply.author_id.in_(authors))]
    return found
