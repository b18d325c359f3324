"""The shared names in conference_ivr.pbx.names agree with the real files in asterisk/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conference_ivr.pbx import names
from conference_ivr.pbx.confparse import ConfSection, parse_conf_file
from conference_ivr.pbx.instance import CONF_FILES, TEMPLATE_DIR, AsteriskInstance
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import Settings

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def _conf(name: str) -> dict[str, ConfSection]:
    return parse_conf_file(TEMPLATE_DIR / name)


def _dialplan_lines(section: ConfSection) -> list[str]:
    return [v for k, v in section.entries if k in {"exten", "same"}]


def test_every_context_exists_in_extensions_conf() -> None:
    contexts = _conf("extensions.conf")
    for context in (names.CONTEXT_ACCESS, names.CONTEXT_IVR, names.CONTEXT_DRIVE):
        assert context in contexts, context
        assert _dialplan_lines(contexts[context]), f"{context} has no extensions"


def test_pjsip_endpoint_lands_in_the_access_context() -> None:
    assert _conf("pjsip.conf")["anonymous"].get("context") == names.CONTEXT_ACCESS


def test_ivr_context_calls_the_fastagi_route_with_sighup_off() -> None:
    ext = _conf("extensions.conf")
    assert ext["globals"].get(names.VAR_AGI_URL) == "agi://{{agi_host}}:{{agi_port}}"
    lines = _dialplan_lines(ext[names.CONTEXT_IVR])
    agi_calls = [line for line in lines if "AGI(" in line]
    assert len(agi_calls) == 1
    route = re.search(r"AGI\(\$\{" + names.VAR_AGI_URL + r"\}/(\w+)", agi_calls[0])
    assert route is not None and route.group(1) == names.AGI_ROUTE_IVR
    # notes §2: AGISIGHUP=no must be set before the AGI runs, or HANGUP lines misalign replies
    sighup = next(i for i, line in enumerate(lines) if f"Set({names.VAR_AGI_SIGHUP}=no)" in line)
    assert sighup < lines.index(agi_calls[0])


def test_web_context_runs_the_web_route_at_join_with_sighup_off() -> None:
    """Issue 20: the WebRTC endpoint's personal-link calls (the contract with the webrtc side)."""
    lines = _dialplan_lines(_conf("extensions.conf")[names.CONTEXT_WEB])
    assert lines[0].startswith(f"{names.WEB_JOIN_EXTEN},1,Set({names.VAR_AGI_SIGHUP}=no)")
    agi_calls = [line for line in lines if "AGI(" in line]
    assert agi_calls == [f"n,AGI(${{{names.VAR_AGI_URL}}}/{names.AGI_ROUTE_WEB})"]
    assert any("ConfBridge(${DIALCONF_BRIDGE},,,${DIALCONF_MENU})" in line for line in lines)
    assert not any(names.JOIN_TOKEN_HEADER in line for line in lines)  # read by the controller only


def test_ivr_context_joins_with_empty_profile_arguments() -> None:
    lines = _dialplan_lines(_conf("extensions.conf")[names.CONTEXT_IVR])
    assert any(f'"${{{names.VAR_ACTION}}}" = "{names.ACTION_JOIN}"' in line for line in lines)
    (call,) = [line for line in lines if "ConfBridge(" in line]
    args = call.split("ConfBridge(", 1)[1].rsplit(")", 1)[0].split(",")
    # notes §1: a named bridge/user profile would disable the CONFBRIDGE() templates the IVR sets
    assert args == [f"${{{names.VAR_BRIDGE}}}", "", "", f"${{{names.VAR_MENU}}}"]


def test_every_dialconf_variable_in_the_dialplan_is_a_controller_variable() -> None:
    text = (TEMPLATE_DIR / "extensions.conf").read_text()
    read = set(re.findall(r"\$\{(DIALCONF_\w+)\}", text))
    written = set(re.findall(r"Set\(_{0,2}(DIALCONF_\w+)=", text))
    assert read, "the dialplan reads no DIALCONF_ variables?"
    assert read <= names.CONTROLLER_VARIABLES
    assert written <= names.CONTROLLER_VARIABLES


def test_confbridge_profiles_and_menus() -> None:
    cb = _conf("confbridge.conf")
    assert cb[names.BRIDGE_PROFILE].get("type") == "bridge"
    for profile in (
        names.USER_PROFILE_PARTICIPANT,
        names.USER_PROFILE_MODERATOR,
        names.USER_PROFILE_ANNOUNCER,
    ):
        assert cb[profile].get("type") == "user", profile
    assert cb[names.USER_PROFILE_MODERATOR].get("admin") == "yes"
    assert cb[names.USER_PROFILE_PARTICIPANT].get("admin") in (None, "no")
    assert cb[names.USER_PROFILE_ANNOUNCER].get("quiet") == "yes"
    assert cb[names.USER_PROFILE_ANNOUNCER].get("admin") == "yes"
    for menu in (names.MENU_PARTICIPANT, names.MENU_MODERATOR):
        assert cb[menu].get("type") == "menu", menu
    admin_actions = {"admin_kick_last", "admin_toggle_conference_lock", "admin_toggle_mute_participants"}
    assert not admin_actions & {v for k, v in cb[names.MENU_PARTICIPANT].entries if k != "type"}


