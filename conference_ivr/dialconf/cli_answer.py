"""How every CLI command ends: one line on stderr, no traceback, and an exit code for each
error of the trees (0 done, 1 refused by a rule, 2 unusable input or a store not ready)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from booking.domain.errors import BookingError, CapacityExceeded, RuleViolation
from booking.store.errors import StoreUnavailable
from conference_ivr.errors import UsageError


def answered(command: Callable[[], int], unusable: frozenset[str] = frozenset()) -> int:
    """Run ``command``; an error becomes its message and exit code. A rule violation whose code
    is in ``unusable`` is bad input (2), any other a refusal (1)."""
    try:
        return command()
    except RuleViolation as exc:
        if exc.code in unusable:
            return fail(f"{exc.field}: {exc.reason}", 2)
        return fail(f"refused: {exc.field}: {exc.reason}", 1)
    except CapacityExceeded as exc:
        return fail(f"refused: {exc}{_suggestions(exc)}", 1)
    except BookingError as exc:  # NotFound and the rest
        return fail(str(exc), 1)
    except UsageError as exc:
        return fail(str(exc), 2)
    except StoreUnavailable as exc:
        return database_not_ready(exc)


def database_not_ready(exc: StoreUnavailable) -> int:
    """The store is missing or behind: say how to fix it (exit 2)."""
    first = (str(exc) or "unreachable").splitlines()[0]
    return fail(f"database not ready ({first}): run `dialconf db upgrade`", 2)


def fail(message: str, code: int) -> int:
    """One line on stderr, no traceback; returns the exit code."""
    print(f"dialconf: {message}", file=sys.stderr)
    return code


def _suggestions(exc: CapacityExceeded) -> str:
    starts = exc.refusal.suggested_starts
    if not starts:
        return ""
    return "; these starts fit: " + ", ".join(f"{s.astimezone():%Y-%m-%d %H:%M}" for s in starts)
