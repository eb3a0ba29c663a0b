"""The keyring folder: contained paths, atomic writes, grants, and no private key on disk."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from intake.crypto import (
    INSECURE_TEST_ONLY,
    Keyring,
    KeyringError,
    NewDesk,
    PrivateKey,
    create_desk,
    files,
    grant_epoch,
    parse_recovery_secret,
    recovery_key,
    unlock_epochs,
    wrap_private_key,
)
from intake.crypto.files import atomic_write, contained

TODAY = dt.date(2026, 11, 25)

BAD_IDS = ["../x", "../../outside", "a/b", "", ".", "..", "/tmp/x", "main/../main", "Main",
           "a" * 65, "-x", "x\x00", "main\n", "ma in"]
FINGERPRINT = bytes(16)
Operation = Callable[[Keyring, str, PrivateKey], object]
OPERATIONS: dict[str, Operation] = {
    "create_desk": lambda k, i, key: k.create_desk(i, "desk"),
    "desk": lambda k, i, key: k.desk(i),
    "add_epoch": lambda k, i, key: k.add_epoch(i, key.public_key, TODAY),
    "epochs": lambda k, i, key: k.epochs(i),
    "epoch": lambda k, i, key: k.epoch(i, 1),
    "set_current_epoch": lambda k, i, key: k.set_current_epoch(i, 1),
    "current_epoch": lambda k, i, key: k.current_epoch(i),
    "retire_epoch": lambda k, i, key: k.retire_epoch(i, 1),
    "set_recovery_key": lambda k, i, key: k.set_recovery_key(i, key.public_key),
    "recovery_key": lambda k, i, key: k.recovery_key(i),
    "put_grant": lambda k, i, key: k.put_grant(i, 1, key.public_key, b"grant"),
    "grant": lambda k, i, key: k.grant(i, 1, FINGERPRINT),
    "grant_recipients": lambda k, i, key: k.grant_recipients(i, 1),
    "delete_grant": lambda k, i, key: k.delete_grant(i, 1, FINGERPRINT),
    "put_user_key": lambda k, i, key: k.put_user_key(i, key.public_key, b"wrapped"),
    "user_key": lambda k, i, key: k.user_key(i),
    "delete_user_key": lambda k, i, key: k.delete_user_key(i),
}


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_keyring_refuses_path_escaping_ids(tmp_path: Path, epoch_key: PrivateKey,
                                           operation: str, bad_id: str) -> None:
    keyring = Keyring(tmp_path / "deep" / "keys")
    with pytest.raises(ValueError, match="invalid"):
        OPERATIONS[operation](keyring, bad_id, epoch_key)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("parts", [("..", "x"), ("a", "..", "..", "x"), ("/etc/passwd",), ("",),
                                   (".",), ("a", ".."), ("desks", "/", "x")])
def test_contained_paths_refuse_anything_but_a_path_below_the_root(
        tmp_path: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="escapes"):
        contained(tmp_path / "root", *parts)


def test_contained_paths_allow_nested_names_and_symlinks_that_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    os.symlink(root / "real", root / "alias")
    assert contained(root, "a", "b.json") == root / "a" / "b.json"
    assert contained(root, "alias", "x") == root / "real" / "x"


def test_contained_paths_refuse_a_symlink_pointing_outside_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    os.symlink(outside / "file", root / "file-link")
    os.symlink(tmp_path, root / "up")
    for parts in (("link",), ("link", "x"), ("file-link",), ("up", "root", "..", "outside")):
        with pytest.raises(ValueError, match="escapes"):
            contained(root, *parts)


def test_keyring_refuses_to_write_through_a_symlink_out_of_its_root(keyring: Keyring,
                                                                    tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (keyring.root / "desks").mkdir(parents=True)
    os.symlink(outside, keyring.root / "desks" / "main")
    os.symlink(outside, keyring.root / "users")
    with pytest.raises(ValueError, match="escapes"):
        keyring.create_desk("main", "desk")
    with pytest.raises(ValueError, match="escapes"):
        keyring.put_user_key("alice", PrivateKey.generate().public_key, b"wrapped")
    assert list(outside.iterdir()) == []


def test_keyring_refuses_to_read_through_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    elsewhere = Keyring(tmp_path / "elsewhere")
    create_desk(elsewhere, "main", "planted desk", TODAY)
    keyring = Keyring(tmp_path / "keys")
    (keyring.root / "desks").mkdir(parents=True)
    os.symlink(elsewhere.root / "desks" / "main", keyring.root / "desks" / "main")
    for read in (lambda: keyring.desk("main"), lambda: keyring.epochs("main"),
                 lambda: keyring.recovery_key("main")):
        with pytest.raises(ValueError, match="escapes"):
            read()


def test_keyring_refuses_a_grant_file_symlinked_out_of_its_root(
        keyring: Keyring, desk: NewDesk, tmp_path: Path) -> None:
    reviewer = PrivateKey.generate()
    outside = tmp_path / "outside.grant"
    outside.write_bytes(b"outside")
    grants = keyring.root / "desks" / "main" / "epochs" / "1" / "grants"
    os.symlink(outside, grants / f"{reviewer.fingerprint.hex()}.grant")
    with pytest.raises(ValueError, match="escapes"):
        keyring.grant("main", 1, reviewer.fingerprint)
    with pytest.raises(ValueError, match="escapes"):
        grant_epoch(keyring, desk.epoch, desk.epoch_key, reviewer.public_key)
    with pytest.raises(ValueError, match="escapes"):
        keyring.delete_grant("main", 1, reviewer.fingerprint)
    assert outside.read_bytes() == b"outside"


def enrol_and_grant(keyring: Keyring, desk: NewDesk) -> PrivateKey:
    """Enrol a reviewer (wrapped key on disk) and grant them the desk's first epoch."""
    reviewer = PrivateKey.generate()
    wrapped = wrap_private_key(reviewer, "reviewer passphrase", INSECURE_TEST_ONLY)
    keyring.put_user_key("reviewer", reviewer.public_key, wrapped.blob)
    grant_epoch(keyring, desk.epoch, desk.epoch_key, reviewer.public_key)
    return reviewer


