"""The family's follow-up key, derived from the follow-up code they keep.

Who can decrypt what is sealed here: whoever knows the follow-up code. The
code (at least 7 random words, about 90 bits) goes through Argon2id with the
instance pepper as salt; the output gives a lookup id, which the server
stores to find the case, and the seed of a hybrid key pair, whose public half
the server stores and whose private half exists only while a family member
who typed the code is being answered.

A family cannot read back its own testimony: only an outline (dates, counts)
and the replies reviewers write are sealed to the family key, so a family
member coerced into giving up the code reveals no more than that.
"""

from __future__ import annotations

import struct
import unicodedata

from argon2.low_level import Type, hash_secret_raw

from ._encoding import VERSION, bind, derive
from ._errors import DecryptionError
from .envelope import _open, _seal, new_data_key
from .fields import decrypt_field, encrypt_field
from .keys import PrivateKey, PublicKey
from .passphrase import Profile

_LENGTH = struct.Struct(">H")


def derive_family_key(code: str, pepper: bytes, profile: Profile) -> tuple[str, PrivateKey]:
    """Return the lookup id and the key pair that a follow-up code stands for."""
    normalised = unicodedata.normalize("NFC", " ".join(code.split())).encode("utf-8")
    secret = hash_secret_raw(normalised, derive(pepper, "family-salt", length=16),
                             time_cost=profile.time_cost, memory_cost=profile.memory_cost,
                             parallelism=profile.parallelism, hash_len=32, type=Type.ID)
    lookup = derive(secret, "family-lookup").hex()
    return lookup, PrivateKey.from_seed(derive(secret, "family-key-seed"), "family")


def seal_for_family(plaintext: bytes, family_key: PublicKey, *, desk_id: str, record_id: str,
                    field: str) -> bytes:
    """Seal a message so that only the holder of the follow-up code can read it."""
    data_key = new_data_key()
    sealed_key = _seal(data_key, family_key, bind("family-message", desk_id, record_id, field))
    body = encrypt_field(data_key, plaintext, record_id=record_id, field=field)
    return bytes([VERSION]) + _LENGTH.pack(len(sealed_key)) + sealed_key + body


def open_for_family(message: bytes, family_key: PrivateKey, *, desk_id: str, record_id: str,
                    field: str) -> bytes:
    """Open a message sealed to the family with the key from their code."""
    start = 1 + _LENGTH.size
    if len(message) < start or message[0] != VERSION:
        raise DecryptionError
    (length,) = _LENGTH.unpack_from(message, 1)
    sealed_key = message[start:start + length]
    data_key = _open(sealed_key, family_key, bind("family-message", desk_id, record_id, field))
    return decrypt_field(data_key, message[start + length:], record_id=record_id, field=field)
