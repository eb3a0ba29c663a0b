"""The keyring in `keys/`: public keys, passphrase-wrapped private keys and grants.

Nothing here is an unwrapped private key: a desk epoch's private key exists
on disk only sealed to a reviewer's or the recovery key's public key (a
grant), and a reviewer's private key only wrapped under their passphrase.

    desks/<desk>/desk.json                         name, current epoch
    desks/<desk>/recovery.json                     recovery public key
    desks/<desk>/epochs/<n>/epoch.json             epoch public key, created day
    desks/<desk>/epochs/<n>/grants/<fp>.grant      epoch key sealed to key <fp>
    desks/<desk>/certs/<seq>.cert                  the desk's certificate chain (certs.py)
    users/<user id>.json                           public keys, wrapped private keys

Every file is written atomically (temporary name, fsync, rename); a
certificate is linked into place only if its sequence number is free, so two
admins certifying at once cannot overwrite each other's certificate.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._encoding import FINGERPRINT_SIZE, check_id
from ._encoding import ID_PATTERN as _ID
from .files import (
    atomic_write,
    contained,
    fsync_dir,
    make_private_dirs,
    overwrite,
    overwrite_open,
)
from .keys import PublicKey


class KeyringError(Exception):
    """The keyring lacks an entry, or an entry is unreadable."""


@dataclass(frozen=True)
class Desk:
    """A key hierarchy and the reviewers who may read it."""

    id: str
    name: str
    current_epoch: int
    current_since: int = 0  # when the current epoch became current (Unix seconds)


@dataclass(frozen=True)
class Epoch:
    """A desk's key pair for a period; only its public half is kept here."""

    desk_id: str
    id: int
    public_key: PublicKey
    created: dt.date
    retired: bool


