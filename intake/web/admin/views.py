"""Views for admins: users, invites, vetting, revocation, second-factor resets, epochs."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import Forbidden, NotFound

from intake.desk import audit, desks, rotation, trust
from intake.staff import invites, sessions
from intake.staff.accounts import AccountError, is_vetted
from intake.staff.accounts import grant as grant_account
from intake.staff.accounts import revoke as revoke_account
from intake.store.live_settings import parse_types
from intake.store.live_settings import save as save_settings
from intake.store.models import User
from intake.web.admin.blueprint import bp
from intake.web.admin.forms import ConfirmPassphraseForm, InviteForm, SettingsForm
from intake.web.bound import get_desk, get_settings
from intake.web.database import get_session
from intake.web.staff_auth import current, current_or_none, staff_desk

View = TypeVar("View", bound=Callable[..., Any])


def admin_required(view: View) -> View:
    """Refuse anyone but a vetted admin with a live, unlocked session."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        unlocked = current_or_none()
        if unlocked is None:
            login = url_for("review.login")
            return redirect(login + "?rotated=1" if _rotation_ended() else login)
        if unlocked.user.role != "admin":
            raise Forbidden
        # Vetting gates every role: an admin nobody has granted the current epoch would
        # otherwise rotate (and so grant itself the new epoch), revoke, reset or invite.
        if not is_vetted(_desk().keyring, _desk().desk_id, unlocked.user, _desk().root):
            return render_template("admin/unvetted.html"), 403
        return view(*args, **kwargs)
    return wrapped  # type: ignore[return-value]


def _rotation_ended() -> bool:
    """Say whether the rotation this admin was watching is over (it ended every session)."""
    watching = request.endpoint == "admin.keys" and request.args.get("watching") == "1"
    # The session is gone, and with it which desk it watched: a rotation of any desk ends
    # every session of the instance, so none may be running any more.
    return watching and not any(rotation.running(get_settings().instance_path, desk_id)
                                for desk_id in get_desk().keyring.desk_ids())


def _desk() -> Any:
    return staff_desk()


def _rotation_lock() -> Any:
    """Hold the desk's rotation lock without waiting; RotationError if one is running."""
    return rotation.exclusive(get_settings().instance_path,
                              _desk().desk_id)


def overview(message: str | None = None, link: str | None = None,
             settings_form: SettingsForm | None = None) -> ResponseReturnValue:
    """Render the admin page: users and their grants, epochs, settings."""
    db, desk = get_session(), _desk()
    keyring, epoch = desk.keyring, desk.keyring.current_epoch(desk.desk_id)
    granted = {fp.hex() for fp in keyring.grant_recipients(desk.desk_id, epoch.id)}
    users = desks.accounts_of(db, desk.desk_id, get_settings())
    states = rotation.status(db, keyring, desk.desk_id)
    live = g.live_settings
    # A refused settings form is shown as posted, with its errors.
    settings_form = settings_form or SettingsForm(organisation_name=live.organisation_name,
        organisation_name_fa=live.organisation_name_fa, upload_limit_mib=live.upload_limit_mib,
        accepted_types=", ".join(live.accepted_types))
    fingerprints = {user.id: trust.account_fingerprint(keyring, user.id) for user in users
                    if user.state == "active"}
    return render_template("admin/index.html", users=users, granted=granted, epoch=epoch,
                           fingerprints=fingerprints, pending=pending_invites(db),
                           rotate_form=ConfirmPassphraseForm(),
                           states=states, unfinished=rotation.unfinished(states),
                           invite=InviteForm(), message=message, link=link,
                           settings_form=settings_form)


def pending_invites(db: Any) -> list[tuple[Any, str]]:
    """Return each live link of the admin's desk with its expiry as an ISO date and time (UTC,
    to the minute)."""
    return [(invite, dt.datetime.fromtimestamp(invite.expires_at, dt.UTC)
             .strftime("%Y-%m-%d %H:%M UTC"))
            for invite in invites.pending(db, int(time.time()),
                                          desks.stored_desk(_desk().desk_id, get_settings()))]


def confirmed() -> bool:
    """Say whether the admin ticked the box that says they mean it (no JavaScript needed)."""
    return request.form.get("confirmed") == "y"


@bp.post("/settings")
@admin_required
def change_settings() -> ResponseReturnValue:
    """Change the organisation name, upload limit or accepted file types."""
    db, form = get_session(), SettingsForm()
    if not form.validate():
        return overview(message="invalid", settings_form=form)
    save_settings(db, {"organisation_name": (form.organisation_name.data or "").strip(),
                       "organisation_name_fa": (form.organisation_name_fa.data or "").strip(),
                       "upload_limit_mib": str(form.upload_limit_mib.data),
                       "accepted_types": ", ".join(parse_types(form.accepted_types.data or ""))})
    audit.record(db, current().user.id, "settings")
    db.commit()
    return redirect(url_for("admin.index"))


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    """Show the admin page."""
    return overview()


