"""The operator token: from settings, or generated once and kept 0600 in the data directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conference_ivr.dialconf.services import operator_token, operator_token_file
from conference_ivr.errors import DialconfError
from conference_ivr.settings import ApiSettings, Settings


def settings(tmp_path: Path, token: str | None = None) -> Settings:
    return Settings(data_dir=tmp_path / "data", api=ApiSettings(operator_token=token))


def test_generated_once_and_kept_private(tmp_path: Path) -> None:
    s = settings(tmp_path)
    first = operator_token(s)
    path = operator_token_file(s)
    assert path == tmp_path / "data" / "operator.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert operator_token(s) == first


def test_the_configured_token_wins_and_writes_nothing(tmp_path: Path) -> None:
    s = settings(tmp_path, "from-settings")
    assert operator_token(s) == "from-settings"
    assert not operator_token_file(s).exists()


def test_the_environment_sets_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_API__OPERATOR_TOKEN", "from-env")
    assert Settings().api.operator_token == "from-env"


def test_an_empty_token_file_is_an_error(tmp_path: Path) -> None:
    s = settings(tmp_path)
    path = operator_token_file(s)
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    with pytest.raises(DialconfError, match="empty"):
        operator_token(s)
