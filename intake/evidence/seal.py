"""Sealed hand-over: a bundle encrypted to a recipient outside the desk (a lawyer, a UN body).

Who can decrypt: only the holder of the recipient's private key, which is
made on their own (ideally offline) machine and kept wrapped under their
passphrase with Argon2id, like every account key here. The bundle's bytes
go through the STREAM cipher (crypto/stream.py) under a fresh 32-byte key,
and that key is sealed to the recipient with HPKE (ML-KEM-768 + X25519), so
memory stays flat whatever the bundle's size and any truncation or changed
byte fails.

Sealed file: MAGIC (16) | sealed key length (2, big-endian) | sealed key | stream.
Recipient files: the public key as text (a header line, its fingerprint,
base64); the private key as SECRET_MAGIC followed by the wrapped key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from intake.crypto import (
    DecryptionError,
    PrivateKey,
    Profile,
    PublicKey,
    StreamEncryptor,
    decrypt_stream,
    unwrap_private_key,
    wrap_private_key,
)
from intake.crypto.envelope import open_handover_key, seal_handover_key
from intake.crypto.signing import format_fingerprint

MAGIC = b"INTAKE-SEALED-1\n"
SECRET_MAGIC = b"INTAKE-RECIPIENT-SECRET-1\n"
PUBLIC_HEADER = "intake recipient public key, version 1"
_LENGTH = struct.Struct(">H")
_MAX_SEALED_KEY = 4096
_RECORD = "evidence-handover"


class SealError(Exception):
    """A key file or sealed bundle is unusable; the message says why, never what it holds."""


def recipient_files(passphrase: str, profile: Profile) -> tuple[bytes, bytes]:
    """Make a recipient key pair; return (private key file, public key file)."""
    key = PrivateKey.generate()
    secret = SECRET_MAGIC + wrap_private_key(key, passphrase, profile).blob
    return secret, public_text(key.public_key)


def public_text(key: PublicKey) -> bytes:
    """Render a recipient public key for e-mail or paper: header, fingerprint, base64."""
    return (f"{PUBLIC_HEADER}\nfingerprint: {recipient_fingerprint(key)}\n"
            f"{base64.b64encode(key.raw).decode()}\n").encode()


def recipient_fingerprint(key: PublicKey) -> str:
    """Name a recipient key for comparing aloud (the SHA-256 of its bytes, base32)."""
    return format_fingerprint(hashlib.sha256(key.raw).digest())


def read_public(data: bytes) -> PublicKey:
    """Read a recipient public key file, refusing one whose fingerprint line does not match."""
    lines = data.decode("utf-8", errors="replace").strip().splitlines()
    if len(lines) != 3 or lines[0] != PUBLIC_HEADER or not lines[1].startswith("fingerprint: "):
        raise SealError("this is not an intake recipient public key file")
    try:
        key = PublicKey(base64.b64decode(lines[2], validate=True))
    except ValueError:
        raise SealError("the recipient public key is damaged") from None
    if lines[1].removeprefix("fingerprint: ") != recipient_fingerprint(key):
        raise SealError("the recipient public key does not match its fingerprint line: it "
                        "was changed")
    return key


def unlock_recipient(data: bytes, passphrase: str) -> PrivateKey:
    """Unwrap a recipient private key file with its passphrase."""
    if not data.startswith(SECRET_MAGIC):
        raise SealError("this is not an intake recipient private key file")
    try:
        return unwrap_private_key(data[len(SECRET_MAGIC):], passphrase)
    except (DecryptionError, ValueError):
        raise SealError("the passphrase is not right, or the key file is damaged") from None


def seal(chunks: Iterable[bytes], recipient: PublicKey, out: BinaryIO) -> int:
    """Encrypt a bundle's bytes to `recipient` into a seekable `out`; return the bundle size."""
    key = os.urandom(32)
    sealed_key = seal_handover_key(key, recipient)
    out.write(MAGIC + _LENGTH.pack(len(sealed_key)) + sealed_key)
    stream = StreamEncryptor(key, out, record_id=_RECORD, file_id=recipient.fingerprint.hex())
    for chunk in chunks:
        stream.write(chunk)
    return stream.close()


def open_sealed(src: BinaryIO, key: PrivateKey) -> Iterator[bytes]:
    """Yield a sealed bundle's bytes, every segment authenticated before the first comes out."""
    if src.read(len(MAGIC)) != MAGIC:
        raise SealError("this is not a sealed intake bundle")
    (length,) = _LENGTH.unpack(src.read(_LENGTH.size).rjust(_LENGTH.size, b"\0"))
    sealed_key = src.read(length)
    if length > _MAX_SEALED_KEY or len(sealed_key) != length:
        raise SealError("the sealed bundle is cut short")
    try:
        data_key = open_handover_key(sealed_key, key)
    except DecryptionError:
        raise SealError("this bundle is not sealed to this key") from None
    try:
        yield from decrypt_stream(data_key, src, record_id=_RECORD,
                                  file_id=key.public_key.fingerprint.hex())
    except DecryptionError:
        raise SealError("the sealed bundle is damaged or cut short: nothing of it can be "
                        "trusted") from None
