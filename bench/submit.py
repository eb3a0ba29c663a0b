"""Benchmark submissions through the real server (`intake serve`, gunicorn).

Run: `python bench/submit.py [--seconds 5] [--upload-mib 1024] [--quick]`.

Prints, for 1, 10 and 50 concurrent clients, text-only submissions per second
with p50/p99 latency beside the same server's plain form page (GET /submit)
as the ceiling (target: submit >= 0.5x of the ceiling); then one large
upload's throughput and the server's peak resident memory while it streams
(target < 100 MiB whatever the file size; the upload runs first, on a server at
rest). Argon2id runs with the production
profiles, as it would for a family. The last line is the figures as JSON.
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
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from intake.testimonies.codes import new_code  # noqa: E402
from tests.live import INTAKE, LiveServer, start  # noqa: E402

MIB = 1024 * 1024
BOUNDARY = "----intake-bench"


def serve(root: Path) -> LiveServer:
    """Initialise an instance with production KDF profiles and serve it (2 workers)."""
    env = os.environ | {"INTAKE_INSTANCE": str(root / "instance"),
                        "INTAKE_KEYS_DIR": str(root / "keys"),
                        "INTAKE_SESSION_COOKIE_SECURE": "false",
                        "INTAKE_MAX_CONTENT_LENGTH": str(8 * 1024 * MIB)}
    subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                   input=b"bench admin passphrase\n", env=env, check=True,
                   capture_output=True)
    return start(root, env, workers=2)


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

    def get_form(self) -> int:
        self.connection.request("GET", "/submit", headers={"Cookie": self.cookie})
        response = self.connection.getresponse()
        response.read()
        return response.status

    def submit(self) -> int:
        body = "&".join(f"{k}={v}" for k, v in {
            "csrf_token": self.token, "form_nonce": secrets.token_urlsafe(16),
            "consent_internal": "y", "name": "Test+Person", "relationship": "mother",
            "testimony": "A+short+testimony+for+the+benchmark.",
            # A code as the code page would carry it: each submission derives its key.
            "code": new_code("en").replace(" ", "+")}.items())
        self.connection.request("POST", "/submit", body=body, headers={
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = self.connection.getresponse()
        response.read()
        return response.status


def load(port: int, clients: int, seconds: float, action: str) -> dict[str, float]:
    """Run `clients` threads doing `action` for `seconds`; return rate and latencies."""
    latencies: list[float] = []
    errors: list[int] = []
    lock, deadline = threading.Lock(), time.monotonic() + seconds

    def work() -> None:
        client = Client(port)
        step = client.submit if action == "submit" else client.get_form
        while time.monotonic() < deadline:
            began = time.perf_counter()
            status = step()
            with lock:
                (latencies if status == 200 else errors).append(
                    time.perf_counter() - began if status == 200 else status)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies) or [0.0]
    return {"per_s": len(latencies) / elapsed, "errors": len(errors),
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--quick", action="store_true", help="1 s per level, 64 MiB upload")
    args = parser.parse_args()
    seconds, upload = (1.0, 64) if args.quick else (args.seconds, args.upload_mib)
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
            print(json.dumps({"levels": results, "upload": big, "upload_mib": upload,
                              "photo": cleaned}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
