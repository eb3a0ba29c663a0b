"""The offline recovery key: 32 random bytes, printed once, never stored.

Every desk epoch is also granted to the recovery public key, so an
organisation that has lost every reviewer's passphrase can still re-grant its
desk. The printed form is base32 in groups of four with a 3-byte checksum, so
a mistyped character is caught before any key is derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import os

from .keys import SEED_SIZE, PrivateKey
from .signing import SigningPrivateKey

_CHECK_SIZE = 3
_PURPOSE = "recovery"


def new_recovery_secret() -> bytes:
    """Make a fresh recovery secret."""
    return os.urandom(SEED_SIZE)


def recovery_key(secret: bytes) -> PrivateKey:
    """Rebuild the recovery key pair from its secret."""
    return PrivateKey.from_seed(secret, _PURPOSE)


def recovery_signing_key(secret: bytes) -> SigningPrivateKey:
    """Rebuild the recovery signing key pair from the same printed secret."""
    # signing.from_seed uses its own HKDF label, so this pair is independent
    # of the HPKE pair above though both come from one secret.
    return SigningPrivateKey.from_seed(secret, _PURPOSE)


def format_recovery_secret(secret: bytes) -> str:
    """Render the secret for printing: 14 groups of 4 base32 characters."""
    text = base64.b32encode(secret + _checksum(secret)).decode()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery_secret(text: str) -> bytes:
    """Read a printed secret back, forgiving case, spaces and dashes."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        raw = base64.b32decode(cleaned)
    except ValueError as exc:
        raise ValueError("this is not a recovery key") from exc
    secret, check = raw[:-_CHECK_SIZE], raw[-_CHECK_SIZE:]
    if len(secret) != SEED_SIZE or check != _checksum(secret):
        raise ValueError("this recovery key has a typing mistake (checksum does not match)")
    return secret


def _checksum(secret: bytes) -> bytes:
    return hashlib.sha256(b"intake/recovery-check" + secret).digest()[:_CHECK_SIZE]
