"""Booking: rooms, reservations and the rules that admit callers.

Public surface: :mod:`booking.domain` (pure rules), :mod:`booking.store` (SQLAlchemy
persistence and migrations) and :mod:`booking.services.booking` (use cases over a unit of work).
"""
