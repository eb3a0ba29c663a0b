"""Names across Persian and Latin script and their common spellings.

Works on decrypted text in memory only, while a reviewer's session is unlocked: nothing
computed here is stored, logged or kept beyond one request (a `Matcher` remembers the keys
of the words it has seen for as long as the caller holds it, and no longer).

Two steps. `fold` puts a text in one form per script: Persian and Arabic-Indic digits,
Arabic ي ك ى ة as Persian ی ک ی ه, hamza seats (أ إ ؤ ئ) as their bare letters, diacritics
and accents dropped, zero-width non-joiners, tatweel and direction marks removed, case folded.

Then each word becomes a set of *keys* in one alphabet: what both scripts write. Persian
writes consonants and three long vowels (ا, و, ی) but no short vowel; Latin writes every
vowel but cannot say which is long. A key is lower-case consonants (transliterated from
Persian by `anyascii`, with the few Persian readings it does not know below), plus the marks
A (ا, long a), U (و: u, o, ou, v, w) and I (ی: i, ee, ei, y). A Latin vowel that may be
short (a, o, u) gives one key with its mark and one without, so "Muhammad" and "Mohammad"
both have the key "mhmd" that "محمد" has, while "Mahmoud" (ou is always و) does not. Two
words are the same name when a key of one is within `THRESHOLD` of a key of the other by
`rapidfuzz`'s normalised Indel similarity: at 90, one letter more or less only in keys of
five letters or longer, so "Ahmadi"/"Ahmadian" (hmdI/hmdIn) and "Hosseini"/"Hassani"
(hsInI/hsnI) stay apart.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii
from rapidfuzz import fuzz

from intake.dates import normalise_digits, normalise_letters

THRESHOLD = 90
# A bound on the keys of one word (2 for each Latin a, o or u). Past it, which only a very
# long compound reaches, its first vowels are read short only; the key with every vowel
# short, which near misses are measured on, is always kept.
MAX_KEYS = 256

# One pass for what `fold` maps letter by letter: digits and Arabic letter forms as the date
# reader folds them, ZWNJ, ZWJ, direction marks and tatweel removed, Arabic ae (left by
# decomposing ۀ) as ه.
_ONE_BY_ONE = str.maketrans(
    {ch: normalise_letters(normalise_digits(ch)) for ch in "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يىكة"}
    | dict.fromkeys("\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\u0640", "")
    | {"ە": "ه"})
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʿʾ`´"))
# Combining marks: Latin accents, Arabic harakat, hamza above/below, superscript alef, Quranic
# marks. A regular expression, because search folds every case's whole text.
_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")

# What anyascii cannot know, because it reads Arabic letters as Arabic and drops what Latin
# spellings of Persian names do not write: Persian reads ض as z (Rezaei, not Redaei); ا و ی
# are the long vowels; ع and ء are not written in Latin (Ali, Jafar, Saeed).
_PERSIAN_LETTERS = {"ض": "z", "ا": "A", "و": "U", "ی": "I", "ع": "", "ء": ""}
# Digraphs for one sound, the same in both scripts (anyascii writes خ as kh, ث as th...).
# Latin writes ژ as j as often as zh (Bijan, Manijeh), and ج as dj in French (Madjid).
_SOUNDS = {"kh": "X", "gh": "q", "sh": "S", "ch": "C", "zh": "j", "dj": "j", "th": "s", "dh": "z",
           "ph": "f", "c": "k", "x": "X", "w": "U", "v": "U", "y": "I", "i": "I",
           "ou": "U", "oo": "U", "ee": "I", "e": ""}
# The Arabic article in compound names, which Latin spells by sound: عبدال (Abdol-, Abdul-),
# الله (-ollah, -ullah: its long a is not written in Persian) and الدین (-eddin, -oddin,
# -aldin: the l is silent before d).
_PERSIAN_PIECES = re.compile("الله|الدین|عبدال(?!له)|.")
_ARTICLE = {"الله": ("lA",), "الدین": ("dIn", "ldIn"), "عبدال": ("bdl",)}
_LATIN_PIECES = re.compile("kh|gh|sh|ch|zh|dj|ph|ou|oo|ee|[a-z0-9]")
_DOUBLES = re.compile(r"(.)\1+")


def fold(text: str) -> str:
    """Fold digits, Arabic letter forms, hamza seats, diacritics, ZWNJ, tatweel and case."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text or ""))
    return text.translate(_ONE_BY_ONE).casefold()


def words(name: str) -> list[str]:
    """Split a name into folded words (apostrophes dropped, hyphens and spaces split)."""
    return re.findall(r"[^\W_]+", fold(name).translate(_APOSTROPHES))


def _persian_pieces(word: str) -> list[tuple[str, ...]]:
    """Read a folded Persian word as pieces, each with the ways Latin may write it."""
    found = _PERSIAN_PIECES.findall(word)
    if len(found) > 1 and found[-1] == "ه":
        found[-1] = ""  # a final ه is most often the vowel e (فاطمه Fatemeh, زاده Zadeh)
    pieces: list[tuple[str, ...]] = []
    for position, piece in enumerate(found):
        if piece in _ARTICLE:
            pieces.append(_ARTICLE[piece])
        elif piece == "ا" and position == 0:
            pieces.append(("",))  # a word-initial alef only carries the vowel after it
        elif piece in _PERSIAN_LETTERS:
            pieces.append((_PERSIAN_LETTERS[piece],))
        else:
            sound = anyascii(piece).lower()
            pieces.append((_SOUNDS.get(sound, sound if sound.isalnum() else ""),))
    return pieces


