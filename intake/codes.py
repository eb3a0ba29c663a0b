"""Follow-up codes: random words from a 2048-word list, 8 words (88 bits)."""

from __future__ import annotations

import functools
import secrets
import unicodedata
from pathlib import Path

WORDLISTS = Path(__file__).resolve().parent / "wordlists"
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


def normalise_code(typed: str) -> str:
    """Forgive what people change when they copy a code by hand: case, spacing, letter forms."""
    text = unicodedata.normalize("NFC", typed).translate(_LETTER_VARIANTS).lower()
    return " ".join(text.split())
