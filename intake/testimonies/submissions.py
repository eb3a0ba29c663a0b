"""Storing a testimony: seal its data key to each chosen desk's current epoch, encrypt the rest.

Who can decrypt: holders of the private key of an epoch the data key is
sealed to (vetted reviewers of a desk the family chose, and that desk's
recovery key) read the answers and files; a desk the family did not choose
gets no sealed copy at all. The family, with its follow-up code, reads only
the outline sealed to its own key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from intake.crypto import (
    Keyring,
    PrivateKey,
    Profile,
    PublicKey,
    decrypt_stream,
    derive_family_key,
    encrypt_field,
    new_data_key,
    open_for_family,
    seal_case_key,
    seal_data_key,
    seal_for_family,
)
from intake.desk import trust
from intake.store.blobs import Store
from intake.store.db import DatabaseBusy, is_busy
from intake.store.models import (
    Attachment,
    CaseDesk,
    DeskRecord,
    KeyGeneration,
    PendingFile,
    Submission,
)
from intake.testimonies.images import NotAnImage, TooLargeToScrub, looks_like_image, scrub
from intake.testimonies.uploads import EncryptedUpload, UploadBatch

# Larger photos are refused unless the family keeps originals: cleaning one costs its
# size in memory plus its decoded pixels (see images.MAX_PIXELS) twice over.
MAX_SCRUB_BYTES = 32 * 1024 * 1024
MAX_CONCURRENT_SCRUBS = 2
_SCRUB_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_SCRUBS)


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
    # The desks the family chose (checked against the open desks); empty: the default desk.
    desk_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Desk:
    """Where a submission goes and the secrets needed to file it."""

    keyring: Keyring
    store: Store
    desk_id: str
    pepper: bytes
    code_profile: Profile
    root: bytes | None = None
    # The longest certificate chain this instance has seen (trust.HighWater).
    water: trust.HighWater | None = None
    # The pinned root of every desk (settings.desk_roots); `root` is the default desk's.
    roots: dict[str, bytes] = field(default_factory=dict)

    def root_of(self, desk_id: str) -> bytes | None:
        """Return the pinned root of one desk of the instance."""
        return self.root if desk_id == self.desk_id else self.roots.get(desk_id)


class AlreadyReceived(Exception):
    """The same form was sent twice; the first one was stored."""


class CodeTaken(Exception):
    """The follow-up code carried by the form already opens another testimony; nothing stored."""


class ImageRefused(Exception):
    """A photo cannot be cleaned of location details here; nothing was stored."""

    notice = "unreadable"

    def __init__(self, client_filename: str) -> None:
        """Keep the file's name to tell the family which one (never logged)."""
        super().__init__(f"an image cannot be scrubbed: {self.notice}")
        self.client_filename = client_filename


class ImageTooLarge(ImageRefused):
    """A photo is too large to clean of location details here; nothing was stored."""

    notice = "too_large"


def nonce_digest(pepper: bytes, form_nonce: str) -> str:
    """Return the stored form of a form's one-time nonce."""
    return hmac.new(pepper, form_nonce.encode(), hashlib.sha256).hexdigest()


def store_submission(session: Session, desk: Desk, new: NewSubmission,
                     today: dt.date) -> Submission:
    """Encrypt and durably store a submission; blobs are fsynced before the row commits."""
    digest = nonce_digest(desk.pepper, new.form_nonce) if new.form_nonce else None
    if digest and _nonce_taken(session, digest):
        raise AlreadyReceived
    # Every file is checked (and photos rebuilt) before any blob is made durable.
    prepared = [_prepared(new.batch, received, new.keep_originals) for received in new.files]
    chosen = _desks_of(session, desk, new)
    submission = _new_row(session, desk, chosen[0], new, today, digest)
    shared: list[CaseDesk | KeyGeneration] = [_case_desk(session, desk, other, new)
                                              for other in chosen[1:]]
    if shared and new.parent_id is None:
        shared.append(_own_generation(submission, desk))
    if new.family_code:
        _give_family_key(desk, submission, new.family_code, len(prepared))
        # Checked before any blob is made durable, so the form can come back with its
        # files; the unique lookup id still refuses a race (see _commit).
        if _lookup_taken(session, submission.family_lookup or ""):
            raise CodeTaken
    attachments = [_attachment(new.batch, upload, meta, position)
                   for position, (upload, meta) in enumerate(prepared)]
    _commit(session, desk.store, submission, attachments, digest, shared)
    return submission


def _desks_of(session: Session, desk: Desk, new: NewSubmission) -> list[str]:
    """Return the desks to seal to: an addition's case's desks, else the family's choice."""
    if new.parent_id is not None:
        parent = session.get(Submission, new.parent_id)
        if parent is None:
            raise ValueError("an addition to a case that does not exist")
        # Not to a retired desk: nobody holds its keys any more.
        retired = {row.id for row in session.query(DeskRecord).filter_by(retired=True)}
        open_ = [desk_id for desk_id in case_desk_ids(session, parent) if desk_id not in retired]
        if not open_:
            raise ValueError("every desk this case was given to is retired")
        return open_
    return list(dict.fromkeys(new.desk_ids)) or [desk.desk_id]


