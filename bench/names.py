"""Measure link suggestions on names: precision and recall over tests/data/name_pairs.csv.

Run: `python bench/names.py [--show-errors]`.

Each labelled pair (bench/name_pairs.py writes them) becomes two testimonies that give
only the person's name; a pair counts as suggested when
`intake.testimonies.linking.suggestions`, at
the threshold the app uses, proposes the one for the other. The name is then all the
evidence, so a pair is suggested exactly when the names are judged the same; a shared
father's name or date would only add to it. Prints precision and recall against their
targets (0.9 each), the count of each class of error (missed same person, or different
people suggested, by the scripts of the pair) and, with --show-errors, every error. Then
the same figures at other word-similarity thresholds than the app's, to show the trade-off.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.testimonies import names  # noqa: E402
from intake.testimonies.linking import suggestions  # noqa: E402

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "name_pairs.csv"
TARGET = 0.9


def read_pairs(path: Path = PAIRS) -> list[tuple[str, str, bool]]:
    """Return the labelled pairs: (name, name, same person)."""
    with path.open(encoding="utf-8", newline="") as found:
        return [(row["a"], row["b"], row["same"] == "1") for row in csv.DictReader(found)]


def suggested(first: str, second: str) -> bool:
    """Whether link suggestions propose a testimony naming `second` for one naming `first`."""
    return bool(suggestions({"name": first}, [("other", {"name": second})]))


def scripts(first: str, second: str) -> str:
    """Name the scripts of a pair: Persian-Latin, Latin-Latin or Persian-Persian."""
    kinds = sorted("Persian" if re.search("[\u0600-\u06ff]", name) else "Latin"
                   for name in (first, second))
    return "-".join(kinds[::-1]) if kinds[0] != kinds[1] else f"{kinds[0]}-{kinds[1]}"


def measure(pairs: list[tuple[str, str, bool]]) -> tuple[float, float, Counter[str], list[str]]:
    """Return precision, recall, the count of each error class and the errors."""
    counts: Counter[str] = Counter()
    errors, classes = [], Counter()
    for first, second, same in pairs:
        guess = suggested(first, second)
        counts[(guess, same)] += 1
        if guess != same:
            kind = "missed same person" if same else "different people suggested"
            classes[f"{kind}, {scripts(first, second)}"] += 1
            errors.append(f"{kind}: {first} | {second}")
    hits = counts[(True, True)]
    precision = hits / max(1, hits + counts[(True, False)])
    recall = hits / max(1, hits + counts[(False, True)])
    return precision, recall, classes, errors


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    pairs = read_pairs()
    started = time.perf_counter()
    precision, recall, classes, errors = measure(pairs)
    elapsed = time.perf_counter() - started
    same = sum(label for *_, label in pairs)
    print(f"{len(pairs)} labelled pairs ({same} same person, {len(pairs) - same} different), "
          f"{elapsed * 1000 / len(pairs):.2f} ms a pair")
    for name, value in (("precision", precision), ("recall", recall)):
        verdict = "ok" if value >= TARGET else "BELOW TARGET"
        print(f"  {name:<10} {value:.3f}  (target >= {TARGET})  {verdict}")
    print("errors by class:" if classes else "errors: none")
    for kind, count in sorted(classes.items()):
        print(f"  {count:4d}  {kind}")
    if args.show_errors:
        print("\n".join(errors))
    app_threshold = names.THRESHOLD
    print(f"other word thresholds (the app's is {app_threshold}):")
    for threshold in (80, 85, 95, 100):
        names.THRESHOLD = threshold
        precision, recall, classes, _ = measure(pairs)
        print(f"  {threshold:3d}  precision {precision:.3f}  recall {recall:.3f}")
    names.THRESHOLD = app_threshold


if __name__ == "__main__":
    main()
