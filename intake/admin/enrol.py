"""The public side of invites: enrol a new account, or re-enrol a second factor."""

from __future__ import annotations

import time

import segno
from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from .. import audit, invites
from ..accounts import AccountError
from ..db import get_session
from . import enrol_bp
from .forms import EnrolForm, ResetForm


def qr_svg(uri: str) -> Markup:
    """Render an otpauth:// URI as an inline SVG QR code (generated here, no user markup)."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4))  # noqa: S704


@enrol_bp.route("/<token>", methods=["GET", "POST"])
def enrol(token: str) -> ResponseReturnValue:
    """Choose a passphrase and enrol TOTP from a one-time link."""
    db, now = get_session(), int(time.time())
    invite = invites.find(db, token, now)
    if invite is None:
        return render_template("admin/invalid_link.html"), 404
    form = EnrolForm() if invite.purpose == "enrol" else ResetForm()
    problem = None
    if form.validate_on_submit():
        try:
            user = (invites.enrol(db, current_app.extensions["intake.desk"].keyring, invite,
                                  form.passphrase.data, form.code.data,
                                  current_app.extensions["intake.settings"].kdf_profile, now)
                    if invite.purpose == "enrol" else
                    invites.reset_totp(db, current_app.extensions["intake.desk"].keyring,
                                       invite, form.passphrase.data, form.code.data, now))
        except AccountError as exc:
            db.rollback()
            problem = str(exc)
        else:
            audit.record(db, user.id, invite.purpose, user.id)
            db.commit()
            return render_template("admin/enrolled.html", user=user)
    uri = invites.totp_uri(invite, current_app.extensions["intake.settings"].organisation_name)
    return render_template("admin/enrol.html", form=form, invite=invite, problem=problem,
                           qr=qr_svg(uri), uri=uri)
