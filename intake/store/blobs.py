"""Encrypted blobs in `instance/store/`: random names, contained paths, crash-safe writes.

Only ciphertext is ever written here. A blob is written under a temporary
name, fsynced and renamed before the database row that refers to it is
committed; a crash in between leaves an unreferenced blob, which `sweep`
removes on the next start, never a record without its blob.

A seized disk should not date a testimony to the second: each blob's times
and the folder's are set back to the start of the day (UTC) after every
change, and blobs are read without updating their access time. The change
time (ctime) and, on file systems that keep one, the birth time still show
the exact moment; SECURITY.md says what an operator can do about them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from intake.crypto.files import contained, fsync_dir, make_private_dirs

PARTIAL_SUFFIX = ".partial"
_NAME_LENGTH = 32


class PendingBlob:
    """A blob being written; invisible to readers until `commit`."""

    def __init__(self, root: Path) -> None:
        self.name = secrets.token_hex(_NAME_LENGTH // 2)
        self._final = contained(root, self.name)
        self._temp = contained(root, self.name + PARTIAL_SUFFIX)
        fd = os.open(self._temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self.file: BinaryIO = os.fdopen(fd, "w+b")
        self.done = False
        to_the_day(root)

    def commit(self) -> None:
        """Make the blob durable under its final name, its times rounded down to the day."""
        self.file.flush()
        to_the_day(self.file.fileno())
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self._temp, self._final)
        # The rename set the folder's times to now; the sync below makes the reset durable too.
        to_the_day(self._final.parent)
        fsync_dir(self._final.parent)
        self.done = True

    def discard(self) -> None:
        """Remove an unfinished blob."""
        if not self.file.closed:
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)
            to_the_day(self._temp.parent)
        self.done = True


class Store:
    """The folder of encrypted blobs."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        make_private_dirs(self.root)

    def new_blob(self) -> PendingBlob:
        """Start writing a new blob under a fresh random name."""
        return PendingBlob(self.root)

    def open(self, name: str) -> BinaryIO:
        """Open a committed blob for reading, leaving its access time alone."""
        path = contained(self.root, _checked(name))
        # O_NOATIME keeps a reviewer's reading from dating the blob; Linux allows it
        # only to the file's owner, so another reader falls back to a plain open.
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
        except PermissionError:
            fd = os.open(path, os.O_RDONLY)
        return os.fdopen(fd, "rb")

    def delete(self, name: str) -> None:
        """Delete a committed blob, if present."""
        with contextlib.suppress(FileNotFoundError):
            contained(self.root, _checked(name)).unlink()
            to_the_day(self.root)
            fsync_dir(self.root)

    def free_bytes(self) -> int:
        """Return the free space on the store's volume."""
        return shutil.disk_usage(self.root).free

    def sweep(self, referenced: Iterable[str]) -> int:
        """Remove unfinished blobs and blobs no record refers to; return how many."""
        keep = set(referenced)
        removed = 0
        for path in self.root.iterdir():
            if path.name.endswith(PARTIAL_SUFFIX) or (path.is_file() and path.name not in keep):
                path.unlink()
                removed += 1
        if removed:
            to_the_day(self.root)
            fsync_dir(self.root)
        return removed


def utc_today() -> dt.date:
    """Return the UTC day: every stored day counts as blob times do (see to_the_day).

    A local day beside UTC-rounded blob times would date a record to the hours in
    which the two days overlap.
    """
    return dt.datetime.fromtimestamp(time.time(), dt.UTC).date()


def to_the_day(target: Path | int) -> None:
    """Set a file's or folder's access and modification times to today's start (UTC)."""
    day = int(time.time()) // 86400 * 86400
    os.utime(target, (day, day))


def _checked(name: str) -> str:
    if len(name) != _NAME_LENGTH or not all(c in "0123456789abcdef" for c in name):
        raise ValueError("not a blob name")
    return name
