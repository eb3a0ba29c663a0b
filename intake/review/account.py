"""A reviewer's own account: changing the passphrase re-wraps the same key."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from .. import audit
from ..accounts import passphrase_problem
from ..crypto import DecryptionError, unlock, wrap_private_key
from ..db import get_session
from ..models import ReviewSession
from ..sessions import id_hash_of_cookie
from . import bp
from .auth import COOKIE, check_passphrase_allowed, current, reviewer_required


@bp.route("/passphrase", methods=["GET", "POST"])
@reviewer_required
def change_passphrase() -> ResponseReturnValue:
    """Re-wrap the same private key under a new passphrase and end the other sessions."""
    from ..admin.forms import PassphraseForm

    form, problem, done = PassphraseForm(), None, False
    if form.validate_on_submit():
        db, unlocked = get_session(), current()
        keyring = current_app.extensions["intake.desk"].keyring
        public, wrapped = keyring.user_key(unlocked.user.id)
        problem = passphrase_problem(form.new.data)
        check_passphrase_allowed(unlocked.user.id)
        try:
            key = unlock(wrapped, unlocked.user.passphrase_verifier, form.current.data)
        except DecryptionError:
            problem = "wrong"
        if problem is None:
            new = wrap_private_key(key, form.new.data,
                                   current_app.extensions["intake.settings"].kdf_profile)
            keyring.put_user_key(unlocked.user.id, public, new.blob)
            try:
                unlocked.user.passphrase_verifier = new.verifier
                keep = id_hash_of_cookie(request.cookies.get(COOKIE))
                db.query(ReviewSession).filter(ReviewSession.user_id == unlocked.user.id,
                                               ReviewSession.id_hash != keep).delete()
                audit.record(db, unlocked.user.id, "passphrase", unlocked.user.id)
                db.commit()
            except BaseException:
                # The key and its login check must change together: put the old key back.
                db.rollback()
                keyring.put_user_key(unlocked.user.id, public, wrapped)
                raise
            done = True
    return render_template("review/passphrase.html", form=form, problem=problem, done=done)
