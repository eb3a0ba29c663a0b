"""Forms for the follow-up pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional


class CodeForm(FlaskForm):
    """The follow-up code, typed or pasted."""

    # No length limit: a code of any length gets the same answer as any wrong code.
    code = TextAreaField(_l("Your follow-up code"), validators=[
        DataRequired(_l("Please type your follow-up code."))])


class AddForm(FlaskForm):
    """More information or files for the same case."""

    code = HiddenField(validators=[DataRequired()])
    form_nonce = HiddenField()
    # The key of this form's pending files (see intake.testimonies.pending); never stored.
    files_key = HiddenField()
    # Buttons: "send", or "language" (keep everything and show the page in another language).
    action = HiddenField()
    # A button per pending file: remove that file and show the form again.
    remove_file = HiddenField()
    addition = TextAreaField(_l("What would you like to add?"),
                             validators=[Optional(), Length(max=100_000)])
    attachments = MultipleFileField(_l("Files"))
    keep_originals = BooleanField(_l("Keep the original files unchanged (location and device "
                                     "details in photos are kept too)"))


class ShareForm(FlaskForm):
    """The further desks a family asks to be given its case, with its code."""

    code = HiddenField(validators=[DataRequired()])
    # Checked by the domain (share_requests.ask), which says in words what is wrong.
    desks = SelectMultipleField(_l("Organisations"), validate_choice=False)
