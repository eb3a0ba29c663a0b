"""Who is reviewing: the session cookie, its server-side record, and the access checks."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from flask import g, redirect, request, url_for
from werkzeug.exceptions import Forbidden, TooManyRequests

from intake.crypto import DecryptionError
from intake.desk.desks import account_desk
from intake.staff import sessions
from intake.staff.accounts import is_operator
from intake.store.throttle import account_key, allow
from intake.testimonies import cases
from intake.web.bound import cookie_secure, get_desk, get_settings
from intake.web.database import get_session

if TYPE_CHECKING:
    from intake.testimonies.submissions import Desk

COOKIE = "intake_review"
# Per account and minute. Logins beyond it still pass with a right code (see views.login).
LOGIN_ATTEMPTS_PER_MINUTE = 5
PASSPHRASE_CHECKS_PER_MINUTE = 5
View = TypeVar("View", bound=Callable[..., Any])


def count_attempt(purpose: str, account: str, per_minute: int) -> bool:
    """Count one attempt of `purpose` against an account; say whether it is within the limit."""
    key = account_key(get_settings().pepper, purpose, account)
    return allow(get_session(), key, per_minute)


def check_passphrase_allowed(user_id: str) -> None:
    """Count a passphrase check (one Argon2 run) against an account; 429 past the limit."""
    # A stolen session or reset link must not become an unthrottled passphrase oracle. This
    # counter is apart from the login one, which anyone who knows a name can fill.
    if not count_attempt("passphrase", user_id, PASSPHRASE_CHECKS_PER_MINUTE):
        raise TooManyRequests


def staff_desk() -> Desk:
    """Return the desk of the logged-in account: its id and pinned root, the shared keyring."""
    settings = get_settings()
    desk_id = account_desk(current().user, settings)
    return replace(get_desk(), desk_id=desk_id, root=settings.for_desk(desk_id).root)


def current_desk_id() -> str:
    """Return the desk of the logged-in account."""
    return account_desk(current().user, get_settings())


def current() -> sessions.Unlocked:
    """Return this request's unlocked session (views behind reviewer_required only)."""
    unlocked = current_or_none()
    if unlocked is None:
        raise Forbidden
    return unlocked


def current_or_none() -> sessions.Unlocked | None:
    """Return this request's unlocked session, if any."""
    if "unlocked" not in g:
        g.unlocked = sessions.load(get_session(), request.cookies.get(COOKIE), int(time.time()))
    unlocked: sessions.Unlocked | None = g.unlocked
    return unlocked


def account_required(view: View) -> View:
    """Refuse anyone without a live session of any role (logging out, changing a passphrase)."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_or_none() is None:
            if request.method == "GET":
                return redirect(url_for("review.login"))
            raise Forbidden
        return view(*args, **kwargs)
    return wrapped  # type: ignore[return-value]


def reviewer_required(view: View) -> View:
    """Refuse anyone without a live reviewer or admin session: an operator sees no desk's work."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        unlocked = current_or_none()
        if unlocked is not None and is_operator(unlocked.user):
            raise Forbidden
        return view(*args, **kwargs)
    return account_required(wrapped)  # type: ignore[return-value]


def operator_required(view: View) -> View:
    """Refuse anyone without a live operator session (reviewers and admins included)."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_operator(current().user):
            raise Forbidden
        return view(*args, **kwargs)
    return account_required(wrapped)  # type: ignore[return-value]


class CaseRefused(Forbidden):
    """A case this session may not open: `reason` is "unvetted", "locked" or "broken"."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def vetted(unlocked: sessions.Unlocked) -> bool:
    """Say whether an admin has granted this session any epoch key yet."""
    return bool(unlocked.epoch_keys)


def case_required(view: View) -> View:
    """Let only vetted sessions reach a case; a locked or damaged case is refused, never a 500."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not vetted(current()):
            raise CaseRefused("unvetted")
        try:
            return view(*args, **kwargs)
        except cases.Locked:
            raise CaseRefused("locked") from None
        except DecryptionError:
            raise CaseRefused("broken") from None
    return reviewer_required(wrapped)  # type: ignore[return-value]


def set_cookie(response: Any, value: str) -> Any:
    """Give the browser the session cookie: the only copy of the session's key."""
    response.set_cookie(COOKIE, value, httponly=True, samesite="Strict", path="/",
                        secure=cookie_secure())
    return response
