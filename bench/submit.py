"""Benchmark submissions through the real server (`intake serve`, gunicorn).

Run: `python bench/submit.py [--seconds 5] [--upload-mib 1024] [--quick]
[--desks] [--desk-clients 10] [--rounds 2]`.

Prints, for 1, 10 and 50 concurrent clients, text-only submissions per second
with p50/p99 latency beside the same server's plain form page (GET /submit)
as the ceiling (target: submit >= 0.5x of the ceiling); then one large
upload's throughput and the server's peak resident memory while it streams
(target < 100 MiB whatever the file size; the upload runs first, on a server at
rest). Then, on a second instance with ten desks, text-only submissions sealed
to 1, 3 and 10 chosen desks at one concurrency beside that server's GET /submit,
each acknowledged by its receipt and checked in the database to be sealed to
exactly the chosen desks (`--desks` runs only this part). Argon2id runs with
the production profiles, as it would for a family. The last line is the
figures as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from intake.crypto import (  # noqa: E402
    DecryptionError,
    Keyring,
    PrivateKey,
    decrypt_field,
    open_data_key,
    open_epoch_key,
    unlock_account,
)
from intake.store.db import make_engine  # noqa: E402
from intake.store.models import CaseDesk, Submission, User  # noqa: E402
from intake.testimonies.codes import new_code  # noqa: E402
from tests.live import INTAKE, LiveServer, start  # noqa: E402

MIB = 1024 * 1024
BOUNDARY = "----intake-bench"
TESTIMONY = "A short testimony for the benchmark."


ADMIN_PASSPHRASE = "bench admin passphrase"  # noqa: S105 (a throwaway instance)
DESK_LEVELS = (1, 3, 10)


def initialise(root: Path) -> dict[str, str]:
    """Initialise an instance with production KDF profiles; return the environment serving it."""
    env = os.environ | {"INTAKE_INSTANCE": str(root / "instance"),
                        "INTAKE_KEYS_DIR": str(root / "keys"),
                        "INTAKE_SESSION_COOKIE_SECURE": "false",
                        "INTAKE_MAX_CONTENT_LENGTH": str(8 * 1024 * MIB)}
    subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                   input=ADMIN_PASSPHRASE.encode() + b"\n", env=env, check=True,
                   capture_output=True)
    return env


def serve(root: Path) -> LiveServer:
    """Initialise an instance with production KDF profiles and serve it (2 workers)."""
    return start(root, initialise(root), workers=2)


def add_desks(env: dict[str, str], count: int) -> None:
    """Add desks desk-1 .. desk-N with `intake desks add`, as an operator would."""
    for n in range(1, count + 1):
        subprocess.run([INTAKE, "desks", "add", f"desk-{n}", "--admin", f"desk-{n}-admin",
                        "--name-en", f"Desk {n}", "--name-fa", f"میز {n}",
                        "--description-en", f"Documents testimonies for group {n}.",
                        "--description-fa", f"شهادت‌ها را برای گروه {n} ثبت می‌کند.",
                        "--passphrase-stdin"], input=ADMIN_PASSPHRASE.encode() + b"\n",
                       env=env, check=True, capture_output=True)


class Client:
    """One browser-like client: a keep-alive connection, a session cookie, a CSRF token."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.connection.request("GET", "/submit")
        response = self.connection.getresponse()
        page = response.read().decode()
        self.cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, "no CSRF token on the form"
        self.token = token.group(1)

    def offered_desks(self) -> list[str]:
        """Open the testimony form (without a code) and return the desks it offers, in order."""
        body = urllib.parse.urlencode({"csrf_token": self.token, "no_code": "1"})
        self.connection.request("POST", "/submit/form", body=body, headers={
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = self.connection.getresponse()
        page = response.read().decode()
        return re.findall(r'name="desks" value="([^"]+)"', page)

    def get_form(self) -> int:
        self.connection.request("GET", "/submit", headers={"Cookie": self.cookie})
        response = self.connection.getresponse()
        response.read()
        return response.status

    def submit(self, desks: Sequence[str] = ()) -> int:
        """Send a text-only testimony to these desks; 0 for a 200 that is not its receipt."""
        # A code as the code page would carry it: each submission derives its key.
        code = new_code("en")
        body = urllib.parse.urlencode([
            ("csrf_token", self.token), ("form_nonce", secrets.token_urlsafe(16)),
            ("consent_internal", "y"), ("name", "Test Person"), ("relationship", "mother"),
            ("testimony", TESTIMONY), ("code", code), *(("desks", d) for d in desks)])
        self.connection.request("POST", "/submit", body=body, headers={
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = self.connection.getresponse()
        page = response.read().decode()
        # Acknowledged means the receipt showing this testimony's code, nothing less (the
        # form again or "already received" would also be a 200).
        if response.status == 200 and f'<p class="code" lang="en">{code}</p>' not in page:
            return 0
        return response.status


class Run:
    """Latencies of the answered requests, statuses of the others, and the time it all took."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[int] = []
        self.elapsed = 0.0

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies) or [0.0]
        return {"per_s": len(self.latencies) / self.elapsed, "errors": len(self.errors),
                "p50_ms": statistics.median(ordered) * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def run(port: int, clients: int, seconds: float, action: str,
        desks: Sequence[str] = ()) -> Run:
    """Run `clients` threads doing `action` (to `desks`) for `seconds`."""
    result, lock, deadline = Run(), threading.Lock(), time.monotonic() + seconds

    def work() -> None:
        client = Client(port)
        while time.monotonic() < deadline:
            began = time.perf_counter()
            status = client.submit(desks) if action == "submit" else client.get_form()
            with lock:
                if status == 200:
                    result.latencies.append(time.perf_counter() - began)
                else:
                    result.errors.append(status)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - began
    return result


def load(port: int, clients: int, seconds: float, action: str) -> dict[str, float]:
    """Run `clients` threads doing `action` for `seconds`; return rate and latencies."""
    return run(port, clients, seconds, action).summary()


def group_rss_kib(process_group: int) -> dict[int, int]:
    """Resident memory (KiB) of each process of the server's process group."""
    sizes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != process_group:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError):
            continue
        found = re.search(r"VmRSS:\s+(\d+)", status)
        if found:
            sizes[int(stat.parent.name)] = int(found.group(1))
    return sizes


def photo(megapixels: int) -> bytes:
    """A JPEG of noise (hard to compress, like a real photo) of about this many megapixels."""
    from PIL import Image

    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    out = io.BytesIO()
    Image.effect_noise((width, width * 3 // 4), 48).convert("RGB").save(out, "JPEG",
                                                                         quality=90)
    return out.getvalue()


def big_upload(server: LiveServer, size: int) -> dict[str, float]:
    """Stream one `size`-byte file through the form (default path: photos are cleaned)."""
    chunk = os.urandom(MIB)
    return timed_upload(server, "big.bin", "application/octet-stream",
                        (chunk for _ in range(size // MIB)), size)


def timed_upload(server: LiveServer, filename: str, content_type: str,
                 chunks: Iterable[bytes], size: int) -> dict[str, float]:
    """Send one file through the form; sample the server's memory meanwhile."""
    client = Client(server.port)
    head = "".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in {"csrf_token": client.token, "consent_internal": "y",
                                "name": "x", "relationship": "mother",
                                "testimony": "x"}.items())
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
             f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n')
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    baseline = max(group_rss_kib(server.process.pid).values())
    peak, done = [baseline], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(max(group_rss_kib(server.process.pid).values(), default=0))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.perf_counter()
    connection = client.connection
    connection.putrequest("POST", "/submit")
    for name, value in (("Cookie", client.cookie),
                        ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"),
                        ("Content-Length", str(len(head.encode()) + size + len(tail)))):
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(head.encode())
    for chunk in chunks:
        connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - began
    done.set()
    sampler.join()
    return {"status": response.status, "mib_per_s": size / MIB / elapsed,
            "baseline_rss_mib": baseline / 1024, "peak_rss_mib": max(peak) / 1024}


def coalition(clients: int, seconds: float, rounds: int) -> dict[str, object]:
    """On a ten-desk instance, submissions sealed to 1, 3 and 10 desks beside GET /submit."""
    # The machine is shared: the load average before this part's own work says how much.
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="intake-bench-desks-") as folder:
        root = Path(folder)
        env = initialise(root)
        add_desks(env, max(DESK_LEVELS) - 1)
        server = start(root, env, workers=2)
        engine = make_engine(f"sqlite:///{root / 'instance' / 'intake.sqlite3'}")
        try:
            offered = Client(server.port).offered_desks()
            if len(offered) != max(DESK_LEVELS):
                raise SystemExit(f"the form offers {len(offered)} desks, not ten: {offered}")
            runs, samples, checked = measure_desks(server.port, engine, Keyring(root / "keys"),
                                                   offered, (clients, seconds, rounds))
            load_after = os.getloadavg()
            opened = open_every_copy(engine, Keyring(root / "keys"), samples)
        finally:
            server.stop()
            engine.dispose()
    figures = report_desks(runs, clients, seconds, rounds)
    print(f"checked: {checked} acknowledged submissions = {checked} stored, each sealed to "
          "exactly its chosen desks at their current epochs; one case of each level opened "
          f"with each chosen desk's own key ({opened} copies) to one data key that decrypts "
          f"its answers. Load average {load_before[0]:.2f} before, {load_after[0]:.2f} at the end "
          "(this run's own load included)")
    return figures | {"checked_cases": checked, "opened_copies": opened,
                      "load_average": [round(load_before[0], 2), round(load_after[0], 2)]}


def measure_desks(port: int, engine: Engine, keyring: Keyring, offered: list[str],
                  sizes: tuple[int, float, int]) -> tuple[dict[object, Run], list[str], int]:
    """Run GET /submit and each desk level in turn, `rounds` times; check each level's cases."""
    clients, seconds, rounds = sizes
    levels: list[object] = ["get", *DESK_LEVELS]
    runs: dict[object, Run] = {level: Run() for level in levels}
    known: set[str] = set()
    samples: dict[int, str] = {}
    for number in range(rounds):
        # Each round starts one level later, so a change in the machine's load does not
        # fall on one level only.
        for level in levels[number % len(levels):] + levels[:number % len(levels)]:
            if not isinstance(level, int):
                runs[level].add(run(port, clients, seconds, "get"))
                continue
            done = run(port, clients, seconds, "submit", offered[:level])
            cases = check_sealed(engine, keyring, known, offered[:level], len(done.latencies))
            if cases:
                samples[level] = secrets.choice(cases)
            runs[level].add(done)
    return runs, list(samples.values()), len(known)


def check_sealed(engine: Engine, keyring: Keyring, known: set[str], chosen: list[str],
                 acknowledged: int) -> list[str]:
    """Fail unless the new cases are the acknowledged ones, each sealed to exactly `chosen`."""
    with Session(engine) as db:
        cases = {case_id: {desk_id: epoch_id} for case_id, desk_id, epoch_id
                 in db.query(Submission.id, Submission.desk_id, Submission.epoch_id)
                 if case_id not in known}
        copies = 0
        for case_id, desk_id, epoch_id in db.query(CaseDesk.submission_id, CaseDesk.desk_id,
                                                   CaseDesk.epoch_id):
            if case_id in cases:
                cases[case_id][desk_id] = epoch_id
                copies += 1
    if len(cases) != acknowledged:
        raise SystemExit(f"{acknowledged} submissions to desks {chosen} acknowledged, "
                         f"{len(cases)} stored")
    current = {desk_id: keyring.current_epoch(desk_id).id for desk_id in chosen}
    wrong = [case_id for case_id, sealed_to in cases.items() if sealed_to != current]
    # A second copy for one desk would hide in the mapping: count the rows as well.
    if wrong or copies != len(cases) * (len(chosen) - 1):
        raise SystemExit(f"cases to {chosen} sealed otherwise: {len(wrong)} with other desks "
                         f"or epochs, {copies} copies for {len(cases)} cases")
    known.update(cases)
    return list(cases)


def open_every_copy(engine: Engine, keyring: Keyring, case_ids: list[str]) -> int:
    """Open each sealed copy of these cases with its desk's own key; return how many opened."""
    epoch_keys: dict[tuple[str, int], PrivateKey] = {}
    opened = 0
    with Session(engine) as db:
        for case_id in case_ids:
            case = db.get(Submission, case_id)
            assert case is not None
            copies = [(case.desk_id, case.epoch_id, case.sealed_key),
                      *db.query(CaseDesk.desk_id, CaseDesk.epoch_id, CaseDesk.sealed_key)
                      .filter_by(submission_id=case_id)]
            data_keys = set()
            for desk_id, epoch_id, sealed in copies:
                if (desk_id, epoch_id) not in epoch_keys:
                    epoch_keys[desk_id, epoch_id] = desk_epoch_key(db, keyring, desk_id, epoch_id)
                try:
                    data_keys.add(open_data_key(sealed, epoch_keys[desk_id, epoch_id],
                                                desk_id=desk_id, epoch_id=epoch_id,
                                                record_id=case_id))
                except DecryptionError:
                    raise SystemExit(f"desk {desk_id}'s copy of case {case_id} does not open "
                                     "with its key") from None
                opened += 1
            answers = json.loads(decrypt_field(data_keys.pop(), case.answers,
                                               record_id=case_id, field="answers"))
            if data_keys or answers.get("testimony") != TESTIMONY:
                raise SystemExit(f"the copies of case {case_id} do not open its testimony")
    return opened


def desk_epoch_key(db: Session, keyring: Keyring, desk_id: str, epoch_id: int) -> PrivateKey:
    """Unlock a desk's first admin and open its grant of the epoch (production Argon2id)."""
    admin = db.query(User).filter_by(
        name="admin" if desk_id == "main" else f"{desk_id}-admin").one()
    public, wrapped = keyring.user_key(admin.id)
    account = unlock_account(wrapped, admin.passphrase_verifier, ADMIN_PASSPHRASE)
    grant = keyring.grant(desk_id, epoch_id, public.fingerprint)
    assert grant is not None, f"the admin of {desk_id} holds no grant of epoch {epoch_id}"
    return open_epoch_key(grant, account.key, desk_id=desk_id, epoch_id=epoch_id,
                          epoch_public=keyring.epoch(desk_id, epoch_id).public_key)


def report_desks(runs: dict[object, Run], clients: int, seconds: float,
                 rounds: int) -> dict[str, object]:
    """Print the desk levels beside the ceiling, with what each extra desk costs."""
    ceiling = runs["get"].summary()
    print(f"ten desks, {clients} concurrent clients, {rounds} round(s) of {seconds:g} s "
          "per level, levels interleaved")
    print(f"  GET /submit (ceiling)  {ceiling['per_s']:7.1f}/s  p50 {ceiling['p50_ms']:7.1f} ms"
          f"  p99 {ceiling['p99_ms']:7.1f} ms")
    figures: dict[str, object] = {"clients": clients, "seconds": seconds, "rounds": rounds,
                                  "get": ceiling}
    one = runs[DESK_LEVELS[0]].summary()
    for level in DESK_LEVELS:
        row = runs[level].summary()
        extra = ""
        if level > 1:  # server time is 1/rate at a saturating concurrency
            row["ms_per_extra_desk"] = (1000 / row["per_s"] - 1000 / one["per_s"]) / (level - 1)
            row["p50_ms_per_extra_desk"] = (row["p50_ms"] - one["p50_ms"]) / (level - 1)
            extra = (f"  per extra desk {row['ms_per_extra_desk']:+6.2f} ms server, "
                     f"{row['p50_ms_per_extra_desk']:+6.2f} ms p50")
        print(f"  submit to {level:2} desk{'s' if level > 1 else ' '}    {row['per_s']:7.1f}/s"
              f"  p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  ratio "
              f"{row['per_s'] / ceiling['per_s']:.3f}{extra}"
              f"{'  errors ' + str(row['errors']) if row['errors'] else ''}")
        figures[str(level)] = row
    if any(runs[level].errors for level in DESK_LEVELS):
        raise SystemExit("some submissions were not acknowledged (see errors above)")
    return figures


def single_desk(seconds: float, upload: int) -> dict[str, object]:
    """The single-desk figures: a large upload and a photo, then 1, 10 and 50 clients."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        server = serve(Path(folder))
        try:
            # The upload runs first, so the memory baseline is the server's own at rest.
            big = big_upload(server, upload * MIB)
            picture = photo(12)
            cleaned = timed_upload(server, "photo.jpg", "image/jpeg",
                                   (picture[i:i + MIB] for i in range(0, len(picture), MIB)),
                                   len(picture))
            results = {}
            for clients in (1, 10, 50):
                ceiling = load(server.port, clients, seconds, "get")
                submit = load(server.port, clients, seconds, "submit")
                results[clients] = {"get": ceiling, "submit": submit}
                ratio = submit["per_s"] / ceiling["per_s"]
                print(f"{clients:3} clients  GET /submit {ceiling['per_s']:7.0f}/s "
                      f"p50 {ceiling['p50_ms']:6.1f} ms p99 {ceiling['p99_ms']:6.1f} ms | "
                      f"submit {submit['per_s']:6.1f}/s p50 {submit['p50_ms']:6.1f} ms "
                      f"p99 {submit['p99_ms']:6.1f} ms | ratio {ratio:.2f} "
                      f"{'PASS' if ratio >= 0.5 else 'BELOW TARGET'}"
                      f"{' errors ' + str(submit['errors']) if submit['errors'] else ''}")
            print(f"upload {upload} MiB: {big['mib_per_s']:.0f} MiB/s (status {big['status']}), "
                  f"server peak RSS {big['peak_rss_mib']:.0f} MiB (baseline "
                  f"{big['baseline_rss_mib']:.0f}) "
                  f"{'PASS' if big['peak_rss_mib'] < 100 else 'BELOW TARGET'}")
            print(f"12 MP photo ({len(picture) / MIB:.1f} MiB), rebuilt without metadata: "
                  f"{len(picture) / MIB / cleaned['mib_per_s']:.2f} s (status "
                  f"{cleaned['status']}), server peak RSS {cleaned['peak_rss_mib']:.0f} MiB "
                  "(bounded by the 40 MP cap and two rebuilds at a time, not by file size)")
            return {"levels": results, "upload": big, "upload_mib": upload, "photo": cleaned}
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--quick", action="store_true",
                        help="1 s per level, 64 MiB upload, one round of the desk levels")
    parser.add_argument("--desks", action="store_true",
                        help="only the submissions to 1, 3 and 10 desks of a ten-desk instance")
    parser.add_argument("--desk-clients", type=int, default=10,
                        help="concurrent clients of the desk levels")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the desk levels")
    args = parser.parse_args()
    seconds, upload = (1.0, 64) if args.quick else (args.seconds, args.upload_mib)
    rounds = 1 if args.quick else args.rounds
    figures = {} if args.desks else single_desk(seconds, upload)
    figures["desks"] = coalition(args.desk_clients, seconds, rounds)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
