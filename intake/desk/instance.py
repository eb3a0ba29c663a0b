"""What an instance operator sees of each desk: its state, never its cases, people or log.

The operator is the coalition's host. It administers the instance and holds no
desk's keys, so what it is shown is what it needs to keep the instance running
and could read from the server anyway: each desk's names and description (the
form shows them to everyone), whether it is open, how many active accounts of
each role it has (counts, never names), its current epoch number and whether a
rotation holds or was interrupted. No case count: how many families trusted
which organisation is what a state would want to learn first, and a web login
is easier to phish than the host's shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.crypto import Keyring
from intake.desk import rotation
from intake.desk.desks import DeskInfo, all_desks, stored_desk
from intake.store.models import User
from intake.store.settings import Settings

DESK_ROLES = ("admin", "reviewer")


@dataclass(frozen=True)
class DeskState:
    """One desk as the operator sees it."""

    desk: DeskInfo
    accounts: dict[str, int]
    # None: the desk's row exists but its keys do not (a desk whose setting up never finished).
    epoch: int | None
    # "running" (a rotation or backup holds the desk's lock), "interrupted" or "".
    rotation: str


def active_accounts(db: Session, desk_id: str, settings: Settings) -> dict[str, int]:
    """Count a desk's active accounts per role (the names are never read)."""
    stored = stored_desk(desk_id, settings)
    of_desk = User.desk_id.is_(None) if stored is None else User.desk_id == stored
    rows = db.execute(select(User.role, func.count()).where(of_desk, User.state == "active")
                      .group_by(User.role)).all()
    found = {role: count for role, count in rows}
    return {role: found.get(role, 0) for role in DESK_ROLES}


def rotation_state(keyring: Keyring, instance_path: Path, desk_id: str) -> str:
    """Say whether a desk's rotation is running, was interrupted, or neither."""
    if rotation.running(instance_path, desk_id):
        return "running"
    current = keyring.current_epoch(desk_id).id
    if any(not epoch.retired and epoch.id != current for epoch in keyring.epochs(desk_id)):
        return "interrupted"
    return ""


def desk_states(db: Session, keyring: Keyring, settings: Settings) -> list[DeskState]:
    """Describe every desk of the instance, retired ones included, in the form's order."""
    keyed = set(keyring.desk_ids())
    states = []
    for desk in all_desks(db, settings):
        if desk.id not in keyed:
            states.append(DeskState(desk, active_accounts(db, desk.id, settings), None, ""))
            continue
        states.append(DeskState(desk, active_accounts(db, desk.id, settings),
                                keyring.current_epoch(desk.id).id,
                                rotation_state(keyring, settings.instance_path, desk.id)))
    return states
