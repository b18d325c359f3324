"""The booking REST API (FastAPI) and the guards in front of it and the web pages.

Booking exceptions become HTTP answers in :mod:`booking.api.errors`; the API raises none of its
own (a body past its cap is cut before the app reads it: the app is told the client left, and
the guard answers 413, booking.api.body_limit).
"""
