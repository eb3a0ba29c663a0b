"""Suggesting that two testimonies name the same person.

Works on decrypted answers only, while a reviewer's session is unlocked;
nothing derived from names is stored. Names are compared after folding
Persian and Arabic letter forms, digits, zero-width non-joiners, diacritics
and case; Persian and Latin spellings of the same name are not matched to
each other.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from intake.dates import DateAnswer, normalise_digits, normalise_letters

DATE_FIELDS = ("birth_date", "arrest_date", "death_date")
THRESHOLD = 3


def fold(text: str) -> str:
    """Fold a name for comparison."""
    text = normalise_letters(normalise_digits(text or "")).replace("\u200c", "").casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_tokens(answers: dict[str, Any]) -> set[str]:
    """Return the folded words of a person's names."""
    names = " ".join(str(answers.get(k) or "") for k in ("name", "other_names"))
    return {token for token in fold(names).replace("-", " ").split() if len(token) > 1}


def _overlap(first: Any, second: Any) -> bool:
    if not isinstance(first, dict) or not isinstance(second, dict):
        return False
    a, b = DateAnswer.from_dict(first), DateAnswer.from_dict(second)
    if None in (a.earliest, a.latest, b.earliest, b.latest):
        return False
    return bool(a.earliest <= b.latest and b.earliest <= a.latest)  # type: ignore[operator]


def score(first: dict[str, Any], second: dict[str, Any]) -> tuple[int, list[str]]:
    """Score how likely two testimonies are about one person, with the reasons."""
    points, reasons = 0, []
    mine, theirs = name_tokens(first), name_tokens(second)
    if mine and theirs:
        shared = len(mine & theirs) / len(mine | theirs)
        if mine == theirs:
            points, reasons = 3, ["name"]
        elif shared >= 0.5:
            points, reasons = 2, ["similar name"]
    father = fold(str(first.get("fathers_name") or ""))
    if father and father == fold(str(second.get("fathers_name") or "")):
        points += 2
        reasons.append("father's name")
    for name in DATE_FIELDS:
        if _overlap(first.get(name), second.get(name)):
            points += 1
            reasons.append(name)
    return points, reasons


def suggestions(case: dict[str, Any], others: list[tuple[str, dict[str, Any]]]
                ) -> list[tuple[str, int, list[str]]]:
    """Return (case id, score, reasons) for the other cases likely about the same person."""
    found = []
    for other_id, answers in others:
        points, reasons = score(case, answers)
        if points >= THRESHOLD and any(r in reasons for r in ("name", "similar name")):
            found.append((other_id, points, reasons))
    return sorted(found, key=lambda item: -item[1])
