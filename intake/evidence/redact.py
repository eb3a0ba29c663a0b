"""What a bundle may hold for a given use, by the family's consent.

A family ticked the uses it allows (internal documentation, anonymised
reports, UN mechanisms, courts, publication). An export names its use:

- if the family's consent does not cover it, the export is refused unless
  the exporting reviewer states why;
- the submitter's contact details (how to reach them, whether they are inside
  the country) are always left out unless the reviewer states why.

What was left out, and what was included against this rule with the
reviewer's reason, is written into the bundle (data/redactions.json and
bag-info.txt) and recorded in the audit log (the reason itself as an
encrypted note on the case: the audit log holds no one's words).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

# Each use an export may have, and the consent box that allows it.
PURPOSES = {"internal": "consent_internal", "anonymised": "consent_anonymised",
            "un": "consent_un", "courts": "consent_courts", "publish": "consent_publish"}
CONTACT_FIELDS = ("contact", "inside_country")
MAX_REASON = 1000
# What an override or a left-out part is called in the bundle (codes go in the audit log).
WHAT = {"consent": "use not covered by the family's consent",
        "contact": "the submitter's contact details"}


class ConsentRefused(Exception):
    """The family's consent does not cover this use and no reason was stated."""

    def __init__(self, purpose: str) -> None:
        super().__init__(f"the family's consent does not cover this use ({purpose}): state "
                         "why to export anyway")
        self.purpose = purpose


@dataclass(frozen=True)
class Choice:
    """The use an export is for, and the reviewer's reasons for going past the rules."""

    purpose: str = "internal"
    consent_reason: str = ""
    contact_reason: str = ""

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise ValueError(f"an export's use is one of {', '.join(PURPOSES)}")
        if max(len(self.consent_reason), len(self.contact_reason)) > MAX_REASON:
            raise ValueError(f"a reason is at most {MAX_REASON} characters")


@dataclass
class Redaction:
    """The record as the bundle holds it, and what was left out or included by a reason."""

    record: dict[str, Any]
    purpose: str
    left_out: list[str] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)

    def statement(self) -> dict[str, Any]:
        """Describe the redaction for data/redactions.json."""
        return {"purpose": self.purpose,
                "consent": {name: bool(self.record["answers"].get(box))
                            for name, box in PURPOSES.items()},
                "left_out": [WHAT[code] for code in self.left_out],
                "included_despite_the_rules": [
                    {"what": WHAT[code], "reason": reason}
                    for code, reason in self.overrides.items()]}

    def summary(self) -> str:
        """Say in one line what was left out (for bag-info.txt)."""
        parts = [f"{WHAT[code]} (left out)" for code in self.left_out]
        parts += [f"{WHAT[code]} (included for the exporter's stated reason)"
                  for code in self.overrides]
        return "; ".join(parts) or "nothing"

    def audit_detail(self) -> str:
        """Name the use and the overrides by code, never the reasons' words."""
        return ";".join([f"purpose:{self.purpose}", *(f"left-out:{c}" for c in self.left_out),
                         *(f"override:{c}" for c in self.overrides)])


def redact(record: dict[str, Any], choice: Choice) -> Redaction:
    """Apply the family's consent and the contact rule to a case record."""
    answers = record["answers"]
    result = Redaction(copy.deepcopy(record), choice.purpose)
    if not answers.get(PURPOSES[choice.purpose]):
        if not choice.consent_reason.strip():
            raise ConsentRefused(choice.purpose)
        result.overrides["consent"] = choice.consent_reason.strip()
    present = [name for name in CONTACT_FIELDS if answers.get(name)]
    if present and choice.contact_reason.strip():
        result.overrides["contact"] = choice.contact_reason.strip()
    elif present:
        for name in present:
            del result.record["answers"][name]
        result.left_out.append("contact")
    return result
