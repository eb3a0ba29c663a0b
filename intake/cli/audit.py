"""`intake audit verify`: check the audit log and its signed checkpoints."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from intake.cli.common import settings_or_exit
from intake.crypto import (
    Keyring,
)
from intake.store.db import make_engine


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit log's chain, head and signed checkpoints; name where it breaks."""

    from intake.desk.audit import AuditError, check_checkpoints, verify
    from intake.desk.trust import TrustError, load_chain, server_root

    settings = settings_or_exit(current_app)
    keyring = Keyring(settings.keys_dir)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        try:
            head = verify(session)
            root = server_root(keyring, settings.desk_id, settings.root)
            checked = (check_checkpoints(session, load_chain(keyring, settings.desk_id, root),
                                         keyring.certificates(settings.desk_id))
                       if root is not None else None)
        except (AuditError, TrustError) as exc:
            raise click.ClickException(str(exc)) from None
    engine.dispose()
    # Kept elsewhere (a notebook, a ticket), the head shows a later rewrite of the log.
    click.echo(f"the audit log is intact ({head.count} entries); its head is {head.hash}")
    if checked is None:
        click.echo("WARNING: the keyring is not certified, so no checkpoint was signed: a "
                   "rewrite of the whole log is caught only by a head kept elsewhere.")
    else:
        click.echo(f"{checked[0]} signed checkpoints hold; they cover entries 1-{checked[1]}")
