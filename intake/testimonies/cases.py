"""Reading and working on cases with a reviewer's unlocked epoch keys.

Who can decrypt: a reviewer whose session holds the private key of the epoch
a case's data key generations are sealed to. The family's answers and files
are under generation 0, the key sealed at submission; notes, labels, the
assessment and replies are encrypted under the newest generation when they are
written, so nothing written after a rotation opens with a key an account
revoked before it could have kept. Replies are encrypted twice, for the desk
under the case key and for the family under the key derived from its code.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, object_session

from intake.crypto import (
    CaseKeys,
    DecryptionError,
    PrivateKey,
    PublicKey,
    check_stream,
    decrypt_field,
    decrypt_stream,
    open_case_key,
    open_data_key,
    open_for_family,
    seal_for_family,
)
from intake.desk import audit
from intake.staff.sessions import EpochKeys, Unlocked
from intake.store.blobs import Store, utc_today
from intake.store.models import (
    Attachment,
    CaseDesk,
    CaseDeskKey,
    KeyGeneration,
    Note,
    Reply,
    Submission,
    User,
)
from intake.testimonies import closing

T = TypeVar("T")


class Locked(Exception):
    """The reviewer holds no grant for the epoch this case is sealed to."""


@dataclass
class Summary:
    """One inbox row: what a reviewer needs to pick the next case."""

    submission: Submission
    state: str  # "open", "locked" or "broken"
    name: str = ""
    place: str = ""
    labels: list[str] = field(default_factory=list)
    attachments: int = 0
    # The reading desk's own status of the case (another desk's is never shown).
    status: str = ""


# Later generations of many cases, loaded in one query: case id -> rows, in any order; and
# the copies sealed to other desks: SHARED + case id -> rows.
Generations = dict[str, list[Any]]
SHARED = "shared:"
SHARED_GENERATIONS = "shared-generations:"


def data_key(submission: Submission, epoch_keys: EpochKeys, db: Session | None = None,
             loaded: Generations | None = None) -> CaseKeys:
    """Open every generation of a case's data key; Locked without a grant, DecryptionError if
    one is tampered with or missing."""
    key = epoch_keys.get((submission.desk_id, submission.epoch_id))
    if key is None:
        return shared_key(submission, epoch_keys, db, loaded)
    first = open_data_key(submission.sealed_key, key, desk_id=submission.desk_id,
                          epoch_id=submission.epoch_id, record_id=submission.id)
    if not submission.key_generation:
        return CaseKeys((first,))
    rows = sorted(loaded.get(submission.id, []) if loaded is not None
                  else _generation_rows(submission, db), key=lambda row: row.generation)
    if [row.generation for row in rows] != list(range(1, submission.key_generation + 1)):
        raise DecryptionError
    return CaseKeys((first, *(_generation(submission, row, epoch_keys) for row in rows)))


def shared_key(submission: Submission, epoch_keys: EpochKeys, db: Session | None = None,
               loaded: Generations | None = None) -> CaseKeys:
    """Open the copy of a case's data key sealed to another desk the family chose; Locked if
    none of this session's desks was given one."""
    held = {desk for desk, _epoch in epoch_keys}
    if loaded is not None and SHARED + submission.id in loaded:
        rows = loaded[SHARED + submission.id]
    else:
        if db is None:
            db = object_session(submission)
        if db is None or not held:
            raise Locked
        rows = db.query(CaseDesk).filter(CaseDesk.submission_id == submission.id,
                                         CaseDesk.desk_id.in_(held)).all()
    for row in rows:
        key = epoch_keys.get((row.desk_id, row.epoch_id))
        if row.desk_id in held and key is not None:
            first = open_data_key(row.sealed_key, key, desk_id=row.desk_id,
                                  epoch_id=row.epoch_id, record_id=submission.id)
            work = open_case_key(row.work_key, key, desk_id=row.desk_id, epoch_id=row.epoch_id,
                                 record_id=submission.id, generation=1)
            return CaseKeys((first, work, *_later_work_keys(row, epoch_keys, db, loaded)))
    raise Locked


