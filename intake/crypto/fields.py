"""AES-256-GCM for the answers, notes and replies of one record.

Who can decrypt: whoever holds the record's data key, which is itself sealed
to a desk epoch (see `envelope`). The associated data binds each ciphertext to
its record id and field name, so a value moved to another record or field
fails to decrypt.

Format: version (1) | data key id (16) | nonce (12) | AES-GCM ciphertext and tag.

Version 2 (written now) encrypts the true length (4 bytes, big-endian), the
plaintext and zeros up to a Padmé-padded size of at least 1 KiB, as files are
padded, so a stored field's length reveals only the magnitude of what was
typed. Version 1 (the plaintext alone) is no longer written but still
decrypts. The version byte is part of the associated data, so a ciphertext
relabelled with the other version fails.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import FINGERPRINT_SIZE, bind, derive
from ._errors import DecryptionError
from ._padding import padme

UNPADDED = 1
PADDED = 2
NONCE_SIZE = 12
MIN_PADDED_SIZE = 1024
_LENGTH_SIZE = 4
_HEADER = 1 + FINGERPRINT_SIZE
OVERHEAD = _HEADER + NONCE_SIZE + 16


def data_key_id(data_key: bytes) -> bytes:
    """Name a data key without revealing it."""
    return derive(data_key, "data-key-id", length=FINGERPRINT_SIZE)


@functools.lru_cache(maxsize=4096)
def padded_length(size: int, minimum: int = MIN_PADDED_SIZE) -> int:
    """Return the encrypted plaintext length of a `size`-byte field: length, text, zeros."""
    return padme(_LENGTH_SIZE + size, minimum)


def encrypt_field(data_key: bytes, plaintext: bytes, *, record_id: str, field: str) -> bytes:
    """Encrypt one field of a record under the record's data key, padded."""
    return _encrypt_field(data_key, plaintext, record_id, field, os.urandom(NONCE_SIZE))


def decrypt_field(data_key: bytes, ciphertext: bytes, *, record_id: str, field: str) -> bytes:
    """Decrypt one field, raising DecryptionError for any mismatch or tampering."""
    return FieldKey(data_key).decrypt(ciphertext, record_id=record_id, field=field)


class FieldKey:
    """A data key ready to encrypt and decrypt many fields: its id and cipher derived once.

    Decrypting 100,000 search index rows (see `index`) would otherwise spend
    more time deriving the same two subkeys than decrypting. `minimum` is the
    padded floor; a field written with one floor opens only with the same.
    """

    __slots__ = ("_aead", "_id", "_minimum")

    def __init__(self, data_key: bytes, minimum: int = MIN_PADDED_SIZE) -> None:
        self._id = data_key_id(data_key)
        self._aead = AESGCM(derive(data_key, "field-key"))
        self._minimum = minimum

    def encrypt(self, plaintext: bytes, *, record_id: str, field: str,
                nonce: bytes | None = None, version: int = PADDED) -> bytes:
        """Encrypt one field, padded; a fixed nonce and version 1 only reproduce old vectors."""
        nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
        header = bytes([version]) + self._id
        body = _padded(plaintext, self._minimum) if version == PADDED else plaintext
        return header + nonce + self._aead.encrypt(nonce, body,
                                                   header + _context(record_id, field))

    def decrypt(self, ciphertext: bytes, *, record_id: str, field: str) -> bytes:
        """Decrypt one field, raising DecryptionError for any mismatch or tampering."""
        version = ciphertext[0] if ciphertext else 0
        header = bytes([version]) + self._id
        if version not in (UNPADDED, PADDED) or len(ciphertext) < OVERHEAD or (
                ciphertext[:_HEADER] != header):
            raise DecryptionError
        nonce = ciphertext[_HEADER:_HEADER + NONCE_SIZE]
        try:
            plain = self._aead.decrypt(nonce, ciphertext[_HEADER + NONCE_SIZE:],
                                       header + _context(record_id, field))
        except InvalidTag as exc:
            raise DecryptionError from exc
        return plain if version == UNPADDED else _unpadded(plain, self._minimum)

    def decrypt_many(self, fields: Iterable[tuple[str, bytes]], *,
                     field: str) -> Iterator[tuple[str, bytes | None]]:
        """Decrypt many padded fields of one name, each (record id, ciphertext); yield each
        record id with its plaintext, or None where it does not open."""
        # decrypt() for each, with everything that is the same for all of them done once.
        header, tail = bytes([PADDED]) + self._id, _part(field)
        open_, minimum = self._aead.decrypt, self._minimum
        for record_id, ciphertext in fields:
            if ciphertext[:_HEADER] != header or len(ciphertext) < OVERHEAD:
                yield record_id, None
                continue
            try:
                plain = open_(ciphertext[_HEADER:_HEADER + NONCE_SIZE],
                              ciphertext[_HEADER + NONCE_SIZE:],
                              header + _FIELD + _part(record_id) + tail)
                yield record_id, _unpadded(plain, minimum)
            except (InvalidTag, DecryptionError):
                yield record_id, None


_FIELD = bind("field")


def _part(text: str) -> bytes:
    """Encode one part of a binding as `bind` does: its length (4 bytes), then its bytes."""
    raw = text.encode()
    return len(raw).to_bytes(4, "big") + raw


def _context(record_id: str, field: str) -> bytes:
    """Return bind("field", record_id, field), built without the general loop (a hot path)."""
    return _FIELD + _part(record_id) + _part(field)


def _encrypt_field(data_key: bytes, plaintext: bytes, record_id: str, field: str,
                   nonce: bytes, version: int = PADDED) -> bytes:
    # Version 1 is written only to reproduce the recorded vectors of the old format.
    return FieldKey(data_key).encrypt(plaintext, record_id=record_id, field=field, nonce=nonce,
                                      version=version)


def _padded(plaintext: bytes, minimum: int) -> bytes:
    """Prefix the true length and fill with zeros up to the padded size."""
    size = len(plaintext)
    return (size.to_bytes(_LENGTH_SIZE, "big") + plaintext
            + bytes(padded_length(size, minimum) - _LENGTH_SIZE - size))


def _unpadded(padded: bytes, minimum: int) -> bytes:
    """Strip the padding of an authenticated plaintext; refuse any other layout."""
    size = int.from_bytes(padded[:_LENGTH_SIZE], "big")
    end = _LENGTH_SIZE + size
    # lstrip runs in C: a Python loop over 1 KiB of zeros per row would dominate a search.
    if len(padded) != padded_length(size, minimum) or padded[end:].lstrip(b"\0"):
        raise DecryptionError
    return padded[_LENGTH_SIZE:end]
