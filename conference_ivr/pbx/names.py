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
CONTEXT_WHISPER = "dialconf-whisper"  # ;2 half that plays to listed members only (Broadcast)

# FastAGI routes (the path in agi://host:port/<route>)
AGI_ROUTE_IVR = "ivr"
AGI_ROUTE_MENU = "menu"  # keypad actions from inside the conference (ConfBridge dialplan_exec)

CONTEXT_MENU = "dialconf-menu"  # dialplan_exec target of the ConfBridge menus
CONTEXT_PLAY = "dialconf-play"  # ;1 half of an announcer: plays DIALCONF_SOUND, hangs up
CONTEXT_DIALOUT = "dialconf-dialout"  # an answered dial-out call: the invitation, then ConfBridge
AGI_ROUTE_DIALOUT = "dialout"  # "you are invited... press 1" for a called participant (R40, R49)
TRUNK_ENDPOINT = "dialconf-trunk"  # the PJSIP endpoint (and aor) dial-out calls leave through

# UserEvents the dialplan sends: a sound starts playing; a whisper's sound has been played
USER_EVENT_PLAY = "DialconfPlay"
USER_EVENT_PLAYED = "DialconfPlayed"

# Joining from a browser (issue 20): the page's SIP over WebSocket reaches Asterisk's HTTP server;
# the request carries WEB_HEADER, whose PJSIP identify picks the WebRTC endpoint, and lands in
# CONTEXT_WEB. There extension WEB_JOIN_EXTEN (a personal link: its token travels in
# JOIN_TOKEN_HEADER) goes to AGI_ROUTE_WEB; any other extension is an access number and takes the
# phone callers' IVR (the public page keys 1, the number and the PIN as RFC 4733 DTMF).
CONTEXT_WEB = "dialconf-web"
CONTEXT_WEB_CALLER = "dialconf-web-caller"  # the public page's caller number: web-<client address>
AGI_ROUTE_WEB = "web"
WEB_JOIN_EXTEN = "join"
WEBRTC_ENDPOINT = "webrtc"
WEBRTC_IDENTIFY = "webrtc-header"
WEB_HEADER = "X-Dialconf-Web"
WEB_HEADER_VALUE = "1"
JOIN_TOKEN_HEADER = "X-Dialconf-Join"
WS_TRANSPORT = "transport-ws"
WSS_TRANSPORT = "transport-wss"
WS_PATH = "/ws"  # Asterisk's HTTP server serves SIP over WebSocket here (res_http_websocket)

# Several media nodes (issue 21): a caller whose conference another node mixes is bridged on
# to it (CONTEXT_RELAY: Dial VAR_RELAY, the peer endpoint's RELAY_EXTEN, with the signed ticket
# VAR_TICKET in RELAY_HEADER, added by CONTEXT_RELAY_OUT's pre-dial handler). The hosting node
# identifies the peer by its address (pjsip identify) into CONTEXT_PEER, whose AGI_ROUTE_PEER
# checks the ticket and joins the caller; when the relayed leg ends, AGI_ROUTE_REJOIN decides
# (let go, or placed again when the hosting node died).
CONTEXT_RELAY = "dialconf-relay"
CONTEXT_RELAY_OUT = "dialconf-relay-out"
CONTEXT_PEER = "dialconf-peer"
AGI_ROUTE_PEER = "peer"
AGI_ROUTE_REJOIN = "rejoin"
RELAY_EXTEN = "relay"
RELAY_HEADER = "X-Dialconf-Relay"
_PEER_PREFIX = "node-"


def peer_endpoint(node: str) -> str:
    """The PJSIP endpoint (and aor and identify) of another media node."""
    return _PEER_PREFIX + node


def relay_dial(node: str) -> str:
    """What the relaying node dials to reach ``node``'s conference."""
    return f"PJSIP/{RELAY_EXTEN}@{peer_endpoint(node)}"


def parse_relay_dial(dial: str) -> str | None:
    """The node behind a ``relay_dial`` string, or None."""
    prefix = f"PJSIP/{RELAY_EXTEN}@{_PEER_PREFIX}"
    return dial[len(prefix) :] or None if dial.startswith(prefix) else None


def relay_channels(node: str) -> str:
    """An AMI channel regex matching every leg to or from ``node`` (AMI Hangup takes /re/)."""
    return f"/^PJSIP/{re.escape(peer_endpoint(node))}-/"


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
VAR_TARGETS = "DIALCONF_TARGETS"  # the members' channels a whisper plays to ('&'-separated)
VAR_HOLD = "DIALCONF_HOLD"  # seconds the drive half waits
VAR_VOICE = "DIALCONF_VOICE"  # a Playtones spec the drive half "speaks" with
VAR_RECORD = "DIALCONF_RECORD"  # where the drive half records what the caller hears
VAR_DIALOUT = "DIALCONF_DIALOUT"  # the dial-out call's id, set by the controller's Originate
VAR_RELAY = "DIALCONF_RELAY"  # what a relayed caller is dialled on to (issue 21)
VAR_TICKET = "DIALCONF_TICKET"  # the relay ticket, signed (cluster/ticket.py)
VAR_DIALSTATUS = "DIALSTATUS"
VAR_AGI_SIGHUP = "AGISIGHUP"
VAR_AGI_STATUS = "AGISTATUS"
VAR_CONFBRIDGE_RESULT = "CONFBRIDGE_RESULT"

ACTION_JOIN = "join"
ACTION_RELAY = "relay"  # the conference is mixed on another node

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
        VAR_TARGETS,
        VAR_DIALOUT,
        VAR_RELAY,
        VAR_TICKET,
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
