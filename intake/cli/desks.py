"""`intake desks`: the coalition's desks, each with its own keys, accounts and root."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from intake.cli.common import context, read_passphrase, settings_or_exit
from intake.desk import desks
from intake.desk.setup import add_desk
from intake.staff.accounts import passphrase_problem
from intake.store import instance_config
from intake.store.settings import Settings, render_desk_roots


@click.group("desks")
def desks_group() -> None:
    """The desks (organisations) of this instance."""


@desks_group.command("list")
@with_appcontext
def desks_list() -> None:
    """List the desks: id, state, accounts and names."""
    settings, keyring, db = context()
    with db:
        for desk in desks.all_desks(db, settings):
            state = "retired" if desk.retired else "open"
            if desk.id not in keyring.desk_ids():
                state = "no keys"
            count = len(desks.accounts_of(db, desk.id, settings))
            click.echo(f"{desk.id:24} {state:8} accounts:{count:<4} "
                       f"{desk.name('en')} / {desk.name('fa')}")


@desks_group.command("add")
@click.argument("desk_id")
@click.option("--admin", required=True, help="User name of the desk's first admin.")
@click.option("--name-en", prompt="Name in English", help="The desk's name in English.")
@click.option("--name-fa", prompt="Name in Persian", help="The desk's name in Persian.")
@click.option("--description-en", prompt="What it does, in English", default="",
              help="What the desk does and promises families, in English.")
@click.option("--description-fa", prompt="What it does, in Persian", default="",
              help="What the desk does and promises families, in Persian.")
@click.option("--passphrase-stdin", is_flag=True, help="Read the admin passphrase from stdin.")
@with_appcontext
def desks_add(desk_id: str, admin: str, name_en: str, name_fa: str, description_en: str,
              description_fa: str, passphrase_stdin: bool) -> None:
    """Add a desk: its first epoch, root of trust, recovery key and first admin."""
    from intake.cli.instance import print_initialised

    settings = settings_or_exit(current_app)
    passphrase = read_passphrase(passphrase_stdin, f"Passphrase for {admin}")
    problem = passphrase_problem(passphrase)
    if problem:
        raise click.ClickException(str(problem))
    try:
        result = add_desk(settings, desk_id, {"en": name_en, "fa": name_fa},
                          {"en": description_en, "fa": description_fa},
                          [(admin, "admin", passphrase)])
    except (desks.DeskError, ValueError, FileExistsError) as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    _pin_root(settings, desk_id, result.root_text)
    click.echo(f"Desk {desk_id} is ready; families can choose it on the form.")
    print_initialised(result)


@desks_group.command("describe")
@click.argument("desk_id")
@click.option("--name-en", default=None)
@click.option("--name-fa", default=None)
@click.option("--description-en", default=None)
@click.option("--description-fa", default=None)
@with_appcontext
def desks_describe(desk_id: str, name_en: str | None, name_fa: str | None,
                   description_en: str | None, description_fa: str | None) -> None:
    """Change a desk's name or what it does, as the form shows it (the first desk's too)."""
    settings, _, db = context()
    with db:
        try:
            desks.describe(db, settings, desk_id, {"en": name_en or "", "fa": name_fa or ""},
                           {key: value for key, value in (("en", description_en),
                                                          ("fa", description_fa))
                            if value is not None})
        except desks.DeskError as exc:
            raise click.ClickException(f"{exc}; nothing was changed") from None
    click.echo(f"Desk {desk_id} is described as given.")


@desks_group.command("retire")
@click.argument("desk_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def desks_retire(desk_id: str, yes: bool) -> None:
    """Retire a desk: off the form, accounts revoked, every grant of its keys destroyed."""
    from intake.desk.retire import retire

    settings, keyring, db = context()
    if not yes:
        click.confirm(f"Retire desk {desk_id}? Its keys will open nothing, for good", abort=True)
    with db:
        try:
            revoked, destroyed = retire(db, keyring, settings, desk_id)
        except desks.DeskError as exc:
            raise click.ClickException(f"{exc}; nothing was changed") from None
    click.echo(f"Desk {desk_id} is retired: {revoked} accounts revoked, {destroyed} grants "
               "destroyed. The cases it shared stay with the other desks the family chose.")


def _pin_root(settings: Settings, desk_id: str, root_text: str) -> None:
    """Write the new desk's root into config.py's DESK_ROOTS, beside the others."""
    config = settings.instance_path / "config.py"
    if not config.exists():  # a test configuration passed in memory
        return
    values, _ = instance_config.read_local(settings.instance_path)
    roots = dict(item.split("=", 1) for item in str(values.get("DESK_ROOTS", "")).split(";")
                 if "=" in item)
    roots[desk_id] = root_text
    instance_config.update(settings.instance_path, {"DESK_ROOTS": render_desk_roots(roots)})
