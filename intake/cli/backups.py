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
@click.option("--root", "root_text", default=None,
              help="The root fingerprint printed at `intake init`; the backup's keyring must "
                   "chain to it. Without it, the backup's root is shown for you to confirm.")
@with_appcontext
def restore_command(path: Path, root_text: str | None) -> None:
    """Restore a backup into this (empty) instance folder and keyring."""
    from intake.desk.backup import BackupError
    from intake.desk.restore import restore_backup

    instance = Path(current_app.instance_path)
    keys = Path(current_app.config["KEYS_DIR"]).resolve()
    if root_text is not None:
        try:
            given: bytes | None = parse_fingerprint(root_text)
        except ValueError as exc:
            raise click.ClickException(f"--root: {exc}; nothing was restored") from None

    def check_root(found: bytes | None) -> bytes | None:
        if root_text is not None:
            return given
        if found is None:
            click.echo("WARNING: this backup's keyring is not certified; after restoring, run "
                       "`intake keys certify --admin NAME`.", err=True)
            return None
        click.echo(f"The backup's keyring has the root fingerprint\n  "
                   f"{trust.fingerprint_text(found)}")
        click.confirm("Is it the one printed when this instance was set up (kept with the "
                      "recovery key)?", abort=True)
        return found

    # Not carried by the backup: the host's own database, from INTAKE_DATABASE_URL.
    database_url = current_app.config.get("DATABASE_URL")
    try:
        count = restore_backup(path, instance, keys, check_root, database_url)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was restored") from None
    click.echo(f"Restored {count} files into {instance} and {keys}; config.py was written "
               "from the backup's settings. Run `intake audit verify` next.")
    if database_url:
        click.echo("config.py does not name the database: keep INTAKE_DATABASE_URL set "
                   "for the server.")