def case_desk_ids(session: Session, case: Submission) -> list[str]:
    """Return every desk a case is sealed to, the one its row names first."""
    others = session.query(CaseDesk.desk_id).filter_by(submission_id=case.id)
    return [case.desk_id, *sorted(desk_id for (desk_id,) in others)]


def _case_desk(session: Session, desk: Desk, desk_id: str, new: NewSubmission) -> CaseDesk:
    """Seal the data key to another chosen desk's current epoch, that desk in the binding."""
    record_id = new.batch.record_id
    epoch = trust.sealing_epoch(desk.keyring, desk_id, desk.root_of(desk_id), session,
                                desk.water)
    return CaseDesk(submission_id=record_id, desk_id=desk_id, epoch_id=epoch.id,
                    sealed_key=seal_data_key(new.batch.data_key, epoch.public_key,
                                             desk_id=desk_id, epoch_id=epoch.id,
                                             record_id=record_id),
                    work_key=seal_case_key(new_data_key(), epoch.public_key, desk_id=desk_id,
                                           epoch_id=epoch.id, record_id=record_id,
                                           generation=1),
                    status="new", family_status="received", priority=0)


def _own_generation(submission: Submission, desk: Desk) -> KeyGeneration:
    """Give the first chosen desk of a shared case a generation of its own to write under:
    the other chosen desks hold generation 0, never this one."""
    epoch = desk.keyring.epoch(submission.desk_id, submission.epoch_id)
    submission.key_generation = 1
    return KeyGeneration(submission_id=submission.id, generation=1, epoch_id=epoch.id,
                         sealed_key=seal_case_key(new_data_key(), epoch.public_key,
                                                  desk_id=submission.desk_id,
                                                  epoch_id=epoch.id, record_id=submission.id,
                                                  generation=1))


def _nonce_taken(session: Session, digest: str) -> bool:
    """Say whether a submission with this form nonce is already stored."""
    return session.query(Submission.id).filter_by(form_nonce=digest).first() is not None


def _new_row(session: Session, desk: Desk, desk_id: str, new: NewSubmission, today: dt.date,
             digest: str | None) -> Submission:
    """Seal the data key to the first chosen desk's epoch and encrypt the answers into a row."""
    batch, record_id = new.batch, new.batch.record_id
    # Raises TrustError unless the epoch chains to the desk's root: never seal to an unknown key.
    epoch = trust.sealing_epoch(desk.keyring, desk_id, desk.root_of(desk_id), session,
                                desk.water)
    return Submission(
        id=record_id, desk_id=desk_id, epoch_id=epoch.id, received_on=today,
        sealed_key=seal_data_key(batch.data_key, epoch.public_key, desk_id=desk_id,
                                 epoch_id=epoch.id, record_id=record_id),
        answers=encrypt_field(batch.data_key, json.dumps(new.answers).encode(),
                              record_id=record_id, field="answers"),
        status="new", priority=0, parent_id=new.parent_id, form_nonce=digest)


def _give_family_key(desk: Desk, submission: Submission, code: str, attachments: int) -> None:
    """Store the lookup id and public key the follow-up code stands for, and the outline."""
    lookup, family_key = derive_family_key(code, desk.pepper, desk.code_profile)
    submission.family_lookup = lookup
    submission.family_key = family_key.public_key.raw
    submission.family_outline = seal_outline(submission.desk_id, submission, family_key.public_key,
                                             attachments)


def _commit(session: Session, store: Store, submission: Submission,
            attachments: list[Attachment], digest: str | None,
            shared: list[CaseDesk | KeyGeneration] | None = None) -> None:
    """Commit the rows; if the same form reached the database first, remove this copy.

    Raises DatabaseBusy, having removed this copy's blobs, if other writers kept the
    database past every bound: the family sends the form again.
    """
    try:
        session.add(submission)
        session.flush()
        # One transaction: every chosen desk gets its sealed key, or none does.
        session.add_all([*(shared or []), *attachments])
        session.commit()
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        # A lock wait that ran out (at the first INSERT; SQLite's COMMIT in WAL mode and
        # PostgreSQL's never wait for one) leaves the transaction uncommitted.
        _forget(session, store, attachments)
        raise DatabaseBusy from None
    except IntegrityError:
        # Nothing of this copy was committed, so its blobs are referenced by no record.
        _forget(session, store, attachments)
        if digest and _nonce_taken(session, digest):
            raise AlreadyReceived from None
        if submission.family_lookup and _lookup_taken(session, submission.family_lookup):
            raise CodeTaken from None
        raise


