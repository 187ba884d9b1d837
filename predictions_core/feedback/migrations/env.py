"""Alembic's environment for the feedback database: run on the caller's connection.

`feedback.engines` passes one connection, already inside the transaction that holds the
migration lock, as `config.attributes["connection"]`; every migration runs inside it, so a
failed upgrade leaves nothing half-done (DDL is transactional in PostgreSQL and SQLite).
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# batch mode: SQLite alters tables by copying them; PostgreSQL alters them in place
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
