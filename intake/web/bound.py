"""Typed access to what the app factory binds to the app: settings, desk, database, uploads.

Views, and the helpers they call during a request, reach the instance's parts
through these functions, never by indexing `app.extensions` with a string.
The factory binds each part once (`bind_*`); the names of the slots are
private to this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from intake.store.blobs import Store
    from intake.store.settings import Settings
    from intake.store.throttle import WorkGate
    from intake.testimonies.submissions import Desk

_SETTINGS = "intake.settings"
_DESK = "intake.desk"
_ENGINE = "intake.db"
_UPLOADS = "intake.uploads"
_CODE_GATE = "intake.code_gate"
_OFFLINE = "intake.offline_reason"


@dataclass
class Uploads:
    """Where request files go and the limits on them (the admin page changes the limits)."""

    store: Store
    endpoints: frozenset[str]
    file_limit: int
    max_files: int
    disk_floor: int


def bind_settings(app: Flask, settings: Settings | None) -> None:
    """Bind the instance's checked settings (None: the instance cannot run, see offline)."""
    app.extensions[_SETTINGS] = settings


def bind_engine(app: Flask, engine: Engine) -> None:
    """Bind the database engine."""
    app.extensions[_ENGINE] = engine


def bind_desk(app: Flask, desk: Desk, uploads: Uploads, code_gate: WorkGate) -> None:
    """Bind the desk submissions go to, the upload limits and the code-check gate."""
    app.extensions[_DESK] = desk
    app.extensions[_UPLOADS] = uploads
    app.extensions[_CODE_GATE] = code_gate


def bind_offline_reason(app: Flask, reason: str) -> None:
    """Bind why the instance serves only the offline page."""
    app.extensions[_OFFLINE] = reason


def settings_of(app: Flask) -> Settings | None:
    """Return an app's settings, or None if its configuration cannot run an instance."""
    return cast("Settings | None", app.extensions.get(_SETTINGS))


def offline_reason(app: Flask) -> str:
    """Return why an app serves only the offline page."""
    return str(app.extensions.get(_OFFLINE, ""))


def get_settings() -> Settings:
    """Return the running instance's settings."""
    settings = settings_of(current_app)
    if settings is None:
        raise RuntimeError("the instance's settings are not usable")
    return settings


def cookie_secure() -> bool:
    """Say whether cookies carry Secure (always, on an instance whose settings failed)."""
    settings = settings_of(current_app)
    return settings.cookie_secure if settings is not None else True


def default_locale() -> str:
    """Return the instance's default language (Persian where the settings failed)."""
    settings = settings_of(current_app)
    return settings.default_locale if settings is not None else "fa"


def get_desk() -> Desk:
    """Return the desk submissions are filed to (keyring, store, secrets)."""
    return cast("Desk", _bound(_DESK))


def get_store() -> Store:
    """Return the store of encrypted blobs."""
    return get_desk().store


def get_engine() -> Engine:
    """Return the database engine."""
    return cast("Engine", _bound(_ENGINE))


def get_uploads() -> Uploads:
    """Return the upload limits in force."""
    return cast(Uploads, _bound(_UPLOADS))


def get_code_gate() -> WorkGate:
    """Return the gate that bounds how many follow-up code checks run at once."""
    return cast("WorkGate", _bound(_CODE_GATE))


def _bound(slot: str) -> Any:
    return current_app.extensions[slot]
