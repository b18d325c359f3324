"""One Asterisk instance: its directories, its rendered configuration and its secrets.

Templates live in the repository's ``asterisk/`` folder; ``{{name}}`` placeholders are filled
from settings and written to ``<instance>/etc``. Paths inside the files are the paths as
Asterisk sees them (inside the chroot when it runs there).
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from conference_ivr.bind import is_loopback
from conference_ivr.cluster_settings import ClusterSettings
from conference_ivr.pbx import names
from conference_ivr.pbx.provision import AsteriskInstall
from conference_ivr.settings import Settings, WebRtcSettings

security = structlog.get_logger("dialconf.security")

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "asterisk"
CONF_FILES = (
    "asterisk.conf",
    "modules.conf",
    "manager.conf",
    "extensions.conf",
    "confbridge.conf",
    "pjsip.conf",
    "logger.conf",
    "http.conf",
    "rtp.conf",
    "prometheus.conf",
    "cdr.conf",
    "cel.conf",
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "ccss.conf",
    "pjproject.conf",
    "indications.conf",
    "musiconhold.conf",
)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render_template(text: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise KeyError(f"no value for placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


# Verbose level 3 is where Asterisk logs what a channel runs and plays (Read's "User entered"
# among it) and `dtmf` is every key. The level is the core's (asterisk.conf): a file channel's
# verbose(N) cannot go below it, so with the opt-in trace log on (AsteriskSettings.trace_log)
# the full log keeps no verbose lines at all and only the trace file holds the keys.
TRACE_LOG = "trace => notice,warning,error,verbose(3),dtmf"


def _log_values(trace: bool) -> dict[str, str]:
    if trace:
        return {"verbose": "3", "full_log": "notice,warning,error", "trace_log": TRACE_LOG}
    return {
        "verbose": "2",
        "full_log": "notice,warning,error,verbose(2)",
        "trace_log": "; trace => off (asterisk.trace_log: it would hold every keyed digit)",
    }


def _webrtc_values(w: WebRtcSettings) -> dict[str, str]:
    """The browsers' listener and media lines (issue 20): wss only with a certificate; RTP
    bound to one address only when one is set."""
    values = {
        "http_tls": "; no TLS listener (webrtc.cert_file): browsers use ws:// on the port above",
        "wss_transport": "; wss: configured with a certificate (webrtc.cert_file)",
        "webrtc_media": "; media on every interface (webrtc.media_address)",
    }
    if w.tls:
        values["http_tls"] = "\n".join(
            (
                "tlsenable = yes",
                f"tlsbindaddr = {w.tls_bind_address}:{w.tls_port}",
                f"tlscertfile = {w.cert_file}",
                f"tlsprivatekey = {w.key_file}",
            )
        )
        values["wss_transport"] = "\n".join(
            (
                "",
                f"[{names.WSS_TRANSPORT}]",
                "type = transport",
                "protocol = wss",
                f"bind = {w.tls_bind_address}",
            )
        )
    if w.media_address:
        values["webrtc_media"] = f"media_address = {w.media_address}\nbind_rtp_to_media_address = yes"
    return values


def _peer_sections(cluster: ClusterSettings, media_address: str) -> str:
    """One endpoint, aor and identify per other media node (issue 21)."""
    if not cluster.enabled:
        return "; one node: no peers (cluster.nodes)"
    blocks = []
    for node, address in sorted(cluster.peers().items()):
        name = names.peer_endpoint(node)
        blocks.append(
            "\n".join(
                (
                    f"[{name}]",
                    "type = aor",
                    f"contact = sip:{address}",
                    "",
                    f"[{name}]",
                    "type = endpoint",
                    f"aors = {name}",
                    f"context = {names.CONTEXT_PEER}",
                    "disallow = all",
                    "allow = ulaw",
                    "dtmf_mode = rfc4733",
                    f"media_address = {media_address}",
                    "bind_rtp_to_media_address = yes",
                    "rtp_symmetric = yes",
                    "direct_media = no",
                    "",
                    f"[{name}]",
                    "type = identify",
                    f"endpoint = {name}",
                    f"match = {cluster.host_of(node)}",
                )
            )
        )
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class AsteriskInstance:
    install: AsteriskInstall
    settings: Settings

    @property
    def inner_base(self) -> PurePosixPath:
        if self.install.root is not None:
            return PurePosixPath("/var/lib/dialconf") / self.settings.asterisk.instance
        host = (self.settings.data_dir / "asterisk" / self.settings.asterisk.instance).resolve()
        return PurePosixPath(host)

    def inner(self, *parts: str) -> PurePosixPath:
        return self.inner_base.joinpath(*parts)

    def host(self, *parts: str) -> Path:
        return self.install.host_path(self.inner(*parts))

    @property
    def config_file(self) -> PurePosixPath:
        return self.inner("etc", "asterisk.conf")

    def asterisk_cmd(self, *args: str) -> list[str]:
        return self.install.command("-C", str(self.config_file), *args)

    def ami_secret(self) -> str:
        """The configured secret, or one generated once and kept (0600) with the instance."""
        if self.settings.asterisk.ami_secret:
            return self.settings.asterisk.ami_secret
        path = self.host("ami.secret")
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def values(self) -> dict[str, str]:
        a, c = self.settings.asterisk, self.settings.controller
        return {
            "etc_dir": str(self.inner("etc")),
            "run_dir": str(self.inner("run")),
            "log_dir": str(self.inner("log")),
            "spool_dir": str(self.inner("spool")),
            "db_dir": str(self.inner("db")),
            "run_user": "root" if self.install.root is not None else getpass.getuser(),
            "sip_bind_address": a.sip_bind_address,
            "media_address": a.rtp_address,
            "ami_bind_address": a.ami_bind_address,
            # One network per permit line: a second network becomes a line of its own.
            "ami_permit": "\npermit = ".join(a.ami_permits),
            "http_bind_address": a.http_bind_address,
            "ami_port": str(a.ami_port),
            "ami_user": a.ami_user,
            "ami_secret": self.ami_secret(),
            "http_port": str(a.http_port),
            "sip_port": str(a.sip_port),
            "rtp_start": str(a.rtp_start),
            "rtp_end": str(a.rtp_end),
            "agi_host": c.bind_address,
            "agi_port": str(c.agi_port),
            "trunk_host": self.settings.dialout.trunk_host,
            "trunk_port": str(self.settings.dialout.trunk_port),
            "trunk_from_user": self.settings.dialout.from_user,
            **_log_values(a.trace_log),
            **_webrtc_values(self.settings.webrtc),
            "cluster_peers": _peer_sections(self.settings.cluster, a.rtp_address),
        }

    def render(self, template_dir: Path = TEMPLATE_DIR) -> None:
        a = self.settings.asterisk
        if not is_loopback(a.ami_bind_address):  # allowed only with allow_remote_ami (settings)
            security.warning(
                "security.ami_not_loopback",
                bind=a.ami_bind_address,
                permit=a.ami_permits,
                advice="AMI originates calls and controls every conference: firewall it",
            )
        for sub in ("etc", "run", "log", "spool", "db", "names", names.RECORDINGS_DIR):
            self.host(sub).mkdir(parents=True, exist_ok=True)
        values = self.values()
        for name in CONF_FILES:
            text = render_template((template_dir / name).read_text(), values)
            target = self.host("etc", name)
            # manager.conf holds the AMI secret: never readable by others, not even briefly.
            mode = 0o600 if name == "manager.conf" else 0o644
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            target.chmod(mode)
