"""The admin page for key epochs: state, a rotation's progress and end, and starting one."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from intake.crypto import DecryptionError, Epoch, PrivateKey, unlock_account
from intake.desk import rotation, trust
from intake.store.models import User
from intake.web.admin.blueprint import bp
from intake.web.admin.forms import ConfirmPassphraseForm
from intake.web.admin.views import admin_required
from intake.web.bound import get_engine, get_settings
from intake.web.database import get_session
from intake.web.staff_auth import check_passphrase_allowed, current, staff_desk

# How long "Rotate now" waits for the new epoch to be current before answering.
START_SECONDS = 15


class _Started(rotation.Progress):
    """Tell the request that started the rotation when the new epoch is current, or why not."""

    def __init__(self) -> None:
        self.event, self.problem = threading.Event(), ""

    def started(self, target: Epoch, resumed: bool) -> None:
        """Let the waiting request answer: the rotation is under way."""
        self.event.set()

    def failed(self, problem: str) -> None:
        """Let the waiting request show why the rotation stopped."""
        self.problem = problem
        self.event.set()


def _run_in_background(admin_id: str, key: PrivateKey, signer: trust.Signer | None) -> str:
    """Rotate in a thread of this worker; return why it did not start ("" once it has)."""
    settings, desk = get_settings(), staff_desk()
    engine, log, progress = get_engine(), current_app.logger, _Started()

    def work() -> None:
        with Session(engine) as db:
            admin = db.get(User, admin_id)
            if admin is None:
                progress.failed("the admin's account is gone")
                return
            try:
                rotation.run(db, desk.keyring, settings.instance_path, desk.desk_id, admin,
                             key, progress, settle_seconds=settings.settle_seconds,
                             signer=signer)
            except rotation.RotationError as exc:
                # If the worker dies instead, running the rotation again resumes it.
                log.warning("rotation stopped: %s", exc)
                progress.failed(str(exc))

    threading.Thread(target=work, name="intake-rotation", daemon=True).start()
    progress.event.wait(START_SECONDS)
    return progress.problem


@dataclass(frozen=True)
class Stage:
    """Where a rotation stands, read from the lock and the database (any worker sees it)."""

    running: bool
    unfinished: bool
    current: int
    total: int
    waiting: int

    @property
    def done_percent(self) -> int:
        """Return the share of records sealed to the current epoch."""
        return 100 if not self.total else 100 * (self.total - self.waiting) // self.total


def stage(states: list[rotation.EpochState]) -> Stage:
    """Read the rotation's stage: running (lock held), interrupted, or finished."""
    desk = staff_desk()
    return Stage(running=rotation.running(get_settings().instance_path, desk.desk_id),
                 unfinished=rotation.unfinished(states),
                 current=next(s.epoch.id for s in states if s.current),
                 total=sum(s.records for s in states),
                 waiting=sum(s.records for s in states if not s.current))


def _start(form: ConfirmPassphraseForm) -> str:
    """Check the passphrase and start the rotation; return what went wrong, if anything."""
    unlocked = current()
    wrapped = staff_desk().keyring.user_key(unlocked.user.id)[1]
    check_passphrase_allowed(unlocked.user.id)
    try:
        keys = unlock_account(wrapped, unlocked.user.passphrase_verifier, form.passphrase.data)
    except DecryptionError:
        return "wrong"
    return _run_in_background(unlocked.user.id, keys.key, trust.signer_of(unlocked.user, keys))


@bp.route("/keys", methods=["GET", "POST"])
@admin_required
def keys() -> ResponseReturnValue:
    """Show each epoch and any rotation's progress; with the passphrase, start or resume one."""
    db, desk = get_session(), staff_desk()
    form, problem = ConfirmPassphraseForm(), ""
    if form.validate_on_submit():
        problem = _start(form)
        if not problem:
            return redirect(url_for("admin.keys", watching=1))
    states = rotation.status(db, desk.keyring, desk.desk_id)
    trusted = trust.status(desk.keyring, desk.desk_id, desk.root, [])
    return render_template("admin/keys.html", states=states, form=form, problem=problem,
                           trusted=trusted, stage=stage(states),
                           watching=request.args.get("watching") == "1")
