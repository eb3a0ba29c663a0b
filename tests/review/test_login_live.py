"""Login throttling through the real server (gunicorn, two workers sharing the counters)."""

from __future__ import annotations

import http.client
import re
import sqlite3
import time
import urllib.parse
from contextlib import closing
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
    # Closed here: a connection left to the garbage collector, closing last, would delete
    # the -wal and -shm files while the test reads every file the server wrote.
    with closing(sqlite3.connect(instance / "intake.sqlite3")) as db:
        [secret] = db.execute("SELECT totp_secret FROM users WHERE name = ?", (name,)).fetchone()
    return TOTP(secret, 6, SHA1(), 30).generate(time.time()).decode()  # noqa: S303


def tries_in_one_minute(server: LiveServer) -> tuple[list[int], int, int]:
    """Six wrong tries at admin's login, one at a guessed name, then admin's right passphrase
    and code, all inside one minute, since the throttle counts per clock minute; start again
    in a fresh minute if that one ended before they did."""
    while True:
        if time.time() % 60 > 55:  # too near the minute's end to start
            time.sleep(61 - time.time() % 60)
        minute = time.time() // 60
        wrong = [attempt(server, "admin", "not the admin passphrase", "000000")
                 for _ in range(6)]
        guessed = attempt(server, GUESSED_NAME, "a guess", "000000")
        right = attempt(server, "admin", ADMIN_PASSPHRASE, code_now(server.instance, "admin"))
        if time.time() // 60 == minute:
            return wrong, guessed, right
        # Some tries were counted in this new minute: wait for the next, where none were.
        time.sleep(61 - time.time() % 60)


def test_wrong_tries_against_a_name_neither_lock_its_owner_out_nor_write_the_name_down(
        tmp_path: Path) -> None:
    """Reproduction (through gunicorn): five wrong tries a minute against a reviewer's name
    made the right passphrase and code get 429, and every tried name was stored in the
    throttle table in the clear."""
    server = start(tmp_path, initialise(tmp_path), workers=2)
    try:
        wrong, guessed, right = tries_in_one_minute(server)
        assert wrong == [401] * 5 + [429]
        assert guessed == 401
        assert right == 302
    finally:
        server.stop()
    for path in server.written_files():
        assert GUESSED_NAME.encode() not in path.read_bytes(), path
