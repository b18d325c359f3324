"""Kamailio as the SIP front of several media nodes: its config rendered from settings, the
process started and stopped as a child, and the dispatcher's view of each node over JSON-RPC.

The template is ``asterisk/kamailio.cfg``; the media nodes are dispatcher set 1 in a list file
rendered beside it. RPC goes over unix sockets in the run directory, never a TCP port.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from conference_ivr.bind import is_loopback
from conference_ivr.cluster_settings import KamailioSettings
from conference_ivr.errors import KamailioError
from conference_ivr.pbx.instance import TEMPLATE_DIR, render_template

log = structlog.get_logger(__name__)
security = structlog.get_logger("dialconf.security")

DISPATCHER_SET = 1  # the media nodes' set in the list file and in ds_select_dst
_SUN_PATH_MAX = 107  # a unix socket's path, in bytes, without its terminating NUL


class DestinationState(enum.StrEnum):
    """The dispatcher's state of one node (the first letter of its FLAGS)."""

    ACTIVE = "active"
    TRYING = "trying"  # failed probes, fewer than probing_threshold: still selected
    INACTIVE = "inactive"
    DISABLED = "disabled"  # by an operator (dispatcher.set_state d)


_STATE_LETTERS = {state.value[0].upper(): state for state in DestinationState}  # A T I D


@dataclass(frozen=True)
class NodeState:
    uri: str
    state: DestinationState
    probing: bool  # OPTIONS keep going to it (FLAGS' second letter P)


def parse_dispatcher_list(result: Any) -> list[NodeState]:
    """The nodes of set 1 in a ``dispatcher.list`` JSON-RPC result."""
    nodes = []
    for record in result.get("RECORDS") or []:
        ds_set = record["SET"]
        if int(ds_set["ID"]) != DISPATCHER_SET:
            continue
        for target in ds_set.get("TARGETS") or []:
            dest = target["DEST"]
            flags = str(dest["FLAGS"])
            nodes.append(NodeState(str(dest["URI"]), _STATE_LETTERS[flags[0]], flags[1:2] == "P"))
    return nodes


def module_path(binary: str) -> str:
    """Where this kamailio's modules are, as it says itself (``kamailio -I``): the path has
    the architecture in it on Debian."""
    out = subprocess.run([binary, "-I"], capture_output=True, text=True, timeout=10, check=False).stdout
    for line in out.splitlines():
        label, _, value = line.partition(":")
        if label.strip().lower().startswith("default paths to modules") and value.strip():
            return value.strip()
    raise KamailioError(f"{binary} -I names no module path")


def _errors(output: str) -> str:
    """Kamailio's own ERROR and CRITICAL lines in ``output`` (all of it when there are none)."""
    lines = [line.strip() for line in output.splitlines() if "ERROR" in line or "CRITICAL" in line]
    return "\n".join(lines) or output.strip()


