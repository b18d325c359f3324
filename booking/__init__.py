"""Booking: rooms, reservations, the rules that admit callers, messaging, billing.

Layers, each importing only the ones above it:

- :mod:`booking.domain`: every pure rule and type (no I/O; time is passed in); its exception
  tree is :mod:`booking.domain.errors`.
- :mod:`booking.store`: SQLAlchemy tables, migrations, one repository per aggregate and the
  unit of work that hands them out; its errors are :mod:`booking.store.errors`.
- :mod:`booking.services`: one module per use case, over a ``UnitOfWork``.
- :mod:`booking.adapters`: the outside world (Kannel, SMTP, kept secrets).
- :mod:`booking.api` (REST) and :mod:`booking.web` (pages) in front.

``booking.settings`` holds every setting of the package. Nothing here builds a service: the
composition root (conference_ivr.dialconf.services) does.
"""
