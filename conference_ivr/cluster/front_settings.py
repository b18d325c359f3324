"""The SIP front's settings (conference_ivr/cluster/kamailio.py), apart from the process code
so that conference_ivr/settings.py can nest them: kamailio.py renders through pbx/instance.py,
which imports the settings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class KamailioSettings(BaseModel):
    """The SIP front. Every duration is one Kamailio reads in whole seconds or milliseconds."""

    binary: str = "kamailio"
    bind_address: str = "127.0.0.1"
    port: int = Field(default=5080, ge=1, le=65535)
    # dispatcher: every node gets an OPTIONS every ping_interval_s; probing_threshold failed
    # ones make it inactive, inactive_threshold answered ones make it active again.
    ping_interval_s: int = Field(default=2, ge=1)
    probing_threshold: int = Field(default=1, ge=1)
    inactive_threshold: int = Field(default=1, ge=1)
    # tm: no reply at all within fr_timer_ms is a local timeout (the next node is tried, and
    # an OPTIONS probe counts as failed); after a provisional reply the INVITE has fr_inv_timer_ms.
    fr_timer_ms: int = Field(default=1000, ge=100)
    fr_inv_timer_ms: int = Field(default=40000, ge=1000)
    # dialog: the keepalive timer's step, the in-dialog OPTIONS interval (the module refuses
    # less than 30 s) and how many may fail before the dialog ends with a BYE to both legs.
    ka_timer_s: int = Field(default=10, ge=1)
    ka_interval_s: int = Field(default=30, ge=30)
    ka_failed_limit: int = Field(default=1, ge=1)
    # A dialog still up after this long is ended (send_bye): longer than any booked conference.
    dialog_timeout_s: int = Field(default=86400, ge=60)
    children: int = Field(default=2, ge=1)  # UDP worker processes
    shm_mb: int = Field(default=32, ge=8)
    pkg_mb: int = Field(default=8, ge=2)
    log_level: int = Field(default=1, ge=-5, le=3)  # kamailio's debug: 1 notice, 2 info, 3 debug
    start_timeout_s: float = Field(default=10.0, gt=0)
    stop_timeout_s: float = Field(default=5.0, gt=0)
    rpc_timeout_s: float = Field(default=2.0, gt=0)
