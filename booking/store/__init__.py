"""Persistence: SQLAlchemy 2 Core tables, a unit of work, and Alembic migrations."""
