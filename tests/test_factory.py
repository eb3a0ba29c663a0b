"""The app factory, settings validation and the offline page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from intake import create_app
from intake.store.settings import SettingsError
from tests.conftest import instance_config


def test_factory_builds_an_app_with_validated_settings(app: Flask) -> None:
    settings = app.extensions["intake.settings"]
    assert settings.kdf_profile.name == "insecure-test-only"
    assert settings.desk_id == "main"


def test_uninitialised_instance_serves_the_offline_page(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "KEYS_DIR": str(tmp_path / "keys")})
    assert app.extensions["intake.settings"] is None
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "intake.store.db" not in app.extensions


@pytest.mark.parametrize(("key", "value", "message"), [
    ("SECRET_KEY", "short", "SECRET_KEY"),
    ("PEPPER", None, "PEPPER"),
    ("KDF_PROFILE", "md5", "KDF profiles"),
    ("CODE_KDF_PROFILE", "md5", "KDF profiles"),
    ("DEFAULT_LOCALE", "de", "DEFAULT_LOCALE"),
    ("QUICK_EXIT_URL", "http://example.org/", "https://"),
    ("INSECURE_TEST_PROFILES", False, "test suites only"),
    ("INSECURE_TEST_PROFILES", "true", "test suites only"),
])
def test_settings_refuse_unsafe_values(tmp_path: Path, key: str, value: object,
                                       message: str) -> None:
    from intake.store.settings import DEFAULTS, Settings

    config = DEFAULTS | instance_config(tmp_path) | {key: value}
    with pytest.raises(SettingsError, match=message):
        Settings.from_config(config, tmp_path)


def test_production_default_profile_is_rfc9106_low_memory(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    del config["KDF_PROFILE"]
    app = create_app(config)
    profile = app.extensions["intake.settings"].kdf_profile
    assert (profile.time_cost, profile.memory_cost, profile.parallelism) == (3, 65536, 4)


def test_config_file_and_environment_are_read(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.desk.setup import write_config

    write_config(tmp_path / "instance", {"ORGANISATION_NAME": "Justice for Iran"})
    monkeypatch.setenv("INTAKE_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("INTAKE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("INTAKE_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    settings = app.extensions["intake.settings"]
    assert settings.organisation_name == "Justice for Iran"
    assert settings.keys_dir == (tmp_path / "keys").resolve()
    assert settings.cookie_secure is False
    assert (tmp_path / "instance" / "config.py").stat().st_mode & 0o077 == 0
