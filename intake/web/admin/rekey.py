"""The admin's side of replacing keys: require it of an account that may be phished."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from intake.staff import rekey
from intake.staff.accounts import AccountError
from intake.web.admin.blueprint import bp
from intake.web.admin.views import _user, admin_required, overview
from intake.web.bound import get_desk
from intake.web.database import get_session
from intake.web.staff_auth import current


@bp.post("/users/<user_id>/require-new-keys")
@admin_required
def require_new_keys(user_id: str) -> ResponseReturnValue:
    """Destroy an account's grants and sessions until its owner replaces its key pair."""
    user = _user(user_id)
    if user.state != "active":
        return overview(message="cannot-grant")
    try:
        rekey.require_new_keys(get_session(), get_desk().keyring,
                               current().user, user)
    except AccountError as exc:
        return overview(message=str(exc))
    return overview(message="new-keys-required")