def _latin_pieces(word: str) -> list[tuple[str, ...]]:
    """Read a folded Latin word as pieces, each with the ways Persian may write it."""
    found = _LATIN_PIECES.findall(anyascii(word).lower())
    if len(found) > 1 and found[-1] == "h" and found[-2] in ("a", "e"):
        found.pop()  # -eh, -ah: a final vowel Persian writes ه (Fatemeh, Zadeh, Abdollah)
    pieces: list[tuple[str, ...]] = []
    for position, piece in enumerate(found):
        if piece == "a":
            # a may be short (unwritten) or long (ا); a final a may be a final ی (Morteza).
            last = position == len(found) - 1 and position > 0
            pieces.append(("", "A", "I") if last else ("", "A"))
        elif piece in ("o", "u"):
            pieces.append(("", "U"))  # short o/u (Hossein, Muhammad) or long و (Musavi)
        elif piece == "i" and position == 0:
            pieces.append(("", "I"))  # an initial i may be the vowel of an alef (Ismail)
        else:
            pieces.append((_SOUNDS.get(piece, piece),))
    return pieces


def keys(word: str) -> frozenset[str]:
    """Return the keys of one folded word: the ways both scripts may write it."""
    pieces = _persian_pieces(word) if _ARABIC_SCRIPT.search(word) else _latin_pieces(word)
    spellings = itertools.islice(itertools.product(*pieces), MAX_KEYS)
    return frozenset(key for key in (_DOUBLES.sub(r"\1", "".join(s)) for s in spellings) if key)


def key_similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """Return 0-100: the best similarity between a key of one word and a key of the other."""
    if not first or not second:
        return 0.0
    if first & second:
        return 100.0
    # Near misses are measured between the shortest keys only: the longer ones carry vowel
    # marks that would let one different consonant pass (Ahmadi/Ahmadian as AhmAdI/AhmAdIn).
    return max(fuzz.ratio(a, b) for a in _shortest(first) for b in _shortest(second))


def _shortest(found: frozenset[str]) -> list[str]:
    """Return the keys with the fewest letters."""
    least = min(map(len, found))
    return [key for key in found if len(key) == least]


@dataclass(frozen=True)
class Match:
    """How the words of two names pair up: `matched` pairs out of `first` and `second` words."""

    matched: int
    first: int
    second: int

    @property
    def same(self) -> bool:
        """Whether every word of each name has its match in the other."""
        return 0 < self.matched == self.first == self.second

    @property
    def overlap(self) -> float:
        """Return the share of all words that matched (1.0 for the same name)."""
        union = self.first + self.second - self.matched
        return self.matched / union if union else 0.0


class Matcher:
    """Compare names, remembering each word's keys while the caller holds this object.

    Keys are derived from decrypted names: make one per request, never a module-wide cache.
    """

    def __init__(self) -> None:
        self._keys: dict[str, frozenset[str]] = {}
        self._names: dict[str, list[frozenset[str]]] = {}

    def keys(self, word: str) -> frozenset[str]:
        """Return the keys of a folded word, computing them once."""
        found = self._keys.get(word)
        if found is None:
            found = self._keys[word] = keys(word)
        return found

    def compare(self, first: str, second: str) -> Match:
        """Pair the words of two names, in any order, allowing one compound split in two."""
        mine, theirs = words(first), words(second)
        best = self._pair(mine, theirs)
        if best.same or len(mine) == len(theirs):
            return best
        longer, shorter = (mine, theirs) if len(mine) > len(theirs) else (theirs, mine)
        for at in range(len(longer) - 1):
            # "Mohammad Reza" / "محمدرضا": try the longer name with two neighbours joined.
            joined = [*longer[:at], longer[at] + longer[at + 1], *longer[at + 2:]]
            if (found := self._pair(joined, shorter)).same:
                return found
        return best

    def _pair(self, mine: list[str], theirs: list[str]) -> Match:
        """Match words greedily, most similar pairs first, each word at most once."""
        scored = sorted(((self.similarity(a, b), i, j) for i, a in enumerate(mine)
                         for j, b in enumerate(theirs)), reverse=True)
        used_mine: set[int] = set()
        used_theirs: set[int] = set()
        for points, i, j in scored:
            if points >= THRESHOLD and i not in used_mine and j not in used_theirs:
                used_mine.add(i)
                used_theirs.add(j)
        return Match(len(used_mine), len(mine), len(theirs))

    def similarity(self, first_word: str, second_word: str) -> float:
        """Return 0-100: how alike two folded words are as names."""
        return key_similarity(self.keys(first_word), self.keys(second_word))

    def finds(self, query_word: str, name: str) -> bool:
        """Whether a folded search word names one of the words of `name`, or begins one."""
        wanted = self.keys(query_word) if any(ch.isalpha() for ch in query_word) else None
        if not wanted:
            return False  # numbers and punctuation are only ever matched as typed
        # A key of three letters or more that begins a name's key: as the typed word "ahmad"
        # is found in "ahmadian", the name Ahmad begins احمدیان.
        beginnings = tuple(key for key in wanted if len(key) >= 3)
        if name not in self._names:
            self._names[name] = [self.keys(word) for word in words(name)]
        for found in self._names[name]:
            if key_similarity(wanted, found) >= THRESHOLD or any(
                    other.startswith(beginnings) for other in found):
                return True
        return False


def compare(first: str, second: str) -> Match:
    """Pair the words of two names (see `Matcher.compare`)."""
    return Matcher().compare(first, second)


def same_name(first: str, second: str) -> bool:
    """Whether two names are the same across script and spelling."""
    return compare(first, second).same


def similarity(first: str, second: str) -> float:
    """Return 0-100: the share of the two names' words that are the same name."""
    return 100 * compare(first, second).overlap
