"""A streaming file cipher for attachments: STREAM segments under AES-256-GCM.

Who can decrypt: whoever holds the record's data key. Each file gets its own
key, derived from the data key, a random salt, the record id and the file id,
so a file moved to another record or slot fails on its first segment.

Layout, with segments of 64 KiB of plaintext:

    version (1) | data key id (16) | salt (16) | sealed length (8 + 16)
    segment 0 | segment 1 | ... | last segment        (each plaintext + 16)

Segment nonces are an 11-byte big-endian counter and a last-segment flag
(as in age), so reordering, dropping, truncating at a segment boundary or
appending fails. The plaintext is followed by zeros up to a Padmé-padded size
(at least 4 KiB), so the stored size reveals little; the true length is sealed
in the header, filled in when the stream is closed (the output must be
seekable). Memory use is one segment, whatever the size of the file.

Decryption yields plaintext as segments authenticate. A caller that must not
act on a prefix of a truncated file has to consume the whole iterator before
trusting it: the error for a cut-off file comes at its end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._encoding import FINGERPRINT_SIZE, VERSION, derive
from ._errors import DecryptionError
from ._padding import padme
from .fields import data_key_id

SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
SALT_SIZE = 16
MIN_PADDED_SIZE = 4096
_PREFIX = 1 + FINGERPRINT_SIZE + SALT_SIZE
_LENGTH_BLOCK = 8 + TAG_SIZE
HEADER_SIZE = _PREFIX + _LENGTH_BLOCK
_LENGTH_NONCE = b"\xff" * 12
_LENGTH_AAD = b"intake/stream-length"
_ZEROS = bytes(SEGMENT_SIZE)


def padded_size(size: int) -> int:
    """Round a plaintext size up with Padmé (at most about 12 % larger)."""
    return padme(size, MIN_PADDED_SIZE)


def ciphertext_size(size: int) -> int:
    """Return the stored size of a file of `size` plaintext bytes."""
    padded = padded_size(size)
    segments = max(1, -(-padded // SEGMENT_SIZE))
    return HEADER_SIZE + padded + segments * TAG_SIZE


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _file_cipher(data_key: bytes, prefix: bytes, record_id: str, file_id: str) -> AESGCM:
    salt = prefix[1 + FINGERPRINT_SIZE:]
    return AESGCM(derive(data_key, "file-key", prefix, record_id, file_id, salt=salt))


class StreamEncryptor:
    """Encrypt a file as it is written, one segment in memory at a time."""

    def __init__(self, data_key: bytes, out: BinaryIO, *, record_id: str, file_id: str,
                 _salt: bytes | None = None) -> None:
        salt = os.urandom(SALT_SIZE) if _salt is None else _salt
        prefix = bytes([VERSION]) + data_key_id(data_key) + salt
        self._aead = _file_cipher(data_key, prefix, record_id, file_id)
        self._out = out
        self._length_at = out.tell() + _PREFIX
        out.write(prefix + bytes(_LENGTH_BLOCK))
        self._pending = bytearray()
        self._counter = 0
        self.size = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt `data`, holding back at most one segment."""
        if self.closed:
            raise ValueError("write to a closed stream")
        view = memoryview(data).cast("B")
        self.size += len(view)
        self._feed(view)
        return len(view)

    def close(self) -> int:
        """Pad, seal the last segment and the true length; return the plaintext size."""
        if self.closed:
            return self.size
        remaining = padded_size(self.size) - self.size
        while remaining:
            step = min(remaining, SEGMENT_SIZE)
            self._feed(memoryview(_ZEROS)[:step])
            remaining -= step
        self._emit(self._pending, last=True)
        self._pending = bytearray()
        end = self._out.tell()
        self._out.seek(self._length_at)
        self._out.write(self._aead.encrypt(_LENGTH_NONCE, self.size.to_bytes(8, "big"),
                                           _LENGTH_AAD))
        self._out.seek(end)
        self.closed = True
        return self.size

    def _feed(self, view: memoryview) -> None:
        pending = self._pending
        if pending:
            take = min(SEGMENT_SIZE - len(pending), len(view))
            pending += view[:take]
            view = view[take:]
            if not view:
                return
            self._emit(pending, last=False)
            pending.clear()
        while len(view) > SEGMENT_SIZE:
            self._emit(view[:SEGMENT_SIZE], last=False)
            view = view[SEGMENT_SIZE:]
        pending += view

    def _emit(self, segment: bytes | bytearray | memoryview, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._counter, last), segment, None))
        self._counter += 1


def decrypt_stream(data_key: bytes, src: BinaryIO, *, record_id: str, file_id: str,
                   check_first: bool = True) -> Iterator[bytes]:
    """Yield the plaintext of an encrypted file, raising DecryptionError on any fault.

    With `check_first` (the default) every segment is authenticated before the
    first byte comes out, so a truncated, reordered or altered file yields
    nothing at all; this reads a seekable source twice. Without it, each
    segment comes out as soon as it authenticates, in one pass, and a fault
    further on raises after the segments before it.
    """
    if check_first:
        start = src.tell()
        check_stream(data_key, src, record_id=record_id, file_id=file_id)
        src.seek(start)
    aead, size = _open_header(data_key, src, record_id, file_id)
    yield from _segments(aead, src, size)


def check_stream(data_key: bytes, src: BinaryIO, *, record_id: str, file_id: str) -> int:
    """Authenticate a whole encrypted file without giving out plaintext; return its size."""
    aead, size = _open_header(data_key, src, record_id, file_id)
    for _ in _segments(aead, src, size):
        pass
    return size


def _open_header(data_key: bytes, src: BinaryIO, record_id: str,
                 file_id: str) -> tuple[AESGCM, int]:
    """Check a stream's header; return its segment cipher and plaintext size."""
    header = _read_exact(src, HEADER_SIZE)
    if len(header) != HEADER_SIZE or header[0] != VERSION:
        raise DecryptionError
    if header[1:1 + FINGERPRINT_SIZE] != data_key_id(data_key):
        raise DecryptionError
    aead = _file_cipher(data_key, header[:_PREFIX], record_id, file_id)
    try:
        size = int.from_bytes(aead.decrypt(_LENGTH_NONCE, header[_PREFIX:], _LENGTH_AAD), "big")
    except InvalidTag as exc:
        raise DecryptionError from exc
    return aead, size


def _segments(aead: AESGCM, src: BinaryIO, size: int) -> Iterator[bytes]:
    padded, unread, seen, counter = padded_size(size), size, 0, 0
    chunk = _read_exact(src, SEGMENT_SIZE + TAG_SIZE)
    while True:
        following = _read_exact(src, SEGMENT_SIZE + TAG_SIZE) if len(chunk) == (
            SEGMENT_SIZE + TAG_SIZE) else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(counter, last), chunk, None)
        except InvalidTag as exc:
            raise DecryptionError from exc
        counter += 1
        seen += len(plain)
        if seen > padded:
            raise DecryptionError
        if unread:
            out = plain[:unread]
            unread -= len(out)
            yield out
        if last:
            break
        chunk = following
    if seen != padded:
        raise DecryptionError


def _read_exact(src: BinaryIO, size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = src.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)
