"""Gather one case for a bundle: its record, its files and their history, and its custody.

Who can decrypt: only a caller holding the case's data key (an unlocked
reviewer). Every file is authenticated whole before the bundle starts, so a
damaged part refuses the export instead of ending a download half-way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from intake.crypto import CaseKeys, Keyring
from intake.crypto.chain import Chain
from intake.crypto.signing import SigningPublicKey
from intake.desk import audit
from intake.evidence import formats
from intake.evidence.bundle import Member
from intake.staff.sessions import EpochKeys
from intake.store.blobs import Store
from intake.store.models import Attachment, AuditCheckpoint, AuditEvent, Submission
from intake.testimonies import cases, filenames

_BATCH = 1000


@dataclass(frozen=True)
class CaseFile:
    """One file of the case: where it goes in the bag, and how to read it."""

    path: str
    owner: Submission
    key: CaseKeys
    row: Attachment
    meta: dict[str, Any]


@dataclass(frozen=True)
class CaseContents:
    """A case decrypted for export: its record and its checked files."""

    record: dict[str, Any]
    files: list[CaseFile]
    # Codes of what the consent rules left out of this copy (see redact.py).
    left_out: tuple[str, ...] = ()


def collect(db: Session, store: Store, submission: Submission, key: CaseKeys,
            epoch_keys: EpochKeys, linked: list[str],
            work: cases.Work | None = None) -> CaseContents:
    """Decrypt the record, with the exporting desk's own triage (`work`, by default the first
    desk's), and check every file up front."""
    work = submission if work is None else work
    additions = [(a, cases.data_key(a, epoch_keys, db)) for a in
                 db.query(Submission).filter_by(parent_id=submission.id)]
    record = {"id": submission.id, "received_on": submission.received_on.isoformat(),
              "status": work.status, "family_status": work.family_status,
              "labels": cases.labels(work, key),
              "assessment": cases.assessment(work, key),
              "answers": cases.answers(submission, key), "linked_cases": linked,
              "additions": [{"id": a.id, "received_on": a.received_on.isoformat(),
                             "answers": cases.answers(a, k)} for a, k in additions]}
    files = []
    for owner, owner_key in [(submission, key), *additions]:
        for number, row in enumerate(cases.attachment_rows(db, owner)):
            meta = cases.attachment_meta(owner, owner_key, row)
            cases.check_file(store, owner, owner_key, row)
            cleaned = filenames.archive_name(filenames.download_name(meta))
            path = f"data/files/{owner.id[:8]}-{number + 1}-{cleaned}"
            files.append(CaseFile(path, owner, owner_key, row, meta))
    return CaseContents(record, files)


def history(case_file: CaseFile) -> dict[str, Any]:
    """Describe what happened to one file between the family and the bag."""
    meta = case_file.meta
    scrubbed = bool(meta.get("scrubbed"))
    return {
        "path": case_file.path, "submission": case_file.owner.id,
        "original_name": meta.get("filename") or "",
        "content_type_sent": meta.get("content_type") or "",
        "size_received": meta.get("size"), "sha256_received": meta.get("sha256_received"),
        "kept_as_received": not scrubbed,
        "removed": ("the photo was rebuilt from its pixels: location, device and other "
                    "metadata were removed; the file as received was not kept") if scrubbed
        else "nothing: this is the file exactly as the family sent it",
        "stored_content_type": meta.get("stored_content_type") if scrubbed else None,
        "size_stored": meta.get("stored_size") if scrubbed else meta.get("size"),
        "sha256_stored": meta.get("sha256_stored") if scrubbed else meta.get("sha256_received"),
    }


