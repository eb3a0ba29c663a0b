"""HPKE sealing (RFC 9180, ML-KEM-768 + X25519, HKDF-SHA256, AES-256-GCM).

Only small secrets are sealed here: a submission's 32-byte data key and the
later generations of it that rotations make, a desk epoch's 96-byte
private key granted to a reviewer or the recovery key, and the key of an
evidence bundle sealed to a recipient outside the desk.
Every sealed object starts with a version byte and the fingerprint of the
key it is sealed to, and its HPKE `info` binds it to the record it belongs
to, so a sealed object copied onto another record does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke

from ._encoding import FINGERPRINT_SIZE, VERSION, bind
from ._errors import DecryptionError
from .keys import PRIVATE_KEY_SIZE, PrivateKey, PublicKey

DATA_KEY_SIZE = 32
_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_HEADER = 1 + FINGERPRINT_SIZE


def new_data_key() -> bytes:
    """Make a fresh random data key for one submission."""
    return os.urandom(DATA_KEY_SIZE)


def sealed_to(sealed: bytes) -> bytes:
    """Return the fingerprint of the key an object claims to be sealed to (unverified)."""
    if len(sealed) < _HEADER or sealed[0] != VERSION:
        raise DecryptionError
    return sealed[1:_HEADER]


def seal_data_key(data_key: bytes, epoch_key: PublicKey, *, desk_id: str, epoch_id: int,
                  record_id: str) -> bytes:
    """Seal a data key so that only holders of the epoch's private key can open it."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError("a data key is 32 bytes")
    return _seal(data_key, epoch_key, bind("data-key", desk_id, epoch_id, record_id))


def open_data_key(sealed: bytes, epoch_key: PrivateKey, *, desk_id: str, epoch_id: int,
                  record_id: str) -> bytes:
    """Open a data key with the epoch private key it was sealed to."""
    data_key = _open(sealed, epoch_key, bind("data-key", desk_id, epoch_id, record_id))
    if len(data_key) != DATA_KEY_SIZE:
        raise DecryptionError
    return data_key


def seal_case_key(case_key: bytes, epoch_key: PublicKey, *, desk_id: str, epoch_id: int,
                  record_id: str, generation: int) -> bytes:
    """Seal a later generation of a record's data key to an epoch (generation 0 is a data key)."""
    if len(case_key) != DATA_KEY_SIZE or generation < 1:
        raise ValueError("a case key is 32 bytes, of generation 1 or later")
    return _seal(case_key, epoch_key, bind("case-key", desk_id, epoch_id, record_id, generation))


def open_case_key(sealed: bytes, epoch_key: PrivateKey, *, desk_id: str, epoch_id: int,
                  record_id: str, generation: int) -> bytes:
    """Open one generation of a record's data key with the epoch private key it is sealed to."""
    case_key = _open(sealed, epoch_key,
                     bind("case-key", desk_id, epoch_id, record_id, generation))
    if len(case_key) != DATA_KEY_SIZE:
        raise DecryptionError
    return case_key


def seal_epoch_key(epoch_key: PrivateKey, recipient: PublicKey, *, desk_id: str,
                   epoch_id: int) -> bytes:
    """Grant an epoch: seal its private key so that only `recipient` can open it."""
    context = bind("epoch-grant", desk_id, epoch_id, epoch_key.fingerprint)
    return _seal(epoch_key.to_bytes(), recipient, context)


def open_epoch_key(grant: bytes, recipient: PrivateKey, *, desk_id: str, epoch_id: int,
                   epoch_public: PublicKey) -> PrivateKey:
    """Open a grant and check that it holds the private half of `epoch_public`."""
    context = bind("epoch-grant", desk_id, epoch_id, epoch_public.fingerprint)
    raw = _open(grant, recipient, context)
    if len(raw) != PRIVATE_KEY_SIZE:
        raise DecryptionError
    epoch_key = PrivateKey(raw)
    if epoch_key.public_key != epoch_public:
        raise DecryptionError
    return epoch_key


def seal_handover_key(key: bytes, recipient: PublicKey) -> bytes:
    """Seal a sealed bundle's 32-byte key so that only `recipient` (outside the desk) opens it."""
    if len(key) != DATA_KEY_SIZE:
        raise ValueError("a hand-over key is 32 bytes")
    return _seal(key, recipient, bind("evidence-handover"))


def open_handover_key(sealed: bytes, recipient: PrivateKey) -> bytes:
    """Open a sealed bundle's key with the recipient's private key."""
    key = _open(sealed, recipient, bind("evidence-handover"))
    if len(key) != DATA_KEY_SIZE:
        raise DecryptionError
    return key


def _seal(secret: bytes, recipient: PublicKey, context: bytes) -> bytes:
    header = bytes([VERSION]) + recipient.fingerprint
    return header + _SUITE.encrypt(secret, recipient._hpke, info=header + context)


def _open(sealed: bytes, recipient: PrivateKey, context: bytes) -> bytes:
    if sealed_to(sealed) != recipient.fingerprint:
        raise DecryptionError
    header = sealed[:_HEADER]
    try:
        return _SUITE.decrypt(sealed[_HEADER:], recipient._hpke, info=header + context)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError from exc
