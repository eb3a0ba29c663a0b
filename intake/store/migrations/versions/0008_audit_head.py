"""Add the audit log's head: how many entries the chain holds and the last one's hash.

Without it, deleting entries from the end of the chain leaves a shorter chain
that still verifies.

Revision ID: 0008_audit_head
Revises: 0007_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_audit_head"
down_revision = "0007_accounts"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    connection = op.get_bind()
    count = connection.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    last = connection.execute(sa.text(
        "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")).scalar_one_or_none()
    op.bulk_insert(head, [{"id": 1, "count": count, "hash": last or GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
