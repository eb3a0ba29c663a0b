"""Benchmark the reviewer's side on generated submissions.

Run: `python bench/review.py [--cases 10000] [--quick] [--rotations N]`.

Generates the cases through the same code path as the form (each sealed to
the desk epoch, answers encrypted), then times through the app: unlocking
(login with passphrase and TOTP), the inbox's first page, a full-text search
over every case, and opening one case, each against its target (pages and
cases under 150 ms median, the search under 1 s). The floor printed beside
them is the raw HPKE open rate times the number of cases: no search over
encrypted cases can be faster than opening every data key once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hpke  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from intake import create_app
from intake.crypto import PrivateKey, new_data_key, unlock_account  # noqa: E402
from intake.desk import rotation  # noqa: E402
from intake.desk.setup import initialise  # noqa: E402
from intake.desk.trust import signer_of  # noqa: E402
from intake.staff.accounts import totp_for  # noqa: E402
from intake.store.models import User  # noqa: E402
from intake.testimonies.submissions import NewSubmission, store_submission  # noqa: E402
from intake.web.request import UploadBatch  # noqa: E402
from tests.conftest import instance_config  # noqa: E402

PASSPHRASE = "bench reviewer passphrase"  # noqa: S105 (a throwaway instance)
NAMES = ["علی", "مریم", "حسین", "زهرا", "محمد", "فاطمه", "رضا", "سارا"]


def generate(app, count: int) -> None:  # type: ignore[no-untyped-def]
    """Store `count` Persian testimonies as the form would."""
    desk = app.extensions["intake.desk"]
    engine = app.extensions["intake.db"]
    with Session(engine) as db:
        for n in range(count):
            answers = {"name": f"{NAMES[n % 8]} {n}", "arrest_place": "تهران",
                       "testimony": f"شهادت شمارهٔ {n} دربارهٔ زندان گوهردشت در سال ۱۳۶۷"}
            batch = UploadBatch(desk.store, 0, 0)
            store_submission(db, desk, NewSubmission(answers=answers, batch=batch),
                             dt.date(2026, 1, 1) + dt.timedelta(days=n % 300))


def rotate(app, times: int) -> None:  # type: ignore[no-untyped-def]
    """Rotate the desk `times` times, so that every case has that many later key generations."""
    keyring, settings = app.extensions["intake.desk"].keyring, app.extensions["intake.settings"]
    with Session(app.extensions["intake.db"]) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        keys = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier, PASSPHRASE)
        for _ in range(times):
            rotation.run(db, keyring, settings.instance_path, settings.desk_id, user, keys.key,
                         rotation.Progress(), batch=1000, settle_seconds=0,
                         signer=signer_of(user, keys))


def median_ms(action, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def log_in(app, client) -> float:  # type: ignore[no-untyped-def]
    """Log in once; return the seconds it took."""
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with Session(app.extensions["intake.db"]) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        code = totp_for(user).generate(time.time()).decode()
    began = time.perf_counter()
    response = client.post("/review/login", data={"csrf_token": token, "name": "reviewer",
                                                  "passphrase": PASSPHRASE, "code": code})
    assert response.status_code == 302, response.status_code
    return time.perf_counter() - began


def raw_open_floor(count: int) -> float:
    """Seconds for `count` raw HPKE opens of a 32-byte key."""
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    key = PrivateKey.generate()
    sealed = suite.encrypt(new_data_key(), key.public_key._hpke, info=b"i")
    began = time.perf_counter()
    for _ in range(min(count, 2000)):
        suite.decrypt(sealed, key._hpke, info=b"i")
    return (time.perf_counter() - began) * count / min(count, 2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 cases")
    parser.add_argument("--rotations", type=int, default=0,
                        help="rotate this many times first (each adds a key generation)")
    args = parser.parse_args()
    count = 1000 if args.quick else args.cases
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        config = instance_config(Path(folder)) | {"KDF_PROFILE": "rfc9106-low-memory",
                                                  "CODE_KDF_PROFILE": "family-code"}
        app = create_app(dict(config))
        # An admin (who reads like a reviewer) so that rotations can be signed.
        initialise(app.extensions["intake.settings"], [("reviewer", "admin", PASSPHRASE)])
        app = create_app(dict(config))
        began = time.perf_counter()
        generate(app, count)
        generated = time.perf_counter() - began
        rotate(app, args.rotations)
        client = app.test_client()
        unlock_s = log_in(app, client)
        with Session(app.extensions["intake.db"]) as db:
            some_case = db.execute(
                __import__("sqlalchemy").text("select id from submissions limit 1")).scalar()
        inbox = median_ms(lambda: client.get("/review/"), 15)
        case = median_ms(lambda: client.get(f"/review/{some_case}"), 15)
        # The first search of a session opens every data key; later ones reuse them.
        cold = median_ms(lambda: client.get("/review/", query_string={"q": "گوهردشت ۹۹"}),
                         1) / 1000
        search = median_ms(lambda: client.get("/review/", query_string={"q": "گوهردشت ۹۹"}),
                           3) / 1000
        floor = raw_open_floor(count)
        print(f"{count} cases generated in {generated:.1f} s, then {args.rotations} rotations")
        print(f"unlock (login, Argon2id RFC 9106 low-memory)  {unlock_s * 1000:8.0f} ms")
        print(f"inbox first page (median)                      {inbox:8.1f} ms  "
              f"{'PASS' if inbox < 150 else 'BELOW TARGET'} (< 150 ms)")
        print(f"open a case (median)                           {case:8.1f} ms  "
              f"{'PASS' if case < 150 else 'BELOW TARGET'} (< 150 ms)")
        print(f"full-text search, first of the session         {cold:8.2f} s   "
              f"{'PASS' if cold < 1 else 'BELOW TARGET'} (< 1 s); floor: {count} raw HPKE "
              f"opens take {floor:.2f} s, ratio {cold / floor:.1f}x (each rotation adds "
              "one open per case)")
        print(f"full-text search, later ones (median)          {search:8.2f} s   "
              f"{'PASS' if search < 1 else 'BELOW TARGET'} (< 1 s); case keys kept in the "
              f"session, {search / floor:.2f}x the HPKE floor")
        print(json.dumps({"cases": count, "unlock_ms": unlock_s * 1000, "inbox_ms": inbox,
                          "case_ms": case, "first_search_s": cold, "search_s": search,
                          "hpke_floor_s": floor}))


if __name__ == "__main__":
    main()
