"""Unambiguous encoding of the context a ciphertext is bound to."""

from __future__ import annotations

import hashlib
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
FINGERPRINT_SIZE = 16
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def bind(label: str, *parts: str | bytes | int) -> bytes:
    """Encode a label and parts so that no two different lists encode alike."""
    pieces = [b"intake/"]
    for part in (label, *parts):
        raw = part.encode() if isinstance(part, str) else (
            str(part).encode() if isinstance(part, int) else bytes(part))
        pieces += (len(raw).to_bytes(4, "big"), raw)
    return b"".join(pieces)


def derive(secret: bytes, label: str, *parts: str | bytes | int, length: int = 32,
           salt: bytes | None = None) -> bytes:
    """Derive a subkey of `secret` for one purpose with HKDF-SHA256."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=bind(label, *parts))
    return hkdf.derive(secret)


def fingerprint(label: str, public_bytes: bytes) -> bytes:
    """Name a key by a hash of its public bytes; safe to store and show."""
    return hashlib.sha256(bind(label, public_bytes)).digest()[:FINGERPRINT_SIZE]


def check_id(value: str, what: str = "identifier") -> str:
    """Refuse an identifier that could not safely name a file or a binding."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"invalid {what}: must be 1-64 of a-z, 0-9 and '-'")
    return value
