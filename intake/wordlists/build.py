"""Rebuild the follow-up code word lists (fa.txt, en.txt) from their sources.

Sources are pip packages only; nothing else is downloaded:

    pip install wordfreq==3.1.1 diceware==1.0.1
    python intake/wordlists/build.py            # rewrite fa.txt and en.txt
    python intake/wordlists/build.py --check    # fail if the files differ
    python intake/wordlists/build.py --dump fa  # selected words, most frequent first

Pipeline for each language: candidates in frequency order -> automatic
filters -> the hand-review exclusions in excluded.txt -> a greedy pass, most
frequent first, that keeps a word only if it is not confusable with, nor a
prefix of, nor prefixed by, a word already kept -> the first 2048 kept words,
sorted.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = 2048
FA_CANDIDATES = 40000  # wordfreq holds about 31,000 Persian words: take them all
EN_MIN_LEN, EN_MAX_LEN = 3, 8
FA_MIN_LEN, FA_MAX_LEN = 3, 7
EN_PREFIX = 4  # English words must differ in their first four letters
FA_MIN_PREFIX = 4  # no Persian word of 4+ letters may begin another word

# Letters of the Persian alphabet. No hamza forms but madda alef (hard to
# write and to type), no Arabic-only ي ك ة ى, no ZWNJ, tatweel or diacritics.
FA_LETTERS = frozenset("آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی")
# Obvious inflected forms, dropped before review: negative present/past
# continuous verbs, plural and possessive-plural endings, superlatives.
FA_VERB_PREFIXES = ("نمی",)
FA_SUFFIXES = ("ها", "های", "هایی", "هاش", "هام", "هات", "هامون", "هاتون", "هاشون", "هاست", "ترین")
_ARABIC_TO_PERSIAN = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})

# Letter shapes that differ only by dots (or by the madda / the bar of گ) and
# are easily confused in handwriting. Two words with the same shape sequence
# count as confusable. ن and ی join this class except at the end of a word,
# where their shapes differ; ف and ق likewise.
_SHAPES = {
    **dict.fromkeys("آا", "ا"),
    **dict.fromkeys("بپتث", "ب"),
    **dict.fromkeys("جچحخ", "ح"),
    **dict.fromkeys("دذ", "د"),
    **dict.fromkeys("رزژ", "ر"),
    **dict.fromkeys("سش", "س"),
    **dict.fromkeys("صض", "ص"),
    **dict.fromkeys("طظ", "ط"),
    **dict.fromkeys("عغ", "ع"),
    **dict.fromkeys("کگ", "ک"),
    "ف": "ف", "ق": "ف",
}
_MEDIAL_ONLY = {"ن": "ب", "ی": "ب"}


def fa_shape(word: str) -> str:
    """The dotless outline of a Persian word, as a careless hand might write it."""
    out = []
    for i, ch in enumerate(word):
        final = i == len(word) - 1
        shape = _SHAPES.get(ch, ch)
        if ch in _MEDIAL_ONLY and not final:
            shape = _MEDIAL_ONLY[ch]
        if ch == "ق" and final:
            shape = "ق"
        out.append(shape)
    return "".join(out)


def read_excluded(path: Path = HERE / "excluded.txt") -> dict[str, str]:
    """Hand-review exclusions: word, tab, reason. Blank lines and # comments are skipped."""
    excluded: dict[str, str] = {}
    if not path.exists():
        return excluded
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, reason = line.partition("\t")
        excluded[unicodedata.normalize("NFC", word.strip())] = reason.strip()
    return excluded


class Log:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, lang: str, step: str, n: int) -> None:
        if not self.quiet:
            print(f"{lang}: {step:<58} {n:>6}", file=sys.stderr)


def greedy(
    words: Iterable[str], key: Callable[[str], str], head: int | None, min_prefix: int = 1
) -> list[str]:
    """Keep words in order unless they clash with a word already kept.

    Two words clash if their ``key`` (the dotless shape for Persian) is equal,
    if a word of at least ``min_prefix`` letters is a prefix of the other
    (which also removes most singular/plural and suffixed pairs), or, when
    ``head`` is given, if their first ``head`` letters are equal.
    """
    kept: list[str] = []
    kept_set: set[str] = set()
    keys: set[str] = set()
    heads: set[str] = set()
    for word in words:
        k = key(word)
        if k in keys or (head is not None and word[:head] in heads):
            continue
        if any(word[:i] in kept_set for i in range(min_prefix, len(word))):
            continue  # a kept word is a prefix of this one
        if len(word) >= min_prefix and any(other.startswith(word) for other in kept_set):
            continue  # this word is a prefix of a kept word
        kept.append(word)
        kept_set.add(word)
        keys.add(k)
        if head is not None:
            heads.add(word[:head])
    return kept


