"""Files as they arrive: each part encrypted into a pending blob under the batch's data key.

The web layer's request class hands Werkzeug's multipart parser an
`EncryptedUpload` for every file part, so the bytes are encrypted as they
arrive; nothing of a file reaches disk in plaintext.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from typing import Any

from intake.crypto import StreamEncryptor, new_data_key
from intake.store.blobs import PendingBlob, Store


class FileTooLarge(Exception):
    """A file part grew past the limit on one file."""


class TooManyFiles(Exception):
    """A request carried more file parts than a form accepts."""


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
            raise FileTooLarge()
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
            raise TooManyFiles()
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


def _new_id() -> str:
    return secrets.token_hex(16)
