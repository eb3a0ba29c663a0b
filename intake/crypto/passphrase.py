"""Passphrase wrapping of private keys with Argon2id.

Who can decrypt: whoever knows the passphrase. One Argon2id run over the
passphrase gives a secret from which two keys are derived apart: the key
that wraps the private key (never stored) and a login verifier (stored in
the database). Knowing the verifier does not give the wrapping key.

Format: version | key fingerprint (16) | time cost (4) | memory cost in
KiB (4) | parallelism (4) | salt (16) | nonce (12) | AES-GCM(secret) + tag,
the whole header bound as associated data. The parameters travel with the
wrapped key, so a key wrapped under an older profile still opens, and
`needs_rewrap` says when to wrap it again.

- Version 1: the secret is the HPKE private key (96 bytes).
- Version 2: the secret is the HPKE private key (96) | the hybrid signing
  private key (64) | the pinned root fingerprint (32). The root is inside the
  authenticated ciphertext, so nobody without the passphrase can change what
  the account trusts. A version 1 blob still unlocks (with no signing key and
  no root); `needs_upgrade` says so, and the account is wrapped again as
  version 2 at its next login, while the passphrase is at hand.
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
from .signing import PRIVATE_KEY_SIZE as SIGNING_KEY_SIZE
from .signing import SigningPrivateKey

SALT_SIZE = 16
NONCE_SIZE = 12
MAX_PASSPHRASE_LENGTH = 1024
_PARAMS = struct.Struct(">III")
_HEADER = 1 + FINGERPRINT_SIZE + _PARAMS.size + SALT_SIZE + NONCE_SIZE
WRAPPED_SIZE = _HEADER + PRIVATE_KEY_SIZE + 16
SIGNED_VERSION = 2
ROOT_SIZE = 32
WRAPPED_SIZE_V2 = _HEADER + PRIVATE_KEY_SIZE + SIGNING_KEY_SIZE + ROOT_SIZE + 16
_SIZES = {VERSION: WRAPPED_SIZE, SIGNED_VERSION: WRAPPED_SIZE_V2}


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
class AccountKeys:
    """What an account's passphrase unlocks.

    `signing_key` and `root` are None only for a version 1 blob, made before
    accounts had signing keys; such an account has no pinned root yet.
    """

    key: PrivateKey
    signing_key: SigningPrivateKey | None
    root: bytes | None

    def __repr__(self) -> str:
        return f"AccountKeys({self.key!r}, {self.signing_key!r})"


@dataclass(frozen=True)
class WrappedKey:
    """A private key wrapped under a passphrase, and the login verifier beside it."""

    blob: bytes
    verifier: bytes


def wrap_private_key(key: PrivateKey, passphrase: str,
                     profile: Profile = RFC_9106_LOW_MEMORY) -> WrappedKey:
    """Wrap `key` so that only someone who knows `passphrase` can unwrap it."""
    return _wrap(key, passphrase, profile, os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE))


def wrap_account_keys(key: PrivateKey, signing_key: SigningPrivateKey, root: bytes,
                      passphrase: str, profile: Profile = RFC_9106_LOW_MEMORY) -> WrappedKey:
    """Wrap both private keys and pin `root` (a fingerprint) under `passphrase`."""
    if len(root) != ROOT_SIZE:
        raise ValueError("a root fingerprint is 32 bytes")
    return _wrap(key, passphrase, profile, os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE),
                 signed=(signing_key, root))


def rewrap(keys: AccountKeys, passphrase: str,
           profile: Profile = RFC_9106_LOW_MEMORY) -> WrappedKey:
    """Wrap an account's unlocked keys again (a new passphrase, or stronger parameters)."""
    if keys.signing_key is None or keys.root is None:
        return wrap_private_key(keys.key, passphrase, profile)
    return wrap_account_keys(keys.key, keys.signing_key, keys.root, passphrase, profile)


