"""Files kept between a form's rounds of corrections, readable only with the form's key.

When a testimony form comes back for changes, the files it carried stay in
the store as pending blobs, so a family on a slow connection does not send
them again. Who can decrypt: only someone holding the form's key, which lives
in a hidden field of the family's form and nowhere on the server; the
database holds a one-way tag of that key, the file's data key wrapped under
it and the file's description encrypted under it. Pending files expire at a
midnight two to three days on (PENDING_DAYS), are removed when the form is
accepted, and become part of a submission only then, re-encrypted under the
submission's own data key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from intake.crypto import decrypt_field, decrypt_stream, encrypt_field
from intake.store.blobs import Store
from intake.store.models import PendingFile
from intake.testimonies.submissions import ReceivedFile
from intake.testimonies.uploads import UploadBatch

# Pending files expire at a UTC midnight, so their rows date a family's last round to the
# day only. They must outlive the form's CSRF token, which is accepted on its day and the
# next (intake/web/untimed.py): a file kept on day D lives until the start of day D + 3 (48
# to 72 hours), so a form sent in time finds them all, and a form whose token has just
# expired still comes back with them.
PENDING_DAYS = 3
DAY = 24 * 3600
_KEY_BYTES = 32


@dataclass(frozen=True)
class FormKey:
    """The key a form carries: it names the form's pending files and encrypts them."""

    ref: str
    key: bytes

    @classmethod
    def from_token(cls, token: str | None) -> FormKey | None:
        """Read the token from a form's hidden field; None if it is not one we made."""
        try:
            raw = base64.urlsafe_b64decode((token or "") + "=" * (-len(token or "") % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _KEY_BYTES:
            return None
        # Two HMACs keyed by the form's secret, with different labels: the stored tag
        # reveals nothing about the encryption key.
        return cls(ref=hmac.new(raw, b"intake pending form ref", hashlib.sha256).hexdigest(),
                   key=hmac.new(raw, b"intake pending form key", hashlib.sha256).digest())


def new_form_token() -> str:
    """Make a fresh key for a form's pending files."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode().rstrip("=")


@dataclass(frozen=True)
class Listed:
    """A pending file as the family sees it on the re-rendered form."""

    file_id: str
    client_filename: str
    size: int


def expiry(now: int) -> int:
    """Return when a file kept now expires: a UTC midnight, never a time of day."""
    return (now // DAY + PENDING_DAYS) * DAY


def stash(session: Session, form: FormKey, batch: UploadBatch, files: list[ReceivedFile],
          now: int, room: int) -> list[str]:
    """Keep up to `room` received files for the form; return the names of those not kept."""
    kept, left_out = files[:max(room, 0)], files[max(room, 0):]
    # Ids are random and rows carry no insertion order: the place in the form is kept,
    # encrypted beside the name, so the files reach the submission in the order chosen.
    first = session.query(PendingFile).filter_by(form_ref=form.ref).count()
    for place, received in enumerate(kept, start=first):
        upload = received.upload
        upload.blob.commit()
        meta = {"filename": received.client_filename, "size": upload.size,
                "content_type": received.untrusted_content_type, "role": received.role,
                "place": place}
        session.add(PendingFile(
            id=upload.file_id, form_ref=form.ref, blob=upload.blob.name,
            record_id=batch.record_id, expires_at=expiry(now),
            wrapped_key=encrypt_field(form.key, batch.data_key, record_id=form.ref,
                                      field=f"pending-key:{upload.file_id}"),
            meta=encrypt_field(form.key, json.dumps(meta).encode(), record_id=form.ref,
                               field=f"pending-meta:{upload.file_id}")))
    session.commit()
    return [received.client_filename for received in left_out]


def keep_alive(session: Session, form: FormKey, now: int) -> None:
    """Push back the expiry of a form's files each time the form comes back to the family.

    The form's token lives no longer (see PENDING_DAYS), so a form sent in time finds every
    file still there.
    """
    session.query(PendingFile).filter(PendingFile.form_ref == form.ref,
                                      PendingFile.expires_at > now).update(
        {PendingFile.expires_at: expiry(now)})
    session.commit()


Opened = tuple[PendingFile, dict[str, object]]


def _rows(session: Session, form: FormKey, now: int) -> list[Opened]:
    """Return the form's live pending files with their metadata, in the order they were sent."""
    rows = session.query(PendingFile).filter(PendingFile.form_ref == form.ref,
                                             PendingFile.expires_at > now).all()
    opened = [(row, _meta(form, row)) for row in rows]
    return sorted(opened, key=lambda pair: int(pair[1].get("place", 0)))  # type: ignore[call-overload]


def _meta(form: FormKey, row: PendingFile) -> dict[str, object]:
    meta: dict[str, object] = json.loads(decrypt_field(
        form.key, row.meta, record_id=form.ref, field=f"pending-meta:{row.id}"))
    return meta


def listing(session: Session, form: FormKey, now: int) -> list[Listed]:
    """List the form's pending files by the names the family gave them."""
    listed = []
    for row, meta in _rows(session, form, now):
        listed.append(Listed(row.id, str(meta["filename"]), int(meta["size"])))  # type: ignore[call-overload]
    return listed


def restore(session: Session, store: Store, form: FormKey, batch: UploadBatch,
            now: int) -> list[ReceivedFile]:
    """Re-encrypt the form's pending files into this request's batch, in the order received."""
    restored = []
    for row, meta in _rows(session, form, now):
        data_key = decrypt_field(form.key, row.wrapped_key, record_id=form.ref,
                                 field=f"pending-key:{row.id}")
        upload = batch.new_upload(replacing=True)
        with store.open(row.blob) as blob:
            for segment in decrypt_stream(data_key, blob, record_id=row.record_id,
                                          file_id=row.id):
                upload.write(segment)
        upload.seek(0)
        restored.append(ReceivedFile(upload, str(meta["filename"]),
                                     str(meta["content_type"]), role=str(meta["role"])))
    return restored


def remove(session: Session, store: Store, form: FormKey, file_id: str) -> None:
    """Remove one pending file of this form (a file id of another form removes nothing)."""
    _delete(session, store, session.query(PendingFile).filter_by(form_ref=form.ref,
                                                                  id=file_id).all())


def discard_all(session: Session, store: Store, form: FormKey) -> None:
    """Remove every pending file of a form, once it is accepted."""
    _delete(session, store, session.query(PendingFile).filter_by(form_ref=form.ref).all())


def sweep_expired(session: Session, store: Store, now: int) -> int:
    """Remove pending files whose time is up; return how many."""
    rows = session.query(PendingFile).filter(PendingFile.expires_at <= now).all()
    _delete(session, store, rows)
    return len(rows)


def _delete(session: Session, store: Store, rows: list[PendingFile]) -> None:
    """Delete rows first, then their blobs: a crash between leaves only unreferenced blobs."""
    blobs = [row.blob for row in rows]
    for row in rows:
        session.delete(row)
    session.commit()
    for name in blobs:
        store.delete(name)

