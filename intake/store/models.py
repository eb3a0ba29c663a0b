"""Database models. Anything a person typed is stored as ciphertext only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.store.db import Base

ROLES = ("admin", "reviewer", "operator")
# users.desk_id (and invites.desk_id) of an operator, who belongs to no desk: no desk id can be
# "-" (desks.DESK_ID), so no query for a desk's accounts (its id, or NULL for the first) finds it.
NO_DESK = "-"
# SQLite numbers rows in arrival order in a hidden rowid; tables that show when
# families came are stored without it, in the order of their random ids.
NO_ROWID = {"sqlite_with_rowid": False}


class User(Base):
    """A reviewer or admin; their key pair lives in the keyring under `id`."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="active")
    key_fingerprint: Mapped[str] = mapped_column(String(32))
    passphrase_verifier: Mapped[bytes] = mapped_column(LargeBinary)
    totp_secret: Mapped[bytes] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(default=0)
    created_on: Mapped[dt.date]
    # Set by an admin after a phishing or a lost device: no grant is made to this key pair,
    # and the owner is asked to replace it (see rekey.py).
    must_replace_keys: Mapped[bool] = mapped_column(default=False)
    # The desk this account works for; None is the instance's first desk (settings.desk_id).
    desk_id: Mapped[str | None] = mapped_column(String(64), default=None)


class Submission(Base):
    """A testimony: its data key sealed to a desk epoch, its answers encrypted under that key."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_desk_epoch", "desk_id", "epoch_id"),
                      Index("ix_submissions_received", "received_on"),
                      Index("ix_submissions_parent", "parent_id", "received_on"), NO_ROWID)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64))
    epoch_id: Mapped[int]
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    answers: Mapped[bytes] = mapped_column(LargeBinary)
    received_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(32), default="new")
    # The progress message reviewers chose for the family to see with its code.
    family_status: Mapped[str] = mapped_column(String(32), default="received")
    priority: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Material a family added later through follow-up points at the case it belongs to.
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), default=None)
    # Derived from the follow-up code through Argon2id with the instance pepper.
    family_lookup: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    family_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # What the family sees of its own submission (dates, counts), sealed to its key.
    family_outline: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # HMAC of the form's one-time nonce: a resent form is recognised, not stored twice.
    form_nonce: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # Labels are what reviewers typed, so they are ciphertext under the case key.
    labels: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The reviewers' assessment (violation, source reliability and connection), encrypted.
    assessment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The newest data key generation (see KeyGeneration); 0 until a rotation adds one.
    key_generation: Mapped[int] = mapped_column(default=0)


class KeyGeneration(Base):
    """A later generation of a record's data key, made at a rotation, sealed to one epoch.

    Generation 0 is the submission's own sealed key; every generation of a
    record is sealed to the same epoch as it, and re-sealed with it.
    """

    __tablename__ = "key_generations"
    __table_args__ = NO_ROWID

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    generation: Mapped[int] = mapped_column(primary_key=True)
    epoch_id: Mapped[int]
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class SearchRow(Base):
    """A case's normalised search text for one desk, under that desk's epoch `epoch_id`'s index key.

    One row per case and desk it was given to (additions included in their
    case's row); a case without a row for a desk is indexed by the next search
    of a reviewer of that desk.
    """

    __tablename__ = "search_index"
    __table_args__ = NO_ROWID

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    # The desk whose reviewers read and write this row: each desk only its own rows.
    desk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch_id: Mapped[int]
    sealed_text: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """A file sent with a submission: a blob in the store and its encrypted description."""

    __tablename__ = "attachments"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    blob: Mapped[str] = mapped_column(String(32), unique=True)
    # File name, type, size, SHA-256 and scrubbing, encrypted under the submission's key.
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    position: Mapped[int] = mapped_column(default=0)


class ReviewSession(Base):
    """An unlocked reviewer session: its epoch keys encrypted under a key only the cookie holds."""

    __tablename__ = "review_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    sealed_keys: Mapped[bytes] = mapped_column(LargeBinary)
    # Case data keys this session has opened, under the same cookie-held key.
    sealed_case_keys: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Unix times: 64-bit, as PostgreSQL's integer ends in 2038 (0014_pg).
    started_at: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[int] = mapped_column(BigInteger)


class Note(Base):
    """A reviewer-only note on a case, encrypted under the case's data key."""

    __tablename__ = "notes"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    written_on: Mapped[dt.date]


class Reply(Base):
    """A reply to the family: sealed to the family's key, and to the desk under the case key."""

    __tablename__ = "replies"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    for_family: Mapped[bytes] = mapped_column(LargeBinary)
    for_desk: Mapped[bytes] = mapped_column(LargeBinary)
    written_on: Mapped[dt.date]


class CaseRead(Base):
    """That a reviewer has opened a case (for the unread filter)."""

    __tablename__ = "case_reads"
    __table_args__ = NO_ROWID

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)


