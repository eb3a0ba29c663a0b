"""Rotating a desk's epoch key: new epoch, re-seal every data key to it, retire the old.

Every step leaves every submission decryptable, and running the rotation
again resumes where it stopped:

1. The new epoch's key pair is made and granted to the recovery key and to
   the rotating admin before anything depends on it; an epoch that died
   before its first grant is unusable and is discarded on the next run.
2. It is granted to every vetted account (active, and holding a grant of an
   older epoch still in use) and becomes current: new submissions are sealed
   to it at once. An enrolled account nobody has vetted gets nothing.
3. Data keys sealed to older epochs are re-sealed in batches, each batch one
   transaction; an interrupted batch rolls back to keys the old grants open.
   In the same transaction each such record gets a new data key generation
   sealed to the new epoch only: what reviewers write on it from then on is
   encrypted under a key no account revoked before this rotation ever held.
   A record re-sealed (and so given its generation) is not picked again, so a
   resumed rotation never gives a record two. Then every search index row of
   an older epoch is re-encrypted under the new epoch's index key, in batches
   too (a row still on an older epoch is what is left to do).
4. Once an old epoch holds no record (and requests that began before the
   switch have had time to finish), the new epoch's grants are checked
   against the accounts once more, then the old grants are destroyed and
   the old epoch is marked retired.
5. Nothing old is left to recover: the grant files were overwritten before
   they were unlinked, temporary keyring files a crash left are removed,
   SQLite overwrote the freed space (`secure_delete`), and the write-ahead
   log, which still holds every old page, is checkpointed and truncated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.orm import Session

from intake.crypto import (
    DecryptionError,
    Epoch,
    Keyring,
    PrivateKey,
    grant_epoch,
    new_data_key,
    open_case_key,
    open_data_key,
    open_epoch_key,
    seal_case_key,
    seal_data_key,
    unlock_epochs,
)
from intake.crypto.chain import Chain
from intake.desk import trust
from intake.desk.trust import Signer
from intake.staff.accounts import grant
from intake.staff.sessions import EpochKeys
from intake.store.db import vacuum
from intake.store.models import CaseDesk, CaseDeskKey, KeyGeneration, Submission, User
from intake.testimonies import search


class RotationError(Exception):
    """The rotation cannot go on as asked; the message says why and what to do."""


@dataclass(frozen=True)
class EpochState:
    """One epoch as `intake keys status` shows it."""

    epoch: Epoch
    records: int
    grants: int
    current: bool


def status(db: Session, keyring: Keyring, desk_id: str) -> list[EpochState]:
    """Return every epoch of a desk with how many records and grants it holds."""
    counts = dict(db.query(Submission.epoch_id, func.count()).filter(
        Submission.desk_id == desk_id).group_by(Submission.epoch_id).all())
    # Cases another desk was chosen first for, whose copy for this desk is sealed here.
    for epoch_id, shared in db.query(CaseDesk.epoch_id, func.count()).filter(
            CaseDesk.desk_id == desk_id).group_by(CaseDesk.epoch_id):
        counts[epoch_id] = counts.get(epoch_id, 0) + shared
    current = keyring.desk(desk_id).current_epoch
    return [EpochState(e, counts.get(e.id, 0), len(keyring.grant_recipients(desk_id, e.id)),
                       e.id == current) for e in keyring.epochs(desk_id)]


def unfinished(states: list[EpochState]) -> bool:
    """Say whether a rotation was interrupted (an old epoch is not yet retired)."""
    current = next(s.epoch.id for s in states if s.current)
    return any(not s.epoch.retired and s.epoch.id != current for s in states)


def begin(db: Session, keyring: Keyring, desk_id: str, admin_key: PrivateKey,
          now: int, signer: Signer | None = None,
          water: trust.HighWater | None = None) -> tuple[Epoch, PrivateKey, bool]:
    """Return the epoch to rotate to (granted to the vetted, current), its key, whether resumed.

    On a certified keyring the new epoch is certified by `signer` after its
    grants and before it becomes current: a crash before the certificate
    leaves an epoch that is not current (resumed or discarded by the next
    run), never a current epoch without its certificate.
    """
    chain = _chain(keyring, desk_id, signer)
    if chain is not None:
        try:
            trust.check_not_cut(db, keyring, chain, water)
        except trust.TrustError as exc:
            raise RotationError(f"the rotation stopped: {exc}") from exc
    resumed = _pending(keyring, desk_id, admin_key, chain)
    if resumed is None and unfinished(status(db, keyring, desk_id)):
        resumed = _reopen(keyring, keyring.current_epoch(desk_id), admin_key)
        if resumed is None:
            raise RotationError("this admin holds no grant for the current epoch")
        if not _may_reseal_to(chain, resumed[0]):
            raise RotationError("the keyring's current epoch is not the newest one its "
                                "certificates name: nothing was re-sealed (run `intake keys "
                                "status`)")
        reconcile(db, keyring, *resumed, chain=chain)
        return *resumed, True
    # An epoch number certified once is never used again, even if its epoch was discarded.
    after = max(chain.epochs) if chain is not None and chain.epochs else 0
    epoch, key = resumed or _new_epoch(keyring, desk_id, admin_key, after, chain)
    reconcile(db, keyring, epoch, key, chain=chain)
    if signer is not None and chain is not None:
        trust.certify_epoch(keyring, signer, epoch, water)
    keyring.set_current_epoch(desk_id, epoch.id, now)
    return epoch, key, resumed is not None


def _chain(keyring: Keyring, desk_id: str, signer: Signer | None) -> Chain | None:
    """Return the desk's verified chain, None in warning mode; refuse a rotation it cannot sign."""
    if not keyring.certificates(desk_id):
        return None
    if signer is None:
        raise RotationError("this keyring is certified: the rotation needs the signing key of "
                            "an admin whose keys are certified (log in once to get one)")
    try:
        return trust.load_chain(keyring, desk_id, signer.root)
    except trust.TrustError as exc:
        raise RotationError(f"the rotation stopped: {exc}") from exc


