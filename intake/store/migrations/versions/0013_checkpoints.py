"""Add audit checkpoints: the heads of the audit log and the certificate chain, signed at unlock.

Revision ID: 0013_checkpoints
Revises: 0012_review16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_checkpoints"
down_revision = "0012_review16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("desk_id", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("chain_length", sa.Integer, nullable=False),
        sa.Column("chain_head", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