def fa_ranked(log: Log, excluded: dict[str, str]) -> list[str]:
    import wordfreq

    raw = wordfreq.top_n_list("fa", FA_CANDIDATES)
    version = importlib.metadata.version("wordfreq")
    log("fa", f"wordfreq {version} top_n_list('fa', {FA_CANDIDATES})", len(raw))
    words: list[str] = []
    seen: set[str] = set()
    for w in raw:
        w = unicodedata.normalize("NFC", w).translate(_ARABIC_TO_PERSIAN)
        if w not in seen:
            seen.add(w)
            words.append(w)
    log("fa", "distinct after NFC and ي/ى/ك -> ی/ک", len(words))
    words = [w for w in words if set(w) <= FA_LETTERS]
    log("fa", "only Persian letters (no ZWNJ, hamza, digits, Latin)", len(words))
    words = [w for w in words if FA_MIN_LEN <= len(w) <= FA_MAX_LEN]
    log("fa", f"{FA_MIN_LEN}-{FA_MAX_LEN} letters", len(words))
    words = [w for w in words if not any(w[i] == w[i + 1] == w[i + 2] for i in range(len(w) - 2))]
    log("fa", "no letter three times in a row", len(words))
    words = [w for w in words if not w.startswith(FA_VERB_PREFIXES) and not w.endswith(FA_SUFFIXES)]
    log("fa", "not an obvious negative verb, plural or superlative form", len(words))
    words = [w for w in words if w not in excluded]
    log("fa", "not in excluded.txt (hand review)", len(words))
    words = greedy(words, fa_shape, None, FA_MIN_PREFIX)
    log("fa", f"greedy: one per dotless shape; no {FA_MIN_PREFIX}+ letter prefix", len(words))
    return words


def eff_words() -> list[str]:
    text = (importlib.resources.files("diceware") / "wordlists" / "wordlist_en_eff.txt").read_text(
        encoding="utf-8"
    )
    return [line.split()[-1] for line in text.splitlines() if line.strip()]


def en_ranked(log: Log, excluded: dict[str, str]) -> list[str]:
    import wordfreq

    words = eff_words()
    log("en", "EFF large wordlist (diceware/wordlists/wordlist_en_eff.txt)", len(words))
    words = [w for w in words if w.isascii() and w.isalpha() and w.islower()]
    log("en", "lowercase a-z only", len(words))
    words = [w for w in words if EN_MIN_LEN <= len(w) <= EN_MAX_LEN]
    log("en", f"{EN_MIN_LEN}-{EN_MAX_LEN} letters", len(words))
    words = [w for w in words if w not in excluded]
    log("en", "not in excluded.txt (hand review)", len(words))
    # Most frequent first (wordfreq English), so the list prefers familiar words.
    words.sort(key=lambda w: (-wordfreq.zipf_frequency(w, "en", wordlist="large"), w))
    words = greedy(words, lambda w: w, EN_PREFIX)
    log("en", f"greedy: unique first {EN_PREFIX} letters, none prefix of another", len(words))
    return words


def build(quiet: bool = False) -> dict[str, list[str]]:
    log = Log(quiet)
    excluded = read_excluded()
    log("--", "excluded.txt entries", len(excluded))
    out = {}
    for lang, ranked in (("fa", fa_ranked), ("en", en_ranked)):
        words = ranked(log, excluded)
        if len(words) < SIZE:
            raise SystemExit(f"{lang}: only {len(words)} words survive the filters, need {SIZE}")
        out[lang] = words
        log(lang, f"first {SIZE} kept (most frequent)", SIZE)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare with the committed lists")
    parser.add_argument(
        "--dump", choices=["fa", "en"], help="print ranked survivors, most frequent first"
    )
    parser.add_argument("-n", type=int, default=SIZE, help="how many to --dump")
    args = parser.parse_args(argv)
    lists = build(quiet=bool(args.dump))
    if args.dump:
        print("\n".join(lists[args.dump][: args.n]))
        return 0
    status = 0
    for lang, ranked in lists.items():
        text = "\n".join(sorted(ranked[:SIZE])) + "\n"
        path = HERE / f"{lang}.txt"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"{path.name} differs from a fresh build", file=sys.stderr)
                status = 1
        else:
            path.write_text(text, encoding="utf-8")
    counts = Counter(read_excluded().values())
    if not args.check:
        summary = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        print(f"excluded by reason: {summary}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
