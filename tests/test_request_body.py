"""The request body as the app reads it: large reads from the socket that keep the connection in
step, and the SHA-256 of an upload written in uneven pieces."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

import pytest

from intake.store.blobs import Store
from intake.web.request import UploadBatch
from tests import live
from tests.proof.families import seeded


@pytest.fixture
def served(tmp_path: Path) -> live.LiveServer:
    """The real server, one worker."""
    server = live.start(tmp_path, live.initialise(tmp_path), workers=1)
    yield server  # type: ignore[misc]
    server.stop()


def exchange(port: int, data: bytes) -> bytes:
    """Send bytes on one connection, close our side, and read everything answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(65536), b""))


def test_a_request_sent_right_after_a_form_body_on_one_connection_is_answered_as_its_own(
        served: live.LiveServer) -> None:
    """The body is read straight from the socket: the bytes after it (here a second request,
    pipelined) must stay gunicorn's, and the count of what is left of the body exact, or the
    second request is eaten as body or the connection hangs."""
    form = b"code=&form_nonce=x&csrf_token=y" + b"&testimony=" + b"z" * 3_000_000
    first = (b"POST /submit/received?lang=en HTTP/1.1\r\nHost: x\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\n"
             b"Content-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form)
    unread = (b"POST /submit/done HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    second = b"GET /?lang=fa HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = exchange(served.port, first + unread + second)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)
    assert statuses == [b"400", b"405", b"200"]
    assert 'lang="fa"' in answers.rsplit(b"HTTP/1.1 200", 1)[1].decode()


def test_an_uploads_sha256_covers_every_byte_in_order_whatever_the_pieces(
        tmp_path: Path) -> None:
    """2.5 MiB written in uneven pieces (as the socket hands them out) hashes as the whole file
    does, and its size counts every byte."""
    data = seeded(7).randbytes(2_621_440 + 123)
    upload = UploadBatch(Store(tmp_path), file_limit=10_000_000, max_files=1).new_upload()
    at, sizes = 0, seeded(8)
    while at < len(data):
        step = sizes.randint(1, 300_000)
        upload.write(data[at:at + step])
        at += step
    upload.seek(0)
    assert upload.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    assert upload.size == 2_621_563
