"""The audit log: a hash chain of who did what to which id, never what anyone wrote.

Each entry hashes the one before it, so an edited, deleted, inserted or
reordered entry breaks the chain from that point. A head row, updated in the
same transaction as each entry, records how many entries there are and the
last one's hash, so entries cut from the end show too. Someone who can write
the whole database can rewrite the chain and its head together; checkpoints
catch that. At each unlock the account signs the head (count and hash) with
its certified signing key: a rewrite of any entry a checkpoint covers no
longer matches that checkpoint, and a new checkpoint cannot be forged without
a certified signing key. What checkpoints cannot catch: a rewrite of entries
after the newest checkpoint, and (if the checkpoints are deleted with them)
a rewrite of everything; a copy of the head kept elsewhere (`intake audit
verify` prints it) still reveals those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.crypto.certs import parse_certificate
from intake.crypto.chain import Chain
from intake.crypto.signing import SignatureError, SigningPrivateKey, SigningPublicKey, Use
from intake.store.models import AuditCheckpoint, AuditEvent, AuditHead

GENESIS = "0" * 64


class AuditError(Exception):
    """The audit log has been altered, or its head is missing."""


def entry_digest(prev_hash: str, at: str, actor_id: str | None, action: str,
                 subject_id: str | None, detail: str) -> str:
    """Return an entry's hash from the one before it and its fields (evidence bundles check it)."""
    canonical = json.dumps([prev_hash, at, actor_id, action, subject_id, detail],
                           separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


_digest = entry_digest


def record(session: Session, actor_id: str | None, action: str, subject_id: str | None = None,
           detail: str = "") -> AuditEvent:
    """Append an entry to the chain, and move its head, in the caller's transaction."""
    head = _locked_head(session)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    event = AuditEvent(at=at, actor_id=actor_id, action=action, subject_id=subject_id,
                       detail=detail, prev_hash=head.hash,
                       hash=_digest(head.hash, at, actor_id, action, subject_id, detail))
    session.add(event)
    head.count, head.hash = head.count + 1, event.hash
    return event


def _locked_head(session: Session) -> AuditHead:
    """Take the head row's write lock, then read it fresh.

    Two requests that read the same head would both link to it; the unique
    prev_hash refuses the second, and its whole change (a status, a reply)
    would be lost. An update of the head, even one that changes nothing, takes
    SQLite's write lock (and the row's lock elsewhere) for the rest of the
    transaction, so concurrent writers queue instead.
    """
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count))
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        # Never rebuilt from the chain: that would hide a cut tail.
        raise AuditError("the audit log's head is missing: run `intake audit verify`")
    return head


def first_broken(session: Session) -> int | None:
    """Return the sequence number of the first entry that breaks the chain, or None."""
    prev_hash = GENESIS
    for event in session.query(AuditEvent).order_by(AuditEvent.seq).yield_per(1000):
        expected = _digest(prev_hash, event.at, event.actor_id, event.action, event.subject_id,
                           event.detail)
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.seq
        prev_hash = event.hash
    return None


def verify(session: Session) -> AuditHead:
    """Check every entry and the head; return the head, or raise AuditError saying where."""
    broken = first_broken(session)
    if broken is not None:
        raise AuditError(f"the audit log is broken at entry {broken}")
    count = session.query(AuditEvent).count()
    last = session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    head = session.get(AuditHead, 1)
    if head is None:
        raise AuditError("the audit log's head is missing: entries may have been cut")
    if head.count != count or head.hash != (last.hash if last else GENESIS):
        raise AuditError(f"the audit log holds {count} entries but its head records "
                         f"{head.count}: entries were cut from or added to its end")
    return head


def trail(session: Session, subject_id: str) -> list[AuditEvent]:
    """Return the entries about one subject, oldest first."""
    return (session.query(AuditEvent).filter_by(subject_id=subject_id)
            .order_by(AuditEvent.seq).all())


def checkpoint_message(desk_id: str, count: int, head: str, account_id: str,
                       chain_length: int, chain_head: str) -> bytes:
    """Return the bytes a checkpoint's signature covers (evidence bundles check it offline)."""
    return json.dumps(["intake/audit-checkpoint", 2, desk_id, count, head, account_id,
                       chain_length, chain_head], separators=(",", ":"),
                      ensure_ascii=True).encode()


def _checkpoint_message(entry: AuditCheckpoint) -> bytes:
    return checkpoint_message(entry.desk_id, entry.count, entry.hash, entry.account_id,
                              entry.chain_length, entry.chain_head)


