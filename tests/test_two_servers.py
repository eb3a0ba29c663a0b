"""Two app servers, one database: families and reviewers may reach either, a rotation loses nothing.

Two `intake serve` processes (gunicorn) on different ports share one PostgreSQL
database, one instance folder and one keyring, as two hosts behind a balancer
sharing a volume would. Nothing either keeps in its own memory may decide what
the other does: the rotation lock, the chain's high-water mark and the sessions
live in the shared folder or the database.
"""

from __future__ import annotations

import http.client
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from intake.crypto import Keyring
from intake.staff.accounts import totp_for
from intake.store.models import Submission, User
from tests import live
from tests.submit.test_crash import BOUNDARY, multipart
from tests.test_backup import Submitter as _Submitter

pytestmark = pytest.mark.postgresql_only


class Submitter(_Submitter):
    """A family sending testimonies one after another, noting every refusal too."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.refused: list[str] = []

    def run(self, first: int) -> None:
        """Send until stopped, a moment apart; failing to reach the server is a refusal."""
        number = first
        try:
            while not self.stop.wait(0.05):
                self.send(number)
                number += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.refused.append(repr(exc))

    def send(self, number: int) -> None:
        """Send one testimony with its file; note the acknowledgement or the refusal."""
        name = f"Witness {number:03d} {secrets.token_hex(4)}"
        self.sent[name] = content = secrets.token_bytes(100_000)
        form = self.form()
        if form is None:
            return
        cookie, token, nonce = form
        body = multipart({"csrf_token": token, "form_nonce": nonce, "consent_internal": "y",
                          "name": name, "relationship": "mother",
                          "testimony": f"testimony of {name}"}, content)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", "/submit?lang=en", body=body, headers={
            "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        response = connection.getresponse()
        page = response.read().decode(errors="replace")
        if response.status == 200 and "Your testimony has been received" in page:
            self.acknowledged.append((name, time.monotonic()))
        else:
            self.refused.append(f"{name}: {response.status} {page[:300]}")


    def form(self) -> tuple[str, str, str] | None:
        """Load the form like a browser: its session cookie, CSRF token and nonce, or None."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/submit")
        response = connection.getresponse()
        page = response.read().decode(errors="replace")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
        if response.status != 200 or not token or not nonce:
            self.refused.append(f"the form: {response.status} {page[:3000]}")
            return None
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        return cookie, token.group(1), nonce.group(1)


