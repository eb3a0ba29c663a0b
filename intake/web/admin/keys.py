"""The admin page for key epochs: state, progress, and starting a rotation."""

from __future__ import annotations

import threading

from flask import current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError, PrivateKey, unlock_account
from intake.desk import rotation, trust
from intake.store.models import User
from intake.web.admin.blueprint import bp
from intake.web.admin.forms import ConfirmPassphraseForm
from intake.web.admin.views import admin_required
from intake.web.bound import get_engine, get_settings
from intake.web.database import get_session
from intake.web.staff_auth import check_passphrase_allowed, current, staff_desk


def _run_in_background(admin_id: str, key: PrivateKey, signer: trust.Signer | None) -> None:
    """Rotate in a thread of this worker; if the worker dies, running it again resumes."""
    settings = get_settings()
    desk = staff_desk()
    engine, log = get_engine(), current_app.logger

    def work() -> None:
        with Session(engine) as db:
            admin = db.get(User, admin_id)
            if admin is None:
                log.warning("rotation not started: the admin's account is gone")
                return
            try:
                rotation.run(db, desk.keyring, settings.instance_path, desk.desk_id, admin,
                             key, rotation.Progress(), settle_seconds=settings.settle_seconds,
                             signer=signer)
            except rotation.RotationError as exc:
                log.warning("rotation stopped: %s", exc)

    threading.Thread(target=work, name="intake-rotation", daemon=True).start()


@bp.route("/keys", methods=["GET", "POST"])
@admin_required
def keys() -> ResponseReturnValue:
    """Show each epoch's records and grants; with the passphrase, start or resume a rotation."""
    db, desk, unlocked = get_session(), staff_desk(), current()
    form, problem = ConfirmPassphraseForm(), None
    if form.validate_on_submit():
        wrapped = desk.keyring.user_key(unlocked.user.id)[1]
        check_passphrase_allowed(unlocked.user.id)
        try:
            keys = unlock_account(wrapped, unlocked.user.passphrase_verifier,
                                  form.passphrase.data)
        except DecryptionError:
            problem = "wrong"
        else:
            _run_in_background(unlocked.user.id, keys.key, trust.signer_of(unlocked.user, keys))
            return redirect(url_for("admin.keys"))
    states = rotation.status(db, desk.keyring, desk.desk_id)
    total = sum(s.records for s in states)
    waiting = sum(s.records for s in states if not s.current)
    trusted = trust.status(desk.keyring, desk.desk_id, desk.root, [])
    return render_template("admin/keys.html", states=states, form=form, problem=problem,
                           trusted=trusted,
                           unfinished=rotation.unfinished(states), total=total,
                           done_percent=100 if not total else 100 * (total - waiting) // total)
