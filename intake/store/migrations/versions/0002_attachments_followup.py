"""Add attachments, follow-up keys, resend protection and attempt counting.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("family_lookup", sa.String(64), nullable=True))
        batch.add_column(sa.Column("family_key", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("family_outline", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("form_nonce", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_submissions_parent", "submissions", ["parent_id"], ["id"])
        batch.create_unique_constraint("uq_submissions_family_lookup", ["family_lookup"])
        batch.create_unique_constraint("uq_submissions_form_nonce", ["form_nonce"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  nullable=False),
        sa.Column("blob", sa.String(32), nullable=False, unique=True),
        sa.Column("meta", sa.LargeBinary, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_attachments_submission_id", "attachments", ["submission_id"])
    op.create_table(
        "throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("window", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("throttle")
    op.drop_index("ix_attachments_submission_id", "attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_form_nonce", type_="unique")
        batch.drop_constraint("uq_submissions_family_lookup", type_="unique")
        batch.drop_constraint("fk_submissions_parent", type_="foreignkey")
        for column in ("form_nonce", "family_outline", "family_key", "family_lookup",
                       "parent_id"):
            batch.drop_column(column)
