"""Hybrid post-quantum key pairs: ML-KEM-768 together with X25519.

`cryptography`'s HPKE key objects cannot serialise themselves, so a private
key is stored as its parts: the 64-byte ML-KEM seed and the 32-byte X25519
scalar (96 bytes); a public key as the 1184-byte ML-KEM and 32-byte X25519
public keys (1216 bytes).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from ._encoding import derive, fingerprint

PRIVATE_KEY_SIZE = 96
PUBLIC_KEY_SIZE = 1216
SEED_SIZE = 32
_MLKEM_SEED = 64
_MLKEM_PUBLIC = 1184


class PublicKey:
    """A hybrid public key: anything sealed to it needs both halves broken."""

    __slots__ = ("_hpke", "fingerprint", "raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != PUBLIC_KEY_SIZE:
            raise ValueError("a hybrid public key is 1216 bytes")
        self.raw = bytes(raw)
        self._hpke = hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:_MLKEM_PUBLIC]),
            x25519.X25519PublicKey.from_public_bytes(self.raw[_MLKEM_PUBLIC:]),
        )
        self.fingerprint = fingerprint("public-key", self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.fingerprint.hex()})"


class PrivateKey:
    """A hybrid private key; `to_bytes` is the only way its secret leaves memory."""

    __slots__ = ("_hpke", "_raw", "public_key")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != PRIVATE_KEY_SIZE:
            raise ValueError("a hybrid private key is 96 bytes")
        self._raw = bytes(raw)
        kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(self._raw[:_MLKEM_SEED])
        dh = x25519.X25519PrivateKey.from_private_bytes(self._raw[_MLKEM_SEED:])
        self._hpke = hpke.MLKEM768X25519PrivateKey(kem, dh)
        self.public_key = PublicKey(
            kem.public_key().public_bytes_raw() + dh.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> PrivateKey:
        """Make a fresh key pair from the operating system's randomness."""
        return cls(os.urandom(PRIVATE_KEY_SIZE))

    @classmethod
    def from_seed(cls, seed: bytes, purpose: str) -> PrivateKey:
        """Rebuild a key pair deterministically from a 32-byte secret seed."""
        if len(seed) != SEED_SIZE:
            raise ValueError("a key seed is 32 bytes")
        return cls(derive(seed, "key-from-seed", purpose, length=PRIVATE_KEY_SIZE))

    @property
    def fingerprint(self) -> bytes:
        """Name this key pair by its public key."""
        return self.public_key.fingerprint

    def to_bytes(self) -> bytes:
        """Return the secret parts; callers must seal or wrap them before storing."""
        return self._raw

    def __repr__(self) -> str:
        return f"PrivateKey({self.fingerprint.hex()})"
