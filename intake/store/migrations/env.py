"""Alembic environment: migrations run on the connection `intake.store.db.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from intake.store import models  # noqa: F401  (registers the tables)
from intake.store.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