class Kamailio:
    """One Kamailio process in front of the media nodes: ``render``, ``start``, ``stop``."""

    def __init__(self, settings: KamailioSettings) -> None:
        self.settings = settings
        self.run_dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    def _binary(self) -> str:
        found = shutil.which(self.settings.binary) or shutil.which(self.settings.binary, path="/usr/sbin")
        if not found:
            raise KamailioError(f"{self.settings.binary} not found: scripts/system-deps.sh installs it")
        return found

    def _dir(self) -> Path:
        if self.run_dir is None:
            raise KamailioError("render() the config before starting kamailio")
        return self.run_dir

    @property
    def config_file(self) -> Path:
        return self._dir() / "kamailio.cfg"

    @property
    def rpc_socket(self) -> Path:
        return self._dir() / "rpc.sock"

    @property
    def ctl_socket(self) -> Path:
        """binrpc for an operator: ``kamcmd -s unix:<this> dispatcher.list``."""
        return self._dir() / "ctl.sock"

    @property
    def log_file(self) -> Path:
        return self._dir() / "kamailio.log"

    def render(self, nodes: Sequence[str], run_dir: Path) -> Path:
        """Write ``kamailio.cfg`` and ``dispatcher.list`` (one ``sip:host:port`` per node) into
        ``run_dir``; the config's path."""
        if not nodes:
            raise KamailioError("a SIP front needs at least one media node")
        for uri in nodes:
            if not uri.startswith("sip:") or any(c.isspace() for c in uri):
                raise KamailioError(f"media node {uri!r}: write sip:host:port")
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir.resolve()
        for sock in (self.rpc_socket, self.ctl_socket):
            if len(os.fsencode(sock)) > _SUN_PATH_MAX:
                raise KamailioError(f"{sock}: too long for a unix socket; use a shorter run directory")
        s = self.settings
        if not is_loopback(s.bind_address):
            security.warning("kamailio.not_loopback", bind_address=s.bind_address, port=s.port)
        listing = self._dir() / "dispatcher.list"
        listing.write_text(
            "# set destination flags priority: the media nodes (rendered by dialconf)\n"
            + "".join(f"{DISPATCHER_SET} {uri} 0 0\n" for uri in nodes)
        )
        values = {
            "log_level": str(s.log_level),
            "children": str(s.children),
            "bind_address": s.bind_address,
            "port": str(s.port),
            "run_dir": str(self._dir()),
            "module_path": module_path(self._binary()),
            "rpc_socket": str(self.rpc_socket),
            "ctl_socket": str(self.ctl_socket),
            "dispatcher_list": str(listing),
            "fr_timer_ms": str(s.fr_timer_ms),
            "fr_inv_timer_ms": str(s.fr_inv_timer_ms),
            "ping_interval_s": str(s.ping_interval_s),
            "probing_threshold": str(s.probing_threshold),
            "inactive_threshold": str(s.inactive_threshold),
            "ka_timer_s": str(s.ka_timer_s),
            "ka_interval_s": str(s.ka_interval_s),
            "ka_failed_limit": str(s.ka_failed_limit),
            "dialog_timeout_s": str(s.dialog_timeout_s),
        }
        template = (TEMPLATE_DIR / "kamailio.cfg").read_text()
        self.config_file.write_text(render_template(template, values))
        return self.config_file

    def _command(self, *extra: str) -> list[str]:
        memory = ["-m", str(self.settings.shm_mb), "-M", str(self.settings.pkg_mb)]
        return [self._binary(), "-f", str(self.config_file), *memory, *extra]

    def check(self) -> None:
        """``kamailio -c``: a config it refuses fails here with its own words."""
        res = subprocess.run(self._command("-c"), capture_output=True, text=True, timeout=30, check=False)
        if res.returncode != 0:
            raise KamailioError(f"kamailio refuses {self.config_file}:\n{_errors(res.stderr)}")

    def start(self) -> None:
        """Check the config, run kamailio in the foreground (``-DD -E``) as a child with its
        log in ``kamailio.log``, and return once it answers RPC."""
        if self.proc is not None and self.proc.poll() is None:
            raise KamailioError("kamailio already runs")
        self.check()
        with self.log_file.open("ab") as logfile:
            self.proc = subprocess.Popen(
                self._command("-DD", "-E"),
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers are one process group, stopped together
            )
        try:
            self._wait_answering(self.settings.start_timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info(
            "kamailio.started", pid=self.proc.pid, listen=f"{self.settings.bind_address}:{self.settings.port}"
        )

    def _wait_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                # e.g. a module's own check (dialog's ka_interval) that `kamailio -c` does not run
                said = _errors(self.log_file.read_text(errors="replace"))
                raise KamailioError(f"kamailio exited with {self.proc.returncode} ({self.log_file}):\n{said}")
            try:
                self.rpc("core.version")
                return
            except (OSError, KamailioError) as e:
                last = e
            time.sleep(0.05)
        raise KamailioError(f"kamailio not answering RPC after {timeout} s ({last}); see {self.log_file}")

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after ``stop_timeout_s``."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(self.settings.stop_timeout_s)
                break
            except subprocess.TimeoutExpired:
                log.warning("kamailio.stop_signal", pid=proc.pid, signal=sig.name)
        # Workers that outlived the main process (they share its process group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        log.info("kamailio.stopped", pid=proc.pid)

    def rpc(self, method: str, *params: str | int) -> Any:
        """One JSON-RPC call over the datagram socket; its ``result``."""
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(f"\0dialconf-kamailio-{uuid.uuid4().hex}")  # abstract: nothing to clean up
            sock.settimeout(self.settings.rpc_timeout_s)
            sock.sendto(json.dumps(request).encode(), str(self.rpc_socket))
            try:
                reply = json.loads(sock.recv(1 << 16))
            except TimeoutError as e:
                raise KamailioError(f"kamailio gave no answer to {method}") from e
        if "error" in reply:
            raise KamailioError(f"kamailio {method}: {reply['error']}")
        return reply.get("result")

    def node_states(self) -> list[NodeState]:
        """Each media node as the dispatcher sees it now."""
        return parse_dispatcher_list(self.rpc("dispatcher.list"))