def unwrap_private_key(blob: bytes, passphrase: str) -> PrivateKey:
    """Unwrap a private key, raising DecryptionError for a wrong passphrase."""
    kek, _ = _derive(blob, passphrase)
    return _unwrap(blob, kek).key


def unlock(blob: bytes, verifier: bytes, passphrase: str) -> PrivateKey:
    """Check a passphrase against the login verifier, then unwrap the key (one Argon2 run)."""
    return unlock_account(blob, verifier, passphrase).key


def unlock_account(blob: bytes, verifier: bytes, passphrase: str) -> AccountKeys:
    """Check a passphrase, then unwrap every key and the pinned root (one Argon2 run)."""
    kek, candidate = _derive(blob, passphrase)
    if not hmac.compare_digest(candidate, verifier):
        raise DecryptionError
    return _unwrap(blob, kek)


def unlock_with_verifier(blob: bytes, passphrase: str) -> tuple[AccountKeys, bytes]:
    """Unwrap every key (the AES-GCM tag proves the passphrase) and return the verifier too.

    For a login whose stored verifier lags its wrapped key: a re-wrap that
    stopped between writing the key and storing the verifier. The caller
    accepts the keys only if they are the account's own (by fingerprint).
    """
    kek, verifier = _derive(blob, passphrase)
    return _unwrap(blob, kek), verifier


def needs_upgrade(blob: bytes) -> bool:
    """Say whether a wrapped key predates signing keys and a pinned root."""
    wrapped_key_fingerprint(blob)
    return blob[0] == VERSION


def needs_rewrap(blob: bytes, profile: Profile) -> bool:
    """Say whether a wrapped key's parameters are weaker than `profile`."""
    time_cost, memory_cost, _ = _params(blob)
    return memory_cost < profile.memory_cost or (
        time_cost * memory_cost < profile.time_cost * profile.memory_cost)


def wrapped_key_fingerprint(blob: bytes) -> bytes:
    """Return the fingerprint of the key a wrapped blob claims to hold (unverified)."""
    if not blob or _SIZES.get(blob[0]) != len(blob):
        raise DecryptionError
    return blob[1:1 + FINGERPRINT_SIZE]


def _wrap(key: PrivateKey, passphrase: str, profile: Profile, salt: bytes, nonce: bytes,
          signed: tuple[SigningPrivateKey, bytes] | None = None) -> WrappedKey:
    params = _PARAMS.pack(profile.time_cost, profile.memory_cost, profile.parallelism)
    version, plaintext = VERSION, key.to_bytes()
    if signed is not None:
        version, plaintext = SIGNED_VERSION, plaintext + signed[0].to_bytes() + signed[1]
    header = bytes([version]) + key.fingerprint + params + salt + nonce
    secret = _argon2(passphrase, salt, profile.time_cost, profile.memory_cost,
                     profile.parallelism)
    kek = derive(secret, "passphrase-kek")
    # The header, version byte included, is associated data: a version 2 blob
    # cannot be passed off as version 1 to drop its root.
    sealed = AESGCM(kek).encrypt(nonce, plaintext, bind("wrapped-key", header))
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


def _unwrap(blob: bytes, kek: bytes) -> AccountKeys:
    header = blob[:_HEADER]
    try:
        raw = AESGCM(kek).decrypt(header[-NONCE_SIZE:], blob[_HEADER:], bind("wrapped-key", header))
    except InvalidTag as exc:
        raise DecryptionError from exc
    key = PrivateKey(raw[:PRIVATE_KEY_SIZE])
    if key.fingerprint != wrapped_key_fingerprint(blob):
        raise DecryptionError
    if blob[0] == VERSION:
        return AccountKeys(key, None, None)
    rest = raw[PRIVATE_KEY_SIZE:]
    return AccountKeys(key, SigningPrivateKey(rest[:SIGNING_KEY_SIZE]), rest[SIGNING_KEY_SIZE:])


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
