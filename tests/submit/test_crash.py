"""A crash (kill -9 of the real server) in the middle of an upload leaves nothing behind."""

from __future__ import annotations

import http.client
import os
import re
import sqlite3
import time
from pathlib import Path

from tests.live import initialise, start
from tests.submit.conftest import MARKER, marker_file

BOUNDARY = "----intake-crash-test"


def form_session(port: int) -> tuple[str, str, str]:
    """Load the form like a browser: return the session cookie, CSRF token and nonce."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/submit")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
    assert token
    assert nonce
    return cookie, token.group(1), nonce.group(1)


def open_files_holding(process_group: int, needle: bytes) -> list[str]:
    """Read every regular file the server's processes hold open, deleted ones included.

    Werkzeug's default spooling uses anonymous temporary files that no directory
    lists; /proc/<pid>/fd still reaches them while the upload is in flight.
    """
    hits = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) != process_group:
            continue
        for fd in (stat.parent / "fd").iterdir():
            try:
                target = os.readlink(fd)
                if target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/")):
                    continue
                with open(fd, "rb") as handle:
                    if needle in handle.read():
                        hits.append(f"{stat.parent.name}: {target}")
            except OSError:
                continue
    return hits


def multipart(fields: dict[str, str], file_content: bytes) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
                 f'filename="evidence.txt"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                 + file_content + f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def test_kill_9_during_an_upload_leaves_no_record_and_no_plaintext(tmp_path: Path) -> None:
    env = initialise(tmp_path)
    server = start(tmp_path, env, workers=1)
    try:
        cookie, token, nonce = form_session(server.port)
        body = multipart({"csrf_token": token, "form_nonce": nonce, "consent_internal": "y",
                          "name": MARKER, "relationship": "mother",
                          "testimony": f"testimony {MARKER}"}, marker_file(8_000_000))
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.putrequest("POST", "/submit")
        for header, value in (("Cookie", cookie), ("Content-Length", str(len(body))),
                              ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")):
            connection.putheader(header, value)
        connection.endheaders()
        connection.send(body[:5_000_000])
        time.sleep(1.0)  # the worker has read and handled what was sent
        assert open_files_holding(server.process.pid, MARKER.encode()) == []
        assert any((server.instance / "store").glob("*.partial")), "the upload is not in flight"
        server.kill()
    finally:
        server.kill()
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    assert database.execute("select count(*) from submissions").fetchone() == (0,)
    assert database.execute("select count(*) from attachments").fetchone() == (0,)
    database.close()
    for path in server.written_files():
        assert MARKER.encode() not in path.read_bytes(), path

    restarted = start(tmp_path, env, workers=1)
    try:
        assert list((server.instance / "store").iterdir()) == []
        connection = http.client.HTTPConnection("127.0.0.1", restarted.port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
    finally:
        restarted.stop()
