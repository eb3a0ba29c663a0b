"""Views for reviewers: login, inbox, case, triage, notes, replies, files."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import or_
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound, TooManyRequests

from intake.crypto import AccountKeys, CaseKeys, unlock_epochs
from intake.desk import audit, desks, referral, share_requests, trust
from intake.staff import sessions
from intake.staff.accounts import authenticate, is_operator, refresh_wrapping
from intake.store.models import Attachment, CaseLink, CaseRead, Note, Reply, Submission, User
from intake.testimonies import cases, closing, filenames
from intake.web.bound import get_desk, get_settings, get_store
from intake.web.database import get_session
from intake.web.review import present, saved, workbench
from intake.web.review.blueprint import bp
from intake.web.review.forms import (
    ASSESSMENT_FIELDS,
    BulkForm,
    CloseCodeForm,
    ExportForm,
    LoginForm,
    NoteForm,
    ReplyForm,
    SaveFilterForm,
    TriageForm,
)
from intake.web.review.inbox import inbox_page
from intake.web.staff_auth import (
    COOKIE,
    LOGIN_ATTEMPTS_PER_MINUTE,
    CaseRefused,
    account_required,
    case_required,
    count_attempt,
    current,
    current_desk_id,
    reviewer_required,
    set_cookie,
    vetted,
)
from intake.web.testimony_form import choices

INLINE_TYPES = frozenset({"image/jpeg", "image/png"})


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Unlock the reviewer's key and granted epochs into a new server-side session."""
    form, failed = LoginForm(), False
    if form.validate_on_submit():
        db, now = get_session(), int(time.time())
        within = count_attempt("login", form.name.data, LOGIN_ATTEMPTS_PER_MINUTE)
        # The code is checked first whatever the count: a right, unspent code goes through,
        # so wrong tries against a name cannot lock its reviewer out. Argon2 runs only after
        # a right code, and each code is spent on first use: that bounds the work per account.
        found = authenticate(db, get_desk().keyring, form.name.data,
                             form.passphrase.data, form.code.data, now)
        if found:
            user, keys = refresh_at_login(db, *found, form.passphrase.data)
            return start_session(user, keys, now=now)
        if not within:
            raise TooManyRequests
        failed = True
    return render_template("review/login.html", form=form, failed=failed), 401 if failed else 200


def refresh_at_login(db: Session, user: User, keys: AccountKeys,
                     passphrase: str) -> tuple[User, AccountKeys]:
    """Give an account made before certificates its signing key, or stronger wrapping."""
    desk = get_desk()
    settings = get_settings()
    if is_operator(user):
        return user, keys  # no desk's root to pin: an operator checks no desk's chain
    # Only the root config.py pins: a root read from the keyring is whatever its writer put
    # there, and an account that pinned it would trust that writer for good. Each desk has its own.
    root = settings.for_desk(desks.account_desk(user, settings)).root
    # The new wrapping is written before its verifier: a crash between them leaves a
    # verifier that the next login repairs (accounts.authenticate), never a lost key.
    keys, verifier = refresh_wrapping(desk.keyring, user, keys, passphrase,
                                      settings.kdf_profile, root)
    if verifier is not None:
        user.passphrase_verifier = verifier
        audit.record(db, user.id, "rewrap", user.id,
                     "signing-key" if keys.root and keys.root == root else "argon2")
        db.commit()
    return user, keys


def start_session(user: User, keys: AccountKeys, now: int) -> ResponseReturnValue:
    """Open a fresh session (new id) holding the epochs granted to this key and certified."""
    db, desk = get_session(), get_desk()
    if is_operator(user):
        return start_operator_session(user, now)
    desk_id = desks.account_desk(user, get_settings())
    # Only the account's own desk: a grant of another desk's epoch planted for this key opens
    # nothing here.
    opened = {(desk_of, n): key for (desk_of, n), key in unlock_epochs(desk.keyring,
                                                                      keys.key).items()
              if desk_of == desk_id}
    try:
        epochs, chain = trust.at_login(desk.keyring, desk_id, user, keys, opened)
        if chain is not None:
            trust.check_not_cut(db, desk.keyring, chain, desk.water)
    except trust.TrustError as exc:
        audit.record(db, user.id, "trust_alarm", user.id, str(exc)[:500])
        db.commit()
        return render_template("review/alarm.html", reason=str(exc)), 409
    signer = trust.signer_of(user, keys)
    cookie = sessions.start(db, user, epochs, now, signer)
    audit.record(db, user.id, "unlock", detail=f"epochs:{len(epochs)}")
    member = chain.accounts.get(user.id) if chain is not None else None
    if signer is not None and chain is not None and member is not None \
            and member.signing == signer.key.public_key.raw:
        # Only a key the chain certifies signs: `audit verify` refuses any other as forged.
        audit.checkpoint(db, chain, signer.account, signer.key)
    return opened_session(user, cookie, url_for("review.inbox"))


