"""Evidence on the command line: `intake verify`, `intake open`, `intake export --to`,
`intake table` and `intake keys recipient`.

Only glue: unlocking, files and messages; the bundle itself is intake.evidence's.
`verify`, `open` and `keys recipient` need no instance, for an air-gapped machine.
"""

from __future__ import annotations

import os
import secrets
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy.orm import Session

from intake.cli.common import read_passphrase, settings_or_exit
from intake.crypto import (
    DecryptionError,
    Keyring,
    unlock_account,
    unlock_epochs,
)
from intake.crypto.signing import parse_fingerprint
from intake.desk import desks, trust
from intake.evidence import render, verify_bundle
from intake.evidence.export import Exporter, Place, export_case, export_table, exporter_of
from intake.evidence.redact import Choice, ConsentRefused
from intake.evidence.seal import SealError, open_sealed, read_public, seal, unlock_recipient
from intake.staff.accounts import passphrase_problem
from intake.store.blobs import Store
from intake.store.db import make_engine
from intake.store.models import Submission, User
from intake.testimonies.cases import Locked
from intake.web.review.export import render_page


def export_sealed(settings: Any, case_id: str, name: str, recipient_file: Path, out: Path,
                  lang: str | None, choice: Choice, passphrase: str) -> None:
    """Unlock `name`, export the case and write it sealed to the recipient at `out`."""
    try:
        recipient = read_public(recipient_file.read_bytes())
    except SealError as exc:
        raise click.ClickException(f"{exc}; nothing was exported") from None
    keyring, engine = Keyring(settings.keys_dir), make_engine(settings.database_url)
    try:
        with Session(engine) as db:
            exporter = _unlock(db, keyring, settings, name, passphrase)
            submission = _find(db, case_id, exporter.desk_id)
            place = Place(keyring, Store(settings.instance_path / "store"),
                          settings.organisation_name, settings.tsa_url)
            with force_locale(lang or settings.default_locale):
                try:
                    chunks = export_case(db, place, exporter, submission, render_page,
                                         choice, detail="sealed")
                except ConsentRefused as exc:
                    raise click.ClickException(f"{exc} (--consent-reason); nothing was "
                                               "exported") from None
                except Locked:
                    raise click.ClickException(f"{name} holds no key that opens this case; "
                                               "nothing was exported") from None
                except DecryptionError:
                    raise click.ClickException("a part of this case is damaged; nothing "
                                               "was exported") from None
                size = _write_new(out, lambda handle: seal(chunks, recipient, handle))
    finally:
        engine.dispose()
    click.echo(f"Wrote the bundle ({size} bytes before sealing), sealed to the recipient "
               f"key {recipient_file.name}, to {out}.")


def table_sealed(settings: Any, case_ids: list[str], name: str, recipient_file: Path,
                 out: Path, purpose: str, passphrase: str) -> None:
    """Unlock `name`, write HURIDOCS-style rows of the cases sealed to the recipient."""
    try:
        recipient = read_public(recipient_file.read_bytes())
    except SealError as exc:
        raise click.ClickException(f"{exc}; nothing was exported") from None
    keyring, engine = Keyring(settings.keys_dir), make_engine(settings.database_url)
    try:
        with Session(engine) as db:
            exporter = _unlock(db, keyring, settings, name, passphrase)
            submissions = [_find(db, case_id, exporter.desk_id) for case_id in case_ids]
            try:
                table, left_out = export_table(db, exporter, submissions, purpose)
            except (Locked, DecryptionError):
                raise click.ClickException(f"{name} cannot open every one of these cases; "
                                           "nothing was exported") from None
            _write_new(out, lambda handle: seal([table], recipient, handle))
    finally:
        engine.dispose()
    click.echo(f"Wrote {len(submissions) - len(left_out)} cases, sealed, to {out}.")
    if left_out:
        click.echo(f"Left out, as their families did not allow this use: {', '.join(left_out)}")


def _unlock(db: Session, keyring: Keyring, settings: Any, name: str,
            passphrase: str) -> Exporter:
    """Unlock an active account as a login does, checking the chain it pins."""
    user = db.query(User).filter_by(name=name).one_or_none()
    if user is None or user.state != "active":
        raise click.ClickException(f"there is no active account called {name}")
    try:
        keys = unlock_account(keyring.user_key(user.id)[1], user.passphrase_verifier,
                              passphrase)
    except DecryptionError:
        raise click.ClickException("that passphrase is not right; nothing was exported") \
            from None
    desk_id = desks.account_desk(user, settings)
    # Only the account's own desk, as at a login: another desk's grant planted for this key
    # opens nothing here.
    opened = {(desk, n): key for (desk, n), key in unlock_epochs(keyring, keys.key).items()
              if desk == desk_id}
    try:
        epochs, chain = trust.at_login(keyring, desk_id, user, keys, opened)
        if chain is not None:
            trust.check_not_cut(db, keyring, chain, trust.high_water(settings.instance_path))
    except trust.TrustError as exc:
        raise click.ClickException(f"ALARM, nothing was exported: {exc}") from None
    return exporter_of(db, settings, user, epochs, trust.signer_of(user, keys))


