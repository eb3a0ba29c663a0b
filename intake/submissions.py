"""Storing a testimony: seal its data key to the desk's current epoch, encrypt everything else.

Who can decrypt: holders of the epoch's private key (vetted reviewers and
the recovery key) read the answers and files; the family, with its follow-up
code, reads only the outline sealed to its own key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from .crypto import (
    Keyring,
    PrivateKey,
    Profile,
    PublicKey,
    decrypt_stream,
    derive_family_key,
    encrypt_field,
    open_for_family,
    seal_data_key,
    seal_for_family,
)
from .images import NotAnImage, looks_like_image, scrub
from .models import Attachment, Submission
from .request import EncryptedUpload, UploadBatch
from .storage import Store

MAX_SCRUB_BYTES = 64 * 1024 * 1024


@dataclass
class ReceivedFile:
    """An upload and what the browser said about it (both untrusted)."""

    upload: EncryptedUpload
    client_filename: str
    untrusted_content_type: str
    role: str = "attachments"


@dataclass
class NewSubmission:
    """What a family sent, ready to be encrypted and stored."""

    answers: dict[str, Any]
    batch: UploadBatch
    files: list[ReceivedFile] = field(default_factory=list)
    keep_originals: bool = False
    family_code: str | None = None
    form_nonce: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class Desk:
    """Where a submission goes and the secrets needed to file it."""

    keyring: Keyring
    store: Store
    desk_id: str
    pepper: bytes
    code_profile: Profile


class AlreadyReceived(Exception):
    """The same form was sent twice; the first one was stored."""


def nonce_digest(pepper: bytes, form_nonce: str) -> str:
    """Return the stored form of a form's one-time nonce."""
    return hmac.new(pepper, form_nonce.encode(), hashlib.sha256).hexdigest()


def store_submission(session: Session, desk: Desk, new: NewSubmission,
                     today: dt.date) -> Submission:
    """Encrypt and durably store a submission; blobs are fsynced before the row commits."""
    batch, record_id = new.batch, new.batch.record_id
    if new.form_nonce and session.query(Submission.id).filter_by(
            form_nonce=nonce_digest(desk.pepper, new.form_nonce)).first():
        raise AlreadyReceived
    epoch = desk.keyring.current_epoch(desk.desk_id)
    submission = Submission(
        id=record_id, desk_id=desk.desk_id, epoch_id=epoch.id, received_on=today,
        sealed_key=seal_data_key(batch.data_key, epoch.public_key, desk_id=desk.desk_id,
                                 epoch_id=epoch.id, record_id=record_id),
        answers=encrypt_field(batch.data_key, json.dumps(new.answers).encode(),
                              record_id=record_id, field="answers"),
        status="new", priority=0, parent_id=new.parent_id,
        form_nonce=nonce_digest(desk.pepper, new.form_nonce) if new.form_nonce else None)
    attachments = [_file_attachment(desk.store, batch, received, position, new.keep_originals)
                   for position, received in enumerate(new.files)]
    if new.family_code:
        lookup, family_key = derive_family_key(new.family_code, desk.pepper, desk.code_profile)
        submission.family_lookup = lookup
        submission.family_key = family_key.public_key.raw
        submission.family_outline = seal_outline(desk.desk_id, submission, family_key.public_key,
                                                 len(attachments))
    session.add(submission)
    session.flush()
    session.add_all(attachments)
    session.commit()
    return submission


def seal_outline(desk_id: str, submission: Submission, family_key: PublicKey,
                 attachment_count: int) -> bytes:
    """Seal what the family may see of its own submission: when, and how many files."""
    outline = {"received_on": submission.received_on.isoformat(),
               "attachments": attachment_count}
    return seal_for_family(json.dumps(outline).encode(), family_key, desk_id=desk_id,
                           record_id=submission.id, field="outline")


def _file_attachment(store: Store, batch: UploadBatch, received: ReceivedFile, position: int,
                     keep_original: bool) -> Attachment:
    upload = received.upload
    meta: dict[str, Any] = {
        "filename": received.client_filename, "content_type": received.untrusted_content_type,
        "size": upload.size, "sha256_received": upload.sha256.hexdigest(), "scrubbed": False,
        "role": received.role,
    }
    if not keep_original and upload.size <= MAX_SCRUB_BYTES:
        upload = _scrubbed(store, batch, upload, meta)
    upload.blob.commit()
    return Attachment(id=upload.file_id, submission_id=batch.record_id, blob=upload.blob.name,
                      position=position,
                      meta=encrypt_field(batch.data_key, json.dumps(meta).encode(),
                                         record_id=batch.record_id,
                                         field=f"attachment:{upload.file_id}"))


def _scrubbed(store: Store, batch: UploadBatch, upload: EncryptedUpload,
              meta: dict[str, Any]) -> EncryptedUpload:
    """Replace an image upload with one rebuilt from its pixels; other files pass through."""
    upload.blob.file.seek(0)
    segments = decrypt_stream(batch.data_key, upload.blob.file, record_id=batch.record_id,
                              file_id=upload.file_id)
    head = next(segments, b"")
    if not looks_like_image(head):
        return upload
    plaintext = head + b"".join(segments)
    try:
        clean, content_type = scrub(plaintext)
    except NotAnImage:
        return upload
    replacement = batch.new_upload(replacing=True)
    replacement.write(clean)
    replacement.seek(0)
    upload.blob.discard()
    meta.update(scrubbed=True, stored_content_type=content_type, stored_size=len(clean),
                sha256_stored=hashlib.sha256(clean).hexdigest())
    return replacement


def blob_names(session: Session) -> set[str]:
    """Return every blob a record refers to."""
    return {name for (name,) in session.query(Attachment.blob)}



def find_case(session: Session, desk: Desk, code: str) -> tuple[Submission | None, PrivateKey]:
    """Find the case a follow-up code opens; the same work is done whether or not it exists."""
    lookup, family_key = derive_family_key(code, desk.pepper, desk.code_profile)
    case = session.query(Submission).filter_by(family_lookup=lookup, parent_id=None).first()
    return case, family_key


def case_outline(session: Session, desk: Desk, case: Submission,
                 family_key: PrivateKey) -> dict[str, Any]:
    """Return what the family may see: when it was received, file and addition counts."""
    outline: dict[str, Any] = json.loads(open_for_family(
        case.family_outline or b"", family_key, desk_id=case.desk_id, record_id=case.id,
        field="outline"))
    outline["additions"] = session.query(Submission).filter_by(parent_id=case.id).count()
    outline["status"] = case.status
    return outline
