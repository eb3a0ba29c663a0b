"""Follow-up codes: random words from a 2048-word list, 8 words (88 bits)."""

from __future__ import annotations

import functools
import secrets
import unicodedata
from pathlib import Path

WORDLISTS = Path(__file__).resolve().parents[1] / "wordlists"
CODE_WORDS = 8
# Longer than any code, however it was copied; a longer one is checked only this far.
MAX_CODE_CHARS = 400
_LETTER_VARIANTS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": "", "-": " ",
                                  "،": " ", ",": " ", ".": " "})


@functools.cache
def wordlist(language: str) -> tuple[str, ...]:
    """Return the word list for a language ("fa" or "en")."""
    words = (WORDLISTS / f"{language}.txt").read_text(encoding="utf-8").split()
    if len(words) != 2048 or len(set(words)) != 2048:
        raise RuntimeError(f"the {language} word list must hold 2048 distinct words")
    return tuple(words)


def new_code(language: str) -> str:
    """Make a fresh follow-up code in the family's language."""
    words = wordlist(language)
    return " ".join(secrets.choice(words) for _ in range(CODE_WORDS))


def parse_code(carried: str) -> str | None:
    """Return a carried code in normal form if it is one a server could have made, else None.

    A code comes back from the family's form, so it is untrusted: it must be
    exactly CODE_WORDS words, all from one word list.
    """
    if len(carried) > MAX_CODE_CHARS:
        return None
    code = normalise_code(carried)
    words = code.split()
    if len(words) != CODE_WORDS:
        return None
    for language in ("fa", "en"):
        if set(words) <= _normal_words(language):
            return code
    return None


@functools.cache
def _normal_words(language: str) -> frozenset[str]:
    """Return a word list as codes are compared: normalised like a typed code."""
    return frozenset(normalise_code(word) for word in wordlist(language))


def normalise_code(typed: str) -> str:
    """Forgive what people change when they copy a code by hand: case, spacing, letter forms."""
    text = unicodedata.normalize("NFC", typed).translate(_LETTER_VARIANTS).lower()
    return " ".join(text.split())
