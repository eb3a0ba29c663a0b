"""Crash-safe writes and contained paths for everything stored on disk."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO


def contained(root: Path, *parts: str) -> Path:
    """Join `parts` under `root`, refusing any path that resolves outside it."""
    real_root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, path]) != real_root or path == real_root:
        raise ValueError("path escapes its storage root")
    return Path(path)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary name beside `path`, fsync, then rename over it."""
    make_private_dirs(path.parent)
    temp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


def overwrite(path: Path) -> None:
    """Overwrite a file's bytes with zeros and sync them, before it is unlinked.

    On a file system that writes in place this destroys the old bytes; a
    copy-on-write or journalled-data file system, or an SSD's remapping, may
    still keep them (see SECURITY.md).
    """
    with path.open("r+b") as handle:
        overwrite_open(handle)


def overwrite_open(handle: BinaryIO) -> None:
    """Overwrite the whole of an open file with zeros and sync it."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    handle.write(bytes(size))
    handle.flush()
    os.fsync(handle.fileno())


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents, readable by their owner only."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        # A new folder survives a power cut only once its parent is synced.
        fsync_dir(folder.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
