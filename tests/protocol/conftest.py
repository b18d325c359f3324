"""Fixtures of the protocol tier."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from booking.settings import BookingSettings
from tests.support.api import Api, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The booking API with the sources' default limits."""
    with running_api(tmp_path) as a:
        yield a


@pytest.fixture
def api_with(tmp_path: Path) -> Callable[[BookingSettings], AbstractContextManager[Api]]:
    """The booking API with other limits: ``with api_with(BookingSettings(...)) as api``."""
    return lambda settings: running_api(tmp_path, settings)
