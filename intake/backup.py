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
from pathlib import Path

from .crypto._files import make_private_dirs
from .storage import PARTIAL_SUFFIX

MANIFEST = "MANIFEST.sha256"


class BackupError(Exception):
    """A backup cannot be written or restored as asked."""


def _add(archive: tarfile.TarFile, name: str, path: Path, digests: list[str]) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    archive.add(path, arcname=name, recursive=False)
    digests.append(f"{digest.hexdigest()}  {name}\n")


def write_backup(instance: Path, keys: Path, target: Path) -> int:
    """Write the backup tar to `target`; return how many files it holds."""
    if target.exists():
        raise BackupError(f"{target} exists already")
    digests: list[str] = []
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        snapshot = Path(scratch) / "intake.sqlite3"
        source = sqlite3.connect(instance / "intake.sqlite3")
        copy = sqlite3.connect(snapshot)
        with copy:
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.close()
        source.close()
        with tarfile.open(target, "w") as archive:
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
    os.chmod(target, 0o600)
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
                handle.write(archive.extractfile(member).read())  # type: ignore[union-attr]
    return len(plan)


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
        digest = hashlib.sha256(archive.extractfile(member).read())  # type: ignore[union-attr]
        if digest.hexdigest() != expected.pop(member.name):
            raise BackupError(f"{member.name} does not match the manifest")
        plan.append((member, destination))
    if expected:
        raise BackupError(f"the backup is missing {len(expected)} files")
    return plan