def _may_reseal_to(chain: Chain | None, epoch: Epoch) -> bool:
    """Say whether records may be re-sealed to `epoch`: the newest certified one, this key."""
    return chain is None or (chain.epochs.get(epoch.id) == epoch.public_key.raw
                             and epoch.id == max(chain.epochs))


def _pending(keyring: Keyring, desk_id: str, admin_key: PrivateKey,
             chain: Chain | None = None) -> tuple[Epoch, PrivateKey] | None:
    """Return the newest epoch an earlier run made but never switched to, discarding others.

    On a certified keyring an uncertified one is discarded too: anyone who can write the
    keyring can make an epoch and a grant of it to this admin, and resuming it would
    certify it. A run that stopped before certifying just makes a new one.
    """
    resumed = None
    current = keyring.desk(desk_id).current_epoch
    for epoch in sorted(keyring.epochs(desk_id), key=lambda e: e.id, reverse=True):
        if epoch.id <= current:
            break
        if resumed is None and (chain is None or chain.epochs.get(epoch.id)
                                == epoch.public_key.raw):
            resumed = _reopen(keyring, epoch, admin_key)
            if resumed is not None:
                continue
        # Never current, so nothing is sealed to it: an unusable start is discarded.
        keyring.remove_epoch(desk_id, epoch.id)
    return resumed


def reconcile(db: Session, keyring: Keyring, target: Epoch, key: PrivateKey,
              chain: Chain | None = None) -> None:
    """Grant `target` to every vetted active account, and take it from every inactive one.

    On a certified keyring only accounts whose certified key is the one in the
    keyring are granted: a key swapped in the keyring gets nothing.
    """
    vetted = {fingerprint for epoch in keyring.epochs(target.desk_id)
              if epoch.id <= target.id and not epoch.retired
              for fingerprint in keyring.grant_recipients(target.desk_id, epoch.id)}
    for user in db.query(User).populate_existing().all():
        fingerprint = bytes.fromhex(user.key_fingerprint)
        if user.state != "active" or user.role == "operator":
            # An operator holds no desk's keys: a grant found for it was planted.
            keyring.delete_grant(target.desk_id, target.id, fingerprint)
        elif (fingerprint in vetted
              and keyring.grant(target.desk_id, target.id, fingerprint) is None):
            grant(db, keyring, target, key, user, chain)