def _forget(session: Session, store: Store, attachments: list[Attachment]) -> None:
    """Roll back an uncommitted submission and remove the blobs only it referred to."""
    session.rollback()
    for attachment in attachments:
        store.delete(attachment.blob)


def _lookup_taken(session: Session, lookup: str) -> bool:
    """Say whether a stored testimony already answers to this lookup id."""
    return session.query(Submission.id).filter_by(family_lookup=lookup).first() is not None


def seal_outline(desk_id: str, submission: Submission, family_key: PublicKey,
                 attachment_count: int) -> bytes:
    """Seal what the family may see of its own submission: when, and how many files."""
    outline = {"received_on": submission.received_on.isoformat(),
               "attachments": attachment_count}
    return seal_for_family(json.dumps(outline).encode(), family_key, desk_id=desk_id,
                           record_id=submission.id, field="outline")


def _prepared(batch: UploadBatch, received: ReceivedFile,
              keep_original: bool) -> tuple[EncryptedUpload, dict[str, Any]]:
    """Return the upload to store (a photo rebuilt without metadata) and its description."""
    upload = received.upload
    meta: dict[str, Any] = {
        "filename": received.client_filename, "content_type": received.untrusted_content_type,
        "size": upload.size, "sha256_received": upload.sha256.hexdigest(), "scrubbed": False,
        "role": received.role,
    }
    if keep_original or not looks_like_image(_head(batch, upload)):
        return upload, meta
    if upload.size > MAX_SCRUB_BYTES:
        raise ImageTooLarge(received.client_filename)
    try:
        return _scrubbed(batch, upload, meta), meta
    except TooLargeToScrub as exc:
        raise ImageTooLarge(received.client_filename) from exc
    except NotAnImage as exc:
        # It looks like a photo but cannot be rebuilt: storing it would keep its metadata.
        raise ImageRefused(received.client_filename) from exc


def _attachment(batch: UploadBatch, upload: EncryptedUpload, meta: dict[str, Any],
                position: int) -> Attachment:
    """Make an upload's blob durable and describe it in an encrypted attachment row."""
    upload.blob.commit()
    return Attachment(id=upload.file_id, submission_id=batch.record_id, blob=upload.blob.name,
                      position=position,
                      meta=encrypt_field(batch.data_key, json.dumps(meta).encode(),
                                         record_id=batch.record_id,
                                         field=f"attachment:{upload.file_id}"))


def _head(batch: UploadBatch, upload: EncryptedUpload) -> bytes:
    """Decrypt the first segment of an upload, enough to tell an image by its first bytes."""
    upload.blob.file.seek(0)
    segments = decrypt_stream(batch.data_key, upload.blob.file, record_id=batch.record_id,
                              file_id=upload.file_id, check_first=False)
    return next(segments, b"")


def _plaintext(batch: UploadBatch, upload: EncryptedUpload) -> io.BytesIO:
    """Decrypt an upload into one buffer, allocated once at its final size."""
    buffer = io.BytesIO()
    if upload.size:
        buffer.seek(upload.size - 1)
        buffer.write(b"\0")
        buffer.seek(0)
    upload.blob.file.seek(0)
    for segment in decrypt_stream(batch.data_key, upload.blob.file, record_id=batch.record_id,
                                  file_id=upload.file_id, check_first=False):
        buffer.write(segment)
    buffer.seek(0)
    return buffer


def _scrubbed(batch: UploadBatch, upload: EncryptedUpload,
              meta: dict[str, Any]) -> EncryptedUpload:
    """Replace an image upload with one rebuilt from its pixels; others pass through."""
    # Each scrub holds a decrypted file and decoded pixels: bound how many run at once.
    with _SCRUB_SLOTS:
        clean, content_type = scrub(_plaintext(batch, upload))
    replacement = batch.new_upload(replacing=True)
    replacement.write(clean)
    replacement.seek(0)
    # The original stays until the request ends: if another file is refused, the form
    # comes back and keeps every file as the family sent it.
    meta.update(scrubbed=True, stored_content_type=content_type, stored_size=len(clean),
                sha256_stored=hashlib.sha256(clean).hexdigest())
    return replacement


def blob_names(session: Session) -> set[str]:
    """Return every blob a record refers to, pending files of unfinished forms included."""
    return ({name for (name,) in session.query(Attachment.blob)}
            | {name for (name,) in session.query(PendingFile.blob)})


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
    outline["status"] = case.family_status
    # Each desk the family chose, with the progress that desk chose to show it.
    # A desk another one referred the case to names the desk that did (with the consent asked).
    outline["desks"] = [(case.desk_id, case.family_status, None)] + [
        (row.desk_id, row.family_status, row.referred_by) for row in session.query(
            CaseDesk).filter_by(submission_id=case.id).order_by(CaseDesk.desk_id)]
    return outline
