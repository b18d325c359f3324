"""Waiting for the moderator (issue 19), the pure parts: the ConfBridge options a participant
gets, who the live model says is waiting, what ConfbridgeList reports, and the hold music the
Asterisk root is provisioned with (the real path: tests/asterisk/test_wait_for_moderator.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conference_ivr.ami.events import ConfbridgeListItem, parse_event
from conference_ivr.conference.members import Arrival, Conference, Member
from conference_ivr.ivr.journey import waiting_options
from conference_ivr.pbx import names, provision
from conference_ivr.pbx.confparse import parse_conf_file
from conference_ivr.pbx.instance import TEMPLATE_DIR
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import AsteriskSettings
from tests.fixtures.ami_streams import MEMBER

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MOH_PACKAGE = "asterisk-moh-opsound-gsm"


def arrival(moderator: bool, wait: bool, end: bool) -> Arrival:
    return Arrival("u1", "583920", "conf-583920", moderator, "en", "+420221000001", None, 5,
                   wait_for_moderator=wait, end_with_moderator=end)  # fmt: skip


def test_a_participant_waits_with_hold_music_and_ends_with_the_moderator() -> None:
    assert waiting_options(arrival(False, True, True)) == [
        ("wait_marked", "yes"),
        ("music_on_hold_when_empty", "yes"),
        ("music_on_hold_class", names.MOH_CLASS),
        ("end_marked", "yes"),
    ]
    assert waiting_options(arrival(False, False, True)) == [("end_marked", "yes")]
    assert waiting_options(arrival(False, False, False)) == []


def test_moderators_never_wait_they_are_the_marked_users() -> None:
    assert waiting_options(arrival(True, True, True)) == []
    moderator = parse_conf_file(TEMPLATE_DIR / "confbridge.conf")[names.USER_PROFILE_MODERATOR]
    assert moderator.get("marked") == "yes"


def member(uid: str, moderator: bool, wait_marked: bool = False) -> Member:
    return Member(uid, "conf-583920", f"chan-{uid}", "+4202", moderator, T0, 1, wait_marked=wait_marked)


def test_a_wait_marked_member_waits_while_no_moderator_is_in() -> None:
    waiting, plain = member("p1", False, wait_marked=True), member("p2", False)
    c = Conference("conf-583920", {"p1": waiting, "p2": plain})
    assert c.waiting(waiting) and not c.waiting(plain) and c.moderators == 0
    c.members["m1"] = member("m1", True)
    assert not c.waiting(waiting) and c.moderators == 1
    del c.members["m1"]
    assert c.waiting(waiting)  # the last moderator gone: waiting again


def test_confbridge_list_reports_the_marks_and_the_wait() -> None:
    item = parse_event({"Event": "ConfbridgeList", **MEMBER, "Admin": "No", "MarkedUser": "No",
                        "WaitMarked": "Yes", "EndMarked": "Yes", "Waiting": "Yes"})  # fmt: skip
    assert isinstance(item, ConfbridgeListItem)
    assert (item.wait_marked, item.end_marked, item.waiting) == (True, True, True)
    plain = parse_event({"Event": "ConfbridgeList", **MEMBER, "Admin": "Yes"})
    assert isinstance(plain, ConfbridgeListItem)
    assert (plain.wait_marked, plain.end_marked, plain.waiting) == (False, False, False)


def test_the_hold_music_class_plays_asterisks_own_files() -> None:
    moh = parse_conf_file(TEMPLATE_DIR / "musiconhold.conf")[names.MOH_CLASS]
    assert (moh.get("mode"), moh.get("directory")) == ("files", "moh")  # /usr/share/asterisk/moh
    assert MOH_PACKAGE in AsteriskSettings().packages


def test_a_cached_root_built_before_gets_the_hold_music_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older root (its marker lacks the package) is topped up in place, not rebuilt; once
    topped up it is used as it is."""
    root = tmp_path / "asterisk-root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/apt-get").touch()
    (root / ".dialconf-ready").write_text("asterisk\nsox\n")
    settings = AsteriskSettings(root_cache=root)
    installed: list[list[str]] = []

    def install(where: Path, packages: list[str]) -> None:
        installed.append(packages)
        (where / ".dialconf-ready").write_text("\n".join(packages) + "\n")

    def build(_settings: AsteriskSettings) -> None:
        raise AssertionError("rebuilt instead of topped up")

    monkeypatch.setattr(provision, "find_installed", lambda _min: None)
    monkeypatch.setattr(provision, "_asterisk_version", lambda _cmd: (22, "22.10.1"))
    monkeypatch.setattr(provision, "_ensure_debootstrap", lambda: None)
    monkeypatch.setattr(provision, "_install_packages", install)
    monkeypatch.setattr(provision, "_build_root", build)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert provision.provision(settings) == AsteriskInstall(root, "22.10.1")
    assert provision.provision(settings) == AsteriskInstall(root, "22.10.1")
    assert installed == [settings.packages] and MOH_PACKAGE in installed[0]