def _reopen(keyring: Keyring, epoch: Epoch, admin_key: PrivateKey) -> tuple[Epoch,
                                                                            PrivateKey] | None:
    sealed = keyring.grant(epoch.desk_id, epoch.id, admin_key.fingerprint)
    if sealed is None:
        return None
    try:
        return epoch, open_epoch_key(sealed, admin_key, desk_id=epoch.desk_id, epoch_id=epoch.id,
                                     epoch_public=epoch.public_key)
    except DecryptionError:
        return None


def _new_epoch(keyring: Keyring, desk_id: str, admin_key: PrivateKey, after: int,
               chain: Chain | None) -> tuple[Epoch, PrivateKey]:
    recovery = keyring.recovery_key(desk_id)
    # The recovery key in the keyring is a file anyone who can write the keyring can swap:
    # the new epoch goes only to the one the root certificate names.
    if chain is not None and recovery.raw != chain.recovery_hpke:
        raise RotationError("the recovery key in the keyring is not the one the desk's root "
                            "certificate names; nothing was changed. Compare the keyring "
                            "with a backup you trust (`intake keys status`).")
    key = PrivateKey.generate()
    epoch = keyring.add_epoch(desk_id, key.public_key, dt.date.today(), after=after)
    grant_epoch(keyring, epoch, key, recovery)
    grant_epoch(keyring, epoch, key, admin_key.public_key)
    return epoch, key


def remaining(db: Session, desk_id: str, target: Epoch) -> int:
    """Count the records still sealed to older epochs."""
    return db.query(Submission).filter(Submission.desk_id == desk_id,
                                       Submission.epoch_id != target.id).count() \
        + db.query(CaseDesk).filter(CaseDesk.desk_id == desk_id,
                                    CaseDesk.epoch_id != target.id).count()


def reseal(db: Session, keyring: Keyring, target: Epoch, admin_key: PrivateKey,
           batch: int) -> Iterator[int]:
    """Re-seal older data keys to `target` and add a generation, one committed batch at a time;
    yield batch sizes."""
    old_keys = unlock_epochs(keyring, admin_key)
    while True:
        rows = db.query(Submission).filter(Submission.desk_id == target.desk_id,
                                           Submission.epoch_id != target.id).limit(batch).all()
        if not rows:
            yield from _reseal_shared(db, target, old_keys, batch)
            return
        generations = _generations(db, rows)
        try:
            for row in rows:
                _reseal_record(db, row, generations.get(row.id, []), old_keys, target)
        except BaseException:
            db.rollback()
            raise
        db.commit()
        yield len(rows)


def _reseal_shared(db: Session, target: Epoch, old_keys: EpochKeys,
                   batch: int) -> Iterator[int]:
    """Re-seal this desk's copies of cases shared with it (data key and its own work key),
    one committed batch at a time; no other desk's row is read or written."""
    desk_id = target.desk_id
    while True:
        rows = db.query(CaseDesk).filter(CaseDesk.desk_id == desk_id,
                                         CaseDesk.epoch_id != target.id).limit(batch).all()
        if not rows:
            return
        try:
            for row in rows:
                old = _old_key(old_keys, desk_id, row.epoch_id)
                data_key = open_data_key(row.sealed_key, old, desk_id=desk_id,
                                         epoch_id=row.epoch_id, record_id=row.submission_id)
                work_key = open_case_key(row.work_key, old, desk_id=desk_id,
                                         epoch_id=row.epoch_id, record_id=row.submission_id,
                                         generation=1)
                row.sealed_key = seal_data_key(data_key, target.public_key, desk_id=desk_id,
                                               epoch_id=target.id, record_id=row.submission_id)
                row.work_key = seal_case_key(work_key, target.public_key, desk_id=desk_id,
                                             epoch_id=target.id, record_id=row.submission_id,
                                             generation=1)
                _reseal_work_generations(db, row, old_keys, target)
                row.epoch_id = target.id
        except BaseException:
            db.rollback()
            raise
        db.commit()
        yield len(rows)


