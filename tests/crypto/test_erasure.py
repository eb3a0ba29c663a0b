"""Destroyed keyring entries are overwritten, not only unlinked."""

from __future__ import annotations

import os
import time

from intake.crypto import Keyring, NewDesk, PrivateKey, grant_epoch


def test_a_destroyed_grant_is_overwritten_with_zeros_before_it_is_unlinked(
        keyring: Keyring, desk: NewDesk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A hard link made before the deletion still reaches the grant's blocks: they are zeros."""
    reader = PrivateKey.generate()
    grant_epoch(keyring, desk.epoch, desk.epoch_key, reader.public_key)
    sealed = keyring.grant("main", desk.epoch.id, reader.fingerprint)
    assert sealed
    witness = tmp_path / "witness"
    path = next((keyring.root / "desks" / "main").rglob(f"{reader.fingerprint.hex()}.grant"))
    os.link(path, witness)
    assert keyring.delete_grant("main", desk.epoch.id, reader.fingerprint)
    assert not path.exists()
    assert witness.read_bytes() == bytes(len(sealed))


def test_only_temporary_files_older_than_any_live_write_are_removed(
        keyring: Keyring, desk: NewDesk) -> None:
    grants = keyring.root / "desks" / "main" / "epochs" / "1" / "grants"
    stale, live = grants / ".a.grant.00.tmp", grants / ".b.grant.11.tmp"
    stale.write_bytes(b"sealed grant")
    live.write_bytes(b"being written")
    os.utime(stale, (time.time() - 120, time.time() - 120))
    assert keyring.remove_stale_temporaries("main") == [stale]
    assert not stale.exists()
    assert live.exists()


def test_a_replaced_user_key_entry_is_overwritten_once_the_new_one_is_in_place(
        keyring: Keyring, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A passphrase change or a key replacement leaves no readable copy of the old wrapped key:
    a hard link made before still reaches the old file, and it holds zeros."""
    old, new = PrivateKey.generate(), PrivateKey.generate()
    keyring.put_user_key("u1", old.public_key, b"old wrapped key")
    path, witness = keyring.root / "users" / "u1.json", tmp_path / "witness"
    os.link(path, witness)
    size = witness.stat().st_size
    keyring.put_user_key("u1", new.public_key, b"new wrapped key")
    assert witness.read_bytes() == bytes(size)
    assert keyring.user_key("u1") == (new.public_key, b"new wrapped key")
