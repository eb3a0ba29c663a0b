"""Add files kept between a form's rounds of corrections, encrypted under the form's key.

Revision ID: 0011_family
Revises: 0010_keygen
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_family"
down_revision = "0010_keygen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("form_ref", sa.String(64), nullable=False),
        sa.Column("blob", sa.String(32), nullable=False, unique=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("meta", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
    )
    op.create_index("ix_pending_files_form_ref", "pending_files", ["form_ref"])
    op.create_index("ix_pending_files_expires_at", "pending_files", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_files_expires_at", "pending_files")
    op.drop_index("ix_pending_files_form_ref", "pending_files")
    op.drop_table("pending_files")
