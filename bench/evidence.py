"""Measure evidence bundles: time and peak memory to write and to verify one.

    .venv/bin/python -m bench.evidence [MEGABYTES]

The payload is one file of MEGABYTES (default 64) made of random chunks, so the
zip cannot shrink it; the bundle is signed and carries a small chain (made here,
no instance). Writing goes to a temporary file, since the web view streams the
same bytes to the reviewer; peak memory should not grow with the file's size.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from intake.crypto.signing import format_fingerprint
from intake.evidence import Header, Member, verify_bundle, write_bundle
from tests.evidence import bundles  # the made-up desk the tests use


def chunks(megabytes: int) -> Iterator[bytes]:
    """Yield random 1 MiB chunks."""
    for _ in range(megabytes):
        yield os.urandom(1 << 20)


def peak_mib() -> float:
    """Return this process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(megabytes: int) -> None:
    """Write and verify one bundle, printing what each step took."""
    chain = bundles.certificates()
    folder = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    path = folder / "case.zip"
    started, before = time.perf_counter(), peak_mib()
    header = Header("Org", "main", bundles.CASE, dt.date(2026, 1, 1), "reviewer", "rev-1",
                    format_fingerprint(chain[0].digest))
    with path.open("wb") as out:
        for data in write_bundle(header, [Member("data/files/big.bin", chunks(megabytes))], [],
                                 bundles.EXPORTER):
            out.write(data)
    wrote = time.perf_counter() - started
    print(f"wrote {megabytes} MiB payload in {wrote:.2f} s; bundle {path.stat().st_size >> 20} "
          f"MiB; peak memory {before:.0f} -> {peak_mib():.0f} MiB")
    started = time.perf_counter()
    verdict = verify_bundle(path)
    # No certificates are carried, so the check stops after hashing every file.
    print(f"checked every file, then stopped at {verdict.steps[-1].name!r} (no chain here), "
          f"in {time.perf_counter() - started:.2f} s; peak memory {peak_mib():.0f} MiB")
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 64)
