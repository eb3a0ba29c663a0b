"""Settings admins change at run time: organisation name, upload limit, accepted file types."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from intake.store.models import InstanceSetting

# "organisation_name" is the English name (and the name for any other language);
# "organisation_name_fa" the Persian one.
KEYS = ("organisation_name", "organisation_name_fa", "upload_limit_mib", "accepted_types")


@dataclass(frozen=True)
class LiveSettings:
    """The current values, from the database where an admin set them, else from config."""

    organisation_name: str
    upload_limit_mib: int
    accepted_types: tuple[str, ...]  # file name extensions; empty means any
    organisation_name_fa: str = ""

    def organisation_for(self, locale: str) -> str:
        """Return the organisation's name in `locale`, else its name in the other language."""
        names = (self.organisation_name_fa, self.organisation_name)
        preferred, other = names if locale == "fa" else names[::-1]
        return preferred or other

    def accepts(self, client_filename: str) -> bool:
        """Say whether a file of this name may be uploaded."""
        if not self.accepted_types:
            return True
        extension = client_filename.rsplit(".", 1)[-1].lower() if "." in client_filename else ""
        return extension in self.accepted_types


def parse_types(text: str) -> tuple[str, ...]:
    """Read a comma-separated list of extensions, forgiving dots, spaces and case."""
    return tuple(sorted({t.strip().lstrip(".").lower() for t in text.split(",") if t.strip()}))


def load(db: Session, organisation_name: str, upload_limit_bytes: int) -> LiveSettings:
    """Return the live settings, falling back to config values."""
    stored = {row.key: row.value for row in db.query(InstanceSetting)}
    english = stored.get("organisation_name", "")
    persian = stored.get("organisation_name_fa", "")
    # An admin may leave one language empty; with both empty, the configured name stands.
    if not (english or persian):
        english = organisation_name
    return LiveSettings(
        organisation_name=english,
        organisation_name_fa=persian,
        upload_limit_mib=int(stored.get("upload_limit_mib") or upload_limit_bytes // 2**20),
        accepted_types=parse_types(stored.get("accepted_types", "")))


def save(db: Session, values: dict[str, str]) -> None:
    """Store changed settings (the caller commits)."""
    for key, value in values.items():
        if key not in KEYS:
            raise KeyError(key)
        row = db.get(InstanceSetting, key)
        if row is None:
            db.add(InstanceSetting(key=key, value=value))
        else:
            row.value = value
