"""Add the desks' search index: one row per case and desk, under that desk's epoch index key.

Existing cases get no row here (the migration holds no key): the first search
of a reviewer who can open them indexes them, one data key each, once.

Revision ID: 0015_search
Revises: 0015_workbench
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_search"
down_revision = "0015_workbench"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_index",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        # Each desk a case was given to keeps its own row, under its own epoch's index key.
        sa.Column("desk_id", sa.String(64), primary_key=True),
        sa.Column("epoch_id", sa.Integer, nullable=False),
        sa.Column("sealed_text", sa.LargeBinary, nullable=False),
        # No hidden rowid: it would number cases in the order a search first indexed them.
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # Nothing is lost: every row can be rebuilt from the cases by the next search.
    op.drop_table("search_index")
