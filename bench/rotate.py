"""Benchmark key rotation on many submissions.

Run: `python bench/rotate.py [--cases 100000] [--quick]`.

Generates the cases through the same code path as the form, then times
`intake keys rotate` (the real command) against the raw rate of HPKE open
plus seal for the same number of data keys, and one more seal for each
record's new key generation, measured in the same run: the floor, since
rotation must open and re-seal every key once and seal one new generation
(target: rotation >= 0.5x of that rate). Then interrupts a second rotation
with SIGKILL half way and times how long the rerun takes to resume and
finish; that rotation also re-seals the generation the first one added, so
its floor is twice the first one's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hpke  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from intake import create_app  # noqa: E402
from intake.crypto import PrivateKey, new_data_key  # noqa: E402
from intake.testimonies.submissions import NewSubmission, store_submission  # noqa: E402
from intake.web.request import UploadBatch  # noqa: E402
from tests.live import INTAKE  # noqa: E402

PASSPHRASE = "bench admin passphrase"  # noqa: S105 (a throwaway instance)


def generate(root: Path, count: int, env: dict[str, str]) -> float:
    os.environ.update(env)
    app = create_app()
    desk = app.extensions["intake.desk"]
    began = time.perf_counter()
    with Session(app.extensions["intake.db"]) as db:
        for n in range(count):
            store_submission(db, desk, NewSubmission(answers={"name": f"person {n}"},
                                                     batch=UploadBatch(desk.store, 0, 0)),
                             dt.date(2026, 1, 1))
    return time.perf_counter() - began


def raw_rate(count: int) -> float:
    """Seconds for `count` raw HPKE opens and seals of 32-byte keys, plus `count` seals."""
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    old, new, sample = PrivateKey.generate(), PrivateKey.generate(), min(count, 3000)
    sealed = suite.encrypt(new_data_key(), old.public_key._hpke, info=b"i")
    began = time.perf_counter()
    for _ in range(sample):
        suite.encrypt(suite.decrypt(sealed, old._hpke, info=b"i"), new.public_key._hpke,
                      info=b"i")
        suite.encrypt(new_data_key(), new.public_key._hpke, info=b"i")  # the new generation
    return (time.perf_counter() - began) * count / sample


def rotate(env: dict[str, str], kill_after: float | None = None) -> float:
    command = [INTAKE, "keys", "rotate", "--admin", "admin", "--passphrase-stdin",
               "--settle-seconds", "0", "--batch", "1000"]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    process.stdin.write(PASSPHRASE.encode() + b"\n")  # type: ignore[union-attr]
    process.stdin.close()  # type: ignore[union-attr]
    if kill_after is not None:
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
    process.wait()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5,000 cases")
    args = parser.parse_args()
    count = 5000 if args.quick else args.cases
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        root = Path(folder)
        env = os.environ | {"INTAKE_INSTANCE": str(root / "instance"),
                            "INTAKE_KEYS_DIR": str(root / "keys")}
        subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                       input=PASSPHRASE.encode() + b"\n", env=env, check=True,
                       capture_output=True)
        generated = generate(root, count, env)
        floor = raw_rate(count)
        full = rotate(env)
        interrupted_at = full / 2
        rotate(env, kill_after=interrupted_at)
        resume = rotate(env)
        print(f"{count} cases generated in {generated:.1f} s")
        print(f"raw HPKE open+seal of {count} keys and {count} new generations: "
              f"{floor:.1f} s (floor)")
        print(f"intake keys rotate: {full:.1f} s, ratio to the floor {floor / full:.2f} "
              f"{'PASS' if floor / full >= 0.5 else 'BELOW TARGET'} (>= 0.5)")
        print(f"killed a second rotation (two keys per record) after {interrupted_at:.1f} s; "
              f"resuming took {resume:.1f} s")
        print(json.dumps({"cases": count, "floor_s": floor, "rotate_s": full,
                          "ratio": floor / full, "killed_after_s": interrupted_at,
                          "resume_s": resume}))


if __name__ == "__main__":
    main()
