"""Alembic environment: migrations run programmatically on the connection the store hands over
(``config.attributes["connection"]``); there is no alembic.ini and no URL in a file."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table instead.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
