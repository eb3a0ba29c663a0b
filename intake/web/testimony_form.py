"""The testimony form: few required fields, every date with its calendar and precision."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations
from wtforms import (
    BooleanField,
    Field,
    FileField,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from intake.dates import CALENDARS, PRECISIONS, DateAnswer, read_date
from intake.testimonies.codes import parse_code

SHORT, MEDIUM, LONG = 300, 5_000, 100_000


def choices(*pairs: tuple[str, Any]) -> list[SelectChoice]:
    """Build select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


CALENDAR_CHOICES = choices(
    ("solar_hijri", _l("Solar Hijri (e.g. 1 Mordad 1367)")),
    ("gregorian", _l("Gregorian (e.g. 23 July 1988)")),
    ("lunar_hijri", _l("Lunar Hijri (e.g. 1 Muharram 1409)")))
PRECISION_CHOICES = choices(
    ("exact", _l("Exact day")), ("month", _l("Month only")), ("year", _l("Year only")),
    ("range", _l("Between two dates")), ("approximate", _l("Approximately")),
    ("unknown", _l("I don't know")))
YES_NO = choices(("", _l("Choose")), ("yes", _l("Yes")), ("no", _l("No")),
                 ("unknown", _l("I don't know")))
# Examples in the chosen calendar, shown in the date box and in the notes below.
DATE_EXAMPLES = {
    "solar_hijri": _l("e.g. 1 Mordad 1367, 1367/5/1 or early Shahrivar 1367"),
    "gregorian": _l("e.g. 23 July 1988, 1988-07-23 or summer 1988"),
    "lunar_hijri": _l("e.g. 1 Muharram 1409 or 1409/1/1"),
}
# A date that cannot be read never blocks sending: it is kept as typed, marked for
# reviewers, and these notes say so if the form comes back for another reason.
DATE_NOTES = {
    "unreadable": _l("We kept this date as you wrote it, but could not read it as a date; "
                     "reviewers will see it as written. If you wish, write it like this: "
                     "%(example)s."),
    "no_such_day": _l("We kept this date as you wrote it, but that month has no such day; "
                      "reviewers will see it as written. Correct it if you wish "
                      "(%(example)s)."),
    "out_of_range": _l("We kept this date as you wrote it, but the year looks unlikely for "
                       "that calendar; reviewers will see it as written. Correct it if you "
                       "wish (%(example)s)."),
    "range_backwards": _l("We kept this date as you wrote it, but the second date comes "
                          "before the first; reviewers will see it as written."),
    "no_year": _l("We kept this date as you wrote it, but it has no year; add the year if "
                  "you know it (%(example)s)."),
}


def text(label: Any, limit: int = SHORT) -> StringField:
    """An optional single-line answer."""
    return StringField(label, validators=[Optional(), Length(max=limit)])


def long_text(label: Any, limit: int = MEDIUM) -> TextAreaField:
    """An optional answer in the family's own words."""
    return TextAreaField(label, validators=[Optional(), Length(max=limit)])


class DateAnswerForm(Form):
    """A date as remembered: the text, its calendar and how precise it is."""

    class Meta:
        """A subform has no Flask-WTF meta of its own; give it the family's language."""

        def get_translations(self, form: Form) -> Any:
            """Return the translations of WTForms' own messages for this request."""
            return translations

    # No length limit: a date must never block sending (the request size bounds it).
    text = StringField(_l("Date"), validators=[Optional()])
    calendar = SelectField(_l("Calendar"), choices=CALENDAR_CHOICES, default="solar_hijri")
    precision = SelectField(_l("How precise"), choices=PRECISION_CHOICES, default="exact")

    def validate_text(self, field: Field) -> None:
        """Read the date and keep what it means; what cannot be read gets a note, never an error."""
        self.answer: DateAnswer | None = None
        self.note: str | None = None
        # An unknown calendar or precision is reported by its own field; parse nothing.
        if not (self.calendar.data in CALENDARS and self.precision.data in PRECISIONS):
            return
        self.answer = read_date(field.data or "", self.calendar.data, self.precision.data)
        if self.answer.problem:
            self.note = str(DATE_NOTES[self.answer.problem] % {"example": self.example()})

    def example(self) -> str:
        """Examples of dates in the calendar chosen (Solar Hijri until one is chosen)."""
        calendar = self.calendar.data if self.calendar.data in CALENDARS else "solar_hijri"
        return str(DATE_EXAMPLES[calendar])


