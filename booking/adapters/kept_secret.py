"""Secrets generated once and kept in a file only the owner can read (0600)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from booking.domain.errors import SecretFileError


def kept_secret(path: Path, nbytes: int = 32) -> str:
    """The secret in ``path``, made first if there is none. Created exclusively with mode
    0600: never readable by others, not even between create and chmod; a racing process that
    made it first wins and both read the same."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes) + "\n")
    value = path.read_text().strip()
    if not value:
        raise SecretFileError(f"{path} is empty: delete it to generate a new secret")
    return value
