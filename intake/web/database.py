"""The request's database session: opened on first use, closed when the request ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask, g
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from intake.store.db import is_busy, make_engine
from intake.web.bound import bind_engine, get_engine


def get_session() -> Session:
    """Return this request's database session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    session: Session = g.db_session
    return session


@contextlib.contextmanager
def unless_busy() -> Iterator[None]:
    """Skip housekeeping the database is too busy for (a later request does it)."""
    try:
        yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        get_session().rollback()


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, rolling back anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask, url: str) -> None:
    """Bind the database to the app."""
    bind_engine(app, make_engine(url))
    app.teardown_appcontext(close_session)