def _later_work_keys(row: CaseDesk, epoch_keys: EpochKeys, db: Session | None,
                     loaded: Generations | None) -> list[bytes]:
    """Open generations 2 and later of a desk's work key (one per rotation of that desk)."""
    if row.key_generation <= 1:
        return []
    label = f"{SHARED_GENERATIONS}{row.submission_id}/{row.desk_id}"
    if loaded is not None and label in loaded:
        later = loaded[label]
    else:
        session = db or object_session(row)
        if session is None:
            raise Locked
        later = session.query(CaseDeskKey).filter_by(submission_id=row.submission_id,
                                                     desk_id=row.desk_id).all()
    later = sorted(later, key=lambda generation: generation.generation)
    if [g.generation for g in later] != list(range(2, row.key_generation + 1)):
        raise DecryptionError
    keys = []
    for generation in later:
        key = epoch_keys.get((row.desk_id, generation.epoch_id))
        if key is None:
            raise Locked
        keys.append(open_case_key(generation.sealed_key, key, desk_id=row.desk_id,
                                  epoch_id=generation.epoch_id, record_id=row.submission_id,
                                  generation=generation.generation))
    return keys


def _generation_rows(submission: Submission, db: Session | None) -> list[KeyGeneration]:
    if db is None:
        db = object_session(submission)
    if db is None:
        raise ValueError("a case with later key generations is read through a session")
    return db.query(KeyGeneration).filter_by(submission_id=submission.id).all()


def _generation(submission: Submission, row: KeyGeneration, epoch_keys: EpochKeys) -> bytes:
    """Open one later generation with the epoch key it is sealed to."""
    key = epoch_keys.get((submission.desk_id, row.epoch_id))
    if key is None:
        raise Locked
    return open_case_key(row.sealed_key, key, desk_id=submission.desk_id, epoch_id=row.epoch_id,
                         record_id=submission.id, generation=row.generation)


def kept(submission: Submission, unlocked: Unlocked) -> CaseKeys | None:
    """Return the case keys the session kept, unless a rotation has since added a generation."""
    keys = unlocked.case_keys.get(submission.id)
    if keys is None or keys.newest_generation != submission.key_generation:
        return None
    return keys


def session_data_key(submission: Submission, unlocked: Unlocked, db: Session | None = None,
                     loaded: Generations | None = None) -> CaseKeys:
    """Open a case's keys once per session; later calls reuse what the session kept, unless a
    rotation has since given the case a newer generation."""
    keys = kept(submission, unlocked)
    if keys is None:
        keys = data_key(submission, unlocked.epoch_keys, db, loaded)
        unlocked.case_keys[submission.id] = keys
        unlocked.opened += 1
    return keys


def load_generations(db: Session, submissions: list[Any], unlocked: Unlocked) -> Generations:
    """Load, in one query each, the later generations and the other desks' sealed copies of
    the cases the session must open afresh."""
    held = {desk for desk, _epoch in unlocked.epoch_keys}
    shared = {s.id for s in submissions if s.desk_id not in held and kept(s, unlocked) is None}
    found = _shared_rows(db, shared, held) if shared else {}
    needed = {s.id for s in submissions if s.key_generation and kept(s, unlocked) is None
              and s.id not in shared}
    if not needed:
        return found
    query = db.query(KeyGeneration.submission_id, KeyGeneration.generation,
                     KeyGeneration.epoch_id, KeyGeneration.sealed_key)
    if len(needed) <= 500:  # beyond that, reading every row beats a long IN list
        query = query.filter(KeyGeneration.submission_id.in_(needed))
    for row in query:
        if row.submission_id in needed:
            found.setdefault(row.submission_id, []).append(row)
    return found