@bp.post("/invite")
@admin_required
def invite() -> ResponseReturnValue:
    """Make a one-time enrolment link and show it once."""
    db, form = get_session(), InviteForm()
    if not form.validate():
        return overview(message="invalid")
    try:
        token = invites.create(db, form.name.data, form.role.data, int(time.time()),
                               desk_id=desks.stored_desk(_desk().desk_id, get_settings()))
    except AccountError as exc:
        return overview(message=str(exc))
    audit.record(db, current().user.id, "invite", detail=form.role.data)
    db.commit()
    return overview(link=url_for("enrol.enrol", token=token, _external=True))


def _user(user_id: str) -> User:
    user = get_session().get(User, user_id)
    # An admin of one desk cannot tell an account of another desk from no account.
    if user is None or desks.account_desk(user, get_settings()) != _desk().desk_id:
        raise NotFound
    return user


@bp.post("/users/<user_id>/grant")
@admin_required
def vet(user_id: str) -> ResponseReturnValue:
    """Grant the current epoch to an enrolled user: from now on they can read."""
    # A rotation reads who is vetted once it starts: vetting waits until it has finished.
    # It runs for minutes, so the admin is told to come back rather than kept waiting.
    try:
        with _rotation_lock():
            return _vet(_user(user_id))
    except rotation.RotationError:
        return overview(message="rotation-running")


def _vet(user: User) -> ResponseReturnValue:
    """Grant the current epoch to `user`, if this session holds it and the user is active."""
    db, desk, unlocked = get_session(), _desk(), current()
    epoch = desk.keyring.current_epoch(desk.desk_id)
    epoch_key = unlocked.epoch_keys.get((desk.desk_id, epoch.id))
    if epoch_key is None or user.state != "active" or user.must_replace_keys:
        return overview(message="cannot-grant")
    # The keys about to be certified must be the ones their owner saw at enrolment: keys
    # swapped into the keyring would otherwise be certified and granted.
    if desk.root is not None and not trust.confirms(
            trust.account_fingerprint(desk.keyring, user.id), request.form.get("fingerprint", "")):
        return overview(message="fingerprint-differs")
    chain = None
    if unlocked.signer is not None:
        # Certificate first, grant second: a crash between them leaves a certified account
        # without a grant (vet it again), never a grant to an uncertified key.
        try:
            trust.certify_account(desk.keyring, desk.desk_id, unlocked.signer, user, desk.water)
            chain = trust.load_chain(desk.keyring, desk.desk_id, unlocked.signer.root)
        except trust.TrustError:
            return overview(message="cannot-certify")
    elif trust.server_root(desk.keyring, desk.desk_id, desk.root) is not None:
        return overview(message="cannot-certify")
    if not grant_account(db, desk.keyring, epoch, epoch_key, user, chain):
        return overview(message="cannot-grant")
    audit.record(db, unlocked.user.id, "grant", user.id, f"epoch:{epoch.id}")
    db.commit()
    return redirect(url_for("admin.index"))


@bp.post("/users/<user_id>/revoke")
@admin_required
def revoke(user_id: str) -> ResponseReturnValue:
    """Delete a user's grants and sessions at once; a rotation is then due."""
    db, desk, unlocked, user = get_session(), _desk(), current(), _user(user_id)
    if user.id == unlocked.user.id:
        return overview(message="not-yourself")
    if not confirmed():
        return render_template("admin/confirm.html", user=user, action="revoke",
                               unticked=True), 422
    # Revocation never waits for a rotation: it commits the state first, and the rotation
    # re-checks every grant it writes against it.
    deleted, ended = revoke_account(db, desk.keyring, user)
    audit.record(db, unlocked.user.id, "revoke", user.id, f"grants:{deleted} sessions:{ended}")
    db.commit()
    if unlocked.signer is not None:
        # After the grants are gone: from this point of the chain on, nothing this account
        # signs is accepted, and it can never be certified again.
        trust.certify_revocation(desk.keyring, desk.desk_id, unlocked.signer, user.id,
                                 dt.date.today(), desk.water)
    settings = get_settings()
    busy = rotation.running(settings.instance_path, desk.desk_id)
    return overview(message="rotate-after" if busy else "rotate")


@bp.post("/users/<user_id>/reset-totp")
@admin_required
def reset_totp(user_id: str) -> ResponseReturnValue:
    """Make a one-time link where the user enrols a new authenticator (never a passphrase)."""
    db, user = get_session(), _user(user_id)
    if not confirmed():
        return render_template("admin/confirm.html", user=user, action="reset_totp",
                               unticked=True), 422
    token = invites.create(db, user.name, user.role, int(time.time()), user=user)
    sessions.end_all(db, user.id)
    audit.record(db, current().user.id, "totp_reset", user.id)
    db.commit()
    return overview(message="totp-reset",
                    link=url_for("enrol.enrol", token=token, _external=True))
