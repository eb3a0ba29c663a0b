"""Hybrid signatures: Ed25519 together with ML-DSA-65.

A signature is valid only when both halves verify, so forging one needs both
Ed25519 and ML-DSA-65 broken. Every signature is made for one use (a
certificate, an audit checkpoint): the use and the signer's encoded public key
are bound into what both halves sign, so a signature made for one use never
verifies for another.

Encodings (all start with a version byte, like the other formats here):

- private key: 32-byte Ed25519 seed + 32-byte ML-DSA-65 seed (64 bytes,
  never stored unwrapped);
- public key: 0x01 + 32-byte Ed25519 key + 1952-byte ML-DSA-65 key (1985 bytes);
- signature: 0x01 + 64-byte Ed25519 signature + 3309-byte ML-DSA-65
  signature (3374 bytes).
"""

from __future__ import annotations

import base64
import hashlib
import os
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from ._encoding import bind, derive

VERSION = 1
SEED_SIZE = 32
PRIVATE_KEY_SIZE = 64
_ED_PUBLIC = 32
_ML_PUBLIC = 1952
_ED_SIGNATURE = 64
_ML_SIGNATURE = 3309
PUBLIC_KEY_SIZE = 1 + _ED_PUBLIC + _ML_PUBLIC
SIGNATURE_SIZE = 1 + _ED_SIGNATURE + _ML_SIGNATURE


class Use(Enum):
    """What a signature is for; each use is its own domain."""

    CERTIFICATE = "certificate"
    AUDIT_CHECKPOINT = "audit-checkpoint"
    EVIDENCE_BUNDLE = "evidence-bundle"


class SignatureError(Exception):
    """A signature did not verify.

    The message never says which half failed, or whether the encoding, the
    version, the key or the message was wrong.
    """

    def __init__(self) -> None:
        super().__init__("the signature is not valid")


class SigningPublicKey:
    """A hybrid verification key."""

    __slots__ = ("_ed", "_ml", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != PUBLIC_KEY_SIZE or raw[0] != VERSION:
            raise ValueError("not a version 1 hybrid signing public key")
        self.raw = bytes(raw)
        self._ed = ed25519.Ed25519PublicKey.from_public_bytes(self.raw[1:1 + _ED_PUBLIC])
        self._ml = mldsa.MLDSA65PublicKey.from_public_bytes(self.raw[1 + _ED_PUBLIC:])

    @property
    def fingerprint(self) -> bytes:
        """Name this key by SHA-256 over its encoding (32 bytes)."""
        return hashlib.sha256(self.raw).digest()

    def verify(self, signature: bytes, message: bytes, use: Use) -> None:
        """Raise SignatureError unless both halves sign `message` for `use`."""
        if len(signature) != SIGNATURE_SIZE or signature[0] != VERSION:
            raise SignatureError
        signed = _signed_bytes(self.raw, message, use)
        ed_ok = ml_ok = True
        # Both halves are always checked, so timing does not say which failed.
        try:
            self._ed.verify(signature[1:1 + _ED_SIGNATURE], signed)
        except InvalidSignature:
            ed_ok = False
        try:
            self._ml.verify(signature[1 + _ED_SIGNATURE:], signed, _context(use))
        except InvalidSignature:
            ml_ok = False
        if not (ed_ok and ml_ok):
            raise SignatureError

    def signed_message(self, message: bytes, use: Use) -> bytes:
        """Return the exact bytes both halves sign for `message` (for checks by other tools)."""
        return _signed_bytes(self.raw, message, use)

    def halves(self) -> tuple[ed25519.Ed25519PublicKey, mldsa.MLDSA65PublicKey]:
        """Return the Ed25519 and ML-DSA-65 keys (for export to other tools)."""
        return self._ed, self._ml

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningPublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"SigningPublicKey({format_fingerprint(self.fingerprint)})"


class SigningPrivateKey:
    """A hybrid signing key; `to_bytes` is the only way its secret leaves memory."""

    __slots__ = ("_ed", "_ml", "_raw", "public_key")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != PRIVATE_KEY_SIZE:
            raise ValueError("a hybrid signing private key is 64 bytes")
        self._raw = bytes(raw)
        self._ed = ed25519.Ed25519PrivateKey.from_private_bytes(self._raw[:32])
        self._ml = mldsa.MLDSA65PrivateKey.from_seed_bytes(self._raw[32:])
        self.public_key = SigningPublicKey(
            bytes([VERSION]) + self._ed.public_key().public_bytes_raw()
            + self._ml.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> SigningPrivateKey:
        """Make a fresh key pair from the operating system's randomness."""
        return cls(os.urandom(PRIVATE_KEY_SIZE))

    @classmethod
    def from_seed(cls, seed: bytes, purpose: str) -> SigningPrivateKey:
        """Rebuild a key pair deterministically from a 32-byte secret seed."""
        if len(seed) != SEED_SIZE:
            raise ValueError("a key seed is 32 bytes")
        # A label distinct from keys.PrivateKey.from_seed's "key-from-seed",
        # so the same secret never yields related HPKE and signing keys.
        return cls(derive(seed, "signing-key-from-seed", purpose, length=PRIVATE_KEY_SIZE))

    @property
    def fingerprint(self) -> bytes:
        """Name this key pair by its public key."""
        return self.public_key.fingerprint

    def sign(self, message: bytes, use: Use) -> bytes:
        """Sign `message` for one use with both halves."""
        signed = _signed_bytes(self.public_key.raw, message, use)
        return (bytes([VERSION]) + self._ed.sign(signed)
                + self._ml.sign(signed, _context(use)))

    def to_bytes(self) -> bytes:
        """Return the secret seeds; callers must wrap them before storing."""
        return self._raw

    def __repr__(self) -> str:
        return f"SigningPrivateKey({format_fingerprint(self.fingerprint)})"


def format_fingerprint(fingerprint: bytes) -> str:
    """Render a fingerprint for reading aloud: base32 in groups of four."""
    text = base64.b32encode(fingerprint).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_fingerprint(text: str) -> bytes:
    """Read a fingerprint back, forgiving case, spaces and dashes."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:
        raise ValueError("this is not a key fingerprint") from exc
    if len(raw) != hashlib.sha256().digest_size:
        raise ValueError("a key fingerprint is 52 characters")
    return raw


def _context(use: Use) -> bytes:
    return b"intake/" + use.value.encode()


def _signed_bytes(public_raw: bytes, message: bytes, use: Use) -> bytes:
    # Binding the signer's full public key stops a signature from being
    # re-attributed to a key that shares only one half.
    return bind("signature", use.value, public_raw, message)
