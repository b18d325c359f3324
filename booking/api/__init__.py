"""The booking REST API (FastAPI) and the guards in front of it and the web pages.

Booking exceptions become HTTP answers in :mod:`booking.api.errors`; the one exception of its
own, ``booking.api.body_limit.BodyTooLarge``, is raised into the app when a body passes its cap
(answered 413).
"""
