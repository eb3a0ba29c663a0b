"""Suggested links between testimonies about the same person."""

from __future__ import annotations

import pytest

from intake.dates import parse_date
from intake.testimonies.linking import fold, score, suggestions


def person(name: str, father: str = "", death: str = "") -> dict[str, object]:
    answers: dict[str, object] = {"name": name, "fathers_name": father}
    if death:
        answers["death_date"] = parse_date(death, "solar_hijri", "month").to_dict()
    return answers


@pytest.mark.parametrize(("first", "second"), [
    ("علی رضایی", "علي رضايي"), ("علی رضایی", "علی  رضایی"), ("مهدی‌زاده", "مهدیزاده"),
    ("Ali Rezaei", "ali rezaei"), ("José Pérez", "Jose Perez"), ("۱۳۶۷", "1367"),
])
def test_names_fold_across_letter_forms_spacing_and_accents(first: str, second: str) -> None:
    assert " ".join(fold(first).split()) == " ".join(fold(second).split())


def test_same_name_and_father_is_suggested_with_reasons() -> None:
    case = person("علی رضایی", "حسن", "مرداد ۱۳۶۷")
    others = [("b", person("علي رضايي", "حسن", "مرداد ۱۳۶۷")), ("c", person("مریم احمدی")),
              ("d", person("علی کریمی", "حسن"))]
    found = suggestions(case, others)
    assert [item[0] for item in found] == ["b"]
    assert set(found[0][2]) == {"name", "father's name", "death_date"}


def test_a_shared_father_alone_is_not_enough() -> None:
    assert suggestions(person("علی رضایی", "حسن"), [("x", person("مریم کریمی", "حسن"))]) == []


def test_a_partial_name_with_matching_details_is_suggested() -> None:
    points, reasons = score(person("علی اکبر رضایی", "حسن"), person("علی رضایی", "حسن"))
    assert points >= 3
    assert "similar name" in reasons
