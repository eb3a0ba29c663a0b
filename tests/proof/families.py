"""Families submitting to the real server, and a vetted reviewer reading what was acknowledged.

Shared by the proof suite (tests/proof) and bench/proof.py, which runs the same
code with larger numbers. Every family records what it sent, what the server
acknowledged (the "received" page), how long each submission took, and every
error; the reviewer decrypts every stored testimony through the key hierarchy.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake.crypto import (
    Keyring,
    decrypt_field,
    decrypt_stream,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.store.models import Attachment, Submission, User
from tests import live

BOUNDARY = "----intake-proof-family"
RECEIVED = "Your testimony has been received"


def seeded(seed: int) -> random.Random:
    """A generator of test inputs, replayed from its printed seed (never for secrets)."""
    return random.Random(seed)  # noqa: S311 - reproducible test inputs, not keys


def multipart(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    """Encode a form with one file as a browser does."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def load_form(port: int, timeout: float = 30) -> tuple[str, str, str]:
    """Load the form like a browser: its session cookie, CSRF token and one-time nonce."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/submit?lang=en")
        response = connection.getresponse()
        page = response.read().decode(errors="replace")
    finally:
        connection.close()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', page)
    if response.status != 200 or not token or not nonce:
        raise AssertionError(f"the form: {response.status} {page[:300]}")
    cookies = [value.split(";")[0] for header, value in response.getheaders()
               if header.lower() == "set-cookie"]
    return "; ".join(cookies), token.group(1), nonce.group(1)


@dataclass
class Family:
    """One family sending testimonies one after another until told to stop."""

    port: int
    number: int
    rng: random.Random
    # Sizes of the file each testimony carries, in bytes: (smallest, largest).
    file_sizes: tuple[int, int] = (1_000, 20_000)
    sent: dict[str, str] = field(default_factory=dict)  # name -> SHA-256 of the file
    acknowledged: list[str] = field(default_factory=list)
    acknowledged_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Send until stopped; an exception is an error unless the family was told to stop."""
        count = 0
        while not self.stop.is_set():
            try:
                self.send(count)
            except (OSError, http.client.HTTPException, AssertionError) as exc:
                if not self.stop.is_set():
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            count += 1

    def send(self, count: int) -> None:
        """Send one testimony with its file; note the acknowledgement, or the error."""
        name = f"Witness {self.number:03d}-{count:04d} {self.rng.getrandbits(32):08x}"
        # A plain-text first line: random bytes can start like an image (two bytes suffice
        # for some formats), and a photo that cannot be rebuilt is rightly refused.
        content = b"evidence\n" + self.rng.randbytes(self.rng.randint(*self.file_sizes))
        self.sent[name] = hashlib.sha256(content).hexdigest()
        cookie, token, nonce = load_form(self.port)
        body = multipart({"csrf_token": token, "form_nonce": nonce, "consent_internal": "y",
                          "name": name, "relationship": "mother",
                          "testimony": f"testimony of {name}"}, "evidence.bin", content)
        began = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", "/submit?lang=en", body=body, headers={
                "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            response = connection.getresponse()
            page = response.read().decode(errors="replace")
        finally:
            connection.close()
        if response.status == 200 and RECEIVED in page:
            self.latencies.append(time.monotonic() - began)
            self.acknowledged.append(name)
            self.acknowledged_at.append(time.monotonic())
        elif not self.stop.is_set():
            self.errors.append(f"{name}: {response.status} {_main(page)}")


def _main(page: str) -> str:
    """The page's error messages, or its main text, without its head and navigation."""
    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)</', page, re.S)
    found = re.search(r"<main.*?</main>", page, re.S)
    text = " | ".join(errors) if errors else found.group(0) if found else page
    return re.sub(r"\s+", " ", text)[:400]


def start_families(port: int, count: int, seed: int, first: int = 0,
                   large_share: int = 5) -> tuple[list[Family], list[threading.Thread]]:
    """Start `count` families sending; every `large_share`-th sends 1 to 5 MB files."""
    families = [Family(port, first + n, seeded(seed * 1000 + n),
                       (1_000_000, 5_000_000) if n % large_share == 0 else (1_000, 20_000))
                for n in range(count)]
    threads = [threading.Thread(target=family.run, daemon=True) for family in families]
    for thread in threads:
        thread.start()
    return families, threads


def stop_families(families: list[Family], threads: list[threading.Thread]) -> None:
    """Tell every family to stop sending, and wait for the last answers."""
    for family in families:
        family.stop.set()
    for thread in threads:
        thread.join(timeout=120)


def run_families(port: int, count: int, seconds: float, seed: int) -> list[Family]:
    """Run `count` families for `seconds`; a fifth of them send 1 to 5 MB files."""
    families, threads = start_families(port, count, seed)
    time.sleep(seconds)
    stop_families(families, threads)
    return families


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def database_url_of(root: Path, database_url: str | None) -> str:
    """The URL of the instance's database: PostgreSQL's, or SQLite's file in the instance."""
    return database_url or f"sqlite:///{root / 'instance' / 'intake.sqlite3'}"


def read_as_reviewer(root: Path, database_url: str | None = None) -> dict[str, str]:
    """Decrypt every testimony with a vetted reviewer's keys; map its name to its files' hash."""
    return {name: digest for name, digest in decrypt_every_record(root, database_url) if name}


def decrypt_every_record(root: Path, database_url: str | None = None,
                         reviewer: str = "reviewer") -> list[tuple[str | None, str]]:
    """Decrypt every record (testimonies and additions) with a vetted reviewer's keys: its
    name, if it has one, and the SHA-256 of its files' plaintext, one after another.

    A record whose data key, answers or file fails to decrypt raises: nothing is skipped.
    """
    keyring = Keyring(root / "keys")
    engine = create_engine(database_url_of(root, database_url))
    read: list[tuple[str | None, str]] = []
    with Session(engine) as db:
        user = db.query(User).filter_by(name=reviewer).one()
        epochs = unlock_epochs(keyring, unlock(keyring.user_key(user.id)[1],
                                               user.passphrase_verifier,
                                               live.REVIEWER_PASSPHRASE))
        for row in db.query(Submission):
            key = open_data_key(row.sealed_key, epochs[row.desk_id, row.epoch_id],
                                desk_id=row.desk_id, epoch_id=row.epoch_id, record_id=row.id)
            answers = json.loads(decrypt_field(key, row.answers, record_id=row.id,
                                               field="answers"))
            digest = hashlib.sha256()
            for attachment in db.query(Attachment).filter_by(submission_id=row.id):
                with (root / "instance" / "store" / attachment.blob).open("rb") as blob:
                    for segment in decrypt_stream(key, blob, record_id=row.id,
                                                  file_id=attachment.id):
                        digest.update(segment)
            read.append((answers.get("name"), digest.hexdigest()))
    engine.dispose()
    return read


def referenced_blobs(root: Path, database_url: str | None = None) -> set[str]:
    """Every blob a stored attachment or a pending file refers to."""
    from intake.testimonies.submissions import blob_names

    engine = create_engine(database_url_of(root, database_url))
    with Session(engine) as db:
        names = blob_names(db)
    engine.dispose()
    return names


def store_files(root: Path) -> set[str]:
    """Every file in the instance's store, finished or not."""
    return {path.name for path in (root / "instance" / "store").iterdir()}


def lost(families: list[Family], read: dict[str, str]) -> list[str]:
    """Acknowledged testimonies missing from what the reviewer read, or read differently."""
    return [name for family in families for name in family.acknowledged
            if read.get(name) != family.sent[name]]
