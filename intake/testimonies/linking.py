"""Suggesting that two testimonies name the same person.

Works on decrypted answers only, while a reviewer's session is unlocked;
nothing derived from names is stored. Names are compared word by word across
Persian and Latin script and their common spellings (see
`intake.testimonies.names`): "احمدی" and "Ahmadi", "Mohammad" and "Muhammad",
"Rezaei Ali" and "علی رضایی" are the same name; "Ahmadi" and "Ahmadian" are not.
"""

from __future__ import annotations

from typing import Any

from intake.dates import DateAnswer
from intake.testimonies import names

DATE_FIELDS = ("birth_date", "arrest_date", "death_date")
THRESHOLD = 3


def fold(text: str) -> str:
    """Fold a name for comparison within one script."""
    return names.fold(text)


def person_names(answers: dict[str, Any]) -> str:
    """Return the person's name and other names as one text."""
    return " ".join(str(answers.get(k) or "") for k in ("name", "other_names"))


def _overlap(first: Any, second: Any) -> bool:
    if not isinstance(first, dict) or not isinstance(second, dict):
        return False
    a, b = DateAnswer.from_dict(first), DateAnswer.from_dict(second)
    if None in (a.earliest, a.latest, b.earliest, b.latest):
        return False
    return bool(a.earliest <= b.latest and b.earliest <= a.latest)  # type: ignore[operator]


def score(first: dict[str, Any], second: dict[str, Any],
          matcher: names.Matcher | None = None) -> tuple[int, list[str]]:
    """Score how likely two testimonies are about one person, with the reasons."""
    matcher = matcher or names.Matcher()
    points, reasons = 0, []
    match = matcher.compare(person_names(first), person_names(second))
    if match.same:
        points, reasons = 3, ["name"]
    elif match.overlap >= 0.5:
        points, reasons = 2, ["similar name"]
    fathers = str(first.get("fathers_name") or ""), str(second.get("fathers_name") or "")
    if all(fathers) and matcher.compare(*fathers).same:
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
    found, matcher = [], names.Matcher()  # one request's word keys, dropped on return
    for other_id, answers in others:
        points, reasons = score(case, answers, matcher)
        if points >= THRESHOLD and any(r in reasons for r in ("name", "similar name")):
            found.append((other_id, points, reasons))
    return sorted(found, key=lambda item: -item[1])