def date(label: Any) -> FormField:
    """An optional date answer."""
    return FormField(DateAnswerForm, label=label)


class CodeForm(FlaskForm):
    """The follow-up code made before the testimony, carried from page to page."""

    form_nonce = HiddenField()
    code = HiddenField()
    written_down = BooleanField(_l("I have written down these words, in this order"))
    # The "Continue without a code" button.
    no_code = HiddenField()
    # Which language button was pressed (the language itself is read from the URL).
    language = HiddenField()


class TestimonyForm(FlaskForm):
    """Everything a family may tell; only consent, name, relationship and testimony are required."""

    form_nonce = HiddenField()
    # The follow-up code made on the code page, or empty when the family chose none.
    code = HiddenField()
    # The key of this form's pending files (see intake.testimonies.pending); never stored.
    files_key = HiddenField()
    # Buttons: "send", or "language" (keep everything and re-render in another language).
    action = HiddenField()
    # A button per pending file: remove that file and re-render.
    remove_file = HiddenField()

    # The desks (organisations) that may read this testimony; the view sets the choices to the
    # open desks. With one desk the form shows no choice and sends none: that desk is meant.
    desks = SelectMultipleField(_l("Which organisations may read your testimony"), choices=[],
                                validate_choice=False)

    consent_internal = BooleanField(_l("Internal documentation by the organisation"))
    consent_anonymised = BooleanField(_l("Reports that do not name me"))
    consent_un = BooleanField(_l("UN mechanisms, such as the Working Group on Enforced or "
                                 "Involuntary Disappearances"))
    consent_courts = BooleanField(_l("Courts and prosecutors"))
    consent_publish = BooleanField(_l("Publishing the name and story of my relative"))
    # Asked only where there are several desks: may a chosen desk share it with another.
    consent_coalition = BooleanField(_l("Sharing it with other organisations of this "
                                        "coalition, if one I chose thinks another can help"))

    # No Optional(): it would stop the chain before validate_name runs.
    name = StringField(_l("Their name"), validators=[Length(max=SHORT)])
    name_unknown = BooleanField(_l("I do not know their name"))
    relationship = SelectField(_l("Your relationship to them"), choices=choices(
        ("", _l("Choose")), ("mother", _l("Mother")), ("father", _l("Father")),
        ("sister", _l("Sister")), ("brother", _l("Brother")), ("daughter", _l("Daughter")),
        ("son", _l("Son")), ("wife", _l("Wife")), ("husband", _l("Husband")),
        ("other_relative", _l("Other relative")), ("friend", _l("Friend")),
        ("other", _l("Other"))), validators=[DataRequired(_l("Please choose one."))])
    relationship_other = text(_l("If other, in your words"))
    other_names = text(_l("Other names they were known by"))
    fathers_name = text(_l("Father's name"))
    sex = SelectField(_l("Sex"), choices=choices(("", _l("Choose")), ("female", _l("Female")),
                                                 ("male", _l("Male")), ("other", _l("Other"))),
                      validators=[Optional()])
    birth_date = date(_l("Date of birth"))
    age = text(_l("Or their age at arrest"), 20)
    birthplace = text(_l("Place of birth"))
    occupation = text(_l("Occupation"))
    affiliation_labelled = text(_l("Political affiliation, as the authorities labelled it"))
    affiliation_held = text(_l("Political affiliation, as they themselves held it"))
    photo = FileField(_l("A photo of them"))

    arrest_date = date(_l("Date of arrest"))
    arrest_place = text(_l("Place of arrest"))
    arrest_forces = text(_l("Forces believed responsible"))
    earlier_sentence = long_text(_l("Any earlier sentence"))
    prisons = long_text(_l("Prisons where they were held, with dates if you know them"))
    last_visit_date = date(_l("Last family visit"))

    told_how = long_text(_l("How the family was told"))
    told_date = date(_l("When the family was told"))
    belongings_returned = SelectField(_l("Were belongings or a will returned?"), choices=YES_NO,
                                      validators=[Optional()])
    belongings_details = long_text(_l("What was returned"))
    death_certificate = SelectField(_l("Was a death certificate issued?"), choices=YES_NO,
                                    validators=[Optional()])
    stated_cause = text(_l("Cause of death stated by the authorities"))
    death_date = date(_l("Date of death, as the family knows it"))
    burial_place = long_text(_l("Known or suspected burial place (describe it; no map "
                                "coordinates)"))

    authorities = long_text(_l("Authorities you approached, and their answers"))
    earlier_reports = long_text(_l("Earlier reports to the UN or to organisations"))
    reprisals = long_text(_l("Reprisals your family suffered"))

    testimony = TextAreaField(_l("Your testimony, in your own words"), validators=[
        DataRequired(_l("Please write your testimony, even briefly.")), Length(max=LONG)])

    attachments = MultipleFileField(_l("Photos, scans, audio or documents"))
    keep_originals = BooleanField(_l("Keep the original files unchanged (location and device "
                                     "details in photos are kept too)"))

    contact = long_text(_l("A safe way to reach you"), 1000)
    inside_country = SelectField(_l("Are you inside the country?"), choices=choices(
        ("", _l("Choose")), ("yes", _l("Yes")), ("no", _l("No")),
        ("prefer_not", _l("I prefer not to say"))), validators=[Optional()])

    CONSENTS = ("consent_internal", "consent_anonymised", "consent_un", "consent_courts",
                "consent_publish")
    DATES = ("birth_date", "arrest_date", "last_visit_date", "told_date", "death_date")

    def validate_consent_internal(self, field: Field) -> None:
        """At least one use of the testimony must be allowed."""
        if not any(getattr(self, name).data for name in self.CONSENTS):
            raise ValidationError(_l("Please choose at least one way we may use your "
                                     "testimony."))

    def validate_desks(self, field: Field) -> None:
        """At least one desk where there are several, and only desks this site has."""
        offered = {value for value, _label in field.choices}
        if any(value not in offered for value in field.data or []):
            raise ValidationError(_l("One of the organisations this form named is not on this "
                                     "site. Please choose again from the list."))
        if not field.data and len(offered) > 1:
            raise ValidationError(_l("Please choose at least one organisation that may read "
                                     "your testimony."))

    def chosen_desks(self) -> list[str]:
        """Return the desks chosen, in the order offered; the only one where there is one."""
        offered = [value for value, _label in self.desks.choices]
        if len(offered) == 1 and not self.desks.data:
            return offered
        return [value for value in offered if value in (self.desks.data or [])]

    def validate_code(self, field: Field) -> None:
        """A carried code must be one this server could have made."""
        if field.data and parse_code(field.data) is None:
            raise ValidationError(_l("This follow-up code was not made here. Go back to the "
                                     "start to get a new one, or send without a code."))

    def validate_name(self, field: Field) -> None:
        """A name, or the box saying it is unknown."""
        if not (field.data or "").strip() and not self.name_unknown.data:
            raise ValidationError(_l("Please write their name, or tick that you do not "
                                     "know it."))

    def answers(self) -> dict[str, Any]:
        """Return the answers as JSON-ready data; dates keep text, calendar and range."""
        skip = {"form_nonce", "csrf_token", "photo", "attachments", "keep_originals",
                "code", "files_key", "action", "remove_file", "desks"}
        if len(self.desks.choices) <= 1:
            skip.add("consent_coalition")  # not asked where there is only one desk
        answers: dict[str, Any] = {}
        for field in self:
            if field.name in skip:
                continue
            if field.name in self.DATES:
                answer = getattr(field.form, "answer", None)
                answers[field.name] = answer.to_dict() if answer else None
            else:
                answers[field.name] = field.data
        return answers