def _reseal_work_generations(db: Session, row: CaseDesk, old_keys: EpochKeys,
                             target: Epoch) -> None:
    """Re-seal a desk's later work keys of a shared case to `target`, then add one sealed to
    it alone: what that desk writes from now on opens with no key a revoked account kept."""
    desk_id = target.desk_id
    for generation in db.query(CaseDeskKey).filter_by(submission_id=row.submission_id,
                                                      desk_id=desk_id):
        key = open_case_key(generation.sealed_key,
                            _old_key(old_keys, desk_id, generation.epoch_id), desk_id=desk_id,
                            epoch_id=generation.epoch_id, record_id=row.submission_id,
                            generation=generation.generation)
        generation.sealed_key = seal_case_key(key, target.public_key, desk_id=desk_id,
                                              epoch_id=target.id, record_id=row.submission_id,
                                              generation=generation.generation)
        generation.epoch_id = target.id
    row.key_generation += 1
    db.add(CaseDeskKey(submission_id=row.submission_id, desk_id=desk_id,
                       generation=row.key_generation, epoch_id=target.id,
                       sealed_key=seal_case_key(new_data_key(), target.public_key,
                                                desk_id=desk_id, epoch_id=target.id,
                                                record_id=row.submission_id,
                                                generation=row.key_generation)))


def _generations(db: Session, rows: list[Submission]) -> dict[str, list[KeyGeneration]]:
    """Load the later key generations of a batch of records in one query."""
    found: dict[str, list[KeyGeneration]] = {}
    for generation in db.query(KeyGeneration).filter(
            KeyGeneration.submission_id.in_([row.id for row in rows])):
        found.setdefault(generation.submission_id, []).append(generation)
    return found


def _old_key(keys: EpochKeys, desk_id: str, epoch_id: int) -> PrivateKey:
    key = keys.get((desk_id, epoch_id))
    if key is None:
        raise RotationError(f"this admin holds no grant for epoch {epoch_id}; "
                            "rotate as an admin who does, or run `intake recover`")
    return key


def _reseal_record(db: Session, row: Submission, generations: list[KeyGeneration],
                   old_keys: EpochKeys, target: Epoch) -> None:
    """Re-seal every generation of one record to `target`, then add one sealed to it alone."""
    data_key = open_data_key(row.sealed_key, _old_key(old_keys, row.desk_id, row.epoch_id),
                             desk_id=row.desk_id, epoch_id=row.epoch_id, record_id=row.id)
    row.sealed_key = seal_data_key(data_key, target.public_key, desk_id=row.desk_id,
                                   epoch_id=target.id, record_id=row.id)
    for generation in generations:
        key = open_case_key(generation.sealed_key,
                            _old_key(old_keys, row.desk_id, generation.epoch_id),
                            desk_id=row.desk_id, epoch_id=generation.epoch_id, record_id=row.id,
                            generation=generation.generation)
        generation.sealed_key = seal_case_key(key, target.public_key, desk_id=row.desk_id,
                                              epoch_id=target.id, record_id=row.id,
                                              generation=generation.generation)
        generation.epoch_id = target.id
    row.key_generation += 1
    db.add(KeyGeneration(
        submission_id=row.id, generation=row.key_generation, epoch_id=target.id,
        sealed_key=seal_case_key(new_data_key(), target.public_key, desk_id=row.desk_id,
                                 epoch_id=target.id, record_id=row.id,
                                 generation=row.key_generation)))
    row.epoch_id = target.id


def retire_old(db: Session, keyring: Keyring, target: Epoch) -> list[int]:
    """Destroy every grant of older epochs that hold no record, and mark them retired."""
    retired = []
    for state in status(db, keyring, target.desk_id):
        if state.epoch.id < target.id and state.records == 0 and not state.epoch.retired:
            for recipient in keyring.grant_recipients(target.desk_id, state.epoch.id):
                keyring.delete_grant(target.desk_id, state.epoch.id, recipient)
            keyring.retire_epoch(target.desk_id, state.epoch.id)
            retired.append(state.epoch.id)
    return retired


