"""Web pages: the organizer panel, the moderator's live page, the operations dashboard.

The live page and the dashboard talk to the running controller through
:mod:`booking.web.ports` (its exceptions: ``LiveError`` and below). The pages' own:
``booking.web.session.SignInRequired`` (a page needs a signed-in viewer: answered with a
redirect to the sign-in page) and ``booking.web.panel_base.BadValue`` (a form value that
cannot be read: shown next to its field).
"""
