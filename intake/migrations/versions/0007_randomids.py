"""Store family-related rows without SQLite's hidden rowid, which counts up in arrival order.

The ids of submissions, files, notes and replies were already random, but a
SQLite table with a text primary key still numbers its rows 1, 2, 3 ... in a
hidden `rowid` column, so a seized database told the order in which families
came. Each such table is rebuilt as a WITHOUT ROWID table, stored in the order
of its random primary key. Other databases have no rowid; nothing changes there.

Revision ID: 0007_randomids
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007_randomids"
down_revision = "0006"
branch_labels = None
depends_on = None

# Every table whose rows appear when a family sends or a reviewer answers.
TABLES = ("submissions", "attachments", "notes", "replies", "case_reads", "case_links")


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)


def _rebuild(*, with_rowid: bool) -> None:
    """Copy each table into a new one with or without a rowid (`intake.db.upgrade` defers
    foreign-key checks while the parent table is swapped)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass
