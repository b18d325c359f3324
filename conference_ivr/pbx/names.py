"""Every name Asterisk and the controller share, and the parsers for what Asterisk hands back.

The ``.conf`` files in ``asterisk/`` use exactly these names; ``tests/unit/test_names.py``
reads those files and checks that both sides agree.
"""

from __future__ import annotations

import enum
import re
from pathlib import PurePosixPath

# Dialplan contexts
CONTEXT_ACCESS = "dialconf-access"  # every access number; PJSIP endpoints land here
CONTEXT_IVR = "dialconf-ivr"  # the journey: FastAGI, then ConfBridge
CONTEXT_DRIVE = "dialconf-drive"  # ;1 half of Local-channel callers (tests, `dialconf call`)
CONTEXT_ANNOUNCER = "dialconf-announcer"  # ;2 half of a Local channel that plays into a conference

# FastAGI routes (the path in agi://host:port/<route>)
AGI_ROUTE_IVR = "ivr"
AGI_ROUTE_MENU = "menu"  # keypad actions from inside the conference (ConfBridge dialplan_exec)

CONTEXT_MENU = "dialconf-menu"  # dialplan_exec target of the ConfBridge menus
CONTEXT_PLAY = "dialconf-play"  # ;1 half of an announcer: plays DIALCONF_SOUND, hangs up
CONTEXT_DIALOUT = "dialconf-dialout"  # an answered dial-out call: the invitation, then ConfBridge
AGI_ROUTE_DIALOUT = "dialout"  # "you are invited... press 1" for a called participant (R40, R49)
# Joining from a browser (issue 20): the WebRTC endpoint's calls for a personal link arrive in
# CONTEXT_WEB at EXTEN_WEB_JOIN, which runs AGI_ROUTE_WEB; the page's call token travels in
# the SIP header HEADER_JOIN (read by the controller, checked against the store, never trusted).
CONTEXT_WEB = "dialconf-web"
EXTEN_WEB_JOIN = "join"
AGI_ROUTE_WEB = "web"
HEADER_JOIN = "X-Dialconf-Join"
HEADER_WEB = "X-Dialconf-Web"  # "1": the call comes from the join page (informational)
TRUNK_ENDPOINT = "dialconf-trunk"  # the PJSIP endpoint (and aor) dial-out calls leave through

# AMI event classes the controller's connection asks for at login (a subset of the AMI user's
# `read` in manager.conf): FullyBooted (system), Confbridge*/Hangup (call), UserEvent (user).
# Not agi, dtmf or reporting: in a join storm or a full conference those are most of the
# traffic (AGIExec*/DTMF* per key and command, RTCP per member every few seconds) and the
# controller acts on none of them. Tests and benchmarks log in with their own connection.
CONTROLLER_AMI_EVENTS = ("system", "call", "user")

# ConfBridge profiles and menus (confbridge.conf)
BRIDGE_PROFILE = "dialconf_bridge"
USER_PROFILE_PARTICIPANT = "dialconf_participant"
USER_PROFILE_MODERATOR = "dialconf_moderator"
USER_PROFILE_ANNOUNCER = "dialconf_announcer"
MENU_PARTICIPANT = "dialconf_menu_participant"
MENU_MODERATOR = "dialconf_menu_moderator"
# Hold music (musiconhold.conf): what a participant hears while waiting for the moderator
MOH_CLASS = "dialconf_hold"

# Channel variables
VAR_AGI_URL = "DIALCONF_AGI"  # global: agi://host:port
VAR_ACCESS = "DIALCONF_ACCESS"  # the access number the caller dialled (inherited)
VAR_ACTION = "DIALCONF_ACTION"  # set by the ivr route: "join" or empty
VAR_BRIDGE = "DIALCONF_BRIDGE"  # ConfBridge conference name to join
VAR_MENU = "DIALCONF_MENU"  # ConfBridge menu name for this caller
VAR_CONFERENCE = "DIALCONF_CONFERENCE"  # the conference number (menu actions read it)
VAR_ROLE = "DIALCONF_ROLE"  # participant | moderator
VAR_SOUND = "DIALCONF_SOUND"  # what an announcer plays ('&'-separated)
VAR_LANGUAGE = "DIALCONF_LANGUAGE"  # the announcer's language
VAR_HOLD = "DIALCONF_HOLD"  # seconds the drive half waits
VAR_VOICE = "DIALCONF_VOICE"  # a Playtones spec the drive half "speaks" with
VAR_RECORD = "DIALCONF_RECORD"  # where the drive half records what the caller hears
VAR_DIALOUT = "DIALCONF_DIALOUT"  # the dial-out call's id, set by the controller's Originate
VAR_AGI_SIGHUP = "AGISIGHUP"
VAR_AGI_STATUS = "AGISTATUS"
VAR_CONFBRIDGE_RESULT = "CONFBRIDGE_RESULT"

ACTION_JOIN = "join"

# Every variable the dialplan reads that the controller owns.
CONTROLLER_VARIABLES = frozenset(
    {
        VAR_AGI_URL,
        VAR_ACCESS,
        VAR_ACTION,
        VAR_BRIDGE,
        VAR_MENU,
        VAR_HOLD,
        VAR_VOICE,
        VAR_RECORD,
        VAR_CONFERENCE,
        VAR_ROLE,
        VAR_SOUND,
        VAR_LANGUAGE,
        VAR_DIALOUT,
    }
)

_BRIDGE_PREFIX = "conf-"
_BRIDGE_NAME = re.compile(r"^conf-(?P<number>[0-9]{3,12})$")


def bridge_name(conference_number: str) -> str:
    """The ConfBridge conference name for a booked conference number."""
    if not conference_number.isdigit():
        raise ValueError(f"conference number must be digits: {conference_number!r}")
    return _BRIDGE_PREFIX + conference_number


def parse_bridge_name(name: str) -> str | None:
    """The conference number behind a ConfBridge name, or None for rooms we do not own."""
    m = _BRIDGE_NAME.match(name)
    return m.group("number") if m else None


def dial_string(template: str, number: str) -> str:
    """The channel to originate for ``number``: only a number already checked as dialable
    (booking.domain.dialout.dialable: digits and a leading +) may reach this."""
    if not number.lstrip("+").isdigit():
        raise ValueError("not a dialable number")
    return template.format(number=number, trunk=TRUNK_ENDPOINT)


def confbridge_option(kind: str, option: str) -> str:
    """The CONFBRIDGE() function for one dynamic profile option, e.g. ``CONFBRIDGE(user,admin)``."""
    if kind not in {"bridge", "user", "menu"}:
        raise ValueError(kind)
    return f"CONFBRIDGE({kind},{option})"


class ConfbridgeResult(enum.Enum):
    """Why ConfBridge returned (``CONFBRIDGE_RESULT``)."""

    FAILED = "FAILED"
    HANGUP = "HANGUP"
    KICKED = "KICKED"
    ENDMARKED = "ENDMARKED"
    DTMF = "DTMF"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = ""

    @classmethod
    def parse(cls, value: str) -> ConfbridgeResult:
        try:
            return cls(value.strip().upper())
        except ValueError:
            return cls.UNKNOWN


def is_announcer_channel(channel: str) -> bool:
    """Channels that join only to play a sound; they are not participants."""
    return channel.startswith(f"Local/s@{CONTEXT_ANNOUNCER}") or channel.startswith("CBAnn/")


# Recording (issue 19): ConfBridge's own, one file per session, started and stopped over AMI
# (both actions need the AMI user's `system` write class, asterisk/manager.conf); a moderator
# toggles it with RECORD_KEYS (the `record` menu action). Files go under RECORDINGS_DIR of the
# instance, a path inside the Asterisk root.
AMI_START_RECORD = "ConfbridgeStartRecord"
AMI_STOP_RECORD = "ConfbridgeStopRecord"
MENU_RECORD = "record"
RECORD_KEYS = "#1"
RECORDINGS_DIR = "recordings"

# The controller's own key sequence into one member's menu (confbridge.conf binds it to the
# `mobilewarn` action; not announced to callers).
MOBILE_WARNING_KEYS = "#0#"
# Where Asterisk looks for sounds (inside its root); the prompts go under <lang>/dialconf/.
SOUNDS_DIR = PurePosixPath("/usr/share/asterisk/sounds")

# Lecture mode (conference_ivr.conference.lecture). The controller's key sequence into one
# participant's menu (confbridge.conf binds it to the `lecturemuted` action; not announced):
# that participant alone hears that lecture mode keeps them muted.
LECTURE_MUTED_KEYS = "#9#"
# A conference's lecture state is copied into this Asterisk global variable (AMI Setvar/Getvar
# without a channel) plus its conference number, so a restarted controller takes it up again.
_LECTURE_STATE_PREFIX = "DIALCONF_LECTURE_"


def lecture_state_variable(bridge: str) -> str:
    """The global variable holding ``bridge``'s lecture state."""
    number = parse_bridge_name(bridge)
    if number is None:
        raise ValueError(f"not one of our conferences: {bridge!r}")
    return _LECTURE_STATE_PREFIX + number
