"""The keyring folder: contained paths, atomic writes, grants, and no private key on disk."""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

import pytest

from intake.crypto import (
    Keyring,
    KeyringError,
    PrivateKey,
    create_desk,
    grant_epoch,
    parse_recovery_secret,
    unlock_epochs,
)

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "", "..", "Main", "a" * 65, "-x", "x\x00"])
def test_keyring_refuses_path_escaping_ids(keyring: Keyring, bad_id: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        keyring.create_desk(bad_id, "desk")
    with pytest.raises(ValueError, match="invalid"):
        keyring.put_user_key(bad_id, PrivateKey.generate().public_key, b"wrapped")


def test_keyring_refuses_a_symlink_out_of_its_root(keyring: Keyring, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (keyring.root / "desks").mkdir(parents=True)
    os.symlink(outside, keyring.root / "desks" / "main")
    with pytest.raises(ValueError, match="escapes"):
        keyring.create_desk("main", "desk")
    assert list(outside.iterdir()) == []


def test_writes_leave_no_temporary_files(keyring: Keyring) -> None:
    create_desk(keyring, "main", "desk", TODAY)
    leftovers = [p for p in keyring.root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_keyring_files_are_private_to_their_owner(keyring: Keyring) -> None:
    create_desk(keyring, "main", "desk", TODAY)
    for path in keyring.root.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_desk_cannot_be_created_twice(keyring: Keyring) -> None:
    create_desk(keyring, "main", "desk", TODAY)
    with pytest.raises(KeyringError, match="exists"):
        create_desk(keyring, "main", "desk", TODAY)


def test_a_missing_entry_is_a_keyring_error(keyring: Keyring) -> None:
    with pytest.raises(KeyringError, match="missing"):
        keyring.desk("main")


def test_only_granted_epochs_unlock(keyring: Keyring) -> None:
    desk = create_desk(keyring, "main", "desk", TODAY)
    granted, stranger = PrivateKey.generate(), PrivateKey.generate()
    grant_epoch(keyring, desk.epoch, desk.epoch_key, granted.public_key)
    assert set(unlock_epochs(keyring, granted)) == {("main", 1)}
    assert unlock_epochs(keyring, stranger) == {}


def test_a_deleted_grant_no_longer_unlocks(keyring: Keyring) -> None:
    desk = create_desk(keyring, "main", "desk", TODAY)
    reviewer = PrivateKey.generate()
    grant_epoch(keyring, desk.epoch, desk.epoch_key, reviewer.public_key)
    assert keyring.delete_grant("main", 1, reviewer.fingerprint)
    assert unlock_epochs(keyring, reviewer) == {}
    assert not keyring.delete_grant("main", 1, reviewer.fingerprint)


def test_a_grant_of_the_wrong_key_is_refused(keyring: Keyring) -> None:
    desk = create_desk(keyring, "main", "desk", TODAY)
    with pytest.raises(ValueError, match="does not belong"):
        grant_epoch(keyring, desk.epoch, PrivateKey.generate(), desk.epoch_key.public_key)


def test_epochs_are_numbered_and_the_current_one_can_move(keyring: Keyring) -> None:
    create_desk(keyring, "main", "desk", TODAY)
    second = keyring.add_epoch("main", PrivateKey.generate().public_key, TODAY)
    assert second.id == 2
    assert keyring.current_epoch("main").id == 1
    keyring.set_current_epoch("main", 2)
    keyring.retire_epoch("main", 1)
    assert keyring.current_epoch("main").id == 2
    assert [e.retired for e in keyring.epochs("main")] == [True, False]


def _forms(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), base64.b64encode(secret),
            base64.b32encode(secret).rstrip(b"=")]


def test_no_private_key_reaches_the_keyring_folder(keyring: Keyring) -> None:
    desk = create_desk(keyring, "main", "desk", TODAY)
    reviewer = PrivateKey.generate()
    grant_epoch(keyring, desk.epoch, desk.epoch_key, reviewer.public_key)
    secrets = [desk.epoch_key.to_bytes(), desk.epoch_key.to_bytes()[:64],
               desk.epoch_key.to_bytes()[64:], parse_recovery_secret(desk.recovery_text),
               reviewer.to_bytes()]
    for path in keyring.root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert not any(form in data for form in _forms(secret)), path
