"""Add data key generations (what is written after a rotation uses a key made at it), and
the flag with which an admin requires an account to replace its key pair.

Existing records keep generation 0 (their sealed data key); the next rotation
gives each of them generation 1. The sessions' kept case keys change format,
so they are dropped (each session opens them again when it next needs them).

Revision ID: 0010_keygen
Revises: 0009_randomids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_keygen"
down_revision = "0009_randomids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_generations",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("epoch_id", sa.Integer, nullable=False),
        sa.Column("sealed_key", sa.LargeBinary, nullable=False),
        # No hidden rowid: it would number records in the order a rotation reached them.
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("submissions") as table:
        table.add_column(sa.Column("key_generation", sa.Integer, nullable=False,
                                   server_default="0"))
    op.execute("UPDATE review_sessions SET sealed_case_keys = NULL")
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("must_replace_keys", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    # Content written under a later generation does not open without it: refuse to lose it.
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM key_generations")).scalar()
    if count:
        raise RuntimeError("records hold data key generations; downgrading would lose them")
    op.execute("UPDATE review_sessions SET sealed_case_keys = NULL")
    with op.batch_alter_table("users") as table:
        table.drop_column("must_replace_keys")
    with op.batch_alter_table("submissions") as table:
        table.drop_column("key_generation")
    op.drop_table("key_generations")
