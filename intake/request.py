"""The request class: uploaded files are encrypted as their bytes arrive.

Werkzeug's default `_get_file_stream` spools any file part over 500 KB to a
plaintext temporary file. Here every file part is written through the
streaming file cipher into a pending blob in the store, under a data key
made for this request; nothing of it reaches disk in plaintext, and if the
request fails the pending blobs are removed.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from typing import IO, Any, cast

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .bound import get_uploads
from .crypto import StreamEncryptor, new_data_key
from .storage import PendingBlob, Store


class EncryptedUpload:
    """A file part, encrypted into a pending blob; its plaintext cannot be read back."""

    def __init__(self, blob: PendingBlob, data_key: bytes, record_id: str, file_id: str,
                 limit: int) -> None:
        self.blob = blob
        self.file_id = file_id
        self.sha256 = hashlib.sha256()
        self._encryptor = StreamEncryptor(data_key, blob.file, record_id=record_id,
                                          file_id=file_id)
        self._limit = limit

    @property
    def size(self) -> int:
        """Return the number of plaintext bytes received."""
        return self._encryptor.size

    def write(self, data: Any) -> int:
        """Hash and encrypt a chunk of the upload."""
        if self._encryptor.size + len(data) > self._limit:
            raise RequestEntityTooLarge()
        self.sha256.update(data)
        return self._encryptor.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Finish the upload (Werkzeug seeks to 0 when the part ends)."""
        self._encryptor.close()
        return 0

    def read(self, size: int = -1) -> bytes:
        """Refuse: plaintext is not kept."""
        raise OSError("an encrypted upload cannot be read back as plaintext")

    def close(self) -> None:
        """Do nothing: Werkzeug closes every file part, but the batch owns the blob file."""


class UploadBatch:
    """The uploads of one request, encrypted under one fresh data key."""

    def __init__(self, store: Store, file_limit: int, max_files: int) -> None:
        self.store = store
        self.data_key = new_data_key()
        self.record_id = _new_id()
        self.uploads: list[EncryptedUpload] = []
        self._file_limit = file_limit
        self._max_files = max_files

    def new_upload(self, *, replacing: bool = False) -> EncryptedUpload:
        """Start encrypting the next file part (or a rebuilt copy of one)."""
        if not replacing and len(self.uploads) >= self._max_files:
            raise BadRequest("too many files")
        # A rebuilt image is our own output, bounded by the pixel cap, and may come out
        # larger than what was sent; the family's limit applies to what they send.
        limit = sys.maxsize if replacing else self._file_limit
        upload = EncryptedUpload(self.store.new_blob(), self.data_key, self.record_id,
                                 _new_id(), limit)
        self.uploads.append(upload)
        return upload

    def discard(self) -> None:
        """Remove every blob of this batch that was not committed."""
        for upload in self.uploads:
            if not upload.blob.done:
                upload.blob.discard()


class EncryptingRequest(Request):
    """A request whose file parts stream into encrypted blobs, never plaintext files."""

    upload_batch: UploadBatch | None = None

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        if self.endpoint not in get_uploads().endpoints:
            raise BadRequest("this page does not accept files")
        return cast(IO[bytes], self.batch().new_upload())

    def batch(self) -> UploadBatch:
        """Return this request's upload batch, made on first use."""
        if self.upload_batch is None:
            uploads = get_uploads()
            # One file may be as large as the whole request: the admin's live limit.
            limit = self.max_content_length or uploads.file_limit
            self.upload_batch = UploadBatch(uploads.store, limit, uploads.max_files)
        return self.upload_batch


def discard_body(environ: dict[str, Any], bound: int) -> bool:
    """Read and throw away the rest of a request body; say whether it all came within `bound`.

    Reads the server's input stream directly: Werkzeug's own stream refuses to
    read a body over the limit. A declared length over the bound is not read at all.
    """
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > bound:
        return False
    stream, read = environ["wsgi.input"], 0
    while read <= bound:
        try:
            chunk = stream.read(_DISCARD_CHUNK)
        except (OSError, BadRequest):
            # The client left, went silent past the server's idle timeout, or broke the
            # body's framing (the server raises BadRequest for a bad chunk).
            return False
        if not chunk:
            return True
        read += len(chunk)
    return False


_DISCARD_CHUNK = 64 * 1024


def _new_id() -> str:
    return secrets.token_hex(16)
