"""Fixtures shared by the whole suite: a migrated instance, its app, client and CLI runner."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from intake import create_app
from intake.setup import Initialised, initialise

# Instances that tests start in other processes (`intake init`, gunicorn) may use
# the cheap Argon2 profile too; outside a test suite it is refused.
os.environ["INTAKE_INSECURE_TEST_PROFILES"] = "true"

ADMIN_PASSPHRASE = "admin passphrase for tests"
REVIEWER_PASSPHRASE = "reviewer passphrase for tests"


@dataclass
class Instance:
    """A temporary instance folder and keyring, and what set-up printed."""

    instance_path: Path
    keys_dir: Path
    config: dict[str, object]
    initialised: Initialised | None = None


def instance_config(root: Path) -> dict[str, object]:
    """Return a test configuration (cheap Argon2 profile, plain-HTTP cookies)."""
    return {
        "INSTANCE_PATH": str(root / "instance"),
        "KEYS_DIR": str(root / "keys"),
        "SECRET_KEY": secrets.token_hex(32),
        "PEPPER": secrets.token_hex(32),
        "KDF_PROFILE": "insecure-test-only",
        "CODE_KDF_PROFILE": "insecure-test-only",
        "INSECURE_TEST_PROFILES": True,
        "DISK_FLOOR_BYTES": 1024 * 1024,
        "ROTATION_SETTLE_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    """An initialised instance with an admin and a reviewer, both granted the first epoch."""
    config = instance_config(tmp_path)
    inst = Instance(tmp_path / "instance", tmp_path / "keys", config)
    app = create_app(dict(config))
    inst.initialised = initialise(app.extensions["intake.settings"], [
        ("admin", "admin", ADMIN_PASSPHRASE), ("reviewer", "reviewer", REVIEWER_PASSPHRASE)])
    # As `intake init` writes it into config.py: the root the server checks the keyring against.
    config["ROOT_FINGERPRINT"] = inst.initialised.root_text
    return inst


@pytest.fixture
def app(instance: Instance) -> Flask:
    """The application for the test instance."""
    return create_app(dict(instance.config))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()
