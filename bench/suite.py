"""Compare the test suite's time at two commits, on this machine, one run after the other.

Run: `python bench/suite.py OLD NEW [--keep DIR]` (commits or branches of this repository),
or `python bench/suite.py --compare OLD.xml NEW.xml` for two JUnit reports already made.

Each commit is checked out into its own folder (a git worktree), given its own virtual
environment as `make test` would, and its whole suite is run with `pytest -m ''` (the slow
tests too) and a JUnit report. The figures: wall time and test count of each run, and the
summed time of the tests both runs have (same node id), with their ratio: the like-for-like
figure when tests were added between the two commits. The load average before and after
each run is printed beside it, since other work on the machine slows either run. The last
line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def durations(report: Path) -> dict[str, float]:
    """Each test's time in a JUnit report, by node id."""
    return {f"{case.get('classname')}::{case.get('name')}": float(case.get("time") or 0)
            for case in ET.parse(report).iter("testcase")}  # noqa: S314 - our own pytest report


def load() -> str:
    """The one-minute load average."""
    return f"{os.getloadavg()[0]:.2f}"


def run_suite(commit: str, folder: Path) -> tuple[Path, float, str]:
    """Check out `commit`, set it up and run its whole suite; return the report, seconds, loads."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(folder),
                    commit], check=True, capture_output=True)
    subprocess.run(["make", ".venv/.installed", "intake/translations/fa/LC_MESSAGES/messages.mo"],
                   cwd=folder, check=True, capture_output=True)
    report = folder / "junit.xml"
    before, start = load(), time.monotonic()
    subprocess.run([str(folder / ".venv/bin/python"), "-m", "pytest", "-m", "", "-q",
                    "-p", "no:cacheprovider", f"--junitxml={report}"], cwd=folder,
                   stdout=subprocess.DEVNULL, check=False)
    return report, time.monotonic() - start, f"{before} -> {load()}"


def compare(old: dict[str, float], new: dict[str, float]) -> dict[str, float | int]:
    """Sum each run and the tests they share; the ratio is new over old."""
    common = old.keys() & new.keys()
    shared_old = sum(old[name] for name in common)
    shared_new = sum(new[name] for name in common)
    return {"old_tests": len(old), "new_tests": len(new), "common_tests": len(common),
            "old_seconds": round(sum(old.values()), 1), "new_seconds": round(sum(new.values()), 1),
            "common_old_seconds": round(shared_old, 1), "common_new_seconds": round(shared_new, 1),
            "common_ratio": round(shared_new / shared_old, 3) if shared_old else 0.0}


def main() -> None:
    """Run both suites (or read two reports) and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--compare", action="store_true", help="OLD and NEW are JUnit reports")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args()
    if args.compare:
        reports = (Path(args.old), Path(args.new))
    else:
        base = args.keep or Path(tempfile.mkdtemp(prefix="intake-suite-"))
        runs = [run_suite(commit, base / label)
                for commit, label in ((args.old, "old"), (args.new, "new"))]
        for (report, seconds, loads), label in zip(runs, ("old", "new"), strict=True):
            print(f"{label}: {seconds:7.1f} s wall, load {loads}  ({report})")
        reports = (runs[0][0], runs[1][0])
    figures = compare(durations(reports[0]), durations(reports[1]))
    print(f"tests: old {figures['old_tests']}, new {figures['new_tests']}, "
          f"in both {figures['common_tests']}")
    print(f"summed test time: old {figures['old_seconds']} s, new {figures['new_seconds']} s")
    print(f"tests in both: old {figures['common_old_seconds']} s, "
          f"new {figures['common_new_seconds']} s, ratio {figures['common_ratio']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
