"""The `intake` command group (also reachable as `flask --app intake`)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from . import instance_config
from .accounts import passphrase_problem
from .admin_cli import COMMANDS, read_passphrase
from .bound import offline_reason, settings_of
from .db import make_engine, upgrade
from .setup import Initialised, initialise, write_config


def _set_env(name: str) -> Any:
    def callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            os.environ[name] = str(Path(value).resolve())
    return callback


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
        raise click.ClickException(problem)
    write_config(instance, {"ORGANISATION_NAME": organisation} if organisation else {})
    result = initialise(_settings_of(_fresh_app()), [(admin, "admin", passphrase)])
    instance_config.update(instance, {"ROOT_FINGERPRINT": result.root_text})
    _print_initialised(result)


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
    from .server import serve

    app = _fresh_app()
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
    from .server import serve

    root = Path(tempfile.mkdtemp(prefix="intake-demo-"))
    os.environ["INTAKE_INSTANCE"] = str(root / "instance")
    os.environ["INTAKE_KEYS_DIR"] = str(root / "keys")
    try:
        write_config(root / "instance", {"ORGANISATION_NAME": "Demo organisation",
                                         "SESSION_COOKIE_SECURE": False, "DEMO": True,
                                         "ROTATION_SETTLE_SECONDS": 5})
        users = [(name, role, "-".join(secrets.token_hex(3) for _ in range(4)))
                 for name, role in (("admin", "admin"), ("reviewer", "reviewer"))]
        result = initialise(_settings_of(_fresh_app()), users)
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
        prepare_to_serve(_settings_of(_fresh_app()))
        serve("127.0.0.1", port, workers=1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit log's chain, head and signed checkpoints; name where it breaks."""
    from sqlalchemy.orm import Session

    from .audit import AuditError, check_checkpoints, verify
    from .crypto import Keyring
    from .trust import TrustError, load_chain, server_root

    settings = _settings_of(current_app)
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


@click.command("demo-code", hidden=True)
@click.argument("name")
@with_appcontext
def demo_code_command(name: str) -> None:
    """Print a demo account's current TOTP code (demo instances only)."""
    import time

    from sqlalchemy.orm import Session

    from .accounts import totp_for
    from .models import User

    if not current_app.config.get("DEMO"):
        raise click.ClickException("this only works on an instance made by `intake demo`")
    engine = make_engine(_settings_of(current_app).database_url)
    with Session(engine) as session:
        user = session.query(User).filter_by(name=name).one_or_none()
        if user is None:
            raise click.ClickException(f"there is no user called {name}")
        click.echo(totp_for(user).generate(time.time()).decode())


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", "root_text", default=None,
              help="The desk's root fingerprint as printed at `intake init`; the bundle's "
                   "certificates must chain to it.")
@click.option("--tsa-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The time-stamping authority's CA certificate (PEM), to "
                                 "check the time-stamp's signature too.")
def verify_command(bundle: Path, root_text: str | None, tsa_ca: Path | None) -> None:
    """Check an evidence bundle offline (no instance, no network) and print a verdict."""
    from cryptography import x509

    from .crypto.signing import parse_fingerprint
    from .evidence import render, verify_bundle

    try:
        root = parse_fingerprint(root_text) if root_text is not None else None
        ca = x509.load_pem_x509_certificate(tsa_ca.read_bytes()) if tsa_ca else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    verdict = verify_bundle(bundle, root, ca)
    click.echo(render(verdict, bundle.name), nl=False)
    if not verdict.verified:
        sys.exit(1)


@click.command("export")
@click.argument("case_id")
@click.option("--reviewer", "name", required=True, help="The account that exports and signs.")
@click.option("--to", "recipient", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The recipient's public key file (made by `intake keys recipient`).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the sealed bundle.")
@click.option("--lang", type=click.Choice(["fa", "en"]), default=None,
              help="Language of the readable page. Default: the instance's.")
@click.option("--purpose", type=click.Choice(["internal", "anonymised", "un", "courts",
                                               "publish"]), default="internal",
              show_default=True, help="The use the family's consent must cover.")
@click.option("--consent-reason", default="",
              help="Why export although the family's consent does not cover this use.")
@click.option("--contact-reason", default="",
              help="Why include the submitter's contact details (left out otherwise).")
@click.option("--passphrase-stdin", is_flag=True)
@with_appcontext
def export_command(case_id: str, name: str, recipient: Path, out: Path, lang: str | None,
                   purpose: str, consent_reason: str, contact_reason: str,
                   passphrase_stdin: bool) -> None:
    """Export a case as a signed bundle sealed to a recipient outside the desk.

    Only a sealed bundle is written here: this runs on the server, whose disk must never
    hold a testimony in plaintext.
    """
    from .evidence.redact import Choice
    from .evidence_cli import export_sealed

    choice = Choice(purpose, consent_reason, contact_reason)
    export_sealed(_settings_of(current_app), case_id, name, recipient, out, lang, choice,
                  read_passphrase(passphrase_stdin, f"Passphrase for {name}", confirm=False))


@click.command("table")
@click.argument("case_ids", nargs=-1, required=True)
@click.option("--reviewer", "name", required=True)
@click.option("--to", "recipient", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--purpose", type=click.Choice(["internal", "anonymised", "un", "courts",
                                               "publish"]), default="internal",
              show_default=True)
