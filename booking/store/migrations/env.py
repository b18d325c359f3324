"""Alembic environment: uses the project's engine factory so SQLite gets its pragmas."""

from __future__ import annotations

from alembic import context

from booking.store.engine import make_engine
from booking.store.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
