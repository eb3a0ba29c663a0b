"""Add reviewer sessions, notes, replies, read markers, labels and the audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("labels", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("assessment", sa.LargeBinary, nullable=True))
    op.create_table(
        "review_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("sealed_keys", sa.LargeBinary, nullable=False),
        sa.Column("started_at", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_review_sessions_user_id", "review_sessions", ["user_id"])
    for table, extra in (("notes", [sa.Column("body", sa.LargeBinary, nullable=False)]),
                         ("replies", [sa.Column("for_family", sa.LargeBinary, nullable=False),
                                      sa.Column("for_desk", sa.LargeBinary, nullable=False)])):
        op.create_table(
            table,
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                      nullable=False),
            sa.Column("author_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
            *extra,
            sa.Column("written_on", sa.Date, nullable=False),
        )
        op.create_index(f"ix_{table}_submission_id", table, ["submission_id"])
    op.create_table(
        "case_reads",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
    )
    op.create_table(
        "case_links",
        sa.Column("first_id", sa.String(32), sa.ForeignKey("submissions.id"), primary_key=True),
        sa.Column("second_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("confirmed_by", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("confirmed_on", sa.Date, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        # Two writers racing to extend the chain from the same entry: one fails.
        sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("case_links")
    op.drop_table("case_reads")
    for table in ("replies", "notes"):
        op.drop_index(f"ix_{table}_submission_id", table)
        op.drop_table(table)
    op.drop_index("ix_review_sessions_user_id", "review_sessions")
    op.drop_table("review_sessions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("assessment")
        batch.drop_column("labels")
