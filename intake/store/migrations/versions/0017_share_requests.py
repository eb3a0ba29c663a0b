"""A family asks, with its code, that a further desk be given its case.

`share_requests` holds one row per case and desk asked for, with the UTC
day of the request and nothing else (no time of day, no address); a desk
that holds the case carries the request out as a referral.

Revision ID: 0017_share_requests
Revises: 0016_desks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_share_requests"
down_revision = "0016_desks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_requests",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("desk_id", sa.String(64), primary_key=True),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("share_requests")
