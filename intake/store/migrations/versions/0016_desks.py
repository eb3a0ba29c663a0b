"""Coalition desks: the desks families choose among, each account's desk, each case's desks.

`desks` names each desk and says what it does, per language; an account
belongs to one desk (`users.desk_id`, and `invites.desk_id` for an account
not yet made; NULL is the instance's first desk, DESK_ID); `case_desks` holds
a case's data key sealed to the current epoch of every desk the family chose
besides the one named on the submission row itself, that desk's own work key
(what it writes on the case is encrypted under it) and its own triage;
`case_desk_keys` the later generations of that work key each rotation of that
desk adds.

Revision ID: 0016_desks
Revises: 0015_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_desks"
down_revision = "0015_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("names", sa.String(2000), nullable=False),
        sa.Column("descriptions", sa.String(8000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "case_desks",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("desk_id", sa.String(64), primary_key=True),
        sa.Column("epoch_id", sa.Integer(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("work_key", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default="new"),
        sa.Column("family_status", sa.String(32), nullable=False, server_default="received"),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("assignee_id", sa.String(32), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("labels", sa.LargeBinary(), nullable=True),
        sa.Column("assessment", sa.LargeBinary(), nullable=True),
        sa.Column("referred_by", sa.String(64), nullable=True),
        sa.Column("key_generation", sa.Integer(), nullable=False, server_default="1"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "case_desk_keys",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"),
                  primary_key=True),
        sa.Column("desk_id", sa.String(64), primary_key=True),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("epoch_id", sa.Integer(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_case_desks_desk", "case_desks", ["desk_id", "submission_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("desk_id", sa.String(64), nullable=True))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("desk_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("desk_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("desk_id")
    op.drop_table("case_desk_keys")
    op.drop_index("ix_case_desks_desk", "case_desks")
    op.drop_table("case_desks")
    op.drop_table("desks")
