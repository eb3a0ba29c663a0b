"""The blob store: random names, contained paths, crash-safe writes and sweeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.storage import PARTIAL_SUFFIX, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_a_blob_is_invisible_until_committed(store: Store) -> None:
    blob = store.new_blob()
    blob.file.write(b"ciphertext")
    assert [p.name for p in store.root.iterdir()] == [blob.name + PARTIAL_SUFFIX]
    blob.commit()
    assert [p.name for p in store.root.iterdir()] == [blob.name]
    with store.open(blob.name) as handle:
        assert handle.read() == b"ciphertext"


def test_a_discarded_blob_leaves_nothing(store: Store) -> None:
    blob = store.new_blob()
    blob.file.write(b"x")
    blob.discard()
    assert list(store.root.iterdir()) == []


def test_blob_names_are_random_and_private(store: Store) -> None:
    first, second = store.new_blob(), store.new_blob()
    assert first.name != second.name
    assert len(first.name) == 32
    first.commit()
    assert (store.root / first.name).stat().st_mode & 0o077 == 0
    assert store.root.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("name", ["../x", "a" * 32 + "/..", "", "G" * 32, "/etc/passwd"])
def test_the_store_refuses_names_it_did_not_make(store: Store, name: str) -> None:
    with pytest.raises(ValueError, match="blob name"):
        store.open(name)
    with pytest.raises(ValueError, match="blob name"):
        store.delete(name)


def test_sweep_removes_unfinished_and_unreferenced_blobs(store: Store) -> None:
    kept, orphan, unfinished = store.new_blob(), store.new_blob(), store.new_blob()
    kept.commit()
    orphan.commit()
    assert store.sweep({kept.name}) == 2
    assert [p.name for p in store.root.iterdir()] == [kept.name]
    unfinished.discard()


def test_new_private_folders_are_synced_into_their_parents(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.crypto import _files

    synced: list[Path] = []
    monkeypatch.setattr(_files, "fsync_dir", synced.append)
    _files.make_private_dirs(tmp_path / "keys" / "desks" / "main")
    assert synced == [tmp_path, tmp_path / "keys", tmp_path / "keys" / "desks"]
    assert (tmp_path / "keys" / "desks" / "main").stat().st_mode & 0o777 == 0o700
