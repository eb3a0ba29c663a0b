"""Load and validate configuration; the only reader of raw config values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from intake.crypto import PROFILES, Profile
from intake.crypto.signing import parse_fingerprint

LANGUAGES = ("fa", "en")
TEST_PROFILE = "insecure-test-only"

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
    # Families may write for hours and upload slowly over Tor.
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    "MAX_FORM_PARTS": 200,
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    "MAX_FILES": 20,
    "DISK_FLOOR_BYTES": 512 * 1024 * 1024,
    "CODE_KDF_PROFILE": "family-code",
    # How long a rotation waits after switching epochs before destroying old grants,
    # so that requests begun before the switch (gunicorn's timeout is 120 s) finish.
    "ROTATION_SETTLE_SECONDS": 150,
    # Only a test suite sets this; without it the cheap Argon2 profile is refused.
    "INSECURE_TEST_PROFILES": False,
    # The desk's root of trust, as `intake init` printed it; the server refuses to seal to
    # an epoch that does not chain to it. Empty before the keyring is certified.
    "ROOT_FINGERPRINT": "",
    # An RFC 3161 time-stamping authority evidence bundles are timestamped by ("" for none).
    "TSA_URL": "",
    # The roots of the desks `intake desks add` made, as "desk=FINGERPRINT" separated by ";".
    "DESK_ROOTS": "",
}


class SettingsError(Exception):
    """The configuration cannot run a safe instance."""


# The largest upload limit the admin page offers (8192 MiB); a restored backup may not set more.
MAX_UPLOAD_CEILING = 8 * 2**30


def _check_cookie_and_size(config: dict[str, Any]) -> None:
    """Refuse a session cookie that is not HttpOnly and Strict, or an unbounded upload size."""
    # Only Secure may be turned off (plain-HTTP local use); these come from config.py, which a
    # restore writes from a backup that someone may have edited.
    if config["SESSION_COOKIE_SAMESITE"] != "Strict":
        raise SettingsError("SESSION_COOKIE_SAMESITE must be Strict")
    if config["SESSION_COOKIE_HTTPONLY"] is not True:
        raise SettingsError("SESSION_COOKIE_HTTPONLY must be true")
    if not 0 < int(config["MAX_CONTENT_LENGTH"]) <= MAX_UPLOAD_CEILING:
        raise SettingsError("MAX_CONTENT_LENGTH must be at most 8 GiB")


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
    pepper: bytes
    code_profile: Profile
    max_upload_bytes: int
    max_files: int
    disk_floor_bytes: int
    settle_seconds: int
    root: bytes | None = None
    tsa_url: str | None = None
    # Every desk's pinned root, the first desk's (ROOT_FINGERPRINT) included.
    desk_roots: dict[str, bytes] = field(default_factory=dict)
    # The instance's first desk (DESK_ID), whatever desk `for_desk` points these settings at.
    first_desk: str = ""

    def for_desk(self, desk_id: str) -> Settings:
        """Return these settings pointed at one desk: its id and its pinned root."""
        return replace(self, desk_id=desk_id, root=self.desk_roots.get(desk_id))

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
        code_profile = PROFILES.get(config["CODE_KDF_PROFILE"])
        if profile is None or code_profile is None:
            raise SettingsError(f"KDF profiles must be among {', '.join(PROFILES)}")
        if TEST_PROFILE in (profile.name, code_profile.name) and \
                config["INSECURE_TEST_PROFILES"] is not True:
            raise SettingsError(f"the {TEST_PROFILE} KDF profile is for test suites only")
        if config["DEFAULT_LOCALE"] not in LANGUAGES:
            raise SettingsError(f"DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}")
        _check_cookie_and_size(config)
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
            pepper=bytes.fromhex(pepper),
            code_profile=code_profile,
            max_upload_bytes=int(config["MAX_CONTENT_LENGTH"]),
            max_files=int(config["MAX_FILES"]),
            disk_floor_bytes=int(config["DISK_FLOOR_BYTES"]),
            settle_seconds=int(config["ROTATION_SETTLE_SECONDS"]),
            root=_root(config.get("ROOT_FINGERPRINT", "")),
            tsa_url=_tsa_url(config.get("TSA_URL", "")),
            desk_roots=_desk_roots(str(config["DESK_ID"]), config.get("ROOT_FINGERPRINT", ""),
                                   config.get("DESK_ROOTS", "")),
            first_desk=str(config["DESK_ID"]),
        )


def _root(text: object) -> bytes | None:
    """Read ROOT_FINGERPRINT: empty (not yet certified) or a fingerprint as printed."""
    if text in ("", None):
        return None
    try:
        return parse_fingerprint(str(text))
    except ValueError:
        raise SettingsError("ROOT_FINGERPRINT is not a key fingerprint: copy it as "
                            "`intake init` printed it") from None


def _tsa_url(value: object) -> str | None:
    """Read TSA_URL: empty, or an http(s) address of an RFC 3161 time-stamping authority.

    Plain http is allowed: a token is signed by the authority, and what is sent
    is only a hash of a bundle's signature.
    """
    if value in ("", None):
        return None
    text = str(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or any(ch.isspace() for ch in text) or parts.username or parts.password:
        raise SettingsError("TSA_URL must be an http:// or https:// address of a "
                            "time-stamping authority, without spaces or credentials")
    return text


def _desk_roots(first: str, first_root: object, text: object) -> dict[str, bytes]:
    """Read DESK_ROOTS ("desk=FINGERPRINT;...") and the first desk's ROOT_FINGERPRINT."""
    roots: dict[str, bytes] = {}
    for item in str(text or "").split(";"):
        if not item.strip():
            continue
        desk, _, fingerprint = item.partition("=")
        root = _root(fingerprint.strip())
        if root is None or not desk.strip():
            raise SettingsError("DESK_ROOTS holds an entry that is not desk=FINGERPRINT")
        roots[desk.strip()] = root
    first_pinned = _root(first_root)
    if first_pinned is not None:
        roots[first] = first_pinned
    return roots


def render_desk_roots(roots: dict[str, str]) -> str:
    """Write DESK_ROOTS from desk ids and printed fingerprints."""
    return ";".join(f"{desk}={text}" for desk, text in sorted(roots.items()))