def opened_session(user: User, cookie: str, landing: str) -> ResponseReturnValue:
    """Commit a new session and send the account to `landing`, unless it was revoked meanwhile."""
    db = get_session()
    db.commit()
    # A revocation commits the state before it deletes sessions: reading the state after this
    # session is stored means a revocation racing the login either sees it or is seen here.
    db.refresh(user)
    if user.state != "active":
        sessions.end(db, cookie)
        return render_template("review/login.html", form=LoginForm(), failed=True), 401
    response: ResponseReturnValue = set_cookie(redirect(landing), cookie)
    return response


def start_operator_session(user: User, now: int) -> ResponseReturnValue:
    """Open a session holding no key of any desk, and land on the instance page."""
    db = get_session()
    cookie = sessions.start(db, user, {}, now)
    audit.record(db, user.id, "unlock", detail="operator")
    return opened_session(user, cookie, url_for("operator.instance"))


@bp.post("/logout")
@account_required
def logout() -> ResponseReturnValue:
    """Delete the session record; the cookie's key then opens nothing."""
    sessions.end(get_session(), request.cookies.get(COOKIE))
    response = redirect(url_for("review.login"))
    response.delete_cookie(COOKIE, path="/")
    return response


@bp.errorhandler(CaseRefused)
def refused(error: CaseRefused) -> ResponseReturnValue:
    """Say why this case does not open for this session, in the reviewer's language."""
    return render_template("review/refused.html", reason=error.reason), 403


@bp.get("/")
@reviewer_required
def inbox() -> ResponseReturnValue:
    """List cases newest first, with filters and search over decrypted text."""
    db = get_session()
    if not vetted(current()):
        # Not even ids, days or counts: an unvetted account learns nothing of the desk.
        return render_template("review/refused.html", reason="unvetted")
    page = inbox_page(db, current(), request.args)
    sessions.keep_case_keys(db, current())
    users = desk_reviewers()
    bulk = BulkForm(formdata=None)
    bulk.assignee.choices = choices(("", "—"), *((u.id, u.name) for u in users))
    return render_template("review/inbox.html", page=page, args=request.args, users=users,
                           filters=saved.filter_args(request.args), bulk=bulk,
                           saved_filters=saved.saved_filters(db, current().user),
                           save_form=SaveFilterForm(), not_saved=saved.NOT_SAVED,
                           user_names={u.id: u.name for u in users})


@bp.get("/<case_id>")
@case_required
def case(case_id: str) -> ResponseReturnValue:
    """Show every answer, file, note and reply of a case, decrypted for this session."""
    db, unlocked = get_session(), current()
    submission = find(case_id)
    summary = cases.summarise(submission, unlocked, 0,
                              cases.work_of(db, submission, current_desk_id()))
    filters = saved.filter_args(request.args)
    context = {"submission": submission, "state": summary.state, "filters": filters}
    if summary.state == "open":
        key = cases.session_data_key(submission, unlocked)  # opened by summarise just now
        context |= case_context(submission, key)
        context["newer"], context["older"] = workbench.neighbours(db, unlocked, filters,
                                                                  submission)
        # Another desk may have lifted the last hold since: this desk's held replies, which
        # only its keys open, reach the family now.
        cases.release_desk_replies(db, unlocked.user.id, submission, key)
        if db.get(CaseRead, (unlocked.user.id, submission.id)) is None:
            db.add(CaseRead(user_id=unlocked.user.id, submission_id=submission.id))
        audit.record(db, unlocked.user.id, "view", submission.id)
        sessions.keep_case_keys(db, unlocked)
        db.commit()
    return render_template("review/case.html", **context)


