"""The public side of invites: enrol a new account, or re-enrol a second factor."""

from __future__ import annotations

import time

import segno
from flask import render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from intake.desk import trust
from intake.staff import invites
from intake.staff.accounts import AccountError
from intake.store.models import Invite, User
from intake.web.admin.blueprint import enrol_bp
from intake.web.admin.forms import EnrolForm, ResetForm
from intake.web.bound import get_desk, get_settings
from intake.web.database import get_session
from intake.web.staff_auth import check_passphrase_allowed


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
            user = _redeem(invite, form.passphrase.data, form.code.data, now)
        except invites.LinkUsed:
            return render_template("admin/invalid_link.html", used=True), 409
        except AccountError as exc:
            db.rollback()
            problem = str(exc)
        else:
            return render_template("admin/enrolled.html", user=user,
                                   fingerprint=trust.account_fingerprint(get_desk().keyring,
                                                                         user.id))
    uri = invites.totp_uri(invite, get_settings().organisation_name)
    return render_template("admin/enrol.html", form=form, invite=invite, problem=problem,
                           qr=qr_svg(uri), secret=invites.secret_groups(invite))


def _redeem(invite: Invite, passphrase: str, code: str, now: int) -> User:
    """Enrol a new account, or move an account to a new second factor (throttled)."""
    db, keyring = get_session(), get_desk().keyring
    if invite.purpose == "enrol":
        # Only the root config.py pins: one read from the keyring is whatever its writer put
        # there, and the new account would trust that writer for good.
        return invites.enrol(db, keyring, invite, passphrase, code,
                             get_settings().kdf_profile, now,
                             get_settings().desk_roots.get(invite.desk_id or
                                                           get_settings().first_desk))
    # Whoever holds a reset link could otherwise try passphrases at Argon2's pace.
    check_passphrase_allowed(invite.user_id or "")
    return invites.reset_totp(db, keyring, invite, passphrase, code, now)
