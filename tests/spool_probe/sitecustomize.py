"""Test-only probe: keep every temporary file a process spools to, so tests can search it.

`tests/live.py` puts this folder on PYTHONPATH for the server it starts. When
INTAKE_TEST_KEEP_TEMPFILES names a folder, `tempfile.TemporaryFile` (which on
Linux is an unnamed O_TMPFILE, invisible in any directory listing, and which
`SpooledTemporaryFile` rolls over to, as Werkzeug's default stream factory
does past 500 KB) becomes a named file in that folder that is never deleted.
A plaintext search of the folder then finds whatever was spooled.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

_FOLDER = os.environ.get("INTAKE_TEST_KEEP_TEMPFILES")


def _kept_temporary_file(mode: str = "w+b", buffering: int = -1, encoding: str | None = None,
                         newline: str | None = None, suffix: str | None = None,
                         prefix: str | None = None, dir: str | None = None,  # noqa: A002, ARG001
                         *, errors: str | None = None) -> Any:
    """Return a named, never-deleted file in the searched folder, wherever it was asked for."""
    return tempfile.NamedTemporaryFile(
        mode, buffering, encoding, newline, suffix, prefix or "spooled-", _FOLDER,
        delete=False, errors=errors)


if _FOLDER:
    tempfile.TemporaryFile = _kept_temporary_file  # type: ignore[assignment]
    # Tests check this file exists, so a probe that failed to load cannot pass silently.
    with open(os.path.join(_FOLDER, f"spool-probe-active.{os.getpid()}"), "w") as _flag:
        _flag.write("tempfile.TemporaryFile is kept on disk in this process\n")
