"""The booking REST API (FastAPI)."""