class Reviewer:
    """A reviewer's browser: one cookie jar, whichever server it talks to."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.cookies: dict[str, str] = {}
        self.code = ""

    def request(self, port: int, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        """Send one request with the jar's cookies; keep what the server sets."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return response.status, response.read(), response.getheader("Location", "")

    def log_in(self, port: int) -> None:
        """Log in with passphrase and the authenticator's code through the server at `port`."""
        self.code = self._code()
        status, body, location = self.post_login(port, self.code)
        assert status == 302, body[:2000]
        assert "/login" not in location

    def post_login(self, port: int, code: str) -> tuple[int, bytes, str]:
        """Post the login form with this code; return the answer."""
        _, page, _ = self.request(port, "GET", "/review/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, page[:500]
        return self.request(port, "POST", "/review/login", {
            "csrf_token": token.group(1).decode(), "name": "reviewer",
            "passphrase": live.REVIEWER_PASSPHRASE, "code": code})

    def _code(self) -> str:
        """The authenticator's code of a step not yet spent (this or the next, one is allowed)."""
        engine = create_engine(self.database_url)
        with Session(engine) as db:
            user = db.scalars(select(User).filter_by(name="reviewer")).one()
            moment = max(time.time(), (user.totp_last_step + 1) * 30)
            code: str = totp_for(user).generate(moment).decode()
        engine.dispose()
        return code

    def read_all(self, port: int, case_ids: list[str]) -> dict[str, bytes]:
        """Open every case through the server at `port`; map its witness's name to its file."""
        files = {}
        for case_id in case_ids:
            status, page, _ = self.request(port, "GET", f"/review/{case_id}")
            text = page.decode()
            name = re.search(r"Witness \d{3} [0-9a-f]{8}", text)
            link = re.search(r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)">evidence.txt</a>', text)
            assert status == 200, text[:2000]
            assert name, text[:2000]
            assert link, text[:2000]
            status, content, _ = self.request(port, "GET", link.group(1))
            assert status == 200, name.group(0)
            files[name.group(0)] = content
        return files


def records(database_url: str) -> dict[str, int]:
    """Map every record's id to the epoch its data key is sealed to."""
    engine = create_engine(database_url)
    with Session(engine) as db:
        found = {row.id: row.epoch_id for row in db.scalars(select(Submission))}
    engine.dispose()
    return found


ROTATE = [live.INTAKE, "keys", "rotate", "--admin", "admin", "--passphrase-stdin"]


def rotate(root: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Rotate from the command line, a record per batch so that families overlap it; meanwhile
    start a second rotation, as an admin on the other host would. Return the first's exit
    status and error output, and what refused the second."""
    # One second of settling: longer than any submission here takes, as 150 s is in production.
    first = subprocess.Popen([*ROTATE, "--batch", "1", "--pause-ms", "150", "--settle-seconds",
                              "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env, cwd=root, text=True)
    assert first.stdin is not None
    first.stdin.write(live.ADMIN_PASSPHRASE + "\n")
    first.stdin.close()
    lock = root / "instance" / "rotation-main.lock"
    deadline = time.monotonic() + 30
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run([*ROTATE, "--settle-seconds", "0"],
                            input=live.ADMIN_PASSPHRASE + "\n", env=env, cwd=root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert first.stderr is not None
    errors = first.stderr.read()
    first.wait(timeout=120)
    refusal = second.stderr if second.returncode else "the second rotation ran"
    return first.returncode, errors, refusal


def test_two_servers_share_cases_sessions_and_a_rotation_without_losing_a_testimony(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """Families submit through both servers, a reviewer logs in through one and reads every
    file through the other; a rotation runs while families keep submitting through the
    other server; afterwards every acknowledged testimony reads whole, on the new epoch."""
    monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    env = live.initialise(tmp_path, reviewers=("reviewer",))
    first = live.start(tmp_path, env)
    second = live.start(tmp_path, env)
    families = [Submitter(first.port), Submitter(second.port), Submitter(second.port)]
    reviewer = Reviewer(database_url)
    try:
        began, ended, (status, errors, refusal) = submit_and_rotate(
            tmp_path, env, families, reviewer, second.port)
        assert status == 0, errors
        assert "another rotation or backup of this desk is running" in refusal
        # The rotation ended every session: the reviewer logs in again, through the first.
        reviewer.log_in(first.port)
        sealed = records(database_url)
        files = reviewer.read_all(second.port, list(sealed))
    finally:
        first.stop()
        second.stop()
    assert [reason for family in families for reason in family.refused] == []
    during = [name for family in families[1:] for name, at in family.acknowledged
              if began < at < ended]
    assert during, "no family submitted while the rotation ran"
    acknowledged = {name for family in families for name, _ in family.acknowledged}
    sent = {name: content for family in families for name, content in family.sent.items()}
    assert sorted(acknowledged - files.keys()) == []
    assert [name for name, content in files.items() if sent[name] != content] == []
    epochs = Keyring(tmp_path / "keys").epochs("main")
    assert [(e.id, e.retired) for e in epochs] == [(1, True), (2, False)]
    assert set(sealed.values()) == {2}


def submit_and_rotate(root: Path, env: dict[str, str], families: list[Submitter],
                      reviewer: Reviewer, other: int
                      ) -> tuple[float, float, tuple[int, str, str]]:
    """Submit through both servers, read them all through `other` after logging in through
    the first family's server, then rotate while the other families keep submitting."""
    for number in range(2):
        families[0].send(number)
        families[1].send(10 + number)
    reviewer.log_in(families[0].port)
    # The code just spent on one server is spent on the other too (the step is in the database).
    assert reviewer.post_login(other, reviewer.code)[0] == 401
    before = reviewer.read_all(other, list(records(reviewer.database_url)))
    assert before == {**families[0].sent, **families[1].sent}
    threads = [threading.Thread(target=family.run, args=(100 * n,), daemon=True)
               for n, family in enumerate(families[1:], start=1)]
    for thread in threads:
        thread.start()
    try:
        began = time.monotonic()
        result = rotate(root, env)
        ended = time.monotonic()
        time.sleep(0.3)
    finally:
        for family in families:
            family.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return began, ended, result
