"""Web pages: the organizer panel, the live moderator page, the operations dashboard."""
