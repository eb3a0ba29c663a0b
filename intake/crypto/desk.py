"""Desk operations over the keyring: create a desk, grant and unlock its epochs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ._errors import DecryptionError
from .envelope import open_epoch_key, seal_epoch_key
from .keyring import Epoch, Keyring
from .keys import PrivateKey, PublicKey
from .recovery import (
    format_recovery_secret,
    new_recovery_secret,
    recovery_key,
    recovery_signing_key,
)
from .signing import SigningPublicKey


@dataclass(frozen=True)
class NewDesk:
    """What creating a desk hands back once, to be granted and printed, never stored."""

    epoch: Epoch
    epoch_key: PrivateKey
    recovery_text: str
    recovery_signing: SigningPublicKey


def create_desk(keyring: Keyring, desk_id: str, name: str, today: dt.date) -> NewDesk:
    """Create a desk, its first epoch, and its recovery key granted that epoch."""
    secret = new_recovery_secret()
    recovery_public = recovery_key(secret).public_key
    keyring.create_desk(desk_id, name)
    keyring.set_recovery_key(desk_id, recovery_public)
    epoch_key = PrivateKey.generate()
    epoch = keyring.add_epoch(desk_id, epoch_key.public_key, today)
    grant_epoch(keyring, epoch, epoch_key, recovery_public)
    keyring.set_current_epoch(desk_id, epoch.id)
    return NewDesk(epoch, epoch_key, format_recovery_secret(secret),
                   recovery_signing_key(secret).public_key)


def grant_epoch(keyring: Keyring, epoch: Epoch, epoch_key: PrivateKey,
                recipient: PublicKey) -> None:
    """Seal an epoch's private key to `recipient` and store the grant."""
    if epoch_key.public_key != epoch.public_key:
        raise ValueError("this private key does not belong to the epoch")
    grant = seal_epoch_key(epoch_key, recipient, desk_id=epoch.desk_id, epoch_id=epoch.id)
    keyring.put_grant(epoch.desk_id, epoch.id, recipient, grant)


def unlock_epochs(keyring: Keyring, key: PrivateKey) -> dict[tuple[str, int], PrivateKey]:
    """Open every epoch granted to `key`; epochs without a grant are left out."""
    unlocked: dict[tuple[str, int], PrivateKey] = {}
    for desk_id in keyring.desk_ids():
        for epoch in keyring.epochs(desk_id):
            grant = keyring.grant(desk_id, epoch.id, key.fingerprint)
            if grant is None:
                continue
            try:
                unlocked[desk_id, epoch.id] = open_epoch_key(
                    grant, key, desk_id=desk_id, epoch_id=epoch.id, epoch_public=epoch.public_key)
            except DecryptionError:
                continue
    return unlocked
