"""The desk's search index key: one symmetric key per epoch, for each case's search text.

Who can decrypt: only holders of the epoch's private key (vetted reviewers,
the recovery key). The key is derived from the epoch's private key with
HKDF, bound to the desk and epoch, so nothing is stored that could be
swapped: a key sealed to the epoch's public key could be replaced by anyone
who can write the database or keyring (sealing needs only the public key),
and every row written afterwards would be readable by them. The epoch's
private key itself opens only from a grant checked against the epoch's
public key, and that public key is the one the signed keyring certifies.

Each row is an AES-256-GCM field (see `fields`), bound to its case id and to
the field name "search", so a row moved to another case fails. Rows are
padded with Padmé like every field, but from a floor of 256 bytes instead of
1 KiB: a search reads every row, and the 1 KiB floor alone made the first
search of 100,000 cases cost over a second (bench/review.py). A short case's
row so tells the length of its text to within Padmé's steps (16 bytes at
256, 32 at 512), where its answers say only "under 1 KiB" (SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ._encoding import derive
from .fields import FieldKey
from .keys import PrivateKey

INDEX_FIELD = "search"
INDEX_MIN_PADDED_SIZE = 256


class IndexKey:
    """One epoch's search index key, ready to encrypt and decrypt many rows."""

    __slots__ = ("_field_key", "desk_id", "epoch_id")

    def __init__(self, epoch_key: PrivateKey, *, desk_id: str, epoch_id: int) -> None:
        self.desk_id, self.epoch_id = desk_id, epoch_id
        self._field_key = FieldKey(index_key_bytes(epoch_key, desk_id=desk_id,
                                                   epoch_id=epoch_id), INDEX_MIN_PADDED_SIZE)

    def encrypt(self, text: bytes, *, record_id: str) -> bytes:
        """Encrypt one case's search text under this epoch's index key."""
        return self._field_key.encrypt(text, record_id=record_id, field=INDEX_FIELD)

    def decrypt(self, ciphertext: bytes, *, record_id: str) -> bytes:
        """Decrypt one case's search text; DecryptionError if it was tampered with or moved."""
        return self._field_key.decrypt(ciphertext, record_id=record_id, field=INDEX_FIELD)


    def decrypt_many(self, rows: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes | None]]:
        """Decrypt many cases' rows, each (case id, ciphertext); None for each that does not
        open (tampered with, or moved from another case)."""
        return self._field_key.decrypt_many(rows, field=INDEX_FIELD)


def index_key_bytes(epoch_key: PrivateKey, *, desk_id: str, epoch_id: int) -> bytes:
    """Derive an epoch's 32-byte search index key from its private key."""
    return derive(epoch_key.to_bytes(), "search-index-key", desk_id, epoch_id)