@click.option("--passphrase-stdin", is_flag=True)
@with_appcontext
def table_command(case_ids: tuple[str, ...], name: str, recipient: Path, out: Path,
                  purpose: str, passphrase_stdin: bool) -> None:
    """Export HURIDOCS-style rows of cases (CSV and JSON, for Uwazi), sealed to a recipient.

    Cases whose family did not allow the use are left out and named.
    """
    from .evidence_cli import table_sealed

    table_sealed(_settings_of(current_app), list(case_ids), name, recipient, out, purpose,
                 read_passphrase(passphrase_stdin, f"Passphrase for {name}", confirm=False))


@click.command("open")
@click.argument("sealed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The recipient's private key file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the bundle. Default: beside SEALED, ending in .zip.")
@click.option("--root", "root_text", default=None, help="The desk's root fingerprint.")
@click.option("--passphrase-stdin", is_flag=True)
def open_command(sealed: Path, key_file: Path, out: Path | None, root_text: str | None,
                 passphrase_stdin: bool) -> None:
    """Open a sealed bundle with the recipient's key (no instance, no network), then verify it."""
    from .evidence_cli import open_sealed_file

    passphrase = read_passphrase(passphrase_stdin, "Passphrase for the private key",
                                 confirm=False)
    if not open_sealed_file(sealed, key_file, out, root_text, passphrase):
        sys.exit(1)


def prepare_to_serve(settings: Any) -> None:
    """Migrate, and remove blobs a crash left behind (before any worker starts)."""
    from sqlalchemy.orm import Session

    from .storage import Store
    from .submissions import blob_names

    engine = make_engine(settings.database_url)
    upgrade(engine)
    with Session(engine) as session:
        removed = Store(settings.instance_path / "store").sweep(blob_names(session))
    if removed:
        click.echo(f"removed {removed} unfinished or unreferenced encrypted blobs", err=True)
    engine.dispose()
    from .crypto import Keyring
    from .trust import TrustError, sealing_epoch

    try:
        sealing_epoch(Keyring(settings.keys_dir), settings.desk_id, settings.root)
    except TrustError as exc:
        click.echo(f"ALARM: the family side is offline and seals nothing: {exc}. Compare the "
                   "keyring with a backup you trust, and run `intake keys status`.", err=True)


def _fresh_app() -> Flask:
    from . import create_app

    return create_app()


def _settings_of(app: Flask) -> Any:
    settings = settings_of(app)
    if settings is None:
        raise click.ClickException("the instance configuration is not usable (see above)")
    return settings


def _print_initialised(result: Initialised) -> None:
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


def init_app(app: Flask) -> None:
    """Register the commands on the app, for `flask --app intake`."""
    for command in (init_command, serve_command, demo_command, demo_code_command, audit_group,
                    export_command, table_command, *COMMANDS):
        app.cli.add_command(command)


main = FlaskGroup(
    name="intake",
    create_app=_fresh_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    params=[
        click.Option(["--instance"], envvar="INTAKE_INSTANCE", expose_value=False,
                     is_eager=True, callback=_set_env("INTAKE_INSTANCE"),
                     help="Instance folder (config, database, store). Default ./instance."),
        click.Option(["--keys"], envvar="INTAKE_KEYS_DIR", expose_value=False, is_eager=True,
                     callback=_set_env("INTAKE_KEYS_DIR"),
                     help="Keyring folder. Default ./keys."),
    ],
    help="Secure testimony intake.",
)
# Run without an instance (an air-gapped machine): registered on the group, not the app.
main.add_command(verify_command)
main.add_command(open_command)
# FlaskGroup's own --app, --env-file and --debug make no sense for `intake`.
main.params = [p for p in main.params if p.name not in {"app", "env_file", "debug"}]
