"""The real Kannel (bearerbox + smsbox) between a fake phone and a stub booking service.

The phone is Kannel's fakesmsc on the fake SMSC link; the booking service's incoming URL is a
small HTTP server in the test. Every wait is bounded by a deadline.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from booking.adapters.kannel import (
    KannelProcess,
    KannelSecrets,
    KannelSmsGateway,
    render_kannel_conf,
)
from booking.domain.errors import DeliveryError
from booking.settings import KannelSettings
from tests.support.kannel import (
    FakePhone,
    RunningKannel,
    kannel_settings,
    phone_connected,
    running_kannel,
)
from tests.support.poll import until_sync
from tests.support.ports import free_ports

SHORT_NUMBER = "8000"
_numbers = itertools.count(1)


def new_number() -> str:
    """A phone number of its own per test, so messages on the shared Kannel never mix."""
    return f"+42077{os.getpid() % 1000:03d}{next(_numbers):04d}"


class IncomingStub:
    """The booking service's incoming URL: records each forward, answers with ``reply``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.reply = ""
        self._changed = threading.Condition()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
                body = stub.reply.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with stub._changed:
                    stub.requests.append({"path": url.path} | {k: v[-1] for k, v in query.items()})
                    stub._changed.notify_all()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/kannel"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, predicate: Callable[[dict[str, str]], bool], timeout: float = 15.0) -> dict[str, str]:
        found: list[dict[str, str]] = []

        def match() -> bool:
            found[:] = [r for r in self.requests if predicate(r)]
            return bool(found)

        with self._changed:
            if not self._changed.wait_for(match, timeout):
                raise AssertionError(f"no matching forward in {timeout}s; got {self.requests}")
        return found[0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stub() -> Iterator[IncomingStub]:
    server = IncomingStub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def kannel(tmp_path_factory: pytest.TempPathFactory, stub: IncomingStub) -> Iterator[RunningKannel]:
    # smsbox at info: its "No reply sent" line tells when it is done with a forward.
    with running_kannel(tmp_path_factory.mktemp("kannel"), stub.url, smsbox_log_level=1) as running:
        yield running


@pytest.fixture(autouse=True)
def _quiet_stub(stub: IncomingStub) -> None:
    stub.reply = ""


def test_config_forwards_every_sms_with_the_agreed_query(tmp_path: Path) -> None:
    settings = KannelSettings(incoming_url="http://127.0.0.1:8080/sms/kannel")
    conf = render_kannel_conf(settings, KannelSecrets.load(settings, tmp_path), tmp_path)
    key = (tmp_path / "kannel-incoming.key").read_text().strip()
    expected = f"http://127.0.0.1:8080/sms/kannel?sender=%p&receiver=%P&text=%a&id=%I&key={key}"
    assert f'get-url = "{expected}"' in conf
    assert "max-messages = 0" in conf and "omit-empty = true" in conf
    for name in ("kannel-incoming.key", "kannel-sendsms.secret", "kannel-admin.secret"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("text", ["Hello world", "Konference zítra", "Příliš žluťoučký kůň úpěl"])
def test_sms_from_the_phone_reaches_the_incoming_url(
    kannel: RunningKannel, stub: IncomingStub, text: str
) -> None:
    number = new_number()
    kannel.phone.send(number, SHORT_NUMBER, text)
    forward = stub.wait_for(lambda r: r.get("sender") == number)
    assert forward == {
        "path": "/sms/kannel",
        "sender": number,
        "receiver": SHORT_NUMBER,
        "text": text,
        "id": forward["id"],
        "key": kannel.secrets.incoming_key,
    }
    uuid.UUID(forward["id"])  # Kannel's own message id


@pytest.mark.parametrize("reply", ["", "A reply Kannel must not send"])
def test_kannel_sends_no_reply_of_its_own(kannel: RunningKannel, stub: IncomingStub, reply: str) -> None:
    stub.reply = reply
    number = new_number()
    declined = kannel.log("smsbox.log").count("No reply sent, denied.")
    kannel.phone.send(number, SHORT_NUMBER, "konf 2412 1000 60 5")
    stub.wait_for(lambda r: r.get("sender") == number)
    # smsbox logs its decision once the forward is answered; then a marker sent after it
    # must be the only SMS that phone ever gets.
    until_sync(
        lambda: kannel.log("smsbox.log").count("No reply sent, denied.") > declined, 15, "smsbox's decision"
    )
    kannel.gateway.send_sms(number, "marker")
    kannel.phone.wait_for(lambda m: m.receiver == number)
    assert [m.text for m in kannel.phone.received() if m.receiver == number] == ["marker"]


LONG_GSM = "Your conference 123456 starts on 24 December at 10:00. " * 4
LONG_CZECH = "Vaše konference 123456 začíná 24. prosince v 10:00, PIN 4321. " * 3


@pytest.mark.parametrize(
    "text",
    ["Conference 123456, PIN 4321", "Konference zítra v 10:00, PIN 4321", LONG_GSM, LONG_CZECH, "a\nb"],
    ids=["gsm", "czech", "long-gsm", "long-czech", "newline"],
)
def test_send_sms_reaches_the_phone(kannel: RunningKannel, text: str) -> None:
    number = new_number()
    kannel.gateway.send_sms(number, text)
    sms = kannel.phone.wait_for(lambda m: m.receiver == number and m.text == text)
    assert sms.sender == "Dialconf"


def test_long_texts_take_several_sms() -> None:
    assert len(LONG_GSM) > 160 and len(LONG_CZECH) > 160


def test_wrong_password_is_a_delivery_error(kannel: RunningKannel) -> None:
    gateway = KannelSmsGateway(kannel.process.settings, "not-the-password")
    with pytest.raises(DeliveryError, match="403"):
        gateway.send_sms(new_number(), "hello")


def test_kannel_down_is_a_delivery_error() -> None:
    (port,) = free_ports(1)
    gateway = KannelSmsGateway(KannelSettings(sendsms_port=port), "secret", timeout_s=2)
    with pytest.raises(DeliveryError, match="unreachable"):
        gateway.send_sms(new_number(), "hello")


def _kannel_pids(conf: Path) -> list[int]:
    """Processes whose command line names this instance's config file."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(conf).encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_stop_leaves_no_kannel_process(tmp_path: Path, stub: IncomingStub) -> None:
    process = KannelProcess(kannel_settings(stub.url)).start(tmp_path)
    assert process.is_running()
    assert len(_kannel_pids(tmp_path / "kannel.conf")) == 2
    process.stop()
    assert not process.is_running()
    assert _kannel_pids(tmp_path / "kannel.conf") == []


def test_an_sms_bearerbox_took_survives_its_crash(tmp_path: Path, stub: IncomingStub) -> None:
    """smsbox is gone, so bearerbox keeps the SMS in its store; after a kill -9 and a restart
    the SMS is forwarded."""
    settings = kannel_settings(stub.url)
    number = new_number()
    with KannelProcess(settings).start(tmp_path) as process:
        assert process.smsbox is not None and process.bearerbox is not None
        os.kill(process.smsbox.pid, signal.SIGKILL)
        phone = FakePhone(settings.host, settings.fake_smsc_port, tmp_path / "fakesmsc.log")
        phone.start()
        try:
            until_sync(lambda: phone_connected(process), 15, "fakesmsc to connect")
            phone.send(number, SHORT_NUMBER, "Konference zítra")
            until_sync(lambda: "store size 1" in (process.status() or ""), 15, "the SMS in the store")
            os.kill(process.bearerbox.pid, signal.SIGKILL)
        finally:
            phone.stop()
        process.stop()  # reaps both
        assert not [r for r in stub.requests if r.get("sender") == number]
        process.start(tmp_path)
        forward = stub.wait_for(lambda r: r.get("sender") == number)
        assert forward["text"] == "Konference zítra"
