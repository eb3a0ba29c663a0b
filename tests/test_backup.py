"""Backup, wipe, restore, read: byte-identical files after the round trip."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from intake import create_app
from intake.crypto import (
    Keyring,
    decrypt_field,
    decrypt_stream,
    open_data_key,
    unlock,
    unlock_epochs,
)
from intake.models import Attachment, Submission, User
from tests.submit.conftest import filled_form, marker_file, post_form
from tests.test_cli import PASSPHRASE, run_intake


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance made by `intake init` with one testimony and two files."""
    root = tmp_path / "old"
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
    engine = create_engine(f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")
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


def test_backup_wipe_restore_reads_byte_identical_files(served: Path, tmp_path: Path) -> None:
    before = read_files(served)
    assert before["a.bin"] == marker_file(1_000_000)
    backup = tmp_path / "backup.tar"
    result = run_intake(served, "backup", str(backup))
    assert result.returncode == 0, result.stderr
    shutil.rmtree(served)
    fresh = tmp_path / "new"
    restored = run_intake(fresh, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert read_files(fresh) == before
    assert run_intake(fresh, "audit", "verify").returncode == 0


def test_the_backup_holds_no_plaintext(served: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.tar"
    assert run_intake(served, "backup", str(backup)).returncode == 0
    data = backup.read_bytes()
    assert b"MARKER-7f3a9c" not in data
    assert "علی رضایی".encode() not in data


def test_a_tampered_backup_is_refused_and_nothing_is_restored(served: Path,
                                                              tmp_path: Path) -> None:
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
    result = run_intake(fresh, "restore", str(tampered))
    assert result.returncode != 0
    assert "does not match the manifest" in result.stderr
    assert not (fresh / "instance" / "intake.sqlite3").exists()


def test_restore_refuses_a_folder_that_is_not_empty(served: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.tar"
    assert run_intake(served, "backup", str(backup)).returncode == 0
    result = run_intake(served, "restore", str(backup))
    assert result.returncode != 0
    assert "not empty" in result.stderr