def _shared_rows(db: Session, ids: set[str], held: set[str]) -> Generations:
    """Load the copies sealed to these desks of these cases, keyed SHARED + case id."""
    found: Generations = {SHARED + case_id: [] for case_id in ids}
    for row in db.query(CaseDesk).filter(CaseDesk.desk_id.in_(held)):
        if row.submission_id in ids:
            found[SHARED + row.submission_id].append(row)
            found.setdefault(f"{SHARED_GENERATIONS}{row.submission_id}/{row.desk_id}", [])
    for generation in db.query(CaseDeskKey).filter(CaseDeskKey.desk_id.in_(held)):
        label = f"{SHARED_GENERATIONS}{generation.submission_id}/{generation.desk_id}"
        if label in found:
            found[label].append(generation)
    return found


# A desk's triage of a case: the submission row for the desk it names, a CaseDesk row for each
# other desk the family chose. Both carry id, status, family_status, priority, assignee_id,
# labels and assessment.
Work = Submission | CaseDesk


def work_of(db: Session, submission: Submission, desk_id: str) -> Work:
    """Return one desk's own triage of a case (status, priority, labels, assessment)."""
    if submission.desk_id == desk_id:
        return submission
    row = db.get(CaseDesk, (submission.id, desk_id))
    if row is None:
        raise Locked
    return row


def readable(decrypt: Callable[..., T], *args: Any) -> T | None:
    """Return decrypt(*args), or None when the ciphertext does not open (damaged or tampered)."""
    try:
        return decrypt(*args)
    except (DecryptionError, ValueError):
        return None


def answers(submission: Submission, keys: CaseKeys) -> dict[str, Any]:
    """Decrypt what the family answered (under the key sealed at submission)."""
    parsed: dict[str, Any] = json.loads(decrypt_field(keys.first, submission.answers,
                                                      record_id=submission.id, field="answers"))
    return parsed


def labels(submission: Work, keys: CaseKeys) -> list[str]:
    """Decrypt the case's labels."""
    if not submission.labels:
        return []
    parsed: list[str] = json.loads(keys.decrypt(submission.labels, record_id=submission.id,
                                                field="labels"))
    return parsed


def assessment(submission: Work, keys: CaseKeys) -> dict[str, str]:
    """Decrypt the reviewers' assessment."""
    if not submission.assessment:
        return {}
    parsed: dict[str, str] = json.loads(keys.decrypt(submission.assessment,
                                                     record_id=submission.id,
                                                     field="assessment"))
    return parsed


def set_assessment(submission: Work, keys: CaseKeys, values: dict[str, str]) -> None:
    """Encrypt and set the reviewers' assessment, under the newest generation."""
    submission.assessment = keys.encrypt(json.dumps(values).encode(), record_id=submission.id,
                                         field="assessment")


def set_labels(submission: Work, keys: CaseKeys, new_labels: list[str]) -> None:
    """Encrypt and set the case's labels, under the newest generation."""
    clean = sorted({label.strip() for label in new_labels if label.strip()})
    submission.labels = keys.encrypt(json.dumps(clean).encode(), record_id=submission.id,
                                     field="labels")


def summarise(submission: Submission, unlocked: Unlocked, attachment_count: int,
              work: Any = None) -> Summary:
    """Decrypt the little an inbox row shows; a locked or damaged case is marked, not fatal.

    `work` is the reading desk's triage of the case (work_of); by default the submission's.
    """
    work = submission if work is None else work
    try:
        key = session_data_key(submission, unlocked)
        return summary_of(submission, answers(submission, key), labels(work, key),
                          attachment_count, work.status)
    except Locked:
        return Summary(submission, "locked", attachments=attachment_count, status=work.status)
    except (DecryptionError, ValueError):
        return Summary(submission, "broken", attachments=attachment_count, status=work.status)


def summary_of(submission: Submission, found: dict[str, Any], case_labels: list[str],
               attachment_count: int, status: str | None = None) -> Summary:
    """Build an inbox row from decrypted answers."""
    return Summary(submission, "open", str(found.get("name") or ""),
                   str(found.get("arrest_place") or found.get("birthplace") or ""),
                   case_labels, attachment_count,
                   submission.status if status is None else status)


def works_of_desk(db: Session, desk_id: str) -> dict[str, CaseDesk]:
    """Return a desk's own triage of every case shared with it, by case id."""
    return {row.submission_id: row for row in db.query(CaseDesk).filter_by(desk_id=desk_id)}


