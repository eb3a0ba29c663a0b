"""Saved inbox filters, per reviewer.

Only filters over columns that are plaintext already (status, assignee,
priority, received days, unread) are kept; search text and labels are never
saved, since they would put what reviewers look for in the clear.

Revision ID: 0015_workbench
Revises: 0014_pg
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_workbench"
down_revision = "0014_pg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("params", sa.String(400), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_saved_filters_user_id", "saved_filters", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_filters_user_id", table_name="saved_filters")
    op.drop_table("saved_filters")
