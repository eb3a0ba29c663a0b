"""A session cookie and CSRF tokens that write no visit time into a family's browser.

Flask signs its session cookie with itsdangerous' TimestampSigner, and
Flask-WTF's CSRF token is a URLSafeTimedSerializer token: both carried the
second at which a family opened the form, one in the browser's cookie store
and one in the page. Here the session cookie (a browser-session cookie that
holds only the random CSRF secret) is signed with no time at all, and a CSRF
token carries only the day it was made (UTC midnight). A token's lifetime is
then enforced to the day: WTF_CSRF_TIME_LIMIT is rounded up to whole days and
counts from the start of the token's day, so with six hours a token made at
any time of one day is accepted until the end of the next (24 to 48 hours).
"""

from __future__ import annotations

import time
from typing import Any

import flask_wtf.csrf
from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

DAY = 24 * 3600


def _clock() -> float:
    """Return the current time (a seam for tests that move the day)."""
    return time.time()


class DaySigner(TimestampSigner):
    """A timestamp signer whose stamps and ages are whole UTC days."""

    def get_timestamp(self) -> int:
        """Return the start of the current UTC day, never the second."""
        return int(_clock()) // DAY * DAY


class DayStampedSerializer(URLSafeTimedSerializer):
    """Flask-WTF's token format, stamped with the day; a maximum age is rounded up to days."""

    default_signer = DaySigner

    def loads(self, s: str | bytes, max_age: int | None = None,  # type: ignore[override]
              return_timestamp: bool = False, salt: str | bytes | None = None) -> Any:
        """Check a token made on a day no more than max_age (rounded up to days) ago."""
        if max_age is not None:
            max_age = -(-max_age // DAY) * DAY
        return super().loads(s, max_age=max_age, return_timestamp=return_timestamp, salt=salt)


class UntimedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, signed without a timestamp."""

    def get_signing_serializer(self, app: Flask) -> URLSafeSerializer | None:  # type: ignore[override]
        """Sign with the secret key alone: the cookie holds no time."""
        if not app.secret_key:
            return None
        return URLSafeSerializer(app.secret_key, salt=self.salt, serializer=self.serializer,
                                 signer_kwargs={"key_derivation": self.key_derivation,
                                                "digest_method": self.digest_method})

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Load the session from its cookie; a forged or foreign cookie starts an empty one."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value))
        except BadSignature:
            return self.session_class()


def init_app(app: Flask) -> None:
    """Use the untimed session cookie and day-stamped CSRF tokens."""
    app.session_interface = UntimedSessionInterface()
    # Flask-WTF has no setting for its token's serializer; it looks this name up
    # at each call. A test decodes every cookie and hidden field a family gets.
    flask_wtf.csrf.URLSafeTimedSerializer = DayStampedSerializer
