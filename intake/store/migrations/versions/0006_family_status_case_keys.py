"""Add what the family is shown of its case's progress, and the session's opened case keys.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as table:
        table.add_column(sa.Column("family_status", sa.String(32), nullable=False,
                                   server_default="received"))
    with op.batch_alter_table("review_sessions") as table:
        table.add_column(sa.Column("sealed_case_keys", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_sessions") as table:
        table.drop_column("sealed_case_keys")
    with op.batch_alter_table("submissions") as table:
        table.drop_column("family_status")
