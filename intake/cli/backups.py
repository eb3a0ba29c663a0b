"""`intake backup` and `intake restore`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from intake.cli.common import context
from intake.crypto.signing import parse_fingerprint
from intake.desk import rotation, trust


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write one consistent backup (database, store, keyring, settings) to PATH."""
    from intake.desk.backup import BackupError, write_backup

    settings, _, _ = context()
    try:
        with rotation.exclusive(settings.instance_path, settings.desk_id):
            written = write_backup(settings.instance_path, settings.keys_dir, path.resolve(),
                                   settings.database_url)
    except (BackupError, rotation.RotationError) as exc:
        raise click.ClickException(f"{exc}; no backup was written") from None
    click.echo(f"Wrote {written.count} files to {path}. It holds ciphertext, wrapped keys and "
               "the instance's settings with its secret key and pepper: keep it as carefully "
               "as the server.")
    if written.left_out:
        click.echo(f"config.py also sets {', '.join(written.left_out)}, which a backup does "
                   "not carry: set them again after a restore.", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", "root_texts", multiple=True, metavar="[DESK=]FINGERPRINT",
              help="The root fingerprint printed at `intake init` (the first desk's), and, "
                   "once per other desk, DESK=FINGERPRINT as `intake desks add` printed it; "
                   "each desk's keyring must chain to its own. Without it, each desk's root "
                   "in the backup is shown for you to confirm.")
@with_appcontext
def restore_command(path: Path, root_texts: tuple[str, ...]) -> None:
    """Restore a backup into this (empty) instance folder and keyring."""
    from intake.desk.backup import BackupError
    from intake.desk.restore import restore_backup

    instance = Path(current_app.instance_path)
    keys = Path(current_app.config["KEYS_DIR"]).resolve()
    given = given_roots(root_texts)

    def check_root(desk_id: str, first: bool, found: bytes | None) -> bytes | None:
        if given:
            # The first desk's may be given plainly, as before desks, or by its name.
            return given.get(desk_id) or (given.get(FIRST) if first else None)
        return confirmed_root(desk_id, first, found)

    # Not carried by the backup: the host's own database, from INTAKE_DATABASE_URL.
    database_url = current_app.config.get("DATABASE_URL")
    try:
        count = restore_backup(path, instance, keys, check_root, database_url,
                               named=[desk for desk in given if desk != FIRST])
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was restored") from None
    click.echo(f"Restored {count} files into {instance} and {keys}; config.py was written "
               "from the backup's settings. Run `intake audit verify` next.")
    if database_url:
        click.echo("config.py does not name the database: keep INTAKE_DATABASE_URL set "
                   "for the server.")


# The key under which given_roots keeps a plain --root FINGERPRINT: the first desk's.
FIRST = ""


def given_roots(root_texts: tuple[str, ...]) -> dict[str, bytes]:
    """Read the --root options: FINGERPRINT (the first desk's) or DESK=FINGERPRINT."""
    given: dict[str, bytes] = {}
    for text in root_texts:
        desk, _, fingerprint = text.rpartition("=")
        desk = desk.strip()
        if desk in given:
            named = f"desk {desk}" if desk else "the first desk"
            raise click.ClickException(f"--root names {named} twice; nothing was restored")
        try:
            given[desk] = parse_fingerprint(fingerprint)
        except ValueError as exc:
            raise click.ClickException(f"--root {text}: {exc}; nothing was restored") from None
    return given


def confirmed_root(desk_id: str, first: bool, found: bytes | None) -> bytes | None:
    """Show a desk's root as the backup holds it and have the admin confirm it."""
    if found is None:
        click.echo("WARNING: this backup's keyring is not certified; after restoring, run "
                   "`intake keys certify --admin NAME`.", err=True)
        return None
    if first:
        click.echo(f"The backup's keyring has the root fingerprint\n  "
                   f"{trust.fingerprint_text(found)}")
        click.confirm("Is it the one printed when this instance was set up (kept with the "
                      "recovery key)?", abort=True)
        return found
    click.echo(f"The backup's keyring of desk {desk_id} has the root fingerprint\n  "
               f"{trust.fingerprint_text(found)}")
    click.confirm(f"Is it the one printed when desk {desk_id} was added (kept with its "
                  "recovery key)?", abort=True)
    return found
