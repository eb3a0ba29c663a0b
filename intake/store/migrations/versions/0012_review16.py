"""Store pending files without SQLite's hidden rowid, and date their expiry to the day.

`pending_files` (0011_family) had a text key, so SQLite still numbered its rows
1, 2, 3 in a hidden `rowid` in the order families sent files, and each row's
expiry, rounded to the hour, gave the hour of the family's last round. The
table is rebuilt WITHOUT ROWID, and the expiry of rows already there is
rounded up to the next UTC midnight (so no file expires earlier than before).

Revision ID: 0012_review16
Revises: 0011_family
"""

from __future__ import annotations

from alembic import op

revision = "0012_review16"
down_revision = "0011_family"
branch_labels = None
depends_on = None

DAY = 24 * 3600


def upgrade() -> None:
    op.execute(f"UPDATE pending_files SET expires_at = "  # noqa: S608 (a constant)
               f"((expires_at + {DAY - 1}) / {DAY}) * {DAY}")
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)


def _rebuild(*, with_rowid: bool) -> None:
    """Copy the table into a new one with or without a rowid (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("pending_files", recreate="always",
                              table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass
