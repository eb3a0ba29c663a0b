"""The desks' search index: each case's normalised text, encrypted under an epoch's index key.

Who can decrypt: holders of the epoch's private key, from which the index
key is derived (see `intake.crypto.index`). A session derives the key once
and decrypts every row with AES-GCM, instead of opening every case's data
key with HPKE; a row holds nothing the case's own ciphertexts do not.

Each desk a case was given to keeps its own row of it, under its own epoch's
index key (a coalition's desks hold no key in common): a reviewer reads and
writes only its own desk's rows, a rotation re-keys only its desk's rows, and
a desk the family did not choose never gets one. A case gets a desk's row from
the first search of that desk's reviewer who can open it (the family's side
holds no key, so a new testimony, a follow-up addition or a case from before
the index waits for that search), and is indexed again
when an addition arrives (each row says how many additions it covers) or
when `normalise` changes (each row says which normalisation made it). A row
that does not open with the key of its epoch was tampered with: its case is
not matched and the failure is logged; it is not rebuilt, so it shows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError, IndexKey, PrivateKey
from intake.staff import sessions
from intake.staff.sessions import EpochKeys, Unlocked
from intake.store.models import SearchRow, Submission
from intake.testimonies import cases, names

log = logging.getLogger("intake.search")

# Which `normalise` made a row: change it with `normalise`, and every row is made again.
# 2: names.fold, and each name word's cross-script keys after NAME_MARK.
NORMALISATION = 2
_COUNT = 4
# Beyond this many ids, reading every row beats a long IN list.
_MANY = 500
# Past this much text (characters), a session's search text is not kept in memory: each
# search then decrypts the rows again (slower, but a worker's memory stays bounded).
MAX_KEPT_CHARACTERS = 32_000_000


# The answers that name people: their words are also kept as cross-script keys.
NAME_FIELDS = ("name", "other_names", "fathers_name")
# Marks a name key in the index text; folded typed text never holds this control character.
NAME_MARK = "\x1f"


def normalise(text: str) -> str:
    """Fold digits, Arabic/Persian letter forms, hamza, diacritics, ZWNJ and case."""
    return names.fold(text)


def search_text(answers: Iterable[dict[str, Any]]) -> str:
    """Return what a case is searched by: every string it answers, normalised, each word once,
    then the keys of each word of a person's name (how both scripts may write it).

    A query word holds no space, so it is in the joined text exactly when it is
    in one of its words: keeping each word once finds the same cases.
    """
    answers = list(answers)
    words = normalise(" ".join(t for found in answers for t in _strings(found))).split()
    people = " ".join(str(found.get(field) or "") for found in answers for field in NAME_FIELDS)
    keys = {NAME_MARK + key for word in names.words(people) for key in names.keys(word)}
    return " ".join([*dict.fromkeys(words), *sorted(keys)])


def query_pattern(word: str) -> re.Pattern[str]:
    """Match a folded query word as typed, or as the beginning of a name word's key.

    "Ahmadi" then finds احمدی and "ahmad" finds احمدیان, as a typed "ahmad" finds
    "ahmadian"; numbers and punctuation are matched only as typed.
    """
    wanted = names.keys(word) if any(ch.isalpha() for ch in word) else frozenset()
    # A key of three letters or more may begin a name's key; a shorter one must be whole.
    marks = [re.escape(NAME_MARK + key) + ("" if len(key) >= 3 else "(?: |$)")
             for key in sorted(wanted)]
    return re.compile("|".join([re.escape(word), *marks]))


def _strings(value: object) -> list[str]:
    """Collect every string inside decrypted answers (dates included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


class Indexed(NamedTuple):
    """A case's search text as decrypted, and how many additions it covers."""

    additions: int
    text: str

    def to_bytes(self) -> bytes:
        """Encode for encryption: normalisation, additions covered, the text."""
        return (bytes([NORMALISATION]) + self.additions.to_bytes(_COUNT, "big")
                + self.text.encode())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Indexed | None:
        """Decode an authenticated row; None if another normalisation made it."""
        if not raw or raw[0] != NORMALISATION:
            return None
        return cls(int.from_bytes(raw[1:1 + _COUNT], "big"), raw[1 + _COUNT:].decode())


@dataclass
class Memory:
    """What one session decrypted, in this process: case id -> text, and the additions each
    text covers (cases with none are left out)."""

    texts: dict[str, str] = field(default_factory=dict)
    covers: dict[str, int] = field(default_factory=dict)
    characters: int = 0

    def keep(self, case_id: str, found: Indexed) -> None:
        """Remember a case's text."""
        self.characters += len(found.text) - len(self.texts.get(case_id, ""))
        self.texts[case_id] = found.text
        if found.additions:
            self.covers[case_id] = found.additions


def session_desk(unlocked: Unlocked) -> str | None:
    """Return the desk whose epochs the session holds (a login opens its account's desk only);
    None if it holds none."""
    held = sorted({desk for desk, _epoch in unlocked.epoch_keys})
    return held[0] if len(held) == 1 else None


def texts(db: Session, unlocked: Unlocked, case_ids: list[str],
          desk_id: str | None = None) -> dict[str, str]:
    """Return the search text of the cases this session can read (the listed ones at least);
    read or make this desk's rows of those it has not yet decrypted.

    `desk_id` is the reviewer's desk, by default the one whose epochs the session holds.
    """
    desk_id = desk_id or session_desk(unlocked)
    if desk_id is None:
        return {}
    sessions.forget_ended(db)
    kept = sessions.remembered(unlocked)
    memory: Memory = kept.setdefault("search", Memory())
    additions = addition_counts(db)
    needed = [case_id for case_id in case_ids if case_id not in memory.texts]
    needed += [case_id for case_id, count in additions.items()
               if case_id in memory.texts and memory.covers.get(case_id, 0) != count]
    if needed:
        stale = _read_rows(db, unlocked, desk_id, needed, additions, memory)
        _index(db, unlocked, desk_id, stale, additions, memory)
    if memory.characters > MAX_KEPT_CHARACTERS:
        del kept["search"]
    return memory.texts


def matching(found: dict[str, str], case_ids: list[str], words: list[str]) -> list[str]:
    """Keep, in order, the cases whose search text holds every normalised query word,
    as typed or as a person's name in another script or spelling."""
    for word in words:
        search = query_pattern(word).search
        # One comprehension per word, no call per case: this runs over every case.
        case_ids = [case_id for case_id in case_ids if search(found.get(case_id, ""))]
    return case_ids


def addition_counts(db: Session) -> dict[str, int]:
    """Count each case's follow-up additions (parent ids are plaintext already)."""
    rows = db.execute(select(Submission.parent_id, func.count()).where(
        Submission.parent_id.is_not(None)).group_by(Submission.parent_id))
    return {str(parent_id): count for parent_id, count in rows}


# One desk's every row, as SQLite's driver (qmark) and psycopg (format) mark the parameter.
_DESK_ROWS_QMARK = ("SELECT submission_id, desk_id, epoch_id, sealed_text FROM search_index "
                    "WHERE desk_id = ?")
_DESK_ROWS_FORMAT = ("SELECT submission_id, desk_id, epoch_id, sealed_text FROM search_index "
                     "WHERE desk_id = %s")


def _rows(db: Session, desk_id: str, case_ids: list[str]) -> Iterator[Any]:
    """Read one desk's index rows of these cases (or all its rows, for many) in one query:
    (case id, desk, epoch, ciphertext)."""
    if len(case_ids) <= _MANY:
        yield from db.execute(select(SearchRow.submission_id, SearchRow.desk_id,
                                     SearchRow.epoch_id, SearchRow.sealed_text)
                              .where(SearchRow.desk_id == desk_id,
                                     SearchRow.submission_id.in_(case_ids)))
        return
    # Every row of the desk, straight from the driver: SQLAlchemy's row objects would cost
    # more than decrypting them. The one parameter is marked as each driver wants it.
    qmark = db.get_bind().dialect.paramstyle == "qmark"
    cursor = db.connection().connection.cursor()
    try:
        cursor.execute(_DESK_ROWS_QMARK if qmark else _DESK_ROWS_FORMAT, (desk_id,))
        yield from cursor.fetchall()
    finally:
        cursor.close()


def _read_rows(db: Session, unlocked: Unlocked, desk_id: str, case_ids: list[str],
               additions: dict[str, int], memory: Memory) -> dict[str, bool]:
    """Decrypt this desk's rows of these cases into memory; return the cases to index (id ->
    has a row).

    A row under an epoch this session does not hold (written by a request that
    read the keyring before a rotation) is indexed again. Rows that do not open
    are counted in the log, never named: no log line holds a record id.
    """
    stale, broken = dict.fromkeys(case_ids, False), 0
    by_key: dict[tuple[str, int], list[tuple[str, bytes]]] = {}
    for case_id, row_desk, epoch_id, sealed in _rows(db, desk_id, case_ids):
        by_key.setdefault((row_desk, epoch_id), []).append((case_id, bytes(sealed)))
    for (row_desk, epoch_id), rows in by_key.items():
        key = unlocked.index_key(row_desk, epoch_id)
        if key is None:
            stale.update((case_id, True) for case_id, _ in rows if case_id in stale)
            continue
        for case_id, plain in key.decrypt_many(rows):
            broken += not _take(case_id, plain, additions.get(case_id, 0), memory, stale)
    if broken:
        log.error("%d search index rows do not open (tampered with, or moved from another "
                  "case): their cases are left out of searches", broken)
    return stale


def _take(case_id: str, plain: bytes | None, additions: int, memory: Memory,
          stale: dict[str, bool]) -> bool:
    """Keep a decrypted row's text, or mark its case to index again (another normalisation,
    fewer additions); a row that did not open leaves its case out: say whether it opened."""
    found = None
    if plain is not None:
        try:
            found = Indexed.from_bytes(plain)
        except UnicodeDecodeError:
            plain = None
    if plain is None:
        stale.pop(case_id, None)
        return False
    if found is None or found.additions != additions:
        if case_id in stale:
            stale[case_id] = True
    else:
        memory.keep(case_id, found)
        stale.pop(case_id, None)
    return True


def _index(db: Session, unlocked: Unlocked, desk_id: str, stale: dict[str, bool],
           additions: dict[str, int], memory: Memory) -> None:
    """Open these cases (one data key each), remember their text and write this desk's rows,
    under its newest epoch's index key (a case this desk cannot open gets none)."""
    written: list[tuple[str, str, int, bytes, bool]] = []
    key = unlocked.newest_index_key(desk_id)
    ids = list(stale) if key is not None else []
    for start in range(0, len(ids), _MANY):
        chunk = ids[start:start + _MANY]
        children = _children(db, chunk)
        for case in db.query(Submission).filter(Submission.id.in_(chunk)):
            found = _case_text(case, children.get(case.id, []), unlocked)
            if found is None or key is None:
                continue
            memory.keep(case.id, found)
            if found.additions == additions.get(case.id, 0):
                written.append((case.id, key.desk_id, key.epoch_id,
                                key.encrypt(found.to_bytes(), record_id=case.id), stale[case.id]))
    _write(db, written)


def _children(db: Session, case_ids: list[str]) -> dict[str, list[Submission]]:
    """Load the follow-up additions of these cases in one query."""
    found: dict[str, list[Submission]] = {}
    for child in db.query(Submission).filter(Submission.parent_id.in_(case_ids)):
        found.setdefault(child.parent_id or "", []).append(child)
    return found


def _case_text(case: Submission, children: list[Submission],
               unlocked: Unlocked) -> Indexed | None:
    """Decrypt a case's answers and its additions'; None if the case does not open."""
    try:
        answers = [cases.answers(case, cases.session_data_key(case, unlocked))]
    except (cases.Locked, DecryptionError, ValueError):
        return None
    for child in children:
        # An addition that does not open is shown as damaged on the case page; the rest counts.
        try:
            answers.append(cases.answers(child, cases.data_key(child, unlocked.epoch_keys)))
        except (cases.Locked, DecryptionError, ValueError):
            continue
    return Indexed(len(children), search_text(answers))


def _write(db: Session, written: list[tuple[str, str, int, bytes, bool]]) -> None:
    """Store new and replaced rows; a row another session stored first is left as it is."""
    if not written:
        return
    try:
        fresh = [{"submission_id": i, "desk_id": d, "epoch_id": e, "sealed_text": t}
                 for i, d, e, t, had in written if not had]
        if fresh:
            db.execute(insert(SearchRow), fresh)
        for case_id, desk_id, epoch_id, sealed, had in written:
            if had:
                db.execute(update(SearchRow).where(SearchRow.submission_id == case_id,
                                                   SearchRow.desk_id == desk_id)
                           .values(epoch_id=epoch_id, sealed_text=sealed))
        db.commit()
    except IntegrityError:
        # Another session indexed some of these cases at the same time: theirs stand.
        db.rollback()


def rekey(db: Session, desk_id: str, target_epoch: int, target_key: PrivateKey,
          old_keys: EpochKeys, batch: int) -> Iterator[int]:
    """Re-encrypt this desk's rows of older epochs under `target`'s index key (no other desk's
    row is read or written), one committed batch at a time; yield batch sizes. A row that does
    not open is deleted (the next search indexes its case again from the case itself)."""
    new = IndexKey(target_key, desk_id=desk_id, epoch_id=target_epoch)
    olds = {epoch: IndexKey(key, desk_id=desk, epoch_id=epoch)
            for (desk, epoch), key in old_keys.items() if desk == desk_id}
    while True:
        rows = db.query(SearchRow).filter(SearchRow.desk_id == desk_id,
                                          SearchRow.epoch_id != target_epoch).limit(batch).all()
        if not rows:
            return
        broken = 0
        for row in rows:
            old = olds.get(row.epoch_id)
            try:
                if old is None:
                    raise DecryptionError
                text = old.decrypt(row.sealed_text, record_id=row.submission_id)
            except DecryptionError:
                broken += 1
                db.delete(row)
                continue
            row.sealed_text, row.epoch_id = new.encrypt(text, record_id=row.submission_id), \
                target_epoch
        if broken:
            log.error("%d search index rows do not open: deleted, their cases to be indexed "
                      "again by the next search", broken)
        db.commit()
        yield len(rows)