@contextlib.contextmanager
def exclusive(instance_path: Path, desk_id: str) -> Iterator[None]:
    """Hold the desk's rotation lock (rotations and backups take it), or refuse."""
    with (instance_path / f"rotation-{desk_id}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationError("another rotation or backup of this desk is running") from None
        yield


def running(instance_path: Path, desk_id: str) -> bool:
    """Say whether a rotation or backup of the desk holds its lock right now."""
    try:
        with exclusive(instance_path, desk_id):
            return False
    except RotationError:
        return True


class Progress:
    """What a rotation reports as it goes; the command line and the admin page differ."""

    def started(self, target: Epoch, resumed: bool) -> None:
        """The new epoch is current."""

    def resealing(self, total: int) -> None:
        """This many records are about to be re-sealed."""

    def resealed(self, count: int) -> None:
        """A batch of this many records is committed."""

    def reindexed(self, count: int) -> None:
        """A batch of this many search index rows is re-encrypted and committed."""

    def waiting(self, seconds: int) -> None:
        """Waiting for requests that began before the switch."""


def run(db: Session, keyring: Keyring, instance_path: Path, desk_id: str, admin: User,
        key: PrivateKey, progress: Progress, *, batch: int = 500, pause_ms: int = 0,
        settle_seconds: int = 150, signer: Signer | None = None) -> tuple[list[int], int]:
    """Run (or resume) a whole rotation; return the retired epochs and the sessions ended."""
    from intake.desk import audit
    from intake.staff import sessions

    with exclusive(instance_path, desk_id):
        target, target_key, resumed = begin(db, keyring, desk_id, key, int(time.time()), signer,
                                            trust.high_water(instance_path))
        audit.record(db, admin.id, "rotate", desk_id, f"epoch:{target.id}")
        db.commit()
        progress.started(target, resumed)
        for attempt in range(2):
            progress.resealing(remaining(db, desk_id, target))
            for done in reseal(db, keyring, target, key, batch):
                progress.resealed(done)
                time.sleep(pause_ms / 1000)
            for done in search.rekey(db, desk_id, target.id, target_key,
                                     unlock_epochs(keyring, key), batch):
                progress.reindexed(done)
            wait = settle_seconds - (int(time.time()) - keyring.desk(desk_id).current_since)
            if attempt or wait <= 0:
                break
            progress.waiting(wait)
            time.sleep(wait)
        # Accounts vetted or revoked while the rotation ran are caught before old grants go.
        reconcile(db, keyring, target, target_key, chain=_chain(keyring, desk_id, signer))
        retired = retire_old(db, keyring, target)
        # Only this desk's sessions held its old epoch keys; another desk's hold none of them.
        # The admin is of the desk it rotates (its commands and pages act on their own desk).
        desk_accounts = (User.desk_id.is_(None) if admin.desk_id is None
                         else User.desk_id == admin.desk_id)
        ended = sum(sessions.end_all(db, user.id) for user in db.query(User).filter(desk_accounts))
        audit.record(db, admin.id, "retire", desk_id, f"epochs:{retired}")
        db.commit()
        keyring.remove_stale_temporaries(desk_id)
        empty_write_ahead_log(db)
    return retired, ended


# How long to keep asking for the log while requests hold it (each try waits busy_timeout).
LOG_DEADLINE_SECONDS = 60


def empty_write_ahead_log(db: Session, deadline: float = LOG_DEADLINE_SECONDS) -> None:
    """Copy SQLite's write-ahead log into the database and truncate it to nothing.

    The log keeps every page a transaction wrote, so it still holds the sealed
    keys the rotation replaced until it is checkpointed and truncated.
    """
    engine = db.get_bind().engine
    if engine.dialect.name == "postgresql":
        # No checkpoint empties PostgreSQL's WAL (see SECURITY.md); the replaced sealed keys
        # and ended sessions' keys are at least vacuumed out of the tables and indexes.
        vacuum(engine, ("submissions", "key_generations", "case_desks", "case_desk_keys",
                        "search_index", "review_sessions"))
        return
    if engine.dialect.name != "sqlite":
        return
    give_up = time.monotonic() + deadline
    while True:
        with engine.connect() as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
        if not busy:
            return
        if time.monotonic() > give_up:
            raise RotationError(
                "the rotation is complete, but requests kept the database's write-ahead log "
                "open, so it still holds the replaced keys; run `intake keys rotate` again "
                "when the server is quieter (it rotates once more and empties the log)")
        time.sleep(1)
