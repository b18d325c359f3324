"""Asterisk starts fully booted with our modules, and stops without leaving a process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conference_ivr.pbx.instance import AsteriskInstance
from conference_ivr.pbx.process import AsteriskProcess
from conference_ivr.pbx.provision import provision
from tests.support.system import isolated_settings


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_start_boots_with_the_modules_and_stop_leaves_nothing(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, name="proc")
    proc = AsteriskProcess(AsteriskInstance(provision(settings.asterisk), settings))
    proc.start()
    try:
        pid = proc.pid()
        assert pid is not None and _alive(pid)
        modules = proc.rx("module show like confbridge").stdout
        assert "app_confbridge.so" in modules and "Running" in modules
        assert "dialconf-ivr" in proc.rx("dialplan show dialconf-ivr").stdout
        assert "anonymous" in proc.rx("pjsip show endpoints").stdout
        # nothing Asterisk-facing listens beyond loopback
        listen = proc.rx("manager show settings").stdout
        assert "127.0.0.1" in listen
        errors = proc.instance.host("log", "messages").read_text()
        assert " ERROR[" not in errors, errors
    finally:
        proc.stop()
        shutil.rmtree(proc.instance.host(), ignore_errors=True)  # it lives in the shared cached root
    assert not _alive(pid)
    assert proc.pid() is None
    assert not any(
        str(proc.instance.config_file) in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        for p in os.listdir("/proc")
        if p.isdigit() and Path(f"/proc/{p}/cmdline").exists()
    )
