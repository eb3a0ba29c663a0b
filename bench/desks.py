"""Benchmark what each chosen desk adds to storing a testimony, in process.

Run: `python bench/desks.py [--rounds 200]`.

Makes an instance with ten desks (cheap Argon2, SQLite in a temporary folder),
then stores text-only testimonies sealed to 1, 3 and 10 desks through
`store_submission` (the code path of POST /submit without HTTP), and prints
the mean milliseconds per testimony and per extra desk. Each extra desk costs
two HPKE seals (its copy of the data key and its work key), a check of its
certificate chain (cached by content) and one row. The last line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy.orm import Session  # noqa: E402

from intake.desk.setup import add_desk, initialise  # noqa: E402
from intake.store.blobs import Store  # noqa: E402
from intake.store.db import make_engine  # noqa: E402
from intake.testimonies.submissions import Desk, NewSubmission, store_submission  # noqa: E402
from intake.testimonies.uploads import UploadBatch  # noqa: E402
from intake.web import create_app  # noqa: E402
from tests.conftest import instance_config  # noqa: E402

PASSPHRASE = "a bench passphrase long enough"  # noqa: S105 (a throwaway instance)


def main() -> None:
    """Store testimonies to 1, 3 and 10 desks and print the cost of each desk."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    root = Path(tempfile.mkdtemp(prefix="intake-bench-desks-"))
    config = instance_config(root)
    settings = create_app(dict(config)).extensions["intake.settings"]
    initialise(settings, [("admin", "admin", PASSPHRASE)])
    others = [f"desk-{n}" for n in range(1, 10)]
    for desk_id in others:
        add_desk(settings, desk_id, {"en": desk_id}, {}, [(f"{desk_id}-admin", "admin",
                                                            PASSPHRASE)])
    store = Store(settings.instance_path / "store")
    from intake.crypto import Keyring

    desk = Desk(Keyring(settings.keys_dir), store, settings.desk_id, settings.pepper,
                settings.code_profile)
    engine = make_engine(settings.database_url)
    figures = {}
    for count in (1, 3, 10):
        chosen = ["main", *others][:count]
        started = time.perf_counter()
        with Session(engine) as db:
            for _ in range(rounds):
                batch = UploadBatch(store, 1 << 20, 1)
                store_submission(db, desk, NewSubmission({"testimony": "x" * 2000}, batch,
                                                         desk_ids=chosen), dt.date.today())
        figures[count] = (time.perf_counter() - started) * 1000 / rounds
        print(f"{count:2} desks: {figures[count]:.2f} ms per testimony")
    per_desk = (figures[10] - figures[1]) / 9
    print(f"each extra desk: {per_desk:.2f} ms")
    print(json.dumps({"ms_per_testimony": figures, "ms_per_extra_desk": round(per_desk, 3)}))


if __name__ == "__main__":
    main()
