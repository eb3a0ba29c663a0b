"""Persian and English: locale choice, direction, and the language cookie."""

from __future__ import annotations

from collections.abc import Mapping

from babel import Locale
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale, gettext

from intake import messages
from intake.dates import format_day
from intake.store.settings import LANGUAGES
from intake.web.bound import cookie_secure, default_locale

babel = Babel()
LANGUAGE_COOKIE = "intake_lang"


def select_locale() -> str:
    """Use the language chosen by link or cookie, else the instance default (Persian)."""
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return default_locale()


def remember_choice(response: Response) -> Response:
    """Keep a language chosen by link for the rest of the browser session."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, secure=cookie_secure(),
                            httponly=True, samesite="Strict")
    return response


def text_direction() -> str:
    """Return "rtl" or "ltr" for the current locale."""
    locale = get_locale() or Locale.parse(LANGUAGES[0])
    return "rtl" if locale.text_direction == "rtl" else "ltr"


def _render(message: str, params: Mapping[str, object]) -> str:
    # The command line has an app context but no request, so no page language: English.
    if has_request_context():
        return str(gettext(message, **params))
    return messages.english(message, params)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with intake's translations and the locale selector."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    messages.install(_render)
    app.after_request(remember_choice)
    app.jinja_env.globals.update(text_direction=text_direction, languages=LANGUAGES,
                                 locale_name=lambda: str(get_locale() or LANGUAGES[0]))
    app.jinja_env.filters["day"] = lambda day: format_day(day, str(get_locale() or "fa"))
