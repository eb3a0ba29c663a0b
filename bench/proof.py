"""The proof suite at the issue's sizes: load, kill -9, malformed requests, through gunicorn.

Run: `.venv/bin/python bench/proof.py [--families 50] [--seconds 60] [--kills 50]
[--malformed 4800] [--seed N] [--quick]`.

The same code as tests/proof with larger numbers, each part on a fresh instance
(SQLite, or PostgreSQL when INTAKE_DATABASE_URL names an empty database):

1. **Load**: N families submit at once for S seconds through two workers, a
   fifth of them with 1 to 5 MB files: submissions acknowledged, errors,
   p50/p95/p99 latency of the submitting POST, and acknowledged testimonies
   a vetted reviewer could not decrypt whole (target: 0 errors, 0 lost).
2. **kill -9**: K rounds of families submitting and the whole server killed
   at a random moment: acknowledged, lost, orphan blobs after each start.
3. **Malformed**: M requests with broken framing and hostile content to every
   family route, and damaged images: statuses >= 500 (501 for an unknown
   transfer coding aside), hung connections, rows or blobs left behind.

The last line is every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INTAKE_INSECURE_TEST_PROFILES", "true")
from tests import live  # noqa: E402
from tests.proof import malformed  # noqa: E402
from tests.proof.families import (  # noqa: E402
    decrypt_every_record,
    lost,
    percentile,
    read_as_reviewer,
    referenced_blobs,
    run_families,
    store_files,
)
from tests.proof.test_kill import kill_rounds  # noqa: E402
from tests.proof.test_malformed import counts, fire, send_images, visitor_with_a_case  # noqa: E402


def load(root: Path, families: int, seconds: float, seed: int) -> dict[str, object]:
    """Run the load part; return its figures."""
    env = live.initialise(root, reviewers=("reviewer",))
    server = live.start(root, env, workers=2)
    try:
        ran = run_families(server.port, families, seconds, seed)
    finally:
        server.stop()
    latencies = [t for family in ran for t in family.latencies]
    errors = [error for family in ran for error in family.errors]
    return {"families": families, "seconds": seconds,
            "acknowledged": len(latencies), "errors": len(errors),
            "first_errors": errors[:3],
            "lost": len(lost(ran, read_as_reviewer(root, os.environ.get("INTAKE_DATABASE_URL")))),
            "p50_s": percentile(latencies, 0.5), "p95_s": percentile(latencies, 0.95),
            "p99_s": percentile(latencies, 0.99),
            "server_log_errors": [line for line in server.log().splitlines()
                                  if not line.startswith("[INFO]")][:10]}


def kills(root: Path, rounds: int, seed: int) -> dict[str, object]:
    """Run the kill -9 part; return its figures."""
    env = live.initialise(root, reviewers=("reviewer",))
    ran, orphans, in_flight = kill_rounds(root, env, rounds, seed)
    return {"rounds": rounds, "kills_mid_upload": in_flight,
            "acknowledged": sum(len(family.acknowledged) for family in ran),
            "lost": len(lost(ran, read_as_reviewer(root, os.environ.get(
                "INTAKE_DATABASE_URL")))), "orphans": len(orphans)}


def malformed_requests(root: Path, total: int, seed: int) -> dict[str, object]:
    """Run the malformed part (a quarter hostile content, 1 in 12 damaged images)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test inputs, not keys
    env = live.initialise(root, reviewers=("reviewer",))
    server = live.start(root, env, workers=1, options=("--idle-timeout", "5"))
    images = total // 12
    framing, content = (total - images) * 3 // 4, (total - images) // 4
    try:
        visitor = visitor_with_a_case(server.port)
        before, blobs = counts(root), store_files(root)
        began = time.monotonic()
        broken, _ = fire(server.port, list(malformed.framing_cases(visitor, rng, framing)))
        left = (counts(root) != before) + len(store_files(root) ^ blobs)
        more, stored = fire(server.port, list(malformed.form_cases(visitor, rng, content)),
                            may_store=True)
        for rule, cases in more.items():
            broken.setdefault(rule, []).extend(cases)
        stored += send_images(server.port, visitor, rng, images)
        seconds = time.monotonic() - began
    finally:
        server.stop()
    unreferenced = store_files(root) - referenced_blobs(root)
    return {"requests": framing + content + images, "seconds": seconds,
            "broken": {rule: len(cases) for rule, cases in broken.items()},
            "first_broken": {rule: cases[:3] for rule, cases in broken.items()},
            "left_by_framing_errors": left, "unreferenced_blobs": len(unreferenced),
            "stored_and_decrypting": len(decrypt_every_record(root)) - before[0],
            "acknowledged": stored}


def main() -> None:
    """Run the three parts and print their table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--malformed", type=int, default=4800)
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(2), "big"))
    parser.add_argument("--parts", default="load,kill,malformed",
                        help="which parts to run, comma-separated")
    parser.add_argument("--quick", action="store_true", help="10 families, 10 s, 5 kills, 600")
    args = parser.parse_args()
    if args.quick:
        args.families, args.seconds, args.kills, args.malformed = 10, 10.0, 5, 600
    print(f"seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        figures: dict[str, object] = {"seed": args.seed}
        parts = args.parts.split(",")
        if "load" in parts:
            report_load(figures, load(root / "load", args.families, args.seconds, args.seed))
        if "kill" in parts:
            report_kills(figures, kills(root / "kill", args.kills, args.seed))
        if "malformed" in parts:
            report_malformed(figures, malformed_requests(root / "malformed", args.malformed,
                                                         args.seed))
    print(json.dumps(figures))


def report_load(figures: dict[str, object], f: dict[str, object]) -> None:
    """Print the load part's line."""
    figures["load"] = f
    print(f"load: {f['families']} families x {f['seconds']:.0f} s: {f['acknowledged']} "
          f"acknowledged, {f['errors']} errors, {f['lost']} lost; p50 {f['p50_s']:.3f} s, "
          f"p95 {f['p95_s']:.3f} s, p99 {f['p99_s']:.3f} s", flush=True)
    for line in f["first_errors"] + f["server_log_errors"]:  # type: ignore[operator]
        print(f"  {line}", flush=True)


def report_kills(figures: dict[str, object], f: dict[str, object]) -> None:
    """Print the kill -9 part's line."""
    figures["kill"] = f
    print(f"kill -9: {f['rounds']} rounds ({f['kills_mid_upload']} mid-upload): "
          f"{f['acknowledged']} acknowledged, {f['lost']} lost, {f['orphans']} orphan "
          "blobs after restarts", flush=True)


def report_malformed(figures: dict[str, object], f: dict[str, object]) -> None:
    """Print the malformed part's line."""
    figures["malformed"] = f
    print(f"malformed: {f['requests']} requests in {f['seconds']:.0f} s: broken rules "
          f"{f['broken'] or 'none'}; {f['left_by_framing_errors']} rows or blobs left by "
          f"framing errors, {f['unreferenced_blobs']} unreferenced blobs; "
          f"{f['acknowledged']} valid forms acknowledged, {f['stored_and_decrypting']} "
          "stored and decrypting", flush=True)


if __name__ == "__main__":
    main()
