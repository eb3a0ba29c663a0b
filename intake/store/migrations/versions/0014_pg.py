"""Keep Unix times in 64-bit columns on PostgreSQL, where `integer` overflows in January 2038.

Session times and the expiries of invites and pending files are Unix
seconds. SQLite stores every whole number in up to 8 bytes, so nothing
changes there; PostgreSQL's `integer` is 4 bytes, and a time after
2038-01-19 03:14:07 UTC would be refused.

Revision ID: 0014_pg
Revises: 0013_checkpoints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_pg"
down_revision = "0013_checkpoints"
branch_labels = None
depends_on = None

COLUMNS = (("review_sessions", "started_at"), ("review_sessions", "seen_at"),
           ("invites", "expires_at"), ("pending_files", "expires_at"))


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())


def _retype(old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    """Change the columns' type (PostgreSQL only: SQLite's integers are 64-bit already)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=new, existing_type=old, existing_nullable=False)
