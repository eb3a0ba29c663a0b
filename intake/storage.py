"""Encrypted blobs in `instance/store/`: random names, contained paths, crash-safe writes.

Only ciphertext is ever written here. A blob is written under a temporary
name, fsynced and renamed before the database row that refers to it is
committed; a crash in between leaves an unreferenced blob, which `sweep`
removes on the next start, never a record without its blob.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from .crypto._files import contained, fsync_dir, make_private_dirs

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

    def commit(self) -> None:
        """Make the blob durable under its final name, its times rounded down to the day."""
        self.file.flush()
        day = int(time.time()) // 86400 * 86400
        os.utime(self.file.fileno(), (day, day))
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self._temp, self._final)
        fsync_dir(self._final.parent)
        self.done = True

    def discard(self) -> None:
        """Remove an unfinished blob."""
        if not self.file.closed:
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp)
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
        """Open a committed blob for reading."""
        return contained(self.root, _checked(name)).open("rb")

    def delete(self, name: str) -> None:
        """Delete a committed blob, if present."""
        with contextlib.suppress(FileNotFoundError):
            contained(self.root, _checked(name)).unlink()
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
            fsync_dir(self.root)
        return removed


def _checked(name: str) -> str:
    if len(name) != _NAME_LENGTH or not all(c in "0123456789abcdef" for c in name):
        raise ValueError("not a blob name")
    return name
