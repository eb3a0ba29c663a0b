"""Benchmark slow uploaders against a new visitor, through the real server (gunicorn).

Run: `python bench/slow_clients.py [--uploaders 64] [--rate-kb 20] [--upload-kb 400]`.

A family on Tor uploads slowly, and each upload holds one server thread while
it lasts. For each configuration (`intake serve`'s defaults, and the old
2 workers x 8 threads as the baseline, in the same run), this starts the
server, opens the uploaders, each sending a multipart file at the given rate,
then, while they are all still sending, has a new visitor ask for the form
(GET /submit) once a second. It prints the visitor's waits (target: every one
under 2 s with the defaults), how many uploads the server read to the end, and
the ratio of the baseline's worst wait to the defaults', and each worker's
threads and resident memory under load. The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.live import INTAKE, LiveServer, start  # noqa: E402

CHUNK = 2000
VISITOR_TIMEOUT = 30.0


@dataclass
class Run:
    """What one configuration did under load."""

    name: str
    workers: int
    threads: int
    waits: list[float] = field(default_factory=list)
    answered_uploads: int = 0
    # Each worker's (threads, resident MiB) while the uploads were in flight.
    workers_loaded: list[tuple[int, float]] = field(default_factory=list)

    def figures(self) -> dict[str, object]:
        return {"workers": self.workers, "threads": self.threads,
                "visitor_waits_s": [round(w, 3) for w in self.waits],
                "worst_wait_s": round(max(self.waits), 3),
                "answered_uploads": self.answered_uploads,
                "workers_threads_rss_mib": self.workers_loaded}


def worker_figures(master: int) -> list[tuple[int, float]]:
    """Return each gunicorn worker's thread count and resident size in MiB."""
    figures = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0")) == master:
            figures.append((int(fields["Threads"]),
                            round(int(fields["VmRSS"].split()[0]) / 1024, 1)))
    return sorted(figures)


def upload(port: int, size: int, rate: int, answered: list[int]) -> None:
    """Send one multipart upload of `size` bytes at `rate` bytes a second, then read the answer."""
    part = (b'--b\r\nContent-Disposition: form-data; name="attachments"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    tail = b"\r\n--b--\r\n"
    head = ("POST /submit HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {len(part) + size + len(tail)}\r\n\r\n").encode() + part
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
            sock.sendall(head)
            started = time.monotonic()
            for sent in range(0, size, CHUNK):
                sock.sendall(b"x" * min(CHUNK, size - sent))
                # Pace against the clock, so a blocked send does not slow the average.
                time.sleep(max(0.0, started + (sent + CHUNK) / rate - time.monotonic()))
            sock.sendall(tail)
            if sock.recv(64).startswith(b"HTTP/1.1 "):
                answered.append(1)
    except OSError:
        pass


def visit(port: int) -> float:
    """Ask for the form on a new connection; return how long the answer took (or the timeout)."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=VISITOR_TIMEOUT) as sock:
            sock.sendall(b"GET /submit HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            if not sock.recv(64).startswith(b"HTTP/1.1 200"):
                return VISITOR_TIMEOUT
    except OSError:
        return VISITOR_TIMEOUT
    return time.monotonic() - started


def measure(run: Run, server: LiveServer, args: argparse.Namespace) -> None:
    """Start the uploaders, then time a new visitor once a second while they send."""
    answered: list[int] = []
    uploaders = [threading.Thread(target=upload, daemon=True, args=(
        server.port, args.upload_kb * 1000, args.rate_kb * 1000, answered))
        for _ in range(args.uploaders)]
    for thread in uploaders:
        thread.start()
    time.sleep(args.ramp)
    visitors: list[threading.Thread] = []
    for _ in range(args.visits):
        visitors.append(threading.Thread(target=lambda: run.waits.append(visit(server.port))))
        visitors[-1].start()
        time.sleep(1)
    run.workers_loaded = worker_figures(server.process.pid)
    for thread in visitors + uploaders:
        thread.join()
    run.answered_uploads = len(answered)


def bench(run: Run, args: argparse.Namespace) -> Run:
    """Serve a fresh instance with the run's sizing and measure it."""
    with tempfile.TemporaryDirectory(prefix="intake-bench-slow-") as folder:
        root = Path(folder)
        env = os.environ | {"INTAKE_INSTANCE": str(root / "instance"),
                            "INTAKE_KEYS_DIR": str(root / "keys"),
                            "INTAKE_SESSION_COOKIE_SECURE": "false"}
        subprocess.run([INTAKE, "init", "--admin", "admin", "--passphrase-stdin"],
                       input=b"bench admin passphrase\n", env=env, check=True,
                       capture_output=True)
        server = start(root, env, workers=run.workers, options=("--threads", str(run.threads)))
        try:
            measure(run, server, args)
        finally:
            server.stop()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploaders", type=int, default=64)
    parser.add_argument("--rate-kb", type=int, default=20, help="each uploader's KB/s")
    parser.add_argument("--upload-kb", type=int, default=400, help="each upload's size")
    parser.add_argument("--visits", type=int, default=8, help="visits, one a second")
    parser.add_argument("--ramp", type=float, default=3.0, help="seconds before the first")
    args = parser.parse_args()
    if args.upload_kb / args.rate_kb < args.ramp + args.visits + 2:
        parser.error("uploads must outlast the visits: raise --upload-kb")
    current = bench(Run("intake serve defaults", workers=2, threads=64), args)
    baseline = bench(Run("baseline: 2 workers x 8 threads", workers=2, threads=8), args)
    print(f"{args.uploaders} uploaders at {args.rate_kb} KB/s, {args.upload_kb} KB each; "
          f"a new visitor asks for /submit once a second ({args.visits} visits)")
    for run in (current, baseline):
        waits = ", ".join(f"{w:.2f}" for w in sorted(run.waits))
        print(f"  {run.name:34} worst {max(run.waits):6.2f} s  waits [{waits}]  "
              f"uploads answered {run.answered_uploads}/{args.uploaders}")
        workers = ", ".join(f"{n} threads {rss} MiB" for n, rss in run.workers_loaded)
        print(f"  {'':34} workers under load: {workers}")
    ratio = max(baseline.waits) / max(current.waits)
    under = all(w < 2 for w in current.waits)
    print(f"  worst wait, baseline / defaults: {ratio:.1f}x "
          f"(baseline waits are cut at {VISITOR_TIMEOUT:.0f} s); "
          f"every visit under 2 s with the defaults: {under}")
    print(json.dumps({"defaults": current.figures(), "baseline": baseline.figures(),
                      "ratio_worst_wait": round(ratio, 1), "target_met": under}))


if __name__ == "__main__":
    main()