def attachment_rows(db: Session, submission: Submission) -> list[Attachment]:
    """List a case's files in the order the family sent them."""
    return db.query(Attachment).filter_by(submission_id=submission.id).order_by(
        Attachment.position).all()


def attachment_meta(submission: Submission, keys: CaseKeys, row: Attachment) -> dict[str, Any]:
    """Decrypt one file's description (name, type, size, digests)."""
    parsed: dict[str, Any] = json.loads(decrypt_field(keys.first, row.meta,
                                                      record_id=submission.id,
                                                      field=f"attachment:{row.id}"))
    return parsed


def attachments(db: Session, submission: Submission,
                key: CaseKeys) -> list[tuple[Attachment, dict[str, Any] | None]]:
    """List a case's files with their descriptions; None marks one that does not open."""
    return [(row, readable(attachment_meta, submission, key, row))
            for row in attachment_rows(db, submission)]


def file_chunks(store: Store, submission: Submission, keys: CaseKeys,
                attachment: Attachment, *, check_first: bool = True) -> Iterator[bytes]:
    """Stream a file's plaintext, decrypted segment by segment, never written to disk."""
    with store.open(attachment.blob) as blob:
        yield from decrypt_stream(keys.first, blob, record_id=submission.id, file_id=attachment.id,
                                  check_first=check_first)


def check_file(store: Store, submission: Submission, keys: CaseKeys,
               attachment: Attachment) -> None:
    """Authenticate a whole stored file; DecryptionError if any part of it is damaged."""
    with store.open(attachment.blob) as blob:
        check_stream(keys.first, blob, record_id=submission.id, file_id=attachment.id)


def add_note(db: Session, submission: Submission, keys: CaseKeys, author_id: str,
             text: str) -> Note:
    """Store a reviewer-only note, encrypted under the case's newest key generation."""
    note_id = secrets.token_hex(16)
    note = Note(id=note_id, submission_id=submission.id, author_id=author_id,
                written_on=utc_today(),
                body=keys.encrypt(text.encode(), record_id=submission.id,
                                  field=f"note:{note_id}"))
    db.add(note)
    return note


def note_text(submission: Submission, keys: CaseKeys, row: Note) -> str:
    """Decrypt one note."""
    return keys.decrypt(row.body, record_id=submission.id, field=f"note:{row.id}").decode()


def notes(db: Session, submission: Submission, key: CaseKeys,
          authors: set[str] | None = None) -> list[tuple[Note, str | None]]:
    """Decrypt a case's notes, oldest first, only those `authors` wrote if given (one desk's);
    None marks one that does not open."""
    # The day is all that is stored; the random id gives a stable order within it.
    query = db.query(Note).filter_by(submission_id=submission.id)
    if authors is not None:
        query = query.filter(Note.author_id.in_(authors))
    rows = query.order_by(Note.written_on, Note.id).all()
    return [(row, readable(note_text, submission, key, row)) for row in rows]


def add_reply(db: Session, submission: Submission, keys: CaseKeys, author_id: str,
              text: str) -> Reply:
    """Store a reply the family can read with its code, and the desk with the newest case key."""
    if submission.family_key is None:
        raise ValueError("this family kept no follow-up code, so it cannot read replies")
    reply_id = secrets.token_hex(16)
    reply = Reply(
        id=reply_id, submission_id=submission.id, author_id=author_id,
        written_on=utc_today(),
        # Kept from the code while any chosen desk holds the case (see closing).
        for_family=seal_for_family(text.encode(), PublicKey(submission.family_key),
                                   desk_id=submission.desk_id, record_id=submission.id,
                                   field=f"reply:{reply_id}")
        if closing.reaches_family(db, submission) else closing.NOT_FOR_FAMILY,
        for_desk=keys.encrypt(text.encode(), record_id=submission.id,
                              field=f"reply:{reply_id}"))
    db.add(reply)
    return reply


