"""Forms for reviewers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from intake.web.testimony_form import TestimonyForm, choices

STATUSES = choices(
    ("new", _l("New")), ("in_triage", _l("In triage")),
    ("awaiting_family", _l("Awaiting family")), ("corroborated", _l("Corroborated")),
    ("linked", _l("Linked")), ("referred", _l("Referred")), ("closed", _l("Closed")),
    ("safety_hold", _l("Safety hold")), ("rejected", _l("Rejected")))

# What a family reads beside "Status" when it returns with its code; no reviewer's words.
FAMILY_STATUSES = choices(
    ("received", _l("Received, not yet reviewed")), ("reviewing", _l("Being reviewed")),
    ("need_info", _l("We would like to know more: please read our reply")),
    ("referred", _l("Passed on, as you allowed")), ("closed", _l("Our work on it has ended")))

VIOLATION = choices(("", _l("Not assessed")), ("confirmed", _l("Confirmed")),
                    ("likely", _l("Likely")), ("possible", _l("Possible")),
                    ("unlikely", _l("Unlikely")), ("unknown", _l("Unknown")))
RELIABILITY = choices(("", _l("Not assessed")), ("reliable", _l("Reliable")),
                      ("usually_reliable", _l("Usually reliable")),
                      ("not_usually_reliable", _l("Not usually reliable")),
                      ("unknown", _l("Cannot be judged")))
CONNECTION = choices(("", _l("Not assessed")), ("witness", _l("Direct witness")),
                     ("family", _l("Close family")), ("indirect", _l("Heard from others")),
                     ("unknown", _l("Unknown")))
ASSESSMENT_FIELDS = ("violation", "reliability", "connection")


class LoginForm(FlaskForm):
    """Name, passphrase and the authenticator code."""

    name = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    passphrase = PasswordField(_l("Passphrase"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Authenticator code"), validators=[DataRequired(), Length(max=12)])


class TriageForm(FlaskForm):
    """Status, priority, assignee and labels of a case."""

    status = SelectField(_l("Status"), choices=STATUSES)
    family_status = SelectField(_l("What the family sees with its code"),
                                choices=FAMILY_STATUSES)
    priority = IntegerField(_l("Priority (0 = none, 3 = urgent)"), default=0,
                            validators=[Optional(), NumberRange(0, 3)])
    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=True)
    labels = StringField(_l("Labels, separated by commas"), validators=[Length(max=1000)])
    violation = SelectField(_l("Violation"), choices=VIOLATION)
    reliability = SelectField(_l("Source reliability"), choices=RELIABILITY)
    connection = SelectField(_l("Source connection"), choices=CONNECTION)


class NoteForm(FlaskForm):
    """A note only reviewers see."""

    text = TextAreaField(_l("Note for reviewers"), validators=[DataRequired(),
                                                               Length(max=20_000)])


class ExportForm(FlaskForm):
    """What an evidence bundle is for, and reasons to go past the family's consent."""

    purpose = SelectField(_l("For"), choices=choices(
        ("internal", _l("Internal documentation by the organisation")),
        ("anonymised", _l("Reports that do not name the family")),
        ("un", _l("UN mechanisms")), ("courts", _l("Courts and prosecutors")),
        ("publish", _l("Publication"))))
    contact_reason = TextAreaField(
        _l("Why include the submitter's contact details (leave empty to leave them out)"),
        validators=[Optional(), Length(max=1000)])
    consent_reason = TextAreaField(
        _l("Why export although the family's consent does not cover this use (leave empty "
           "if it does)"), validators=[Optional(), Length(max=1000)])


class RecordForm(TestimonyForm):
    """A testimony a reviewer took down by phone, in person or from paper."""

    channel = SelectField(_l("How the testimony was given"), choices=choices(
        ("", _l("Choose")), ("phone", _l("By phone")), ("in_person", _l("In person")),
        ("paper", _l("On paper"))), validators=[DataRequired(_l("Please choose one."))])
    taken_on = StringField(_l("The day it was given (YYYY-MM-DD)"),
                           validators=[DataRequired(_l("Please write the day."))])

    def validate_taken_on(self, field: StringField) -> None:
        """A day in ISO form, not after today."""
        try:
            day = dt.date.fromisoformat(field.data or "")
        except ValueError:
            day = None
        if day is None or day > dt.datetime.now(dt.UTC).date():
            raise ValidationError(_l("Write the day as YYYY-MM-DD, not after today."))

    def answers(self) -> dict[str, Any]:
        """Return the family's answers, without this form's own fields."""
        found = super().answers()
        for name in ("channel", "taken_on"):
            found.pop(name, None)
        return found


class ReplyForm(FlaskForm):
    """A reply the family reads with its follow-up code."""

    text = TextAreaField(_l("Reply to the family"), validators=[DataRequired(),
                                                                Length(max=20_000)])


class CloseCodeForm(FlaskForm):
    """Shut the family's follow-up code for good, confirmed."""

    confirm = BooleanField(_l("I understand: this code stops working for good, and the family "
                              "will need a new one"), validators=[DataRequired()])


class PassphraseForm(FlaskForm):
    """Changing one's own passphrase."""

    current = PasswordField(_l("Current passphrase"), validators=[DataRequired(),
                                                                  Length(max=1024)])
    new = PasswordField(_l("New passphrase"), validators=[DataRequired(),
                                                          Length(min=12, max=1024)])
    confirm = PasswordField(_l("The same passphrase again"), validators=[
        EqualTo("new", _l("The two passphrases differ."))])


class BulkForm(FlaskForm):
    """One action on the cases ticked in the inbox; the button pressed names the action."""

    case = SelectMultipleField(choices=[], validate_choice=False,
                               validators=[DataRequired()])
    action = SelectField(choices=choices(("assign", "assign"), ("status", "status"),
                                         ("label", "label")))
    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=True)
    status = SelectField(_l("Set the status to"), choices=STATUSES)
    label = StringField(_l("Add the label"), validators=[Length(max=200)])

    def validate_case(self, field: SelectMultipleField) -> None:
        """Take case ids only: 32 lower-case hex digits each."""
        if not all(len(v) == 32 and all(c in "0123456789abcdef" for c in v)
                   for v in field.data or []):
            raise ValidationError("not a case id")

    def validate_label(self, field: StringField) -> None:
        """Need a label when the action is to add one."""
        if self.action.data == "label" and not (field.data or "").strip():
            raise ValidationError("no label")


class SaveFilterForm(FlaskForm):
    """Only the CSRF token: what is saved comes from the inbox's own query string."""
