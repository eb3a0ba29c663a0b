"""Create users and submissions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("key_fingerprint", sa.String(32), nullable=False),
        sa.Column("passphrase_verifier", sa.LargeBinary, nullable=False),
        sa.Column("totp_secret", sa.LargeBinary, nullable=False),
        sa.Column("totp_last_step", sa.Integer, nullable=False),
        sa.Column("created_on", sa.Date, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("desk_id", sa.String(64), nullable=False),
        sa.Column("epoch_id", sa.Integer, nullable=False),
        sa.Column("sealed_key", sa.LargeBinary, nullable=False),
        sa.Column("answers", sa.LargeBinary, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("assignee_id", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_submissions_desk_epoch", "submissions", ["desk_id", "epoch_id"])
    op.create_index("ix_submissions_received", "submissions", ["received_on"])


def downgrade() -> None:
    op.drop_index("ix_submissions_received", "submissions")
    op.drop_index("ix_submissions_desk_epoch", "submissions")
    op.drop_table("submissions")
    op.drop_table("users")