def payload(contents: CaseContents, page: bytes, store: Store, trail: list[dict[str, Any]],
            redactions: dict[str, Any] | None = None,
            organisation: str = "") -> Iterator[Member]:
    """Yield the bag's payload: answers, readable page, what was left out, the WGEID form
    and HURIDOCS rows, file histories, files, audit trail."""
    yield Member("data/case.json", [_json(contents.record)])
    if redactions is not None:
        yield Member("data/redactions.json", [_json(redactions)])
    form = formats.wgeid(contents.record, organisation)
    yield Member("data/wgeid/form.json", [_json(form)])
    yield Member("data/wgeid/form.html", [formats.wgeid_html(form)])
    row = formats.huridocs(contents.record)
    yield Member("data/huridocs/case.json", [_json(row)])
    yield Member("data/huridocs/case.csv", [formats.huridocs_csv([row])])
    yield Member("data/case.html", [page])
    yield Member("data/files.json", [_json([history(f) for f in contents.files])])
    for f in contents.files:
        # Checked whole in collect(); a file changed since then still fails per segment.
        yield Member(f.path, cases.file_chunks(store, f.owner, f.key, f.row, check_first=False))
    yield Member("data/audit-trail.json", [_json(trail)])


def trail(db: Session, case_id: str, colleagues: frozenset[str]) -> list[dict[str, Any]]:
    """Return the case's audit entries as the bag records them: the family's (no account) and
    those of the exporting desk's accounts (`colleagues`), never another desk's."""
    return [_entry(event, None) for event in audit.trail(db, case_id)
            if event.actor_id is None or event.actor_id in colleagues]


def _entry(event: AuditEvent, position: int | None) -> dict[str, Any]:
    found = {"seq": event.seq, "at": event.at, "actor": event.actor_id,
             "action": event.action, "subject": event.subject_id, "detail": event.detail,
             "prev_hash": event.prev_hash, "hash": event.hash}
    return found if position is None else {"position": position, **found}


def custody(db: Session, keyring: Keyring, chain: Chain, case_id: str,
            exporter: SigningPublicKey) -> Iterator[Member]:
    """Yield the tag files that tie the trail to signed checkpoints and the desk's root.

    The audit log's entries from the case's first one to the newest checkpoint
    (signed by the export itself) go in whole: an entry's hash covers all its
    fields, so a shorter extract could not be checked. They name ids and
    actions of other cases, never content (SECURITY.md says so).
    """
    first = db.query(AuditEvent.seq).filter_by(subject_id=case_id).order_by(
        AuditEvent.seq).limit(1).scalar()
    start = db.query(AuditEvent).filter(AuditEvent.seq < first).count() + 1 if first else 0
    checkpoints = [] if not first else db.query(AuditCheckpoint).filter(
        AuditCheckpoint.desk_id == chain.desk, AuditCheckpoint.count >= start).order_by(
        AuditCheckpoint.count, AuditCheckpoint.id).all()
    end = checkpoints[-1].count if checkpoints else start - 1
    yield Member("custody/audit-log.jsonl", _span(db, first, start, end))
    yield Member("custody/checkpoints.json", [_json([{
        "id": c.id, "desk": c.desk_id, "entries": c.count, "head": c.hash,
        "account": c.account_id, "certificates": c.chain_length, "chain_head": c.chain_head,
        "signature": c.signature.hex()} for c in checkpoints])])
    for seq, blob in enumerate(keyring.certificates(chain.desk)[:chain.length]):
        yield Member(f"custody/certificates/{seq:06d}.cert", [blob])
    ed, ml = exporter.halves()
    for name, half in (("ed25519", ed), ("ml-dsa-65", ml)):
        yield Member(f"custody/exporter-{name}.pem", [half.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)])


def _span(db: Session, first: int | None, start: int, end: int) -> Iterator[bytes]:
    """Yield the log's entries from seq `first`, positions start..end, a batch at a time.

    Each batch is its own query (after the last seq read), so no cursor stays open
    between two yields of a stream a client may never finish reading.
    """
    if first is None:
        return
    position, after = start, first - 1
    while position <= end:
        batch = db.query(AuditEvent).filter(AuditEvent.seq > after).order_by(
            AuditEvent.seq).limit(min(_BATCH, end - position + 1)).all()
        if not batch:
            return
        lines = []
        for event in batch:
            lines.append(json.dumps(_entry(event, position), ensure_ascii=False).encode()
                         + b"\n")
            position, after = position + 1, event.seq
        yield b"".join(lines)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()
