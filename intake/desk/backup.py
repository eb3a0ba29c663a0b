"""Backups: one tar of the database, the encrypted store, the keyring and the settings.

Everything in it is what the server already keeps at rest: ciphertext,
public keys, wrapped keys and grants, plus the instance's settings as JSON
data, whose secret key and pepper families' follow-up codes need after a
restore. No member is code: `intake restore` writes config.py itself from the
checked settings. The database is copied with SQLite's online backup API, or
dumped with `pg_dump` (one consistent snapshot) when DATABASE_URL names
PostgreSQL, so the server can keep running; blobs are never deleted while a record refers to
them, so every blob the copied database names is in the store when it is
read. A rotation must not run at the same time (the command takes the
rotation lock).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from intake.crypto.files import fsync_dir
from intake.crypto.keyring import is_keyring_file
from intake.store import instance_config, pgdump

MANIFEST = "MANIFEST.sha256"
DATABASE = "instance/intake.sqlite3"
SETTINGS = "instance/settings.json"
# Backups made before settings were carried as data held the config file itself.
OLD_CONFIG = "instance/config.py"
BLOB = re.compile(r"instance/store/[0-9a-f]{32}")
CHUNK = 1 << 20
# Files a checkout's keys/ folder holds beside the keyring, and atomic_write's
# temporary names: neither is part of the keyring.
_KEYS_EXTRAS = frozenset({"README.md", ".gitignore"})
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{16}\.tmp")


class BackupError(Exception):
    """A backup cannot be written or restored as asked."""


@dataclass(frozen=True)
class Written:
    """What a backup holds: how many files, and which config.py keys it left out."""

    count: int
    left_out: list[str]


def is_known_member(name: str) -> bool:
    """Say whether a member name is one a backup writes (and so one restore may write)."""
    if name in (DATABASE, pgdump.DUMP, SETTINGS) or BLOB.fullmatch(name):
        return True
    return name.startswith("keys/") and is_keyring_file(name.removeprefix("keys/"))


class _Hashing:
    """A file read once: what goes into the archive is exactly what is hashed."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _header(name: str, size: int) -> tarfile.TarInfo:
    """Describe a member without the owner's name or the exact time of the backup."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o600
    info.mtime = int(time.time()) // 86400 * 86400
    return info


def _add(archive: tarfile.TarFile, name: str, path: Path, digests: list[str]) -> None:
    # One open handle for size, bytes and digest: a keyring file replaced
    # meanwhile (atomically, by rename) cannot mix two versions.
    with path.open("rb") as handle:
        source = _Hashing(handle)
        archive.addfile(_header(name, os.fstat(handle.fileno()).st_size),
                        source)
    digests.append(f"{source.digest.hexdigest()}  {name}\n")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, digests: list[str]) -> None:
    archive.addfile(_header(name, len(data)), io.BytesIO(data))
    digests.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def _settings(instance: Path) -> tuple[bytes, list[str]]:
    """Return the instance's settings as JSON, and the config.py keys a backup leaves out."""
    try:
        values, left_out = instance_config.read_local(instance)
    except instance_config.ConfigError as exc:
        raise BackupError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the operator's own file
        raise BackupError(f"{instance / 'config.py'} cannot be loaded: "
                          f"{type(exc).__name__}") from None
    return json.dumps(values, indent=1, sort_keys=True).encode(), left_out


def _keyring_files(keys: Path) -> list[tuple[str, Path]]:
    """List the keyring's files; refuse one the keyring's layout does not name."""
    files = []
    for path in sorted(keys.rglob("*")):
        relative = path.relative_to(keys).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if relative in _KEYS_EXTRAS or _TEMPORARY.fullmatch(path.name):
            continue
        if path.is_symlink() or not is_keyring_file(relative):
            raise BackupError(f"keys/{relative} is not a keyring file this version of intake "
                              "knows; move it out of the keyring and back up again")
        files.append((f"keys/{relative}", path))
    return files


def _snapshot(instance: Path, target: Path) -> None:
    """Copy the live database consistently (SQLite's online backup API)."""
    source = sqlite3.connect(instance / "intake.sqlite3")
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def _copy_database(instance: Path, database_url: str | None, scratch: Path) -> tuple[str, Path]:
    """Copy the database consistently into `scratch`; return its member name and the copy."""
    if pgdump.is_postgresql(database_url):
        copy = scratch / "intake.pgdump"
        try:
            pgdump.dump(str(database_url), copy)
        except pgdump.DumpError as exc:
            raise BackupError(str(exc)) from None
        return pgdump.DUMP, copy
    copy = scratch / "intake.sqlite3"
    _snapshot(instance, copy)
    return DATABASE, copy


def write_backup(instance: Path, keys: Path, target: Path,
                 database_url: str | None = None) -> Written:
    """Write the backup tar to `target`; say how many files it holds and what it left out."""
    if target.exists():
        raise BackupError(f"{target} exists already")
    settings, left_out = _settings(instance)
    _keyring_files(keys)  # refuse a strange keyring before any work
    digests: list[str] = []
    # Written inside a private scratch folder beside the target: a failed
    # backup leaves nothing behind, and only a complete one is renamed out.
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        partial = Path(scratch) / "backup.tar"
        member, snapshot = _copy_database(instance, database_url, Path(scratch))
        # Listed after the snapshot: every account the copied database names has its key.
        keyring = _keyring_files(keys)
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            _add(archive, member, snapshot, digests)
            _add_bytes(archive, SETTINGS, settings, digests)
            for path in sorted((instance / "store").iterdir()):
                name = f"instance/store/{path.name}"
                if BLOB.fullmatch(name) and path.is_file() and not path.is_symlink():
                    _add(archive, name, path, digests)
            for name, path in keyring:
                try:
                    _add(archive, name, path, digests)
                except FileNotFoundError:
                    continue  # a grant destroyed by a revocation meanwhile: meant to be gone
            manifest = "".join(digests).encode()
            archive.addfile(_header(MANIFEST, len(manifest)), io.BytesIO(manifest))
        os.chmod(partial, 0o600)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        fsync_dir(target.parent)
    return Written(len(digests), left_out)
