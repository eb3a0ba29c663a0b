"""AES-256-GCM for the answers, notes and replies of one record.

Who can decrypt: whoever holds the record's data key, which is itself sealed
to a desk epoch (see `envelope`). The associated data binds each ciphertext to
its record id and field name, so a value moved to another record or field
fails to decrypt.

Format: version (1) | data key id (16) | nonce (12) | AES-GCM ciphertext and tag.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import FINGERPRINT_SIZE, VERSION, bind, derive
from ._errors import DecryptionError

NONCE_SIZE = 12
_HEADER = 1 + FINGERPRINT_SIZE
OVERHEAD = _HEADER + NONCE_SIZE + 16


def data_key_id(data_key: bytes) -> bytes:
    """Name a data key without revealing it."""
    return derive(data_key, "data-key-id", length=FINGERPRINT_SIZE)


def encrypt_field(data_key: bytes, plaintext: bytes, *, record_id: str, field: str) -> bytes:
    """Encrypt one field of a record under the record's data key."""
    return _encrypt_field(data_key, plaintext, record_id, field, os.urandom(NONCE_SIZE))


def decrypt_field(data_key: bytes, ciphertext: bytes, *, record_id: str, field: str) -> bytes:
    """Decrypt one field, raising DecryptionError for any mismatch or tampering."""
    header = bytes([VERSION]) + data_key_id(data_key)
    if len(ciphertext) < OVERHEAD or ciphertext[:_HEADER] != header:
        raise DecryptionError
    nonce = ciphertext[_HEADER:_HEADER + NONCE_SIZE]
    aead = AESGCM(derive(data_key, "field-key"))
    try:
        return aead.decrypt(nonce, ciphertext[_HEADER + NONCE_SIZE:],
                            header + bind("field", record_id, field))
    except InvalidTag as exc:
        raise DecryptionError from exc


def _encrypt_field(data_key: bytes, plaintext: bytes, record_id: str, field: str,
                   nonce: bytes) -> bytes:
    header = bytes([VERSION]) + data_key_id(data_key)
    aead = AESGCM(derive(data_key, "field-key"))
    return header + nonce + aead.encrypt(nonce, plaintext, header + bind("field", record_id, field))
