"""A coalition: the instance's first desk (main) and desks b and c, each with an admin and a
reviewer of its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.desk.setup import add_desk
from intake.store.settings import render_desk_roots
from intake.web import create_app
from tests.conftest import ADMIN_PASSPHRASE, REVIEWER_PASSPHRASE, Instance, Recipe
from tests.review.conftest import log_in, totp_now

NAMES = {"b": ({"en": "Justice for Iran desk", "fa": "میز عدالت برای ایران"},
               {"en": "Documents executions for legal cases.",
                "fa": "اعدام‌ها را برای پرونده‌های حقوقی ثبت می‌کند."}),
         "c": ({"en": "Mothers of Khavaran desk", "fa": "میز مادران خاوران"},
               {"en": "Keeps the names of the buried.", "fa": "نام خاک‌سپردگان را نگه می‌دارد."})}


@dataclass
class Coalition:
    """The three desks' instance and its root fingerprints."""

    instance: Instance
    roots: dict[str, str]


def add_desks(instance: Instance) -> dict[str, Any]:
    """Add desks b and c (admin and reviewer each, named b-admin, b-reviewer, ...)."""
    app = create_app(dict(instance.config))
    settings = app.extensions["intake.settings"]
    roots = {}
    for desk_id, (names, descriptions) in NAMES.items():
        made = add_desk(settings, desk_id, names, descriptions, [
            (f"{desk_id}-admin", "admin", ADMIN_PASSPHRASE),
            (f"{desk_id}-reviewer", "reviewer", REVIEWER_PASSPHRASE)])
        roots[desk_id] = made.root_text
    app.extensions["intake.db"].dispose()
    instance.config["DESK_ROOTS"] = render_desk_roots(roots)
    return {"roots": roots}


@pytest.fixture
def instance_recipe(request: pytest.FixtureRequest) -> Recipe | None:
    """Tests of the coalition get a copy of a coalition set up once per session."""
    return ("coalition", add_desks) if "coalition" in request.fixturenames else None


@pytest.fixture
def coalition(instance: Instance) -> Coalition:
    """The instance with desks b and c (admin and reviewer each, named b-admin, ...)."""
    return Coalition(instance, dict(instance.extra["roots"]))


@pytest.fixture
def app(coalition: Coalition) -> Flask:
    """The coalition's application (overrides the single-desk one)."""
    return create_app(dict(coalition.instance.config))


def passphrase_of(name: str) -> str:
    """The test passphrase of a coalition account."""
    return ADMIN_PASSPHRASE if name.endswith("admin") else REVIEWER_PASSPHRASE


def logged_in(app: Flask, name: str) -> FlaskClient:
    """A browser of a coalition account, logged in."""
    client = app.test_client()
    response = log_in(app, client, name, passphrase_of(name), totp_now(app, name))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


__all__ = ["Coalition", "Path", "logged_in", "passphrase_of"]
