"""Settings: code defaults, DIALCONF_* environment overrides, nested groups with ``__``."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from conference_ivr.dialconf.runner import tune_for_serving
from conference_ivr.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DIALCONF_"):
            monkeypatch.delenv(name)


def test_defaults_without_environment() -> None:
    s = Settings()
    assert s.access_numbers == {"8000": "en"}
    assert s.asterisk.ami_port == 15038
    assert s.asterisk.sip_bind_address == "127.0.0.1"
    assert s.asterisk.ami_bind_address == "127.0.0.1" and not s.asterisk.allow_remote_ami
    assert s.asterisk.http_bind_address == "127.0.0.1"
    assert s.asterisk.ami_secret is None
    assert s.controller.bind_address == "127.0.0.1"
    assert s.controller.agi_port == 4573
    assert s.controller.max_pin_tries == 3
    assert s.booking.join_lead_minutes == 5
    assert s.booking.pin_length >= 6


def test_the_old_single_bind_address_is_refused_with_its_replacements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIALCONF_ASTERISK__BIND_ADDRESS", "0.0.0.0")
    with pytest.raises(ValidationError, match="SIP_BIND_ADDRESS"):
        Settings()


def test_nested_override_keeps_sibling_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_ASTERISK__AMI_PORT", "25038")
    s = Settings()
    assert s.asterisk.ami_port == 25038
    assert s.asterisk.ami_user == "dialconf"
    assert s.asterisk.http_port == 18088


def test_json_dict_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_ACCESS_NUMBERS", '{"123":"cs"}')
    assert Settings().access_numbers == {"123": "cs"}


def test_overrides_in_every_group(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIALCONF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DIALCONF_LOG_LEVEL", "debug")
    monkeypatch.setenv("DIALCONF_ASTERISK__ROOT_CACHE", str(tmp_path / "root"))
    monkeypatch.setenv("DIALCONF_ASTERISK__PACKAGES", '["asterisk", "sox"]')
    monkeypatch.setenv("DIALCONF_ASTERISK__AMI_SECRET", "s3cret")
    monkeypatch.setenv("DIALCONF_CONTROLLER__MAX_PIN_TRIES", "5")
    monkeypatch.setenv("DIALCONF_CONTROLLER__AGI_HEADER_TIMEOUT_S", "0.5")
    monkeypatch.setenv("DIALCONF_BOOKING__JOIN_LEAD_MINUTES", "10")
    monkeypatch.setenv("DIALCONF_API__PORT", "18080")
    s = Settings()
    assert s.data_dir == tmp_path
    assert s.log_level == "debug"
    assert s.asterisk.root_cache == tmp_path / "root"
    assert s.asterisk.packages == ["asterisk", "sox"]
    assert s.asterisk.ami_secret == "s3cret"
    assert s.controller.max_pin_tries == 5
    assert s.controller.agi_header_timeout_s == 0.5
    assert s.booking.join_lead_minutes == 10
    assert s.api.port == 18080


def test_lower_case_variables_work_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("dialconf_asterisk__ami_port", "35038")
    assert Settings().asterisk.ami_port == 35038


def test_unrelated_and_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMI_PORT", "1")
    monkeypatch.setenv("DIALCONF_NO_SUCH_SETTING", "x")
    assert Settings().asterisk.ami_port == 15038


def test_invalid_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALCONF_ASTERISK__AMI_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        Settings()


def test_explicit_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIALCONF_DATA_DIR", "/nonexistent")
    monkeypatch.setenv("DIALCONF_ACCESS_NUMBERS", '{"123":"cs"}')
    s = Settings(data_dir=tmp_path)
    assert s.data_dir == tmp_path
    assert s.access_numbers == {"123": "cs"}


def test_access_log_lines_drop_the_query_string() -> None:
    import io
    import logging

    from conference_ivr.logs import configure_logging

    out = io.StringIO()
    configure_logging("info", out)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/sms/kannel?sender=1&key=secret", "1.1", 204
    )
    line = out.getvalue()
    assert "/sms/kannel" in line and "secret" not in line and "sender" not in line
    configure_logging("warning")


def test_a_serving_process_freezes_what_it_built_and_shortens_the_gil_switch() -> None:
    before = sys.getswitchinterval()
    try:
        tune_for_serving(Settings(controller={"gil_switch_ms": 2.0}))
        assert sys.getswitchinterval() == pytest.approx(0.002)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)