def case_context(submission: Submission, key: CaseKeys) -> dict[str, object]:
    """Decrypt what the case page shows: the answers, and this desk's own work on the case."""
    session = get_session()
    accounts = workbench.desk_accounts(session)
    reviewers = [user for user in accounts if user.state == "active"]
    work = cases.work_of(session, submission, current_desk_id())
    authors = {user.id for user in accounts}
    triage = TriageForm(status=work.status, family_status=work.family_status,
                        priority=work.priority,
                        assignee=work.assignee_id or "",
                        labels=", ".join(cases.labels(work, key)),
                        **cases.assessment(work, key))
    triage.assignee.choices = choices(("", "—"), *((u.id, u.name) for u in reviewers))
    found = cases.answers(submission, key)
    held = closing.held(session, submission)
    return {
        # Only this desk's accounts: the notes and replies shown are theirs alone.
        "names": {u.id: u.name for u in accounts},
        "answers": found, "sections": present.sections(found),
        "checklist": present.checklist(found),
        "files": cases.attachments(session, submission, key),
        "notes": cases.notes(session, submission, key, authors),
        "replies": cases.replies(session, submission, key, authors),
        "additions": cases.additions(session, submission, current().epoch_keys),
        "triage": triage, "note_form": NoteForm(), "reply_form": ReplyForm(),
        "export_form": ExportForm(),
        "labels": cases.labels(work, key), "status": work.status,
        "links": linked_ids(submission.id),
        "code_closed_on": closing.code_closed_on(session, submission),
        "close_form": CloseCodeForm(),
        # Any chosen desk's hold keeps every desk's replies from the code (closing): this
        # desk's reviewers must know a reply will not reach the family, not which desk holds.
        "held": held,
        "held_elsewhere": held and work.status != closing.HOLD,
        "refer_to": refer_targets(submission), "refer_form": FlaskForm(),
        "asked_for": asked_for(submission),
    }


def refer_targets(submission: Submission) -> list[desks.DeskInfo]:
    """List the desks this case could be referred to, by name (none with one desk)."""
    settings = get_settings()
    named = {desk.id: desk for desk in desks.all_desks(get_session(), settings)}
    return [named[desk_id] for desk_id in referral.referable(get_session(), settings, submission)
            if desk_id in named]


def asked_for(submission: Submission) -> list[desks.DeskInfo]:
    """List the desks the family asked, with its code, to be given this case, not given yet."""
    settings = get_settings()
    named = {desk.id: desk for desk in desks.all_desks(get_session(), settings)}
    return [named[desk_id] for desk_id in share_requests.pending(get_session(), settings,
                                                                 submission)
            if desk_id in named]


def desk_reviewers() -> list[User]:
    """List the active accounts of this reviewer's desk (never another desk's names)."""
    return workbench.active_users(get_session())


def linked_ids(case_id: str) -> list[str]:
    """Return the ids of cases confirmed as about the same person, either way round."""
    db = get_session()
    rows = db.query(CaseLink).filter(
        or_(CaseLink.first_id == case_id, CaseLink.second_id == case_id))
    others = [row.second_id if row.first_id == case_id else row.first_id for row in rows]
    # A link to a case of another desk would tell this desk that case exists.
    visible = {id_ for (id_,) in db.query(Submission.id).filter(
        Submission.id.in_(others), desks.sealed_to(current_desk_id()))} if others else set()
    return [other for other in others if other in visible]


def find(case_id: str) -> Submission:
    """Load a submission of this reviewer's desk by id, or answer 404."""
    db = get_session()
    submission = db.get(Submission, case_id)
    # A case the family did not give this desk answers exactly as one that does not exist.
    if submission is None or not desks.is_sealed_to(db, submission, current_desk_id()):
        raise NotFound
    return submission


