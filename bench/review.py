"""Benchmark the reviewer's side over generated cases: pages, a case, and the search index.

Run: `python bench/review.py [--cases 100000] [--quick] [--rotations N]`.

Generates the cases by inserting rows directly (fast), each as the form would
have stored it: its data key really sealed to the desk epoch with HPKE, its
answers really encrypted, and its search index row encrypted under the
epoch's index key as an earlier search would have left it. Then times through
the app: unlocking (login with passphrase and TOTP), the inbox's first page,
opening one case (target < 100 ms), the first search of a session (it
decrypts every index row: target < 1 s) and later ones (the session's text
kept in the worker's memory: target < 0.3 s). Beside them: opening every
case's data key one by one, which is what a search without the index costs,
measured on a sample and extrapolated (printed as such); and what indexing
costs per case on an instance upgraded from before the index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from intake import create_app  # noqa: E402
from intake.crypto import (  # noqa: E402
    IndexKey,
    PrivateKey,
    encrypt_field,
    new_data_key,
    seal_data_key,
    unlock_account,
    unlock_epochs,
)
from intake.desk import rotation  # noqa: E402
from intake.desk.setup import initialise  # noqa: E402
from intake.desk.trust import signer_of  # noqa: E402
from intake.staff import sessions  # noqa: E402
from intake.staff.accounts import totp_for  # noqa: E402
from intake.store.models import SearchRow, Submission, User  # noqa: E402
from intake.testimonies import cases, search  # noqa: E402
from intake.web.review.inbox import PAGE_SIZE  # noqa: E402
from tests.conftest import instance_config  # noqa: E402

PASSPHRASE = "bench reviewer passphrase"  # noqa: S105 (a throwaway instance)
NAMES = ["علی", "مریم", "حسین", "زهرا", "محمد", "فاطمه", "رضا", "سارا"]
QUERY = "گوهردشت ۹۹"
SAMPLE = 2000
CHUNK = 5000


def epoch_keys(app) -> dict[tuple[str, int], PrivateKey]:  # type: ignore[no-untyped-def]
    """The bench reviewer's unlocked epoch keys, as a login gives them."""
    keyring = app.extensions["intake.desk"].keyring
    with Session(app.extensions["intake.db"]) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        keys = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier, PASSPHRASE)
    return unlock_epochs(keyring, keys.key)


def case_rows(n: int, epoch_key: PrivateKey, index_key: IndexKey) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """One case as the form stores it, and its index row as a search writes it."""
    case_id, data_key = secrets.token_hex(16), new_data_key()
    answers = {"name": f"{NAMES[n % 8]} {n}", "arrest_place": "تهران",
               "testimony": f"شهادت شمارهٔ {n} دربارهٔ زندان گوهردشت در سال ۱۳۶۷"}
    text = search.Indexed(0, search.search_text([answers])).to_bytes()
    return ({"id": case_id, "desk_id": "main", "epoch_id": index_key.epoch_id,
             "received_on": dt.date(2026, 1, 1) + dt.timedelta(days=n % 300),
             "sealed_key": seal_data_key(data_key, epoch_key.public_key, desk_id="main",
                                         epoch_id=index_key.epoch_id, record_id=case_id),
             "answers": encrypt_field(data_key, json.dumps(answers).encode(),
                                      record_id=case_id, field="answers")},
            {"submission_id": case_id, "desk_id": "main", "epoch_id": index_key.epoch_id,
             "sealed_text": index_key.encrypt(text, record_id=case_id)})


def generate(app, count: int) -> None:  # type: ignore[no-untyped-def]
    """Insert `count` Persian testimonies and their index rows, in chunks."""
    [((desk_id, epoch_id), epoch_key)] = epoch_keys(app).items()
    index_key = IndexKey(epoch_key, desk_id=desk_id, epoch_id=epoch_id)
    with Session(app.extensions["intake.db"]) as db:
        for start in range(0, count, CHUNK):
            made = [case_rows(n, epoch_key, index_key)
                    for n in range(start, min(count, start + CHUNK))]
            db.execute(insert(Submission), [case for case, _ in made])
            db.execute(insert(SearchRow), [row for _, row in made])
            db.commit()


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


def log_in(app, client, step: int = 0) -> float:  # type: ignore[no-untyped-def]
    """Log in once (with the TOTP code `step` periods ahead); return the seconds it took."""
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with Session(app.extensions["intake.db"]) as db:
        user = db.query(User).filter_by(name="reviewer").one()
        code = totp_for(user).generate(time.time() + 30 * step).decode()
    began = time.perf_counter()
    response = client.post("/review/login", data={"csrf_token": token, "name": "reviewer",
                                                  "passphrase": PASSPHRASE, "code": code})
    assert response.status_code == 302, response.status_code
    return time.perf_counter() - began


