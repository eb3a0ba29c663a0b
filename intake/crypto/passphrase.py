"""Passphrase wrapping of private keys with Argon2id.

Who can decrypt: whoever knows the passphrase. One Argon2id run over the
passphrase gives a secret from which two keys are derived apart: the key
that wraps the private key (never stored) and a login verifier (stored in
the database). Knowing the verifier does not give the wrapping key.

Format: version (1) | key fingerprint (16) | time cost (4) | memory cost in
KiB (4) | parallelism (4) | salt (16) | nonce (12) | AES-GCM(private key) + tag.
The parameters travel with the wrapped key, so a key wrapped under an older
profile still opens, and `needs_rewrap` says when to wrap it again.
"""

from __future__ import annotations

import hmac
import os
import struct
import unicodedata
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import FINGERPRINT_SIZE, VERSION, bind, derive
from ._errors import DecryptionError
from .keys import PRIVATE_KEY_SIZE, PrivateKey

SALT_SIZE = 16
NONCE_SIZE = 12
MAX_PASSPHRASE_LENGTH = 1024
_PARAMS = struct.Struct(">III")
_HEADER = 1 + FINGERPRINT_SIZE + _PARAMS.size + SALT_SIZE + NONCE_SIZE
WRAPPED_SIZE = _HEADER + PRIVATE_KEY_SIZE + 16


@dataclass(frozen=True)
class Profile:
    """Argon2id cost parameters."""

    name: str
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int


RFC_9106_LOW_MEMORY = Profile("rfc9106-low-memory", 3, 64 * 1024, 4)
RFC_9106_HIGH_MEMORY = Profile("rfc9106-high-memory", 1, 2 * 1024 * 1024, 4)
# Follow-up codes carry about 90 bits of their own, so Argon2id there guards
# against a weak random source and a stolen pepper, not against guessing; it
# runs once per submission and per follow-up visit, so it is lighter.
FAMILY_CODE = Profile("family-code", 2, 4 * 1024, 1)
# Deliberately cheap, for the test suite only; settings refuse it outside tests.
INSECURE_TEST_ONLY = Profile("insecure-test-only", 1, 8, 1)
PROFILES = {p.name: p for p in (RFC_9106_LOW_MEMORY, RFC_9106_HIGH_MEMORY, FAMILY_CODE,
                                 INSECURE_TEST_ONLY)}


@dataclass(frozen=True)
class WrappedKey:
    """A private key wrapped under a passphrase, and the login verifier beside it."""

    blob: bytes
    verifier: bytes


def wrap_private_key(key: PrivateKey, passphrase: str,
                     profile: Profile = RFC_9106_LOW_MEMORY) -> WrappedKey:
    """Wrap `key` so that only someone who knows `passphrase` can unwrap it."""
    return _wrap(key, passphrase, profile, os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE))


def unwrap_private_key(blob: bytes, passphrase: str) -> PrivateKey:
    """Unwrap a private key, raising DecryptionError for a wrong passphrase."""
    kek, _ = _derive(blob, passphrase)
    return _unwrap(blob, kek)


def unlock(blob: bytes, verifier: bytes, passphrase: str) -> PrivateKey:
    """Check a passphrase against the login verifier, then unwrap the key (one Argon2 run)."""
    kek, candidate = _derive(blob, passphrase)
    if not hmac.compare_digest(candidate, verifier):
        raise DecryptionError
    return _unwrap(blob, kek)


def needs_rewrap(blob: bytes, profile: Profile) -> bool:
    """Say whether a wrapped key's parameters are weaker than `profile`."""
    time_cost, memory_cost, _ = _params(blob)
    return memory_cost < profile.memory_cost or (
        time_cost * memory_cost < profile.time_cost * profile.memory_cost)


def wrapped_key_fingerprint(blob: bytes) -> bytes:
    """Return the fingerprint of the key a wrapped blob claims to hold (unverified)."""
    if len(blob) != WRAPPED_SIZE or blob[0] != VERSION:
        raise DecryptionError
    return blob[1:1 + FINGERPRINT_SIZE]


def _wrap(key: PrivateKey, passphrase: str, profile: Profile, salt: bytes,
          nonce: bytes) -> WrappedKey:
    params = _PARAMS.pack(profile.time_cost, profile.memory_cost, profile.parallelism)
    header = bytes([VERSION]) + key.fingerprint + params + salt + nonce
    secret = _argon2(passphrase, salt, profile.time_cost, profile.memory_cost,
                     profile.parallelism)
    kek = derive(secret, "passphrase-kek")
    sealed = AESGCM(kek).encrypt(nonce, key.to_bytes(), bind("wrapped-key", header))
    return WrappedKey(header + sealed, derive(secret, "login-verifier"))


def _derive(blob: bytes, passphrase: str) -> tuple[bytes, bytes]:
    if len(passphrase) > MAX_PASSPHRASE_LENGTH:
        raise DecryptionError
    time_cost, memory_cost, parallelism = _params(blob)
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DecryptionError from exc
    salt_at = 1 + FINGERPRINT_SIZE + _PARAMS.size
    secret = _argon2(passphrase, blob[salt_at:salt_at + SALT_SIZE], time_cost, memory_cost,
                     parallelism)
    return derive(secret, "passphrase-kek"), derive(secret, "login-verifier")


def _unwrap(blob: bytes, kek: bytes) -> PrivateKey:
    header = blob[:_HEADER]
    try:
        raw = AESGCM(kek).decrypt(header[-NONCE_SIZE:], blob[_HEADER:], bind("wrapped-key", header))
    except InvalidTag as exc:
        raise DecryptionError from exc
    key = PrivateKey(raw)
    if key.fingerprint != wrapped_key_fingerprint(blob):
        raise DecryptionError
    return key


def _params(blob: bytes) -> tuple[int, int, int]:
    wrapped_key_fingerprint(blob)
    time_cost, memory_cost, parallelism = _PARAMS.unpack_from(blob, 1 + FINGERPRINT_SIZE)
    if not (1 <= time_cost <= 16 and 8 * parallelism <= memory_cost <= 2 * 1024 * 1024
            and 1 <= parallelism <= 64):
        raise DecryptionError
    return time_cost, memory_cost, parallelism


def _argon2(passphrase: str, salt: bytes, time_cost: int, memory_cost: int,
            parallelism: int) -> bytes:
    if len(passphrase) > MAX_PASSPHRASE_LENGTH:
        raise ValueError("passphrase too long")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return hash_secret_raw(secret, salt, time_cost=time_cost, memory_cost=memory_cost,
                           parallelism=parallelism, hash_len=32, type=Type.ID)
