"""`intake init`, `intake serve` and `intake demo`: making and running an instance."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from intake.cli.common import fresh_app, read_passphrase, settings_or_exit
from intake.crypto import (
    Keyring,
)
from intake.desk.setup import Initialised, initialise, write_config
from intake.staff.accounts import passphrase_problem
from intake.store import instance_config
from intake.store.db import make_engine, upgrade
from intake.store.models import User
from intake.web.bound import offline_reason, settings_of


@click.command("init")
@click.option("--admin", required=True, help="User name of the first admin.")
@click.option("--passphrase-stdin", is_flag=True, help="Read the admin passphrase from stdin.")
@click.option("--organisation", default=None, help="Organisation name shown to families.")
@with_appcontext
def init_command(admin: str, passphrase_stdin: bool, organisation: str | None) -> None:
    """Create config, database, the first desk epoch, the first admin and the recovery key."""
    instance = Path(current_app.instance_path)
    if (instance / "config.py").exists():
        raise click.ClickException(f"{instance} is already initialised")
    passphrase = read_passphrase(passphrase_stdin, f"Passphrase for {admin}")
    problem = passphrase_problem(passphrase)
    if problem:
        raise click.ClickException(str(problem))
    write_config(instance, {"ORGANISATION_NAME": organisation} if organisation else {})
    result = initialise(settings_or_exit(fresh_app()), [(admin, "admin", passphrase)])
    instance_config.update(instance, {"ROOT_FINGERPRINT": result.root_text})
    print_initialised(result)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=64, show_default=True, type=int,
              help="Requests each worker serves at once; a slow upload holds one throughout.")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="No level writes client addresses, times of day or record ids.")
@click.option("--idle-timeout", default=120.0, show_default=True, type=float,
              help="Seconds a connection may send or read nothing before it is closed.")
def serve_command(host: str, port: int, workers: int, threads: int, log_level: str,
                  idle_timeout: float) -> None:
    """Run the production server (gunicorn, threaded workers that stream request bodies)."""
    from intake.web.server import serve

    app = fresh_app()
    settings = settings_of(app)
    if settings is None:
        reason = offline_reason(app)
        click.echo(f"warning: serving the offline page only: {reason}", err=True)
    else:
        prepare_to_serve(settings)
    serve(host, port, workers, threads, log_level, idle_timeout)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(port: int) -> None:
    """Serve a throwaway instance with a demo admin and reviewer on 127.0.0.1."""
    from intake.web.server import serve

    root = Path(tempfile.mkdtemp(prefix="intake-demo-"))
    os.environ["INTAKE_INSTANCE"] = str(root / "instance")
    os.environ["INTAKE_KEYS_DIR"] = str(root / "keys")
    try:
        write_config(root / "instance", {"ORGANISATION_NAME": "Demo organisation",
                                         "SESSION_COOKIE_SECURE": False, "DEMO": True,
                                         "ROTATION_SETTLE_SECONDS": 5})
        users = [(name, role, "-".join(secrets.token_hex(3) for _ in range(4)))
                 for name, role in (("admin", "admin"), ("reviewer", "reviewer"))]
        result = initialise(settings_or_exit(fresh_app()), users)
        instance_config.update(root / "instance", {"ROOT_FINGERPRINT": result.root_text})
        click.echo("A throwaway demo instance (deleted when you stop it):\n")
        for (name, role, passphrase), account in zip(users, result.accounts, strict=True):
            click.echo(f"  {role:9} {name:9} passphrase {passphrase}")
            click.echo(f"            TOTP: {account.totp_uri}")
        click.echo(f"\n  recovery key: {result.recovery_text}")
        click.echo(f"  root fingerprint: {result.root_text}")
        click.echo("\n  No authenticator app at hand? In another terminal:\n"
                   f"    INTAKE_INSTANCE={root / 'instance'} INTAKE_KEYS_DIR={root / 'keys'} "
                   f"{Path(sys.argv[0]).parent / 'intake'} demo-code admin")
        click.echo(f"\nServing on http://127.0.0.1:{port}/  (Ctrl-C to stop)\n")
        prepare_to_serve(settings_or_exit(fresh_app()))
        serve("127.0.0.1", port, workers=1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@click.command("demo-code", hidden=True)
@click.argument("name")
@with_appcontext
def demo_code_command(name: str) -> None:
    """Print a demo account's current TOTP code (demo instances only)."""

    from sqlalchemy.orm import Session

    from intake.staff.accounts import totp_for

    if not current_app.config.get("DEMO"):
        raise click.ClickException("this only works on an instance made by `intake demo`")
    engine = make_engine(settings_or_exit(current_app).database_url)
    with Session(engine) as session:
        user = session.query(User).filter_by(name=name).one_or_none()
        if user is None:
            raise click.ClickException(f"there is no user called {name}")
        click.echo(totp_for(user).generate(time.time()).decode())


def prepare_to_serve(settings: Any) -> None:
    """Migrate, and remove blobs a crash left behind (before any worker starts)."""

    from intake.store.blobs import Store
    from intake.testimonies.submissions import blob_names

    engine = make_engine(settings.database_url)
    upgrade(engine)
    with Session(engine) as session:
        removed = Store(settings.instance_path / "store").sweep(blob_names(session))
    if removed:
        click.echo(f"removed {removed} unfinished or unreferenced encrypted blobs", err=True)
    engine.dispose()
    from intake.desk.trust import TrustError, sealing_epoch

    try:
        sealing_epoch(Keyring(settings.keys_dir), settings.desk_id, settings.root)
    except TrustError as exc:
        click.echo(f"ALARM: the family side is offline and seals nothing: {exc}. Compare the "
                   "keyring with a backup you trust, and run `intake keys status`.", err=True)


def print_initialised(result: Initialised) -> None:
    for account in result.accounts:
        click.echo(f"{account.role} {account.name}: add this to an authenticator app "
                   "(it is not shown again):")
        click.echo(f"  {account.totp_uri}")
    click.echo("\nRECOVERY KEY. Print or write it down now and keep it offline; it is shown "
               "only this once and is the only way back in if every reviewer loses access:")
    click.echo(f"  {result.recovery_text}")
    click.echo("\nROOT FINGERPRINT of this desk's keyring. Keep it with the recovery key; it is "
               "not secret. `intake keys status` and the admin keys page show it, and "
               "`intake restore --root` needs it to accept a backup:")
    click.echo(f"  {result.root_text}")
