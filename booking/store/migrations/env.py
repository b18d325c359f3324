"""Alembic environment: uses the project's engine factory so SQLite gets its pragmas.

SQLite alters tables in batch mode: a copy is made, the old table dropped, the copy renamed.
With foreign keys enforced, dropping a table that other rows point at fails (or cascades), so
migrations run with enforcement off, as SQLite's documentation prescribes for schema changes,
and ``PRAGMA foreign_key_check`` must come back empty before the work is committed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from booking.store.engine import make_engine
from booking.store.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
engine = make_engine(url)
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Outside any transaction (the pragma is a no-op inside one): straight to the driver.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.execute(text("PRAGMA foreign_key_check")).all()
            if broken:
                raise RuntimeError(f"migration left rows pointing nowhere: {broken[:10]}")
engine.dispose()
