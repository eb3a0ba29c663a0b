"""Hybrid signatures: Ed25519 together with ML-DSA-65, valid only when both halves verify.

This is the foundation of key certification (DESIGN.md, "Key certification"):
the keys that decide who can read will be certified by these signatures. An
attacker must forge both a classical and a post-quantum signature.

Formats (all lengths fixed):

    private key  = Ed25519 raw private key (32) || ML-DSA-65 seed (32)          64 bytes
    public key   = Ed25519 raw public key (32) || ML-DSA-65 public key (1952)  1984 bytes
    signature    = version (1) || Ed25519 signature (64) || ML-DSA-65 signature (3309)

Each signature is bound to a context (what it is for: a certificate, an audit
checkpoint), so a signature made for one use never verifies as another. Both
halves sign the same bound message, and ML-DSA also takes the context as its
own FIPS 204 context string.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from ._encoding import bind, derive, fingerprint

SIGNING_PRIVATE_SIZE = 64
SIGNING_PUBLIC_SIZE = 1984
SIGNATURE_VERSION = 1
SIGNATURE_SIZE = 1 + 64 + 3309
# What a signature may be for; a new use gets a new name here, never a reused one.
CONTEXTS = frozenset({"certificate", "audit-checkpoint"})
_ED_PUBLIC = 32
_ED_SIGNATURE = 64


class SignatureError(Exception):
    """A signature did not verify.

    The message never says which check failed (version, length, either half,
    context or message), as with DecryptionError.
    """

    def __init__(self) -> None:
        super().__init__("the signature is not valid")


def _bound(message: bytes, context: str) -> bytes:
    """Bind a message to what it is signed for; refuse an unknown use."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown signature context: {context}")
    return bind("signature", context, message)


class SigningPublicKey:
    """A hybrid verification key; `verify` raises unless both halves accept."""

    __slots__ = ("_ed", "_ml", "fingerprint", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != SIGNING_PUBLIC_SIZE:
            raise ValueError("a hybrid signing public key is 1984 bytes")
        self.raw = bytes(raw)
        self._ed = ed25519.Ed25519PublicKey.from_public_bytes(self.raw[:_ED_PUBLIC])
        self._ml = mldsa.MLDSA65PublicKey.from_public_bytes(self.raw[_ED_PUBLIC:])
        self.fingerprint = fingerprint("signing-public-key", self.raw)

    def verify(self, signature: bytes, message: bytes, context: str) -> None:
        """Raise SignatureError unless both halves sign `message` for `context`."""
        bound = _bound(message, context)
        if len(signature) != SIGNATURE_SIZE or signature[0] != SIGNATURE_VERSION:
            raise SignatureError
        ed_half = signature[1:1 + _ED_SIGNATURE]
        ml_half = signature[1 + _ED_SIGNATURE:]
        try:
            # Both are checked, always: a valid first half never excuses the second.
            self._ed.verify(ed_half, bound)
            self._ml.verify(ml_half, bound, context.encode())
        except InvalidSignature:
            raise SignatureError from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningPublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"SigningPublicKey({self.fingerprint.hex()})"


class SigningKey:
    """A hybrid signing key pair; `to_bytes` is the only way its secret leaves memory."""

    __slots__ = ("_ed", "_ml", "_raw", "public_key")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != SIGNING_PRIVATE_SIZE:
            raise ValueError("a hybrid signing private key is 64 bytes")
        self._raw = bytes(raw)
        self._ed = ed25519.Ed25519PrivateKey.from_private_bytes(self._raw[:32])
        self._ml = mldsa.MLDSA65PrivateKey.from_seed_bytes(self._raw[32:])
        self.public_key = SigningPublicKey(
            self._ed.public_key().public_bytes_raw() + self._ml.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> SigningKey:
        """Make a fresh key pair from the operating system's randomness."""
        return cls(os.urandom(SIGNING_PRIVATE_SIZE))

    @classmethod
    def from_seed(cls, seed: bytes, purpose: str) -> SigningKey:
        """Rebuild a key pair deterministically from a 32-byte secret (the recovery secret).

        The label differs from the one PrivateKey.from_seed uses, so the same secret gives
        unrelated encryption and signing keys.
        """
        if len(seed) != 32:
            raise ValueError("a key seed is 32 bytes")
        return cls(derive(seed, "signing-key-from-seed", purpose, length=SIGNING_PRIVATE_SIZE))

    @property
    def fingerprint(self) -> bytes:
        """Name this key pair by its public key."""
        return self.public_key.fingerprint

    def sign(self, message: bytes, context: str) -> bytes:
        """Sign `message` for one use with both halves."""
        bound = _bound(message, context)
        return (bytes([SIGNATURE_VERSION]) + self._ed.sign(bound)
                + self._ml.sign(bound, context.encode()))

    def to_bytes(self) -> bytes:
        """Return the secret parts; callers must wrap them before storing."""
        return self._raw

    def __repr__(self) -> str:
        return f"SigningKey({self.fingerprint.hex()})"


def readable_fingerprint(value: bytes) -> str:
    """Show a fingerprint for reading aloud: groups of four hex digits."""
    text = value.hex().upper()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))
