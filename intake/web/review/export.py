"""Exporting a case as an evidence bundle: a zip streamed to the reviewer, never written to disk.

The bundle holds the answers as JSON and as a readable page, the files as
received by the desk, the case's audit trail, the signed checkpoints covering it with the
desk's certificate chain, and MANIFEST.sha256 listing the
SHA-256 of every other member.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from typing import IO, Any, cast

from flask import current_app, render_template, stream_with_context
from flask.typing import ResponseReturnValue

from intake.crypto import CaseKeys
from intake.desk import audit, desks
from intake.store.models import Attachment, AuditCheckpoint, AuditEvent, Submission
from intake.testimonies import cases, filenames
from intake.web.bound import get_desk, get_settings, get_store
from intake.web.database import get_session
from intake.web.review import present
from intake.web.review.blueprint import bp
from intake.web.review.views import find, linked_ids
from intake.web.staff_auth import case_required, current, current_desk_id


class _Pipe:
    """A write-only file for zipfile whose bytes are handed on as they are written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        """Nothing is buffered here."""

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


File = tuple[str, Submission, CaseKeys, Attachment]


def contents(submission: Submission, key: CaseKeys) -> tuple[dict[str, Any], list[File]]:
    """Decrypt the record and check every file up front, so a damaged part refuses the export."""
    db, keys = get_session(), current().epoch_keys
    store = get_store()
    additions = [(a, cases.data_key(a, keys, db)) for a in
                 db.query(Submission).filter_by(parent_id=submission.id)]
    # This desk's own triage: another desk's status or labels never leave in a bundle.
    work = cases.work_of(db, submission, current_desk_id())
    record = {"id": submission.id, "received_on": submission.received_on.isoformat(),
              "status": work.status, "family_status": work.family_status,
              "labels": cases.labels(work, key),
              "assessment": cases.assessment(work, key),
              "answers": cases.answers(submission, key),
              "linked_cases": linked_ids(submission.id),
              "additions": [{"id": a.id, "received_on": a.received_on.isoformat(),
                             "answers": cases.answers(a, k)} for a, k in additions]}
    files = []
    for owner, owner_key in [(submission, key), *additions]:
        for number, row in enumerate(cases.attachment_rows(db, owner)):
            meta = cases.attachment_meta(owner, owner_key, row)
            cases.check_file(store, owner, owner_key, row)
            cleaned = filenames.archive_name(filenames.download_name(meta))
            name = f"files/{owner.id[:8]}-{number + 1}-{cleaned}"
            files.append((name, owner, owner_key, row))
    return record, files


def _members(submission: Submission, record: dict[str, Any],
             files: list[File]) -> Iterator[tuple[str, Iterator[bytes]]]:
    store = get_store()
    yield "case.json", iter([json.dumps(record, ensure_ascii=False, indent=2).encode()])
    page = render_template("review/export.html", submission=submission,
                           sections=present.sections(record["answers"]), record=record)
    yield "case.html", iter([page.encode()])
    for name, owner, owner_key, attachment in files:
        # Checked whole in contents(); a file changed since then still fails per segment.
        yield name, cases.file_chunks(store, owner, owner_key, attachment, check_first=False)
    # This desk's own custody of the case: what another chosen desk did is not its to hand on.
    own = {user.id for user in desks.accounts_of(get_session(), current_desk_id(),
                                                 get_settings())}
    trail = [{"seq": e.seq, "at": e.at, "actor": e.actor_id, "action": e.action,
              "detail": e.detail, "hash": e.hash} for e in audit.trail(get_session(),
                                                                      submission.id)
             if e.actor_id is None or e.actor_id in own]
    yield "audit.json", iter([json.dumps(trail, indent=2).encode()])
    yield from _anchors(submission, trail)


def _anchors(submission: Submission,
             trail: list[dict[str, Any]]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """Yield the signed checkpoints that cover the case's audit trail, and the desk's chain.

    A checkpoint covers the trail when it was signed after the trail's newest
    entry before this export (the export's own entry, just written, cannot be
    covered yet); the certificates name the key each checkpoint is signed
    with, back to the root fingerprint printed at `intake init`.
    """
    db, keyring = get_session(), get_desk().keyring
    newest = max((entry["seq"] for entry in trail[:-1]), default=0)
    position = db.query(AuditEvent).filter(AuditEvent.seq <= newest).count()
    covering = [{"id": c.id, "desk": c.desk_id, "entries": c.count, "head": c.hash,
                 "account": c.account_id, "certificates": c.chain_length,
                 "chain_head": c.chain_head, "signature": c.signature.hex()}
                for c in db.query(AuditCheckpoint).filter(
                    AuditCheckpoint.desk_id == current_desk_id(),
                    AuditCheckpoint.count >= position).order_by(AuditCheckpoint.count)]
    yield "checkpoints.json", iter([json.dumps(covering, indent=2).encode()])
    for seq, blob in enumerate(keyring.certificates(current_desk_id())):
        yield f"certificates/{seq:06d}.cert", iter([blob])


def bundle(submission: Submission, record: dict[str, Any], files: list[File]) -> Iterator[bytes]:
    """Yield the zip's bytes as each member is written."""
    pipe, digests = _Pipe(), []
    # ZipFile needs only write, tell and flush of its file when writing.
    with zipfile.ZipFile(cast(IO[bytes], pipe), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in _members(submission, record, files):
            digest = hashlib.sha256()
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in chunks:
                    digest.update(chunk)
                    member.write(chunk)
                    yield pipe.drain()
            digests.append(f"{digest.hexdigest()}  {name}\n")
        archive.writestr("MANIFEST.sha256", "".join(digests))
    yield pipe.drain()


@bp.get("/<case_id>/export")
@case_required
def export(case_id: str) -> ResponseReturnValue:
    """Download the case as an evidence bundle."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    record, files = contents(submission, cases.data_key(submission, unlocked.epoch_keys))
    audit.record(db, unlocked.user.id, "export", submission.id)
    db.commit()
    response = current_app.response_class(stream_with_context(bundle(submission, record, files)),
                                          mimetype="application/zip")
    response.headers["Content-Disposition"] = filenames.content_disposition(
        "attachment", f"case-{submission.id[:8]}.zip")
    return response
