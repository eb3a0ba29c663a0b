"""A date answer as stored: the text as typed, its calendar, precision and Gregorian range."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

CALENDARS = ("solar_hijri", "gregorian", "lunar_hijri")
PRECISIONS = ("exact", "month", "year", "range", "approximate", "unknown")
# Why a date was kept as typed without a range; the form shows a note, reviewers a mark.
PROBLEMS = ("unreadable", "no_such_day", "out_of_range", "range_backwards", "no_year")


class DateError(ValueError):
    """A date answer that cannot be read; `code` is a short machine key, str() a sentence."""

    code: str

    def __init__(self, code: str, message: str) -> None:
        """Keep the machine key beside the English message."""
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DateAnswer:
    """One date field as typed, with its calendar, precision and Gregorian range.

    `problem` is set (to one of PROBLEMS) when the text could not be understood: the
    text is kept, the precision is "unknown" and there is no range.
    """

    text: str
    calendar: str
    precision: str
    earliest: datetime.date | None
    latest: datetime.date | None
    problem: str | None = None

    def __post_init__(self) -> None:
        """Refuse answers whose parts contradict each other."""
        check_choice(self.calendar, CALENDARS, "calendar")
        check_choice(self.precision, PRECISIONS, "precision")
        if self.problem is not None:
            check_choice(self.problem, PROBLEMS, "problem")
            if self.precision != "unknown":
                raise ValueError("A date that was not understood has an unknown precision.")
        unknown = self.precision == "unknown"
        if (self.earliest is None) != unknown or (self.latest is None) != unknown:
            raise ValueError("Only an unknown date has no range, and it has none.")
        if self.earliest and self.latest and self.earliest > self.latest:
            raise ValueError("A date range cannot end before it starts.")

    def to_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready dictionary with ISO dates."""
        return {
            "text": self.text,
            "calendar": self.calendar,
            "precision": self.precision,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "latest": self.latest.isoformat() if self.latest else None,
            "problem": self.problem,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DateAnswer:
        """Rebuild an answer from to_dict output (answers stored before `problem` included)."""
        problem = data.get("problem")
        if problem is not None and not isinstance(problem, str):
            raise ValueError("Stored date answer field 'problem' is not text.")
        return cls(
            text=_str_field(data, "text"),
            calendar=_str_field(data, "calendar"),
            precision=_str_field(data, "precision"),
            earliest=_date_field(data, "earliest"),
            latest=_date_field(data, "latest"),
            problem=problem,
        )


def check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    """Raise ValueError (a programming error, not a DateError) for an unknown choice."""
    if value not in choices:
        raise ValueError(f"Unknown {what} {value!r}; expected one of {', '.join(choices)}.")


def _str_field(data: Mapping[str, object], key: str) -> str:
    """Read a required string from a stored answer."""
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"Stored date answer has no text field {key!r}.")
    return value


def _date_field(data: Mapping[str, object], key: str) -> datetime.date | None:
    """Read an optional ISO date from a stored answer."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"Stored date answer field {key!r} is not an ISO date.")
    return datetime.date.fromisoformat(value)


def format_gregorian_range(answer: DateAnswer) -> str:
    """Show the normalised range as ISO dates: one date, "a – b", or "" when unknown."""
    if answer.earliest is None or answer.latest is None:
        return ""
    if answer.earliest == answer.latest:
        return answer.earliest.isoformat()
    return f"{answer.earliest.isoformat()} – {answer.latest.isoformat()}"
