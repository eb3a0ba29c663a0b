"""Load and validate configuration; the only reader of raw config values."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .crypto import PROFILES, Profile

LANGUAGES = ("fa", "en")
_log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "ORGANISATION_NAME": "intake",
    "DESK_ID": "main",
    "DEFAULT_LOCALE": "fa",
    "KDF_PROFILE": "rfc9106-low-memory",
    "MAX_CONTENT_LENGTH": 100 * 1024 * 1024,
    "QUICK_EXIT_URL": "https://www.google.com/",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_NAME": "intake_session",
    "WTF_CSRF_TIME_LIMIT": 3600,
}


class SettingsError(Exception):
    """The configuration cannot run a safe instance."""


@dataclass(frozen=True)
class Settings:
    """Validated settings for one instance."""

    instance_path: Path
    keys_dir: Path
    database_url: str
    organisation_name: str
    desk_id: str
    default_locale: str
    kdf_profile: Profile
    quick_exit_url: str
    cookie_secure: bool

    @classmethod
    def from_config(cls, config: dict[str, Any], instance_path: Path) -> Settings:
        """Check the values an instance needs, failing with a message that says what to fix."""
        secret = config.get("SECRET_KEY")
        if not isinstance(secret, str) or len(secret) < 64:
            raise SettingsError("SECRET_KEY is missing or short: run `intake init`")
        pepper = config.get("PEPPER")
        if not isinstance(pepper, str) or len(pepper) < 64:
            raise SettingsError("PEPPER is missing or short: run `intake init`")
        profile = PROFILES.get(config["KDF_PROFILE"])
        if profile is None:
            raise SettingsError(f"KDF_PROFILE must be one of {', '.join(PROFILES)}")
        if profile.name == "insecure-test-only":
            _log.warning("KDF_PROFILE is insecure-test-only: never use this outside tests")
        if config["DEFAULT_LOCALE"] not in LANGUAGES:
            raise SettingsError(f"DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}")
        url = str(config["QUICK_EXIT_URL"])
        if not url.startswith("https://"):
            raise SettingsError("QUICK_EXIT_URL must be an https:// address")
        return cls(
            instance_path=instance_path,
            keys_dir=Path(config["KEYS_DIR"]).resolve(),
            database_url=config.get("DATABASE_URL")
            or f"sqlite:///{instance_path / 'intake.sqlite3'}",
            organisation_name=str(config["ORGANISATION_NAME"]),
            desk_id=str(config["DESK_ID"]),
            default_locale=config["DEFAULT_LOCALE"],
            kdf_profile=profile,
            quick_exit_url=url,
            cookie_secure=bool(config["SESSION_COOKIE_SECURE"]),
        )
