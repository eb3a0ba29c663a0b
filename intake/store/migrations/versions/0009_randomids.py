"""Store family-related rows without SQLite's hidden rowid, which counts up in arrival order.

The ids of submissions, files, notes and replies were already random, but a
SQLite table with a text primary key still numbers its rows 1, 2, 3 ... in a
hidden `rowid` column, so a seized database told the order in which families
came. Each such table is rebuilt as a WITHOUT ROWID table, stored in the order
of its random primary key. Other databases have no rowid; nothing changes there.

Revision ID: 0009_randomids
Revises: 0008_audit_head
"""

from __future__ import annotations

from alembic import op

revision = "0009_randomids"
down_revision = "0008_audit_head"
branch_labels = None
depends_on = None

# Every table whose rows appear when a family sends or a reviewer answers, with the
# order of its columns: a row of a WITHOUT ROWID table keeps only about 1 KB on its
# page and the rest in overflow pages, so the short plaintext columns the inbox
# filters and sorts on come first and the ciphertexts last.
TABLES: dict[str, tuple[str, ...]] = {
    "submissions": ("id", "desk_id", "epoch_id", "received_on", "status", "family_status",
                    "priority", "assignee_id", "parent_id", "family_lookup", "form_nonce",
                    "sealed_key", "labels", "answers", "assessment", "family_key",
                    "family_outline"),
    "attachments": ("id", "submission_id", "position", "blob", "meta"),
    "notes": ("id", "submission_id", "author_id", "written_on", "body"),
    "replies": ("id", "submission_id", "author_id", "written_on", "for_desk", "for_family"),
    "case_reads": ("user_id", "submission_id"),
    "case_links": ("first_id", "second_id", "confirmed_by", "confirmed_on"),
}


def upgrade() -> None:
    _rebuild(with_rowid=False)
    # The inbox lists cases (no parent) newest first, and a case its additions by day:
    # this index (which holds the id too) serves both in order, so neither query reads
    # and sorts every row with its ciphertexts.
    op.create_index("ix_submissions_parent", "submissions", ["parent_id", "received_on"])


def downgrade() -> None:
    op.drop_index("ix_submissions_parent", "submissions")
    _rebuild(with_rowid=True)


def _rebuild(*, with_rowid: bool) -> None:
    """Copy each table into a new one with or without a rowid (`intake.store.db.upgrade` defers
    foreign-key checks while the parent table is swapped)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in TABLES.items():
        with op.batch_alter_table(table, recreate="always", partial_reordering=[columns],
                                  table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass
