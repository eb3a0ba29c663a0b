"""Backups: one tar of the database, the encrypted store, the keyring and the config.

Everything in it is what the server already keeps at rest: ciphertext,
public keys, wrapped keys and grants, plus config.py, whose pepper families'
follow-up codes need after a restore. The database is copied with SQLite's
online backup API, so the server can keep running; blobs are never deleted
while a record refers to them, so every blob the copied database names is in
the store when it is read. A rotation must not run at the same time (the
command takes the rotation lock).
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .crypto._files import fsync_dir, make_private_dirs
from .storage import PARTIAL_SUFFIX

MANIFEST = "MANIFEST.sha256"


class BackupError(Exception):
    """A backup cannot be written or restored as asked."""


CHUNK = 1 << 20


class _Hashing:
    """A file read once: what goes into the archive is exactly what is hashed."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add(archive: tarfile.TarFile, name: str, path: Path, digests: list[str]) -> None:
    # One open handle for size, bytes and digest: a keyring file replaced
    # meanwhile (atomically, by rename) cannot mix two versions.
    with path.open("rb") as handle:
        info = archive.gettarinfo(arcname=name, fileobj=handle)
        source = _Hashing(handle)
        archive.addfile(info, source)  # type: ignore[arg-type]
    digests.append(f"{source.digest.hexdigest()}  {name}\n")


def write_backup(instance: Path, keys: Path, target: Path) -> int:
    """Write the backup tar to `target`; return how many files it holds."""
    if target.exists():
        raise BackupError(f"{target} exists already")
    digests: list[str] = []
    # Written inside a private scratch folder beside the target: a failed
    # backup leaves nothing behind, and only a complete one is renamed out.
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        partial = Path(scratch) / "backup.tar"
        snapshot = Path(scratch) / "intake.sqlite3"
        source = sqlite3.connect(instance / "intake.sqlite3")
        copy = sqlite3.connect(snapshot)
        with copy:
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.close()
        source.close()
        with tarfile.open(partial, "w") as archive:
            _add(archive, "instance/intake.sqlite3", snapshot, digests)
            _add(archive, "instance/config.py", instance / "config.py", digests)
            for path in sorted((instance / "store").iterdir()):
                if path.is_file() and not path.name.endswith(PARTIAL_SUFFIX):
                    _add(archive, f"instance/store/{path.name}", path, digests)
            for path in sorted(p for p in keys.rglob("*") if p.is_file()):
                _add(archive, f"keys/{path.relative_to(keys).as_posix()}", path, digests)
            manifest = "".join(digests).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(manifest)
            archive.addfile(info, io.BytesIO(manifest))
        os.chmod(partial, 0o600)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        fsync_dir(target.parent)
    return len(digests)


def restore_backup(source: Path, instance: Path, keys: Path) -> int:
    """Check a backup against its manifest, then unpack it into empty folders."""
    for folder in (instance, keys):
        if folder.exists() and any(folder.iterdir()):
            raise BackupError(f"{folder} is not empty; restore into empty folders")
    with tarfile.open(source, "r") as archive:
        plan = _checked_members(archive, instance, keys)
        for member, destination in plan:
            make_private_dirs(destination.parent)
            fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                for chunk in _chunks(archive, member):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        for folder in {destination.parent for _, destination in plan}:
            fsync_dir(folder)
    return len(plan)


def _chunks(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Iterator[bytes]:
    """Read a member a megabyte at a time, whatever its size."""
    source = archive.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name} is not a file")
    yield from iter(lambda: source.read(CHUNK), b"")


def _checked_members(archive: tarfile.TarFile, instance: Path,
                     keys: Path) -> list[tuple[tarfile.TarInfo, Path]]:
    """Verify every member's name and SHA-256 before anything is written."""
    manifest = archive.extractfile(MANIFEST) if MANIFEST in archive.getnames() else None
    if manifest is None:
        raise BackupError("this file has no manifest: it is not an intake backup")
    expected = dict(line.split("  ", 1)[::-1] for line in manifest.read().decode().splitlines())
    plan = []
    for member in archive.getmembers():
        if member.name == MANIFEST:
            continue
        if member.name not in expected or not member.isfile():
            raise BackupError(f"unexpected member in backup: {member.name}")
        root = instance if member.name.startswith("instance/") else keys
        destination = (root / member.name.split("/", 1)[1]).resolve()
        if root.resolve() not in destination.parents:
            raise BackupError(f"unsafe path in backup: {member.name}")
        digest = hashlib.sha256()
        for chunk in _chunks(archive, member):
            digest.update(chunk)
        if digest.hexdigest() != expected.pop(member.name):
            raise BackupError(f"{member.name} does not match the manifest")
        plan.append((member, destination))
    if expected:
        raise BackupError(f"the backup is missing {len(expected)} files")
    return plan