def reply_text(submission: Submission, keys: CaseKeys, row: Reply) -> str:
    """Decrypt one reply as the desk sees it."""
    return keys.decrypt(row.for_desk, record_id=submission.id, field=f"reply:{row.id}").decode()


def replies(db: Session, submission: Submission, key: CaseKeys,
            authors: set[str] | None = None) -> list[tuple[Reply, str | None]]:
    """Decrypt a case's replies as the desk sees them, only those `authors` wrote if given;
    None marks one that does not open."""
    query = db.query(Reply).filter_by(submission_id=submission.id)
    if authors is not None:
        query = query.filter(Reply.author_id.in_(authors))
    rows = query.order_by(Reply.written_on, Reply.id).all()
    return [(row, readable(reply_text, submission, key, row)) for row in rows]


@dataclass
class Addition:
    """Something a family added to its case later; `answers` is None if it does not open."""

    submission: Submission
    answers: dict[str, Any] | None
    files: list[tuple[Attachment, dict[str, Any] | None]] = field(default_factory=list)


def additions(db: Session, submission: Submission, epoch_keys: EpochKeys) -> list[Addition]:
    """Decrypt what the family added to a case; a damaged or locked addition is marked."""
    found = []
    for row in db.query(Submission).filter_by(parent_id=submission.id).order_by(
            Submission.received_on, Submission.id):
        try:
            key = data_key(row, epoch_keys, db)
            found.append(Addition(row, answers(row, key), attachments(db, row, key)))
        except (Locked, DecryptionError, ValueError):
            found.append(Addition(row, None))
    return found


def replies_for_family(db: Session, case: Submission,
                       family_key: PrivateKey) -> list[tuple[dt.date, str, str | None]]:
    """Open the replies to a family with the key from its code, each with the desk of its
    author (None: the instance's first desk); none while any chosen desk holds the case."""
    if not closing.reaches_family(db, case):
        return []
    rows = db.query(Reply, User.desk_id).join(User, User.id == Reply.author_id).filter(
        Reply.submission_id == case.id).order_by(Reply.written_on, Reply.id).all()
    return [(row.written_on, open_for_family(row.for_family, family_key, desk_id=case.desk_id,
                                             record_id=case.id,
                                             field=f"reply:{row.id}").decode(), desk_id)
            for row, desk_id in rows if row.for_family != closing.NOT_FOR_FAMILY]


def set_status(db: Session, actor_id: str, submission: Submission, key: CaseKeys,
               status: str, work: Work | None = None) -> None:
    """Change a desk's status of a case (`work`, by default the first desk's), audited; once no
    chosen desk holds the case, this desk's held replies reach the code."""
    work = submission if work is None else work
    if status == work.status:
        return
    audit.record(db, actor_id, "status", submission.id, status)
    lifted = work.status == closing.HOLD
    work.status = status
    db.flush()  # the held() query below must see this desk's new status
    released = release_desk_replies(db, actor_id, submission, key)
    if lifted and not released and closing.reaches_family(db, submission):
        audit.record(db, actor_id, "release_replies", submission.id, "replies:0")


def release_desk_replies(db: Session, actor_id: str, submission: Submission,
                         keys: CaseKeys) -> int:
    """Seal to the code the replies the actor's desk wrote while the case was held, if no
    chosen desk holds it now; audited when any were; return how many."""
    # Only the author desk's keys open a held reply's text (its work key), so each desk
    # releases its own: at its status change, or when one of its reviewers opens the case.
    released = closing.release_held_replies(
        db, submission, colleagues(db, actor_id),
        lambda row: readable(reply_text, submission, keys, row))
    if released:
        audit.record(db, actor_id, "release_replies", submission.id, f"replies:{released}")
    return released


def colleagues(db: Session, actor_id: str) -> set[str]:
    """Return the ids of every account of the actor's desk, the actor's included."""
    actor = db.get(User, actor_id)
    if actor is None:
        return set()
    same_desk = (User.desk_id.is_(None) if actor.desk_id is None
                 else User.desk_id == actor.desk_id)
    return {user_id for (user_id,) in db.query(User.id).filter(same_desk)}
