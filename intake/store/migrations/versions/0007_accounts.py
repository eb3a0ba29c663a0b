"""Forget attempt counters named by account name: they are now named by a keyed hash.

Revision ID: 0007_accounts
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007_accounts"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Counters cover one minute each; dropping them costs nothing, and keeping them would
    # keep the names (typos and guesses included) that were tried. secure_delete overwrites.
    op.execute("DELETE FROM throttle")


def downgrade() -> None:
    # Nothing to restore: the counters were deliberately forgotten.
    pass
