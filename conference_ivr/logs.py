"""Structured JSON logs (structlog). Call ids are bound with ``structlog.contextvars``."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

import structlog


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Send structlog and stdlib logging as JSON lines to ``stream`` (stderr by default)."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    out = stream or sys.stderr
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQuery) for f in access.filters):
        access.addFilter(DropQuery())


class DropQuery(logging.Filter):
    """uvicorn's access lines without query strings (Kannel's forward carries its key, phone
    numbers and message texts there) and without personal join links (issue 20: a link in a
    log would let its reader join as the invitee)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = _JOIN_LINK.sub("/join/…", args[2].split("?", 1)[0])
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


_JOIN_LINK = re.compile(r"^/join/[^/]+")