def test_atomic_writes_leave_no_temporary_files(keyring: Keyring, desk: NewDesk) -> None:
    enrol_and_grant(keyring, desk)
    keyring.add_epoch("main", PrivateKey.generate().public_key, TODAY)
    keyring.set_current_epoch("main", 2)
    keyring.retire_epoch("main", 1)
    names = [p.name for p in keyring.root.rglob("*")]
    assert [n for n in names if n.endswith(".tmp") or n.startswith(".")] == []


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_no_temporary_file_and_keeps_the_old_entry(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failing: str) -> None:
    path = tmp_path / "entry.json"
    atomic_write(path, b"old")

    def fail(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(files.os, failing, fail)
        with pytest.raises(OSError, match="No space"):
            atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"]


def test_keyring_files_are_private_to_their_owner(keyring: Keyring, desk: NewDesk) -> None:
    enrol_and_grant(keyring, desk)
    for path in [keyring.root, *keyring.root.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_desk_cannot_be_created_twice(keyring: Keyring, desk: NewDesk) -> None:
    with pytest.raises(KeyringError, match="exists"):
        create_desk(keyring, "main", "desk", TODAY)


def test_a_missing_or_unreadable_entry_is_a_keyring_error(keyring: Keyring) -> None:
    with pytest.raises(KeyringError, match="missing"):
        keyring.desk("main")
    (keyring.root / "desks" / "main").mkdir(parents=True)
    for content in (b"{not json", b"[1, 2]"):
        (keyring.root / "desks" / "main" / "desk.json").write_bytes(content)
        with pytest.raises(KeyringError, match="unreadable"):
            keyring.desk("main")


def test_unlock_epochs_returns_only_the_epochs_granted_to_the_key(keyring: Keyring,
                                                                  desk: NewDesk) -> None:
    other = create_desk(keyring, "other", "Other desk", TODAY)
    second_key = PrivateKey.generate()
    second = keyring.add_epoch("main", second_key.public_key, TODAY)
    reviewer, colleague = PrivateKey.generate(), PrivateKey.generate()
    grant_epoch(keyring, second, second_key, reviewer.public_key)
    grant_epoch(keyring, other.epoch, other.epoch_key, reviewer.public_key)
    grant_epoch(keyring, desk.epoch, desk.epoch_key, colleague.public_key)
    unlocked = {k: v.to_bytes() for k, v in unlock_epochs(keyring, reviewer).items()}
    assert unlocked == {("main", 2): second_key.to_bytes(),
                        ("other", 1): other.epoch_key.to_bytes()}
    assert set(unlock_epochs(keyring, colleague)) == {("main", 1)}
    assert unlock_epochs(keyring, PrivateKey.generate()) == {}


def test_a_deleted_grant_no_longer_unlocks(keyring: Keyring, desk: NewDesk) -> None:
    reviewer = enrol_and_grant(keyring, desk)
    second_key = PrivateKey.generate()
    grant_epoch(keyring, keyring.add_epoch("main", second_key.public_key, TODAY), second_key,
                reviewer.public_key)
    assert set(unlock_epochs(keyring, reviewer)) == {("main", 1), ("main", 2)}
    assert keyring.delete_grant("main", 1, reviewer.fingerprint)
    assert set(unlock_epochs(keyring, reviewer)) == {("main", 2)}
    assert keyring.grant("main", 1, reviewer.fingerprint) is None
    assert reviewer.fingerprint not in keyring.grant_recipients("main", 1)
    assert not keyring.delete_grant("main", 1, reviewer.fingerprint)


def test_a_grant_filed_under_another_key_or_damaged_unlocks_nothing(keyring: Keyring,
                                                                    desk: NewDesk) -> None:
    reviewer, thief = enrol_and_grant(keyring, desk), PrivateKey.generate()
    grants = keyring.root / "desks" / "main" / "epochs" / "1" / "grants"
    stolen = (grants / f"{reviewer.fingerprint.hex()}.grant").read_bytes()
    (grants / f"{thief.fingerprint.hex()}.grant").write_bytes(stolen)
    assert unlock_epochs(keyring, thief) == {}
    (grants / f"{reviewer.fingerprint.hex()}.grant").write_bytes(stolen[:-1] + b"\x00")
    assert unlock_epochs(keyring, reviewer) == {}


def test_a_grant_of_the_wrong_key_is_refused(keyring: Keyring, desk: NewDesk) -> None:
    with pytest.raises(ValueError, match="does not belong"):
        grant_epoch(keyring, desk.epoch, PrivateKey.generate(), desk.epoch_key.public_key)
    assert keyring.grant_recipients("main", 1) == [
        recovery_key(parse_recovery_secret(desk.recovery_text)).fingerprint]


def test_a_grant_needs_an_existing_epoch(keyring: Keyring, desk: NewDesk) -> None:
    with pytest.raises(KeyringError, match="missing"):
        keyring.put_grant("main", 2, PrivateKey.generate().public_key, b"grant")


def test_epochs_are_numbered_and_the_current_one_can_move(keyring: Keyring,
                                                          desk: NewDesk) -> None:
    second = keyring.add_epoch("main", PrivateKey.generate().public_key, TODAY)
    assert second.id == 2
    assert keyring.current_epoch("main").id == 1
    keyring.set_current_epoch("main", 2)
    keyring.retire_epoch("main", 1)
    assert keyring.current_epoch("main").id == 2
    assert [(e.id, e.retired) for e in keyring.epochs("main")] == [(1, True), (2, False)]
    with pytest.raises(KeyringError, match="missing"):
        keyring.set_current_epoch("main", 3)


def test_a_user_key_is_stored_public_and_wrapped(keyring: Keyring) -> None:
    user = PrivateKey.generate()
    wrapped = wrap_private_key(user, "passphrase", INSECURE_TEST_ONLY)
    keyring.put_user_key("alice", user.public_key, wrapped.blob)
    assert keyring.user_key("alice") == (user.public_key, wrapped.blob)
    keyring.delete_user_key("alice")
    with pytest.raises(KeyringError, match="missing"):
        keyring.user_key("alice")


def encodings(secret: bytes) -> list[bytes]:
    """The secret raw, in hex, and in base64/base32 at every alignment within a longer text."""
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    for shift in range(3):
        core = base64.b64encode(bytes(shift) + secret)[4:-4]
        forms += [core, core.replace(b"+", b"-").replace(b"/", b"_")]
    for shift in range(5):
        core = base64.b32encode(bytes(shift) + secret)[8:-8]
        forms += [core, core.lower()]
    return forms


def secrets_of(desk: NewDesk, reviewer: PrivateKey | None) -> dict[str, bytes]:
    recovery_secret = parse_recovery_secret(desk.recovery_text)
    recovery = recovery_key(recovery_secret).to_bytes()
    found = {
        "epoch private key": desk.epoch_key.to_bytes(),
        "epoch ML-KEM seed": desk.epoch_key.to_bytes()[:64],
        "epoch X25519 key": desk.epoch_key.to_bytes()[64:],
        "recovery secret": recovery_secret,
        "recovery private key": recovery,
        "recovery ML-KEM seed": recovery[:64],
        "recovery X25519 key": recovery[64:],
        "recovery text": desk.recovery_text.encode(),
        "recovery text without dashes": desk.recovery_text.replace("-", "").encode(),
    }
    if reviewer is not None:
        found["reviewer private key"] = reviewer.to_bytes()
    return found


@pytest.mark.parametrize("state", ["after create_desk", "after enrolling a reviewer"])
def test_no_private_key_or_recovery_secret_reaches_the_keyring_folder(
        keyring: Keyring, desk: NewDesk, state: str) -> None:
    reviewer = enrol_and_grant(keyring, desk) if state != "after create_desk" else None
    stored = {path: path.read_bytes() + str(path).encode() for path in files_under(keyring.root)}
    assert len(stored) >= 4
    leaks = [(name, str(path)) for name, secret in secrets_of(desk, reviewer).items()
             for path, data in stored.items()
             if any(form in data or form.lower() in data.lower() for form in encodings(secret))]
    assert leaks == []


def test_a_failed_epoch_write_does_not_lock_the_desk(
        monkeypatch: pytest.MonkeyPatch, keyring: Keyring, desk: NewDesk) -> None:
    def no_space(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(files.os, "replace", no_space)
        with pytest.raises(OSError, match="No space"):
            keyring.add_epoch("main", PrivateKey.generate().public_key, TODAY)
    recovery = recovery_key(parse_recovery_secret(desk.recovery_text))
    assert set(unlock_epochs(keyring, recovery)) == {("main", 1)}
    assert keyring.add_epoch("main", PrivateKey.generate().public_key, TODAY).id == 2