class Keyring:
    """Read and write the keyring folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def create_desk(self, desk_id: str, name: str) -> None:
        """Record a new desk; its first epoch is added with `add_epoch`."""
        path = self._path("desks", check_id(desk_id, "desk id"), "desk.json")
        if path.exists():
            raise KeyringError(f"desk {desk_id} exists already")
        self._write_json(path, {"id": desk_id, "name": name, "current_epoch": 0})

    def desk(self, desk_id: str) -> Desk:
        """Return a desk's record."""
        data = self._read_json("desks", check_id(desk_id, "desk id"), "desk.json")
        return Desk(data["id"], data["name"], int(data["current_epoch"]),
                    int(data.get("current_since", 0)))

    def desk_ids(self) -> list[str]:
        """List the desks, sorted."""
        folder = self.root / "desks"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.is_dir() and _ID.fullmatch(p.name) and (p / "desk.json").is_file())

    def add_epoch(self, desk_id: str, public_key: PublicKey, created: dt.date,
                  after: int = 0) -> Epoch:
        """Record the next epoch of a desk (not yet current), numbered above `after`."""
        newest = max((e.id for e in self.epochs(desk_id)), default=0)
        epoch = Epoch(desk_id, max(newest, after) + 1, public_key, created, retired=False)
        self._write_epoch(epoch)
        return epoch

    def set_current_epoch(self, desk_id: str, epoch_id: int, now: int = 0) -> None:
        """Make new submissions to the desk seal to `epoch_id`."""
        desk = self.desk(desk_id)
        self.epoch(desk_id, epoch_id)
        path = self._path("desks", desk_id, "desk.json")
        self._write_json(path, {"id": desk.id, "name": desk.name, "current_epoch": epoch_id,
                                "current_since": now})

    def remove_epoch(self, desk_id: str, epoch_id: int) -> None:
        """Forget an epoch that never became current (a rotation that died before its grants)."""
        if self.desk(desk_id).current_epoch == epoch_id:
            raise KeyringError("the current epoch cannot be removed")
        folder = self._path("desks", check_id(desk_id, "desk id"), "epochs", str(int(epoch_id)))
        for grant in self.grant_recipients(desk_id, epoch_id):
            self.delete_grant(desk_id, epoch_id, grant)
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        folder.rmdir()
        fsync_dir(folder.parent)

    def current_epoch(self, desk_id: str) -> Epoch:
        """Return the epoch new submissions to the desk are sealed to."""
        return self.epoch(desk_id, self.desk(desk_id).current_epoch)

    def epoch(self, desk_id: str, epoch_id: int) -> Epoch:
        """Return one epoch's public record."""
        data = self._read_json("desks", check_id(desk_id, "desk id"), "epochs",
                               str(int(epoch_id)), "epoch.json")
        return Epoch(desk_id, int(data["id"]), PublicKey(_b64(data["public_key"])),
                     dt.date.fromisoformat(data["created"]), bool(data["retired"]))

    def epochs(self, desk_id: str) -> list[Epoch]:
        """List a desk's epochs, oldest first."""
        folder = self._path("desks", check_id(desk_id, "desk id"), "epochs")
        if not folder.is_dir():
            return []
        # A folder without epoch.json is an epoch whose first write never finished.
        ids = sorted(int(p.name) for p in folder.iterdir()
                     if p.name.isdigit() and (p / "epoch.json").is_file())
        return [self.epoch(desk_id, n) for n in ids]

    def retire_epoch(self, desk_id: str, epoch_id: int) -> None:
        """Mark an epoch retired once nothing is sealed to it any more."""
        epoch = self.epoch(desk_id, epoch_id)
        self._write_epoch(Epoch(desk_id, epoch.id, epoch.public_key, epoch.created, True))

    def set_recovery_key(self, desk_id: str, public_key: PublicKey) -> None:
        """Record the public half of the desk's offline recovery key."""
        path = self._path("desks", check_id(desk_id, "desk id"), "recovery.json")
        self._write_json(path, {"public_key": _text(public_key.raw),
                                "fingerprint": public_key.fingerprint.hex()})

    def recovery_key(self, desk_id: str) -> PublicKey:
        """Return the desk's recovery public key."""
        data = self._read_json("desks", check_id(desk_id, "desk id"), "recovery.json")
        return PublicKey(_b64(data["public_key"]))

    def put_grant(self, desk_id: str, epoch_id: int, recipient: PublicKey, grant: bytes) -> None:
        """Store an epoch private key sealed to `recipient`."""
        self.epoch(desk_id, epoch_id)
        atomic_write(self._grant_path(desk_id, epoch_id, recipient.fingerprint), grant)

    def grant(self, desk_id: str, epoch_id: int, recipient: bytes) -> bytes | None:
        """Return the grant of an epoch to the key with fingerprint `recipient`, if any."""
        path = self._grant_path(desk_id, epoch_id, recipient)
        return path.read_bytes() if path.is_file() else None

    def grant_recipients(self, desk_id: str, epoch_id: int) -> list[bytes]:
        """List the fingerprints of the keys an epoch is granted to."""
        folder = self._path("desks", check_id(desk_id, "desk id"), "epochs",
                            str(int(epoch_id)), "grants")
        if not folder.is_dir():
            return []
        return sorted(bytes.fromhex(p.stem) for p in folder.glob("*.grant"))

    def delete_grant(self, desk_id: str, epoch_id: int, recipient: bytes) -> bool:
        """Destroy one grant, overwriting it before unlinking it; return whether there was one."""
        path = self._grant_path(desk_id, epoch_id, recipient)
        try:
            overwrite(path)
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(path.parent)
        return True

    def remove_stale_temporaries(self, desk_id: str, older_than: int = 60) -> list[Path]:
        """Remove temporary files a crashed write left in a desk's folder; return them.

        A write takes milliseconds, so a temporary file this old belongs to no live write.
        """
        folder = self._path("desks", check_id(desk_id, "desk id"))
        removed = []
        for path in folder.rglob(".*.tmp"):
            if path.is_file() and time.time() - path.stat().st_mtime > older_than:
                overwrite(path)
                path.unlink()
                fsync_dir(path.parent)
                removed.append(path)
        return removed

    def certificates(self, desk_id: str) -> list[bytes]:
        """Return a desk's certificates in sequence order (the chain is not checked here)."""
        folder = self._path("desks", check_id(desk_id, "desk id"), "certs")
        if not folder.is_dir():
            return []
        return [path.read_bytes() for path in sorted(folder.glob("*.cert"))
                if _CERT.fullmatch(path.name)]

    def append_certificate(self, desk_id: str, seq: int, blob: bytes) -> None:
        """Add certificate `seq` to a desk's chain; raise KeyringError if it is taken."""
        path = self._path("desks", check_id(desk_id, "desk id"), "certs", f"{int(seq):06d}.cert")
        make_private_dirs(path.parent)
        temp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        atomic_write(temp, blob)
        try:
            # link() never replaces: of two admins certifying at once, one gets this number.
            os.link(temp, path)
        except FileExistsError:
            raise KeyringError(f"certificate {seq} of desk {desk_id} exists already") from None
        finally:
            temp.unlink()
        fsync_dir(path.parent)

    def signing_key(self, user_id: str) -> bytes | None:
        """Return a user's signing public key, if the account has one yet."""
        data = self._read_json("users", check_id(user_id, "user id") + ".json")
        text = data.get("signing_public_key")
        return _b64(text) if isinstance(text, str) else None

    def put_user_key(self, user_id: str, public_key: PublicKey, wrapped: bytes,
                     signing_public: bytes | None = None) -> None:
        """Store a user's public keys and passphrase-wrapped private keys.

        The entry it replaces (a key wrapped under an old passphrase, or a key
        pair being replaced) is overwritten once the new one is in place.
        """
        path = self._path("users", check_id(user_id, "user id") + ".json")
        try:
            # Held open across the rename, so the old file's bytes can still be reached.
            old = path.open("r+b")
        except FileNotFoundError:
            old = None
        with old or contextlib.nullcontext():
            entry = {"id": user_id, "public_key": _text(public_key.raw),
                     "fingerprint": public_key.fingerprint.hex(), "wrapped_key": _text(wrapped)}
            if signing_public is not None:
                entry["signing_public_key"] = _text(signing_public)
            self._write_json(path, entry)
            if old is not None:
                overwrite_open(old)

    def user_key(self, user_id: str) -> tuple[PublicKey, bytes]:
        """Return a user's public key and wrapped private key."""
        data = self._read_json("users", check_id(user_id, "user id") + ".json")
        return PublicKey(_b64(data["public_key"])), _b64(data["wrapped_key"])

    def delete_user_key(self, user_id: str) -> None:
        """Forget a user's key pair."""
        path = self._path("users", check_id(user_id, "user id") + ".json")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)

    def _grant_path(self, desk_id: str, epoch_id: int, recipient: bytes) -> Path:
        return self._path("desks", check_id(desk_id, "desk id"), "epochs", str(int(epoch_id)),
                          "grants", bytes(recipient).hex() + ".grant")

    def _write_epoch(self, epoch: Epoch) -> None:
        path = self._path("desks", epoch.desk_id, "epochs", str(epoch.id), "epoch.json")
        self._write_json(path, {"id": epoch.id, "public_key": _text(epoch.public_key.raw),
                                "fingerprint": epoch.public_key.fingerprint.hex(),
                                "created": epoch.created.isoformat(), "retired": epoch.retired})

    def _path(self, *parts: str) -> Path:
        return contained(self.root, *parts)

    def _read_json(self, *parts: str) -> dict[str, Any]:
        path = self._path(*parts)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise KeyringError(f"missing from the keyring: {'/'.join(parts)}") from exc
        except ValueError as exc:
            raise KeyringError(f"unreadable keyring entry: {'/'.join(parts)}") from exc
        if not isinstance(data, dict):
            raise KeyringError(f"unreadable keyring entry: {'/'.join(parts)}")
        return data

    def _write_json(self, path: Path, data: dict[str, Any]) -> None:
        atomic_write(path, json.dumps(data, indent=2, sort_keys=True).encode() + b"\n")


def _text(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


_CERT = re.compile(r"[0-9]{6}\.cert")

# Every file the layout above names, as a path relative to the keyring's root.
# A backup carries these and nothing else; a restore writes nothing else.
_ENTRY = re.compile(
    rf"desks/{_ID.pattern}/(?:desk\.json|recovery\.json"
    rf"|epochs/[0-9]{{1,9}}/(?:epoch\.json|grants/[0-9a-f]{{{2 * FINGERPRINT_SIZE}}}\.grant)"
    rf"|certs/[0-9]{{6}}\.cert)"
    rf"|users/{_ID.pattern}\.json")


def is_keyring_file(relative: str) -> bool:
    """Say whether `relative` (slash-separated, from the keyring's root) is a keyring file."""
    return _ENTRY.fullmatch(relative) is not None
