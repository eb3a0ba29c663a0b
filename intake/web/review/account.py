"""A reviewer's own account: changing the passphrase re-wraps the same key; replacing the
keys makes a new key pair that an admin must grant access again."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from intake.crypto import DecryptionError, rewrap, unlock_account
from intake.desk import audit, rotation
from intake.staff import rekey
from intake.staff.accounts import AccountError, passphrase_problem, store_keys
from intake.staff.sessions import id_hash_of_cookie
from intake.store.models import ReviewSession
from intake.web.bound import get_desk, get_settings
from intake.web.database import get_session
from intake.web.review.blueprint import bp
from intake.web.review.forms import PassphraseForm
from intake.web.staff_auth import (
    COOKIE,
    account_required,
    check_passphrase_allowed,
    current,
    reviewer_required,
    staff_desk,
)


@bp.route("/passphrase", methods=["GET", "POST"])
@account_required
def change_passphrase() -> ResponseReturnValue:
    """Re-wrap the same private key under a new passphrase and end the other sessions."""
    form, done = PassphraseForm(), False
    problem: str | None = None
    if form.validate_on_submit():
        db, unlocked = get_session(), current()
        keyring = get_desk().keyring
        wrapped = keyring.user_key(unlocked.user.id)[1]
        found = passphrase_problem(form.new.data)
        problem = str(found) if found else None
        check_passphrase_allowed(unlocked.user.id)
        try:
            keys = unlock_account(wrapped, unlocked.user.passphrase_verifier, form.current.data)
        except DecryptionError:
            problem = "wrong"
        if problem is None:
            # The same keys and the same pinned root, wrapped under the new passphrase.
            new = rewrap(keys, form.new.data,
                         get_settings().kdf_profile)
            store_keys(keyring, unlocked.user.id, keys, new.blob)
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
                store_keys(keyring, unlocked.user.id, keys, wrapped)
                raise
            done = True
    return render_template("review/passphrase.html", form=form, problem=problem, done=done)


@bp.app_template_filter("fingerprint")
def fingerprint(hex_digits: str) -> str:
    """Show a key fingerprint in groups of four, to be read aloud and compared."""
    return " ".join(hex_digits[i:i + 4] for i in range(0, len(hex_digits), 4))


@bp.route("/keys", methods=["GET", "POST"])
@reviewer_required
def replace_keys() -> ResponseReturnValue:
    """Replace this account's key pair with a new one under a new passphrase."""
    form, problem, unlocked = PassphraseForm(), None, current()
    if form.validate_on_submit():
        settings, desk = get_settings(), _desk()
        # Each try costs an Argon2id run and tests a passphrase: it shares the counter of every
        # other passphrase check, named by a keyed hash, never by the account id.
        check_passphrase_allowed(unlocked.user.id)
        try:
            rekey.replace_keys(get_session(), desk.keyring, settings.instance_path,
                               desk.desk_id, unlocked.user, form.current.data, form.new.data,
                               settings.kdf_profile)
        except DecryptionError:
            problem = "wrong"
        except AccountError as exc:
            problem = str(exc)
        except rotation.RotationError:
            problem = "busy"
        else:
            response = current_app.make_response(render_template(
                "review/replace_keys.html", done=True, user=unlocked.user))
            response.delete_cookie(COOKIE, path="/")
            return response
    return render_template("review/replace_keys.html", form=form, problem=problem,
                           user=unlocked.user), 200 if problem is None else 422


def _desk() -> Any:
    return staff_desk()
