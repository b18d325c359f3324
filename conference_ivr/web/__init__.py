"""Web pages that need the live controller: the moderator live page and the dashboard."""