def _find(db: Session, case_id: str, desk_id: str) -> Submission:
    """Find a case of this desk by its id, or by the unique start of it (as bundles name
    them); a case the desk was not given is not found, as one that does not exist."""
    cleaned = case_id.strip().lower()
    if not cleaned.isalnum():
        raise click.ClickException("a case id is letters and digits")
    found = db.query(Submission).filter(Submission.id.startswith(cleaned),
                                        Submission.parent_id.is_(None),
                                        desks.sealed_to(desk_id)).limit(2).all()
    if len(found) != 1:
        raise click.ClickException(f"no single case has an id starting with {cleaned}")
    return found[0]


def _write_new(out: Path, write: Callable[[BinaryIO], int]) -> int:
    """Write a new file through a temporary name beside it; remove it if anything fails."""
    if out.exists():
        raise click.ClickException(f"{out} already exists; nothing was written")
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:  # a BufferedWriter: a BinaryIO
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return result


def _is_table(path: Path) -> bool:
    """Say whether an opened zip is a table from `intake table` rather than a bundle."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sorted(archive.namelist()) == ["cases.csv", "cases.json"]
    except zipfile.BadZipFile:
        return False


def open_sealed_file(sealed: Path, key_file: Path, out: Path | None, root_text: str | None,
                     passphrase: str) -> bool:
    """Open a sealed bundle to `out` (only if it opens whole), verify it; say if it holds."""
    try:
        root = parse_fingerprint(root_text) if root_text else None
        key = unlock_recipient(key_file.read_bytes(), passphrase)
        target = out or sealed.with_name(sealed.stem + ".zip")
        with sealed.open("rb") as src:
            _write_new(target, lambda handle: sum(handle.write(chunk)
                                                  for chunk in open_sealed(src, key)))
    except (SealError, ValueError) as exc:
        raise click.ClickException(f"{exc}; nothing was written") from None
    click.echo(f"Opened {sealed.name} to {target}.")
    if _is_table(target):
        click.echo("It is a table of cases (cases.csv, cases.json) for a case database: not a "
                   "signed bundle, so there is nothing to verify.")
        return True
    verdict = verify_bundle(target, root)
    click.echo(render(verdict, target.name), nl=False)
    return verdict.verified


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

    from intake.crypto.signing import parse_fingerprint
    from intake.evidence import render, verify_bundle

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
    from intake.evidence.redact import Choice

    choice = Choice(purpose, consent_reason, contact_reason)
    export_sealed(settings_or_exit(current_app), case_id, name, recipient, out, lang, choice,
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

    table_sealed(settings_or_exit(current_app), list(case_ids), name, recipient, out, purpose,
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

    passphrase = read_passphrase(passphrase_stdin, "Passphrase for the private key",
                                 confirm=False)
    if not open_sealed_file(sealed, key_file, out, root_text, passphrase):
        sys.exit(1)


@click.command("recipient")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from stdin.")
def keys_recipient(out: Path, passphrase_stdin: bool) -> None:
    """Make a key pair for a recipient of sealed bundles (OUT private, OUT.pub public).

    Run it on the recipient's own machine, offline if possible: it needs no instance.
    """
    from intake.crypto import RFC_9106_LOW_MEMORY
    from intake.evidence.seal import read_public, recipient_files, recipient_fingerprint

    public_path = out.with_name(out.name + ".pub")
    if out.exists() or public_path.exists():
        raise click.ClickException(f"{out} or {public_path} already exists; nothing was written")
    passphrase = read_passphrase(passphrase_stdin, "Passphrase for the private key")
    problem = passphrase_problem(passphrase)
    if problem:
        raise click.ClickException(str(problem))
    secret, public = recipient_files(passphrase, RFC_9106_LOW_MEMORY)
    # The private half exists only wrapped; still, only its owner may read the file.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    public_path.write_bytes(public)
    click.echo(f"Wrote the private key (wrapped under your passphrase) to {out} and the public "
               f"key to {public_path}. Give the desk the public key, and read them its "
               f"fingerprint by another channel:\n  "
               f"{recipient_fingerprint(read_public(public))}")