def checkpoint(session: Session, chain: Chain, account: str,
               key: SigningPrivateKey) -> AuditCheckpoint:
    """Sign the log's head as it stands in this transaction and the chain's head as checked.

    Called after the unlock's own entry is added, with the chain the login just checked.
    """
    # The caller's record() took the head's lock in this transaction; reading it again with
    # _locked_head would reload it from the database over the unflushed new entry.
    session.flush()
    head = session.get(AuditHead, 1)
    if head is None:
        raise AuditError("the audit log's head is missing: run `intake audit verify`")
    entry = AuditCheckpoint(desk_id=chain.desk, count=head.count, hash=head.hash,
                            account_id=account, chain_length=chain.length,
                            chain_head=chain.head.hex(), signature=b"")
    entry.signature = key.sign(_checkpoint_message(entry), Use.AUDIT_CHECKPOINT)
    session.add(entry)
    return entry


def check_checkpoints(session: Session, chain: Chain, blobs: list[bytes]) -> tuple[int, int]:
    """Check every checkpoint against the log and the chain; return (checkpoints, entries covered).

    Raises AuditError naming the first checkpoint that does not hold: for the
    log, the entries it brackets (after the newest checkpoint that still
    holds, up to the failing one) were changed, deleted, inserted or
    reordered; for the chain, certificates were cut from its end or replaced.
    """
    hashes = [h for (h,) in session.query(AuditEvent.hash).order_by(AuditEvent.seq)]
    digests = [hashlib.sha256(parse_certificate(blob).signed).hexdigest() for blob in blobs]
    covered = 0
    checkpoints = session.query(AuditCheckpoint).filter_by(desk_id=chain.desk).order_by(
        AuditCheckpoint.count, AuditCheckpoint.id).all()
    for entry in checkpoints:
        message = _checkpoint_message(entry)
        if not any(checkpoint_signed_by(key, entry.signature, message)
                   for key in chain.signing_keys_at(entry.account_id, entry.chain_length)):
            raise AuditError(f"checkpoint {entry.id} is not signed by a key this desk certified "
                             f"for its account when it was signed: it was forged or edited")
        if not 0 < entry.chain_length <= len(digests) \
                or digests[entry.chain_length - 1] != entry.chain_head:
            raise AuditError(f"checkpoint {entry.id} saw {entry.chain_length} certificates "
                             f"ending in another one than the keyring holds now "
                             f"({len(digests)}): certificates were cut from the chain or "
                             "replaced")
        if entry.count > len(hashes):
            raise AuditError(f"checkpoint {entry.id} covers {entry.count} entries but the log "
                             f"holds {len(hashes)}: entries {len(hashes) + 1}-{entry.count} "
                             "or earlier ones were deleted")
        if entry.count and hashes[entry.count - 1] != entry.hash:
            raise AuditError(
                f"checkpoint {entry.id} does not match the log: an entry among "
                f"{covered + 1}-{entry.count} was changed, deleted, inserted or reordered "
                f"(entries 1-{covered} are covered by checkpoints that hold)")
        covered = max(covered, entry.count)
    return len(checkpoints), covered


def contradicting_checkpoint(session: Session, chain: Chain,
                             blobs: list[bytes]) -> AuditCheckpoint | None:
    """Return the checkpoint that saw the longest chain, if this chain does not extend it.

    Only checkpoints signed under a key certified at the length they saw count: anyone can
    delete checkpoints, but not make one, so this never refuses a chain on forged evidence.
    Certificates link to the one before, so a chain that extends the longest checkpoint's
    extends every shorter one's: one signature check suffices (at every login).
    """
    digests = [hashlib.sha256(parse_certificate(blob).signed).hexdigest() for blob in blobs]
    for entry in session.query(AuditCheckpoint).filter_by(desk_id=chain.desk).order_by(
            AuditCheckpoint.chain_length.desc(), AuditCheckpoint.id.desc()).yield_per(100):
        message = _checkpoint_message(entry)
        if not any(checkpoint_signed_by(key, entry.signature, message)
                   for key in chain.signing_keys_at(entry.account_id, entry.chain_length)):
            continue
        if not 0 < entry.chain_length <= len(digests) \
                or digests[entry.chain_length - 1] != entry.chain_head:
            return entry
        return None
    return None


def checkpoint_signed_by(key: bytes, signature: bytes, message: bytes) -> bool:
    """Say whether `signature` over a checkpoint message is the key's (public key bytes)."""
    try:
        SigningPublicKey(key).verify(signature, message, Use.AUDIT_CHECKPOINT)
    except SignatureError:
        return False
    return True
