"""Export one case as a bundle, for the web view and the command line alike.

Who can decrypt: the exporting account, whose unlocked epoch keys open the
case. The export is audited and signs an audit checkpoint in one
transaction before the first byte of the bundle is made.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from sqlalchemy import or_
from sqlalchemy.orm import Session

from intake.crypto import CaseKeys, Keyring
from intake.crypto.chain import Chain
from intake.desk import audit, desks, trust
from intake.evidence import case, channels, formats
from intake.evidence.bundle import Header, Member, write_bundle
from intake.evidence.redact import WHAT, Choice, ConsentRefused, Redaction, redact
from intake.evidence.timestamp import request_token
from intake.staff.sessions import EpochKeys
from intake.store.blobs import Store, utc_today
from intake.store.models import CaseLink, Submission, User
from intake.store.settings import Settings
from intake.testimonies import cases

Render = Callable[[Submission, case.CaseContents], bytes]


@dataclass(frozen=True)
class Exporter:
    """The unlocked account that exports: its epoch keys, once certified its signer, and its
    desk with that desk's accounts (a bundle carries only this desk's work and custody)."""

    user: User
    epoch_keys: EpochKeys
    signer: trust.Signer | None
    desk_id: str
    colleagues: frozenset[str]


def exporter_of(db: Session, settings: Settings, user: User, epoch_keys: EpochKeys,
                signer: trust.Signer | None) -> Exporter:
    """Describe an unlocked account as an exporter: its desk and that desk's account ids."""
    desk_id = desks.account_desk(user, settings)
    return Exporter(user, epoch_keys, signer, desk_id,
                    frozenset(u.id for u in desks.accounts_of(db, desk_id, settings)))


@dataclass(frozen=True)
class Place:
    """Where the case lives and what the desk states about itself."""

    keyring: Keyring
    store: Store
    organisation: str
    tsa_url: str | None = None


def linked(db: Session, case_id: str, desk_id: str) -> list[str]:
    """Return the ids of the cases of this desk confirmed as about the same person, either
    way round (a link to a case the desk was not given would tell it that case exists)."""
    rows = db.query(CaseLink).filter(or_(CaseLink.first_id == case_id,
                                         CaseLink.second_id == case_id))
    others = [row.second_id if row.first_id == case_id else row.first_id for row in rows]
    visible = {found for (found,) in db.query(Submission.id).filter(
        Submission.id.in_(others), desks.sealed_to(desk_id))} if others else set()
    return [other for other in others if other in visible]


def export_case(db: Session, place: Place, exporter: Exporter, submission: Submission,
                render: Render, choice: Choice | None = None,
                detail: str = "") -> Iterator[bytes]:
    """Decrypt and check the case, apply the consent, audit the export, sign a checkpoint;
    return the zip stream. Raises ConsentRefused before anything is recorded."""
    key = cases.data_key(submission, exporter.epoch_keys, db)
    # The exporting desk's own triage: another chosen desk's status or labels never leave.
    work = cases.work_of(db, submission, exporter.desk_id)
    contents = case.collect(db, place.store, submission, key, exporter.epoch_keys,
                            linked(db, submission.id, exporter.desk_id), work)
    redaction = redact(contents.record, choice or Choice())
    contents = case.CaseContents(redaction.record, contents.files, tuple(redaction.left_out))
    chain = _audit(db, place, exporter, submission, key, redaction, detail)
    # Read before the commit (the trail then includes this export's entry): once it is
    # committed, no connection is held until the stream starts, even if it never does.
    trail = case.trail(db, submission.id, exporter.colleagues)
    page = render(submission, contents)
    header = _header(place, exporter, submission, redaction)
    case_id = submission.id
    db.commit()
    signer = exporter.signer
    custody: Iterator[Member] = iter(())
    if signer is not None and chain is not None:
        custody = case.custody(db, place.keyring, chain, case_id, signer.key.public_key)
    stamp = partial(request_token, place.tsa_url) if place.tsa_url else None
    return write_bundle(header, case.payload(contents, page, place.store, trail,
                                             redaction.statement(), place.organisation),
                        custody, signer.key if signer else None, stamp)


def _audit(db: Session, place: Place, exporter: Exporter, submission: Submission,
           key: CaseKeys, redaction: Redaction, detail: str) -> Chain | None:
    """Record the export (and any stated reasons); sign a checkpoint covering it."""
    _record_reasons(db, submission, key, exporter.user.id, redaction)
    audit.record(db, exporter.user.id, "export", submission.id,
                 ";".join(filter(None, [detail, redaction.audit_detail()])))
    signer = exporter.signer
    if signer is None:
        return None
    # The exporting desk's chain: a shared case's first desk may be another.
    chain = trust.load_chain(place.keyring, exporter.desk_id, signer.root)
    # Signed at export, so the trail up to and including this export is covered.
    audit.checkpoint(db, chain, signer.account, signer.key)
    return chain


def _header(place: Place, exporter: Exporter, submission: Submission,
            redaction: Redaction) -> Header:
    """State what bag-info.txt says about this export."""
    signer = exporter.signer
    return Header(place.organisation, exporter.desk_id, submission.id, utc_today(),
                  exporter.user.name, exporter.user.id,
                  trust.fingerprint_text(signer.root) if signer else "", place.tsa_url,
                  redaction.summary(), redaction.purpose,
                  channels.describe(redaction.record["answers"]))


def _record_reasons(db: Session, submission: Submission, key: CaseKeys, author: str,
                    redaction: Redaction) -> None:
    """Keep each stated reason as an encrypted note on the case, audited as notes are."""
    for code, reason in redaction.overrides.items():
        note = cases.add_note(db, submission, key, author,
                              f"Export for {redaction.purpose}: {WHAT[code]} included "
                              f"because: {reason}")
        audit.record(db, author, "note", submission.id, note.id)


def export_table(db: Session, exporter: Exporter, submissions: list[Submission],
                 purpose: str) -> tuple[bytes, list[str]]:
    """Return a zip of HURIDOCS-style rows (cases.csv, cases.json) for the cases whose
    family allowed `purpose`, and the ids of those left out; each included case is audited.

    A table is for import into a case database (Uwazi), not evidence: it is not signed,
    and carries no files and no contact details (the per-case bundles are the evidence).
    """
    rows, left_out = [], []
    for submission in submissions:
        key = cases.data_key(submission, exporter.epoch_keys, db)
        work = cases.work_of(db, submission, exporter.desk_id)
        record = {"id": submission.id, "received_on": submission.received_on.isoformat(),
                  "answers": cases.answers(submission, key),
                  "assessment": cases.assessment(work, key)}
        try:
            redact(record, Choice(purpose))
        except ConsentRefused:
            left_out.append(submission.id)
            continue
        rows.append(formats.huridocs(record))
        audit.record(db, exporter.user.id, "export", submission.id,
                     f"table;purpose:{purpose}")
    db.commit()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cases.csv", formats.huridocs_csv(rows))
        archive.writestr("cases.json", json.dumps({"purpose": purpose, "cases": rows,
                                                   "left_out_by_consent": left_out},
                                                  ensure_ascii=False, indent=2))
    return buffer.getvalue(), left_out
