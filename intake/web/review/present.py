"""Laying a decrypted case out by the sections of the form the family filled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from intake.dates import DateAnswer, format_gregorian_range
from intake.web.testimony_form import CALENDAR_CHOICES, PRECISION_CHOICES, TestimonyForm

SECTIONS: list[tuple[Any, list[str]]] = [
    (_l("Consent"), list(TestimonyForm.CONSENTS)),
    (_l("The person"), ["name", "name_unknown", "relationship", "relationship_other",
                        "other_names", "fathers_name", "sex", "birth_date", "age", "birthplace",
                        "occupation", "affiliation_labelled", "affiliation_held"]),
    (_l("Arrest and detention"), ["arrest_date", "arrest_place", "arrest_forces",
                                  "earlier_sentence", "prisons", "last_visit_date"]),
    (_l("What the family was told"), ["told_how", "told_date", "belongings_returned",
                                      "belongings_details", "death_certificate", "stated_cause",
                                      "death_date", "burial_place"]),
    (_l("What the family did"), ["authorities", "earlier_reports", "reprisals"]),
    (_l("Testimony"), ["testimony"]),
    (_l("About the person who wrote"), ["contact", "inside_country"]),
]
NOT_UNDERSTOOD = _l("date not understood, kept as written")
# The UN Working Group on Enforced or Involuntary Disappearances' minimum elements.
CHECKLIST = [
    (_l("Name of the person"), ("name",)),
    (_l("Date of arrest or disappearance"), ("arrest_date",)),
    (_l("Place of arrest or disappearance"), ("arrest_place",)),
    (_l("Forces believed responsible"), ("arrest_forces",)),
    (_l("Steps taken by the family"), ("authorities", "earlier_reports")),
    (_l("Consent to use the information"), tuple(TestimonyForm.CONSENTS)),
]


@dataclass(frozen=True)
class DateShown:
    """A date answer in parts, so a page can isolate what the family typed and keep the
    Gregorian range left-to-right; as text it reads as before (the export uses that)."""

    text: str
    calendar: Any
    precision: Any
    gregorian: str
    problem: bool

    def __str__(self) -> str:
        if self.problem:
            # Kept as the family typed it; the reader could not turn it into a range.
            return f"{self.text} ({self.calendar}; {NOT_UNDERSTOOD})"
        return f"{self.text} ({self.calendar}, {self.precision}) → {self.gregorian}"


def label_of(name: str) -> Any:
    """Return the form's label for an answer."""
    unbound = getattr(TestimonyForm, name, None)
    return unbound.kwargs.get("label") or unbound.args[0] if unbound else name


def choice_label(choices: Any, value: str) -> Any:
    """Return the translated label of a select option, or the value if it is not one."""
    return next((choice.label for choice in choices or () if choice.value == value), value)


def shown(value: Any, name: str = "") -> str | DateShown | None:
    """Render one answer as text; dates in the calendar given and in Gregorian."""
    if isinstance(value, dict) and "calendar" in value:
        answer = DateAnswer.from_dict(value)
        if not answer.text:
            return None
        return DateShown(answer.text, choice_label(CALENDAR_CHOICES, answer.calendar),
                         choice_label(PRECISION_CHOICES, answer.precision),
                         "" if answer.problem else format_gregorian_range(answer),
                         bool(answer.problem))
    if value in (None, "", False):
        return None
    if value is True:
        return "✓"
    unbound = getattr(TestimonyForm, name, None)
    return str(choice_label(unbound.kwargs.get("choices") if unbound else None, str(value)))


def sections(answers: dict[str, Any]) -> list[tuple[Any, list[tuple[Any, str | DateShown]]]]:
    """Group the answers given into the form's sections, skipping blanks."""
    laid_out = []
    for title, names in SECTIONS:
        rows = [(label_of(n), text) for n in names if (text := shown(answers.get(n), n))]
        if rows:
            laid_out.append((title, rows))
    return laid_out


def checklist(answers: dict[str, Any]) -> list[tuple[Any, bool]]:
    """Say which of the minimum elements the testimony holds."""
    return [(title, any(shown(answers.get(n)) for n in names)) for title, names in CHECKLIST]
