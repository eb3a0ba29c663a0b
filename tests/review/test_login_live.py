"""Login throttling through the real server (gunicorn, two workers sharing the counters)."""

from __future__ import annotations

import http.client
import re
import sqlite3
import time
import urllib.parse
from pathlib import Path

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.live import ADMIN_PASSPHRASE, LiveServer, initialise, start

GUESSED_NAME = "shirin.ahmadi"


def attempt(server: LiveServer, name: str, passphrase: str, code: str) -> int:
    """Load the login form and post it, as a browser would, on fresh connections."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    connection.request("GET", "/review/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "name": name,
                                   "passphrase": passphrase, "code": code})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    connection.request("POST", "/review/login", body, {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return response.status


def code_now(instance: Path, name: str) -> str:
    """The code the account's authenticator shows now."""
    with sqlite3.connect(instance / "intake.sqlite3") as db:
        [secret] = db.execute("SELECT totp_secret FROM users WHERE name = ?", (name,)).fetchone()
    return TOTP(secret, 6, SHA1(), 30).generate(time.time()).decode()  # noqa: S303


def test_wrong_tries_against_a_name_neither_lock_its_owner_out_nor_write_the_name_down(
        tmp_path: Path) -> None:
    """Reproduction (through gunicorn): five wrong tries a minute against a reviewer's name
    made the right passphrase and code get 429, and every tried name was stored in the
    throttle table in the clear."""
    server = start(tmp_path, initialise(tmp_path), workers=2)
    try:
        if time.time() % 60 > 45:  # keep every try inside one counter minute
            time.sleep(61 - time.time() % 60)
        wrong = [attempt(server, "admin", "not the admin passphrase", "000000")
                 for _ in range(6)]
        assert wrong == [401] * 5 + [429]
        assert attempt(server, GUESSED_NAME, "a guess", "000000") == 401
        assert attempt(server, "admin", ADMIN_PASSPHRASE, code_now(server.instance,
                                                                    "admin")) == 302
    finally:
        server.stop()
    for path in server.written_files():
        assert GUESSED_NAME.encode() not in path.read_bytes(), path
