"""The request class: uploaded files are encrypted as their bytes arrive.

Werkzeug's default `_get_file_stream` spools any file part over 500 KB to a
plaintext temporary file. Here every file part is written through the
streaming file cipher into a pending blob in the store, under a data key
made for this request; nothing of it reaches disk in plaintext, and if the
request fails the pending blobs are removed.
"""

from __future__ import annotations

from typing import IO, Any, cast

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from intake.testimonies.uploads import FileTooLarge, TooManyFiles, UploadBatch
from intake.web.bound import get_uploads


class EncryptingRequest(Request):
    """A request whose file parts stream into encrypted blobs, never plaintext files."""

    upload_batch: UploadBatch | None = None

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        if self.endpoint not in get_uploads().endpoints:
            raise BadRequest("this page does not accept files")
        return cast(IO[bytes], self.batch().new_upload())

    def _load_form_data(self) -> None:
        # The upload raises domain errors from inside Werkzeug's parser; say them in HTTP.
        try:
            super()._load_form_data()
        except FileTooLarge:
            raise RequestEntityTooLarge() from None
        except TooManyFiles:
            raise BadRequest("too many files") from None

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
    A body not read to its end leaves the connection out of step, so the server is
    asked to close it after the answer (our gunicorn worker's body offers that).
    """
    stream = environ["wsgi.input"]
    if _read_to_end(environ, stream, bound):
        return True
    close_after_answer = getattr(stream, "close_after_answer", None)
    if close_after_answer is not None:
        close_after_answer()
    return False


def _read_to_end(environ: dict[str, Any], stream: Any, bound: int) -> bool:
    declared = environ.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > bound:
        return False
    read = 0
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
