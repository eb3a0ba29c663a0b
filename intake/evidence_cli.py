"""The command-line side of evidence bundles: `intake export --to` and `intake open`.

Only glue: unlocking, files and messages; the bundle itself is intake.evidence's.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask_babel import force_locale
from sqlalchemy.orm import Session

from . import trust
from .cases import Locked
from .crypto import DecryptionError, Keyring, unlock_account, unlock_epochs
from .crypto.signing import parse_fingerprint
from .db import make_engine
from .evidence import render, verify_bundle
from .evidence.export import Exporter, Place, export_case, export_table
from .evidence.redact import Choice, ConsentRefused
from .evidence.seal import SealError, open_sealed, read_public, seal, unlock_recipient
from .models import Submission, User
from .review.export import render_page
from .storage import Store


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
            submission = _find(db, case_id)
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
            submissions = [_find(db, case_id) for case_id in case_ids]
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
    try:
        epochs, chain = trust.at_login(keyring, settings.desk_id, user, keys,
                                       unlock_epochs(keyring, keys.key))
        if chain is not None:
            trust.check_not_cut(db, keyring, chain, trust.high_water(settings.instance_path))
    except trust.TrustError as exc:
        raise click.ClickException(f"ALARM, nothing was exported: {exc}") from None
    return Exporter(user, epochs, trust.signer_of(user, keys))


def _find(db: Session, case_id: str) -> Submission:
    """Find a case by its id, or by the unique start of it (as bundles name them)."""
    cleaned = case_id.strip().lower()
    if not cleaned.isalnum():
        raise click.ClickException("a case id is letters and digits")
    found = db.query(Submission).filter(Submission.id.startswith(cleaned),
                                        Submission.parent_id.is_(None)).limit(2).all()
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
