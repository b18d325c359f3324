"""What the store raises: driver and SQL errors never leave it untranslated.

StoreError         the base
├── Duplicate      a row that must be unique is there already (e.g. a message delivered twice at
│                  once: the other delivery stored it first)
├── StoreBusy      no turn to write in time (SQLite's lock, the writer queue, a lock timeout)
└── StoreUnavailable  the database cannot be reached or is not migrated (OperationalError)
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors."""


class Duplicate(StoreError):
    """A unique row exists already."""


class StoreBusy(StoreError):
    """No turn to write within the busy timeout."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, or its schema is not there (run ``dialconf db upgrade``)."""
