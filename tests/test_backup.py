"""Backup, wipe, restore, read: byte-identical files after the round trip, even when taken live."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake import create_app
from intake.cli import main
from intake.crypto import (
    Keyring,
    decrypt_field,
    decrypt_stream,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.desk.trust import fingerprint_text, server_root
from intake.store import pgdump
from intake.store.models import Attachment, Submission, User
from tests import live
from tests.review.conftest import log_in
from tests.review.test_cases import case_ids
from tests.submit.conftest import filled_form, marker_file, post_form
from tests.submit.test_crash import BOUNDARY, form_session, multipart
from tests.test_cli import PASSPHRASE, run_intake


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Path:
    """An instance made by `intake init` with one testimony and two files."""
    root = tmp_path / "old"
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    assert run_intake(root, "init", "--admin", "amina", "--passphrase-stdin",
                      stdin=PASSPHRASE + "\n").returncode == 0
    for name, value in (("INTAKE_INSTANCE", root / "instance"), ("INTAKE_KEYS_DIR",
                                                                 root / "keys")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("INTAKE_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("INTAKE_CODE_KDF_PROFILE", "insecure-test-only")
    monkeypatch.setenv("INTAKE_DISK_FLOOR_BYTES", "0")
    client = create_app().test_client()
    response = post_form(client, filled_form(keep_originals="y"),
                         [("a.bin", marker_file(1_000_000)), ("b.txt", b"short")])
    assert response.status_code == 200
    return root


def read_files(root: Path) -> dict[str, bytes]:
    """Decrypt every file as the admin, through the restored keyring and database."""
    keyring = Keyring(root / "keys")
    engine = create_engine(os.environ.get("INTAKE_DATABASE_URL")
                           or f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")
    with Session(engine) as db:
        admin = db.query(User).filter_by(name="amina").one()
        epochs = unlock_epochs(keyring, unlock(keyring.user_key(admin.id)[1],
                                               admin.passphrase_verifier, PASSPHRASE))
        files = {}
        for row in db.query(Submission):
            key = open_data_key(row.sealed_key, epochs[row.desk_id, row.epoch_id],
                                desk_id=row.desk_id, epoch_id=row.epoch_id, record_id=row.id)
            for attachment in db.query(Attachment).filter_by(submission_id=row.id):
                meta = json.loads(decrypt_field(key, attachment.meta, record_id=row.id,
                                                field=f"attachment:{attachment.id}"))
                blob = root / "instance" / "store" / attachment.blob
                with blob.open("rb") as handle:
                    files[meta["filename"]] = b"".join(decrypt_stream(
                        key, handle, record_id=row.id, file_id=attachment.id))
        return files


def test_backup_wipe_restore_reads_byte_identical_files(
        served: Path, tmp_path: Path, empty_database: Callable[[], None]) -> None:
    before = read_files(served)
    assert before["a.bin"] == marker_file(1_000_000)
    backup = tmp_path / "backup.tar"
    result = run_intake(served, "backup", str(backup))
    assert result.returncode == 0, result.stderr
    root = root_text(served)
    shutil.rmtree(served)
    fresh = tmp_path / "new"
    empty_database()
    restored = run_intake(fresh, "restore", str(backup), "--root", root)
    assert restored.returncode == 0, restored.stderr
    assert read_files(fresh) == before
    assert run_intake(fresh, "audit", "verify").returncode == 0


def test_the_backup_holds_no_plaintext(served: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.tar"
    assert run_intake(served, "backup", str(backup)).returncode == 0
    data = backup.read_bytes()
    assert b"MARKER-7f3a9c" not in data
    assert "علی رضایی".encode() not in data


def test_a_tampered_backup_is_refused_and_nothing_is_restored(
        served: Path, tmp_path: Path, empty_database: Callable[[], None]) -> None:
    backup = tmp_path / "backup.tar"
    assert run_intake(served, "backup", str(backup)).returncode == 0
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(backup) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("instance/store/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            import io

            target.addfile(member, io.BytesIO(data))
    fresh = tmp_path / "new"
    empty_database()
    result = run_intake(fresh, "restore", str(tampered))
    assert result.returncode != 0
    assert "does not match the manifest" in result.stderr
    assert not (fresh / "instance" / "intake.sqlite3").exists()
    if os.environ.get("INTAKE_DATABASE_URL"):
        engine = create_engine(os.environ["INTAKE_DATABASE_URL"])
        assert pgdump.is_empty(engine)
        engine.dispose()


def test_restore_refuses_a_folder_that_is_not_empty(served: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.tar"
    assert run_intake(served, "backup", str(backup)).returncode == 0
    result = run_intake(served, "restore", str(backup))
    assert result.returncode != 0
    assert "not empty" in result.stderr


class Submitter:
    """Families sending testimonies to a live server, each with its own file, one after another."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent: dict[str, bytes] = {}
        # The name of each acknowledged testimony and when its "received" page arrived.
        self.acknowledged: list[tuple[str, float]] = []
        self.stop = threading.Event()

    def send(self, number: int) -> None:
        """Send one testimony; note it if the server said it was received."""
        name = f"Witness {number:03d} {secrets.token_hex(4)}"
        self.sent[name] = content = secrets.token_bytes(300_000)
        cookie, token, nonce = form_session(self.port)
        body = multipart({"csrf_token": token, "form_nonce": nonce, "consent_internal": "y",
                          "name": name, "relationship": "mother",
                          "testimony": f"testimony of {name}"}, content)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        connection.request("POST", "/submit?lang=en", body=body, headers={
            "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        response = connection.getresponse()
        page = response.read().decode()
        if response.status == 200 and "Your testimony has been received" in page:
            self.acknowledged.append((name, time.monotonic()))

    def run(self, first: int) -> None:
        number = first
        while not self.stop.is_set():
            self.send(number)
            number += 1


def read_as_reviewer(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Log in to the instance at `root` through the web; map each case's name to its file."""
    monkeypatch.setenv("INTAKE_INSTANCE", str(root / "instance"))
    monkeypatch.setenv("INTAKE_KEYS_DIR", str(root / "keys"))
    monkeypatch.setenv("INTAKE_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    client = app.test_client()
    assert log_in(app, client, passphrase=live.REVIEWER_PASSPHRASE).status_code == 302
    files = {}
    for case_id in case_ids(app):
        page = client.get(f"/review/{case_id}").get_data(as_text=True)
        name = re.search(r"Witness \d{3} [0-9a-f]{8}", page)
        link = re.search(r'href="(/review/[0-9a-f]+/file/[0-9a-f]+)">evidence.txt</a>', page)
        assert name, page[:2000]
        assert link, page[:2000]
        download = client.get(link.group(1))
        assert download.status_code == 200, name.group(0)
        files[name.group(0)] = download.get_data()
    return files


def test_a_backup_taken_while_the_server_receives_restores_every_acknowledged_testimony(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None,
        empty_database: Callable[[], None]) -> None:
    """On PostgreSQL the backup is pg_dump's snapshot, taken while gunicorn commits."""
    old = tmp_path / "old"
    if database_url:
        monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    env = live.initialise(old, reviewers=("reviewer",))
    server = live.start(old, env, workers=2)
    families = [Submitter(server.port) for _ in range(3)]
    threads = [threading.Thread(target=family.run, args=(100 * (n + 1),), daemon=True)
               for n, family in enumerate(families)]
    backup = tmp_path / "backup.tar"
    try:
        for number in range(10):
            families[0].send(number)
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        # In this process, so that the snapshot starts within moments of `began`.
        monkeypatch.setenv("INTAKE_INSTANCE", str(server.instance))
        monkeypatch.setenv("INTAKE_KEYS_DIR", str(server.keys))
        began = time.monotonic()
        result = CliRunner().invoke(main, ["backup", str(backup)])
        ended = time.monotonic()
        time.sleep(0.5)
    finally:
        for family in families:
            family.stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(timeout=30)
        server.stop()
    assert result.exit_code == 0, result.output
    acknowledged = [entry for family in families for entry in family.acknowledged]
    # The server was writing while the backup ran, not only before it.
    assert [name for name, at in acknowledged if began < at < ended], (began, ended)
    before = {name for name, at in acknowledged if at < began}
    sent = {name: content for family in families for name, content in family.sent.items()}
    root = root_text(old)
    shutil.rmtree(old)
    fresh = tmp_path / "new"
    empty_database()
    restored = run_intake(fresh, "restore", str(backup), "--root", root)
    assert restored.returncode == 0, restored.stderr
    files = read_as_reviewer(fresh, monkeypatch)
    assert sorted(before - files.keys()) == []
    # Every case in the backup, whether it arrived before or during it, reads whole.
    assert [name for name, content in files.items() if sent[name] != content] == []


def root_text(root: Path) -> str:
    """The root fingerprint `intake init` printed, as its admin kept it."""
    return fingerprint_text(server_root(Keyring(root / "keys"), "main", None) or b"")
