"""Response headers, cookies and CSRF: the web hygiene every response carries."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import BadRequest

from intake.web import untimed

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'none'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
}

HEADERS = {
    "Content-Security-Policy": "; ".join(
        f"{directive} {' '.join(sources)}" for directive, sources in CONTENT_SECURITY_POLICY.items()
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    # Nothing a family or reviewer sees may linger in a browser or proxy cache.
    "Cache-Control": "no-store, max-age=0",
    "Pragma": "no-cache",
}


def set_headers(response: Response) -> Response:
    """Add the security headers to a response, errors included."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def refuse_nameless_parts() -> None:
    """Refuse form parts without a name, which no browser sends (and CSRF checks trip on)."""
    if request.method == "POST" and (None in request.form or None in request.files):
        raise BadRequest("a form part has no name")


def init_app(app: Flask) -> None:
    """Wire headers and CSRF protection into the app."""
    app.before_request(refuse_nameless_parts)
    untimed.init_app(app)
    csrf.init_app(app)
    app.after_request(set_headers)