class AuditEvent(Base):
    """One entry of the hash-chained audit log: ids and actions, never content."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The audit chain's end (one row): entry count and last hash, so a cut tail shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column()
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """The audit log's and the certificate chain's heads as one account saw them at an unlock,
    signed with its signing key."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    desk_id: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column()
    hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(64))
    chain_length: Mapped[int] = mapped_column()
    chain_head: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class CaseLink(Base):
    """Two testimonies a reviewer confirmed are about the same person (ids only)."""

    __tablename__ = "case_links"
    __table_args__ = NO_ROWID

    first_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    second_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    confirmed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    confirmed_on: Mapped[dt.date]


class Invite(Base):
    """A one-time, expiring link: to enrol a new account or to re-enrol a second factor."""

    __tablename__ = "invites"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "enrol" or "totp_reset"
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    totp_secret: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    # The desk the account will belong to; None is the instance's first desk.
    desk_id: Mapped[str | None] = mapped_column(String(64), default=None)


class InstanceSetting(Base):
    """A setting changed from the admin page, overriding config.py."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))


class PendingFile(Base):
    """A file received with a form that came back for changes; not yet part of any submission.

    Its blob is encrypted under a data key that is stored only wrapped under a
    key the family's form carries, so the server alone cannot read it.
    """

    __tablename__ = "pending_files"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # One-way tag of the form's key: finds the form's files without revealing the key.
    form_ref: Mapped[str] = mapped_column(String(64), index=True)
    blob: Mapped[str] = mapped_column(String(32), unique=True)
    record_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    # Unix time of a UTC midnight: enough to expire it, not to time a visit.
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class SavedFilter(Base):
    """An inbox filter a reviewer saved: plaintext columns only (status, assignee, priority,
    received days, unread), never search text or labels, which are ciphertext elsewhere."""

    __tablename__ = "saved_filters"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # A query string of the allowed keys only, checked when saved (review/saved.py).
    params: Mapped[str] = mapped_column(String(400))
    position: Mapped[int] = mapped_column(default=0)


class DeskRecord(Base):
    """A desk families may choose: its name and what it does, per language (JSON)."""

    __tablename__ = "desks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    names: Mapped[str] = mapped_column(String(2000))
    descriptions: Mapped[str] = mapped_column(String(8000))
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)


class CaseDesk(Base):
    """Another chosen desk's share of a case: the data key sealed to its epoch (that desk in
    `info`), its own work key, and its own triage, which the other desks never see."""

    __tablename__ = "case_desks"
    __table_args__ = (Index("ix_case_desks_desk", "desk_id", "submission_id"), NO_ROWID)

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch_id: Mapped[int]
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Generation 1 of this desk's keys of the case, sealed to the same epoch: its notes,
    # replies, labels and assessment are encrypted under it, which no other desk holds.
    work_key: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(32), default="new")
    family_status: Mapped[str] = mapped_column(String(32), default="received")
    priority: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    labels: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    assessment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The desk that referred the case here with the family's consent; None: the family chose it.
    referred_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # The newest generation of this desk's work key: 1, and one more at each of its rotations.
    key_generation: Mapped[int] = mapped_column(default=1)

    @property
    def id(self) -> str:
        """The case's id: what this desk writes is bound to it, as the first desk's is."""
        return self.submission_id


class CaseDeskKey(Base):
    """A later generation of one desk's work key of a shared case, made at that desk's
    rotation and sealed to its new epoch alone."""

    __tablename__ = "case_desk_keys"
    __table_args__ = NO_ROWID

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(primary_key=True)
    epoch_id: Mapped[int]
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class ShareRequest(Base):
    """A family's request, made with its code, that a desk be given its case: the case, the
    desk and the UTC day only. A desk holding the case carries it out as a referral; it is
    done once the asked desk holds the case (a `case_desks` row)."""

    __tablename__ = "share_requests"
    __table_args__ = NO_ROWID

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    desk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asked_on: Mapped[dt.date]
