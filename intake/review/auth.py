"""Who is reviewing: the session cookie, its server-side record, and the access checks."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from .. import cases, sessions
from ..crypto import DecryptionError
from ..db import get_session

COOKIE = "intake_review"
View = TypeVar("View", bound=Callable[..., Any])


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


def reviewer_required(view: View) -> View:
    """Refuse anyone without a live reviewer or admin session."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_or_none() is None:
            if request.method == "GET":
                return redirect(url_for("review.login"))
            raise Forbidden
        return view(*args, **kwargs)
    return wrapped  # type: ignore[return-value]


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
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
