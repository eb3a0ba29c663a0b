"""The admin console's confirm steps and pending links: nothing drastic happens in one click."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from intake.desk.desks import stored_desk
from intake.staff import invites
from intake.web.admin.blueprint import bp
from intake.web.admin.views import _user, admin_required
from intake.web.bound import get_settings
from intake.web.database import get_session
from intake.web.staff_auth import current, staff_desk


@bp.get("/users/<user_id>/revoke")
@admin_required
def confirm_revoke(user_id: str) -> ResponseReturnValue:
    """Say what revoking this account does, and ask the admin to confirm it."""
    return render_template("admin/confirm.html", user=_user(user_id), action="revoke")


@bp.get("/users/<user_id>/reset-totp")
@admin_required
def confirm_reset_totp(user_id: str) -> ResponseReturnValue:
    """Say what resetting this account's second factor does, and ask to confirm it."""
    return render_template("admin/confirm.html", user=_user(user_id), action="reset_totp")


@bp.post("/invites/<invite_id>/cancel")
@admin_required
def cancel_invite(invite_id: str) -> ResponseReturnValue:
    """Cancel a link not yet used: it is deleted, and opening it then says it is not valid."""
    # The id is the stored SHA-256 of the token, never the token: the page cannot leak a link.
    desk = stored_desk(staff_desk().desk_id, get_settings())
    if len(invite_id) != 64 or invites.cancel(get_session(), invite_id, current().user.id,
                                               desk) is None:
        raise NotFound
    return redirect(url_for("admin.index", cancelled=1) + "#invites")
