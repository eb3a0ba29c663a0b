"""The `intake` command group (also reachable as `flask --app intake`).

One module per command group: `instance` (init, serve, demo), `users`, `keys`,
`recovery`, `backups`, `audit`, `evidence` and `desks`; `common` holds what they share.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from flask.cli import FlaskGroup

from intake.cli import audit, backups, desks, evidence, instance, keys, recovery, users
from intake.cli.common import fresh_app


def _set_env(name: str) -> Any:
    def callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            os.environ[name] = str(Path(value).resolve())
    return callback


main = FlaskGroup(
    name="intake",
    create_app=fresh_app,
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
# FlaskGroup's own --app, --env-file and --debug make no sense for `intake`.
main.params = [p for p in main.params if p.name not in {"app", "env_file", "debug"}]
for _command in (instance.init_command, instance.serve_command, instance.demo_command,
                 instance.demo_code_command, audit.audit_group, users.users_group,
                 keys.keys_group, desks.desks_group, recovery.recover_command,
                 backups.backup_command, backups.restore_command, evidence.verify_command,
                 evidence.open_command, evidence.export_command, evidence.table_command):
    main.add_command(_command)
keys.keys_group.add_command(evidence.keys_recipient)

serve_command = instance.serve_command