def test_manager_user_cannot_run_commands_or_rewrite_config() -> None:
    mgr = _conf("manager.conf")
    user = mgr["{{ami_user}}"]
    write = {c.strip() for c in (user.get("write") or "").split(",")}
    # `system` is granted: Asterisk files ConfBridge's recording actions there (issue 19)
    assert write and not write & {"command", "config", "all"}
    assert user.get("secret") == "{{ami_secret}}"
    assert user.get("deny") == "0.0.0.0/0.0.0.0"
    assert user.get("permit") == "{{ami_permit}}"
    assert mgr["general"].get("bindaddr") == "{{ami_bind_address}}"
    assert mgr["general"].get("port") == "{{ami_port}}"


def test_the_controller_asks_only_for_event_classes_its_user_may_read() -> None:
    read = {c.strip() for c in (_conf("manager.conf")["{{ami_user}}"].get("read") or "").split(",")}
    assert set(names.CONTROLLER_AMI_EVENTS) <= read
    assert not set(names.CONTROLLER_AMI_EVENTS) & {"agi", "dtmf", "reporting"}


@pytest.mark.parametrize(
    "module",
    [
        "res_agi",
        "res_speech",
        "app_confbridge",
        "bridge_softmix",
        "res_timing_timerfd",
        "chan_pjsip",
        "res_pjsip_pubsub",
        "res_prometheus",
        "res_pjsip",
        "pbx_config",
        "app_read",
    ],
)
def test_modules_conf_loads_explicitly(module: str) -> None:
    mods = _conf("modules.conf")["modules"]
    assert mods.get("autoload") == "no"
    loaded = {v.removesuffix(".so") for v in mods.values("load")}
    assert module in loaded


def test_every_template_file_is_rendered() -> None:
    on_disk = {p.name for p in TEMPLATE_DIR.glob("*.conf")}
    assert on_disk == set(CONF_FILES)


def test_every_placeholder_has_a_value(tmp_path: Path) -> None:
    instance = AsteriskInstance(AsteriskInstall(root=None, version="22"), Settings(data_dir=tmp_path))
    values = instance.values()
    used = {name for p in TEMPLATE_DIR.glob("*.conf") for name in _PLACEHOLDER.findall(p.read_text())}
    assert used, "no placeholders found at all?"
    assert used <= set(values), used - set(values)
    assert all(values[name] for name in used), "a placeholder renders empty"


@pytest.mark.parametrize("number", ["123", "123456", "000123", "123456789012"])
def test_bridge_name_round_trip(number: str) -> None:
    name = names.bridge_name(number)
    assert name == f"conf-{number}"
    assert names.parse_bridge_name(name) == number


@pytest.mark.parametrize("bad", ["", "12a456", "12 34", "-12345", "+420123"])
def test_bridge_name_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        names.bridge_name(bad)


@pytest.mark.parametrize(
    "name",
    ["conf-12", "conf-1234567890123", "conf-12a", "room-123456", "conf-123456;2", "CONF-123456", "900"],
)
def test_parse_bridge_name_ignores_rooms_we_do_not_own(name: str) -> None:
    assert names.parse_bridge_name(name) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HANGUP", names.ConfbridgeResult.HANGUP),
        ("kicked", names.ConfbridgeResult.KICKED),
        (" FAILED\n", names.ConfbridgeResult.FAILED),
        ("ENDMARKED", names.ConfbridgeResult.ENDMARKED),
        ("DTMF", names.ConfbridgeResult.DTMF),
        ("TIMEOUT", names.ConfbridgeResult.TIMEOUT),
        ("", names.ConfbridgeResult.UNKNOWN),
        ("SOMETHING_NEW", names.ConfbridgeResult.UNKNOWN),
    ],
)
def test_confbridge_result_parse(raw: str, expected: names.ConfbridgeResult) -> None:
    assert names.ConfbridgeResult.parse(raw) is expected


def test_confbridge_option_and_announcer_channels() -> None:
    assert names.confbridge_option("user", "template") == "CONFBRIDGE(user,template)"
    with pytest.raises(ValueError):
        names.confbridge_option("room", "x")
    assert names.is_announcer_channel("Local/s@dialconf-announcer-0001;2")
    assert names.is_announcer_channel("CBAnn/conf-123456-00000001")
    assert not names.is_announcer_channel("PJSIP/anonymous-00000001")
    assert not names.is_announcer_channel("Local/s@dialconf-ivr-00000001;2")
