"""The blob store: random names, contained paths, crash-safe writes and sweeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.store.blobs import PARTIAL_SUFFIX, Store


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
    from intake.crypto import files

    synced: list[Path] = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    files.make_private_dirs(tmp_path / "keys" / "desks" / "main")
    assert synced == [tmp_path, tmp_path / "keys", tmp_path / "keys" / "desks"]
    assert (tmp_path / "keys" / "desks" / "main").stat().st_mode & 0o777 == 0o700


def test_a_blob_is_written_and_fsynced_before_it_is_renamed_and_the_folder_synced(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A power cut after the rename must not leave a named blob whose bytes never hit the disk."""
    import os
    import stat

    from intake.store import blobs as storage

    calls: list[tuple[str, object]] = []
    blob = store.new_blob()
    temp = store.root / (blob.name + ".partial")
    real_fsync, real_replace, real_fsync_dir = os.fsync, os.replace, storage.fsync_dir

    def fsync(fd: int) -> None:
        # What a file's fsync covers: the temporary file, holding every byte written.
        # (The folder's own fsync, inside fsync_dir, is recorded as fsync_dir.)
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            same = os.fstat(fd).st_ino == os.stat(temp).st_ino
            calls.append(("fsync", (same, temp.read_bytes())))
        real_fsync(fd)

    def replace(source: object, target: object) -> None:
        calls.append(("rename", (Path(str(source)).name, Path(str(target)).name)))
        real_replace(source, target)  # type: ignore[arg-type]

    def fsync_dir(folder: Path) -> None:
        calls.append(("fsync_dir", folder))
        real_fsync_dir(folder)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    monkeypatch.setattr(storage.os, "replace", replace)
    monkeypatch.setattr(storage, "fsync_dir", fsync_dir)
    blob.file.write(b"ciphertext " * 1000)
    blob.commit()
    assert calls == [
        ("fsync", (True, b"ciphertext " * 1000)),
        ("rename", (blob.name + ".partial", blob.name)),
        ("fsync_dir", store.root),
    ]


def test_blob_and_store_folder_times_show_the_day_only(store: Store) -> None:
    """A seized disk must not date a testimony to the second by its blob's or folder's times."""
    import os
    import time

    day_ns = int(time.time()) // 86400 * 86400 * 10**9

    def times(path: Path) -> tuple[int, int]:
        return os.stat(path).st_mtime_ns, os.stat(path).st_atime_ns

    written = store.new_blob()
    written.file.write(b"x")
    written.commit()
    assert times(store.root) == times(store.root / written.name) == (day_ns, day_ns)
    gone, orphan = store.new_blob(), store.new_blob()
    gone.commit()
    orphan.commit()
    store.delete(gone.name)
    assert times(store.root) == (day_ns, day_ns)
    pending = store.new_blob()
    assert times(store.root) == (day_ns, day_ns)
    pending.discard()
    assert times(store.root) == (day_ns, day_ns)
    assert store.sweep({written.name}) == 1
    assert times(store.root) == (day_ns, day_ns)
    with store.open(written.name) as handle:
        handle.read()
    assert times(store.root / written.name) == (day_ns, day_ns)
