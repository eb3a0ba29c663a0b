"""Forms for admins and invitees."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, ValidationError

from intake.web.testimony_form import choices


class InviteForm(FlaskForm):
    """Who to invite, and as what."""

    name = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=choices(("reviewer", _l("Reviewer")),
                                                   ("admin", _l("Admin"))))


class EnrolForm(FlaskForm):
    """A new passphrase and the first authenticator code."""

    passphrase = PasswordField(_l("Choose a passphrase"), validators=[
        DataRequired(), Length(min=12, max=1024)])
    confirm = PasswordField(_l("The same passphrase again"), validators=[
        EqualTo("passphrase", _l("The two passphrases differ."))])
    code = StringField(_l("Authenticator code"), validators=[DataRequired(), Length(max=12)])


class ResetForm(FlaskForm):
    """The current passphrase and a code from the newly enrolled authenticator."""

    passphrase = PasswordField(_l("Your passphrase"), validators=[DataRequired(),
                                                                  Length(max=1024)])
    code = StringField(_l("Authenticator code"), validators=[DataRequired(), Length(max=12)])


class SettingsForm(FlaskForm):
    """The settings admins change at run time."""

    organisation_name = StringField(_l("Organisation name in English"),
                                    validators=[Length(max=200)])
    organisation_name_fa = StringField(_l("Organisation name in Persian"),
                                       validators=[Length(max=200)])
    upload_limit_mib = IntegerField(_l("Upload limit (MiB per submission)"),
                                    validators=[DataRequired(), NumberRange(1, 8192)])
    accepted_types = StringField(_l("Accepted file types (extensions, comma-separated; "
                                    "empty for any)"), validators=[Length(max=1000)])

    def validate_organisation_name(self, field: Field) -> None:
        """Ask for the name in at least one language; the other falls back to it."""
        if not ((field.data or "").strip() or (self.organisation_name_fa.data or "").strip()):
            raise ValidationError(_l("Write the organisation's name in at least one language."))


class ConfirmPassphraseForm(FlaskForm):
    """The admin's passphrase, asked again before a rotation."""

    passphrase = PasswordField(_l("Your passphrase"), validators=[DataRequired(),
                                                                  Length(max=1024)])