@bp.post("/<case_id>/triage")
@case_required
def triage(case_id: str) -> ResponseReturnValue:
    """Set status, priority, assignee and labels."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    key = cases.data_key(submission, unlocked.epoch_keys)
    form = TriageForm()
    # Any account of this desk, revoked ones included (a case assigned to one still saves).
    form.assignee.choices = choices(("", "—"), *((u.id, u.name)
                                                  for u in workbench.desk_accounts(db)))
    if form.validate():
        # Only this desk's own triage: the other chosen desks keep theirs.
        work = cases.work_of(db, submission, current_desk_id())
        cases.set_status(db, unlocked.user.id, submission, key, form.status.data, work)
        if form.family_status.data != work.family_status:
            audit.record(db, unlocked.user.id, "family_status", submission.id,
                         form.family_status.data)
        work.family_status = form.family_status.data
        work.priority = form.priority.data or 0
        work.assignee_id = form.assignee.data or None
        cases.set_labels(work, key, (form.labels.data or "").split(","))
        cases.set_assessment(work, key, {name: form[name].data or ""
                                         for name in ASSESSMENT_FIELDS})
        audit.record(db, unlocked.user.id, "triage", submission.id)
        db.commit()
    return back_to_case(case_id)


def back_to_case(case_id: str, **extra: object) -> ResponseReturnValue:
    """Return to the case page, keeping the inbox filter it was opened from."""
    values: dict[str, Any] = {**saved.filter_args(request.args), **extra}
    return redirect(url_for("review.case", case_id=case_id, **values))


@bp.post("/<case_id>/close-code")
@case_required
def close_code(case_id: str) -> ResponseReturnValue:
    """Shut the case's follow-up code: it then opens nothing, exactly like a wrong code."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    cases.data_key(submission, unlocked.epoch_keys)  # only a reader of the case may close it
    if CloseCodeForm().validate() and submission.family_key is not None:
        closing.close_code(db, submission, unlocked.user.id)
    return back_to_case(case_id)


@bp.post("/<case_id>/note")
@case_required
def note(case_id: str) -> ResponseReturnValue:
    """Add a note only reviewers see."""
    return write(case_id, NoteForm(), cases.add_note, "note")


@bp.post("/<case_id>/reply")
@case_required
def reply(case_id: str) -> ResponseReturnValue:
    """Send a reply the family reads with its code."""
    return write(case_id, ReplyForm(), cases.add_reply, "reply")


def write(case_id: str, form: NoteForm | ReplyForm, store: Callable[..., Note | Reply],
          action: str) -> ResponseReturnValue:
    """Encrypt and store a note or reply, and audit it."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    if form.validate():
        key = cases.data_key(submission, unlocked.epoch_keys)
        if action == "reply":  # held replies first, so the family reads them in order
            cases.release_desk_replies(db, unlocked.user.id, submission, key)
        try:
            item = store(db, submission, key, unlocked.user.id, form.text.data)
        except ValueError:
            return back_to_case(case_id, no_code=1)
        audit.record(db, unlocked.user.id, action, submission.id, item.id)
        db.commit()
    return back_to_case(case_id)


@bp.get("/<case_id>/file/<file_id>")
@case_required
def download(case_id: str, file_id: str) -> ResponseReturnValue:
    """Stream a file decrypted on the fly, never written to disk in plaintext."""
    db, unlocked, submission = get_session(), current(), find(case_id)
    attachment = db.get(Attachment, file_id)
    if attachment is None or attachment.submission_id != submission.id:
        raise NotFound
    key = cases.data_key(submission, unlocked.epoch_keys)
    meta = cases.attachment_meta(submission, key, attachment)
    # Only images intake rebuilt itself, in a format every browser shows, are shown
    # inline; anything else (a rebuilt TIFF included) downloads.
    inline = bool(request.args.get("inline") == "1" and meta.get("scrubbed")
                  and meta.get("stored_content_type") in INLINE_TYPES)
    # A thumbnail on the case page is not a copy leaving the desk: the log says which.
    audit.record(db, unlocked.user.id, "preview" if inline else "download",
                 submission.id, attachment.id)
    db.commit()
    store = get_store()
    chunks = cases.file_chunks(store, submission, key, attachment)
    # The whole file is authenticated before its first bytes: a damaged one
    # raises here, before any header is sent, and is refused with a page.
    first = next(chunks, b"")
    response = current_app.response_class(
        itertools.chain([first], chunks),
        mimetype=meta["stored_content_type"] if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = filenames.content_disposition(
        "inline" if inline else "attachment", filenames.download_name(meta))
    return response


@bp.app_template_filter("file_name")
def file_name(client_filename: str | None) -> str:
    """Show a family's file name without controls, overrides or separators (pages add <bdi>)."""
    return filenames.clean_name(client_filename or "")