def searched(client) -> float:  # type: ignore[no-untyped-def]
    """Search once, check that it found every case it should; return the seconds it took."""
    began = time.perf_counter()
    response = client.get("/review/", query_string={"q": QUERY})
    took = time.perf_counter() - began
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    # The cases whose number holds 99 (the query's Persian digits fold to these).
    expected = sum("99" in str(n) for n in range(client.cases))
    listed = len(re.findall(r'href="/review/([0-9a-f]{32})"', page))
    assert listed == min(PAGE_SIZE, expected), (listed, expected)
    assert f"1 / {-(-expected // PAGE_SIZE)}" in page, expected
    return took


def first_searches(client) -> float:  # type: ignore[no-untyped-def]
    """Median of three first searches: the session's real first, then twice more with what
    the session decrypted for searching dropped from memory, as a new session finds it."""
    times = [searched(client)]
    for _ in range(2):
        sessions.forget(*list(sessions._REMEMBERED))
        times.append(searched(client))
    return statistics.median(times)


def one_by_one(app, count: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to open `count` cases' data keys one by one, from a sample of SAMPLE cases."""
    keys = epoch_keys(app)
    with Session(app.extensions["intake.db"]) as db:
        sample = db.query(Submission).limit(min(SAMPLE, count)).all()
        began = time.perf_counter()
        for submission in sample:
            cases.data_key(submission, keys, db)
    return (time.perf_counter() - began) * count / len(sample)


def indexing_per_case(app, count: int, indexed_first: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds per case a first search spends indexing cases without a row (an upgrade)."""
    with Session(app.extensions["intake.db"]) as db:
        ids = db.scalars(select(SearchRow.submission_id).limit(SAMPLE)).all()
        db.execute(delete(SearchRow).where(SearchRow.submission_id.in_(ids)))
        db.commit()
    client = app.test_client()
    client.cases = count
    log_in(app, client, step=1)
    return (searched(client) - indexed_first) / len(ids)


def verdict(value: float, target: float) -> str:
    return f"{'PASS' if value < target else 'BELOW TARGET'} (< {target:g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 cases")
    parser.add_argument("--rotations", type=int, default=0,
                        help="rotate this many times first (each adds a key generation)")
    args = parser.parse_args()
    count = 10_000 if args.quick else args.cases
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
        client.cases = count
        unlock_s = log_in(app, client)
        with Session(app.extensions["intake.db"]) as db:
            some_case = db.scalars(select(Submission.id).limit(1)).one()
        inbox = median_ms(lambda: client.get("/review/"), 15)
        case = median_ms(lambda: client.get(f"/review/{some_case}"), 15)
        first = first_searches(client)
        later = statistics.median(searched(client) for _ in range(5))
        keys_s = one_by_one(app, count)
        per_case = indexing_per_case(app, count, first)
        report(count, generated, args.rotations, unlock_s, inbox, case, first, later, keys_s,
               per_case)


def report(count: int, generated: float, rotations: int, unlock_s: float, inbox: float,
           case: float, first: float, later: float, keys_s: float, per_case: float) -> None:
    """Print each figure beside its target and beside opening every data key one by one."""
    sample = min(SAMPLE, count)
    beside = (f"opening {count:,} data keys one by one: {keys_s:.1f} s (measured on {sample:,} "
              f"cases, extrapolated{'' if sample == count else ' x' + str(count // sample)})")
    print(f"{count:,} cases inserted with their index rows in {generated:.1f} s, "
          f"then {rotations} rotations; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (the figures scale with it, the ratios much less)")
    print(f"unlock (login, Argon2id RFC 9106 low-memory)  {unlock_s * 1000:8.0f} ms")
    print(f"inbox first page (median of 15)                {inbox:8.1f} ms  {verdict(inbox, 150)}"
          " ms")
    print(f"open a case (median of 15)                     {case:8.1f} ms  {verdict(case, 100)} ms"
          f"; beside it, {keys_s / count * 1000:.2f} ms per data key")
    print(f"search, first of a session (median of 3)       {first:8.2f} s   {verdict(first, 1)} s"
          f"; {beside}")
    print(f"search, later ones (median of 5)               {later:8.2f} s   {verdict(later, 0.3)}"
          f" s; {keys_s / later:.0f}x faster than opening every data key")
    print(f"indexing a case without a row (upgrade), once  {per_case * 1000:8.2f} ms per case "
          f"(measured on {sample:,}); all {count:,}: {per_case * count:.1f} s, in the first "
          "search after the upgrade")
    print(json.dumps({"cases": count, "unlock_ms": unlock_s * 1000, "inbox_ms": inbox,
                      "case_ms": case, "first_search_s": first, "later_search_s": later,
                      "data_keys_one_by_one_s": keys_s, "index_ms_per_case": per_case * 1000}))


if __name__ == "__main__":
    main()
