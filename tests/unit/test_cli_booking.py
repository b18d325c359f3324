"""The operator CLI over the booking service: book, list, cancel, queue, approve, reject, profile
(create, account-plan)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from booking.domain.errors import RuleViolation
from booking.domain.model import ReservationKind, ReservationStatus, Role
from booking.domain.rules import BookingRequest
from booking.domain.usage import EndReason
from booking.store.migrate import upgrade
from conference_ivr.dialconf.cli import main
from conference_ivr.dialconf.services import build_services
from conference_ivr.settings import Settings


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.upper().startswith("DIALCONF_"):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DIALCONF_DATABASE_URL", url)
    monkeypatch.setenv("DIALCONF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DIALCONF_LOG_LEVEL", "warning")
    upgrade(url)
    # main() configures logging for the process: put back what the test session had.
    saved, handlers = structlog.get_config(), list(logging.getLogger().handlers)
    yield tmp_path
    structlog.configure(**saved)
    logging.getLogger().handlers[:] = handlers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def soon(minutes: int = 60) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def reservation_id(out: str) -> int:
    found = re.search(r"^reservation: (\d+)", out, re.M)
    assert found, out
    return int(found.group(1))


def book(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code, out, err = run(capsys, "book", "--start", soon(), *extra)
    assert code == 0, err
    return reservation_id(out), out


# --- book -------------------------------------------------------------------------------


def test_book_prints_the_access_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "book", "--start", soon(), "--minutes", "30", "--seats", "4")
    assert code == 0 and err == ""
    assert "(active)" in out
    for label in ("access number(s): 8000", "conference number: ", "PIN: ", "ADMIN PIN: ", "seats: 4"):
        assert label in out


def test_book_anytime_room(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "book", "--anytime", "--seats", "3")
    assert code == 0 and "anytime (until deleted)" in out


def test_book_over_the_limits_is_queued(capsys: pytest.CaptureFixture[str]) -> None:
    rid, out = book(capsys, "--kind", "on_demand", "--seats", "25")
    assert "(pending)" in out and f"dialconf approve {rid}" in out


def test_book_refused_by_a_rule_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "book", "--start", soon(40 * 24 * 60))
    assert code == 1 and out == ""
    assert err.strip() == "dialconf: refused: starts_at: must be at most 30 days ahead"


def test_book_refused_for_capacity_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_BOOKING__SYSTEM_CAPACITY", "10")
    start = soon(120)
    assert run(capsys, "book", "--start", start, "--seats", "8")[0] == 0
    code, _, err = run(capsys, "book", "--start", start, "--seats", "5")
    assert code == 1
    assert err.startswith("dialconf: refused: 5 seats do not fit") and "these starts fit" in err
    assert len(err.strip().splitlines()) == 1


def test_book_with_an_unreadable_start_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "book", "--start", "next tuesday")
    assert code == 2 and "not an ISO 8601 time" in err and "Traceback" not in err


# --- list -------------------------------------------------------------------------------


def test_list_shows_the_profiles_reservations(capsys: pytest.CaptureFixture[str]) -> None:
    rid, out = book(capsys, "--seats", "6")
    number = re.search(r"conference number: (\d+)", out)
    assert number
    book(capsys, "--profile", "acme")
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "KIND"]
    assert len(lines) == 2
    assert lines[1].split()[0] == str(rid) and number.group(1) in lines[1]
    code, out, _ = run(capsys, "list", "--profile", "acme")
    assert code == 0 and len(out.splitlines()) == 2 and out.splitlines()[1].split()[0] != str(rid)


def test_list_hides_long_ended_reservations_unless_all(capsys: pytest.CaptureFixture[str]) -> None:
    old = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    code, out, err = run(capsys, "book", "--start", old, "--minutes", "30")  # operators may book the past
    assert code == 0, err
    rid = reservation_id(out)
    assert run(capsys, "list")[1].strip() == "no reservations for profile 'operator'"
    code, out, _ = run(capsys, "list", "--all")
    assert code == 0 and out.splitlines()[1].split()[0] == str(rid)


def test_list_of_an_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--profile", "nobody")
    assert code == 0 and out.strip() == "no reservations for profile 'nobody'"


# --- cancel -----------------------------------------------------------------------------


def test_cancel_deletes(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys)
    code, out, _ = run(capsys, "cancel", str(rid))
    assert code == 0 and out.startswith(f"reservation {rid} deleted")
    assert "no reservations" in run(capsys, "list")[1]


def test_cancel_a_missing_reservation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "cancel", "4242")
    assert code == 1 and err.strip() == "dialconf: no reservation 4242"


def test_cancel_with_a_profile_only_reaches_that_profile(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys, "--profile", "acme")
    assert run(capsys, "cancel", str(rid), "--profile", "other")[0] == 1
    assert run(capsys, "cancel", str(rid), "--profile", "acme")[0] == 0


def test_cancel_by_id_alone_reaches_any_profile(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys, "--profile", "acme")
    assert run(capsys, "cancel", str(rid))[0] == 0


# --- queue, approve, reject -------------------------------------------------------------


def test_queue_lists_pending_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "queue")[1].strip() == "the queue is empty"
    rid, _ = book(capsys, "--kind", "on_demand", "--minutes", "150")
    book(capsys)  # within the limits: not queued
    code, out, _ = run(capsys, "queue")
    assert code == 0
    [row] = out.splitlines()[1:]
    assert row.split()[0] == str(rid) and "150 minutes" in row


def test_approve(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys, "--kind", "on_demand", "--seats", "25")
    code, out, _ = run(capsys, "approve", str(rid))
    assert code == 0
    assert out.startswith(f"reservation {rid} approved") and "(active)" in out and "PIN: " in out
    assert run(capsys, "queue")[1].strip() == "the queue is empty"


def test_approve_something_not_queued_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys)
    code, _, err = run(capsys, "approve", str(rid))
    assert code == 1 and err.strip() == f"dialconf: no queued request {rid}"


def test_reject(capsys: pytest.CaptureFixture[str]) -> None:
    rid, _ = book(capsys, "--kind", "on_demand", "--seats", "25")
    code, out, _ = run(capsys, "reject", str(rid), "--reason", "too big for tonight")
    assert code == 0 and out.strip() == f"reservation {rid} rejected: too big for tonight"
    assert run(capsys, "queue")[1].strip() == "the queue is empty"
    assert "no reservations" in run(capsys, "list")[1]


def test_reject_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "reject", "4242", "--reason", "x")[:3:2] == (1, "dialconf: no queued request 4242\n")
    rid, _ = book(capsys, "--kind", "on_demand", "--seats", "25")
    code, _, err = run(capsys, "reject", str(rid), "--reason", "  ")
    assert code == 2 and "--reason" in err
    with pytest.raises(SystemExit) as exc:
        main(["reject", str(rid)])
    assert exc.value.code == 2
    assert "--reason" in capsys.readouterr().err


# --- profile create ---------------------------------------------------------------------


def test_profile_create_prints_a_working_token(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profile", "create", "acme", "--language", "cs")
    assert code == 0
    assert "profile 'acme' created" in out and "language cs" in out
    found = re.search(r"API token \(shown only now; keep it secret\): (\S+)", out)
    assert found
    profile = build_services(Settings()).booking.profile_for_token(found.group(1))
    assert profile is not None and profile.name == "acme" and profile.language == "cs"


def test_profile_create_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "profile", "create", "acme")[0] == 0
    code, _, err = run(capsys, "profile", "create", "acme")
    assert code == 1 and err.strip() == "dialconf: refused: name: a profile with this name exists"
    code, _, err = run(capsys, "profile", "create", "other", "--language", "czech")
    assert code == 2 and "two-letter" in err


def test_profile_account_plan_shows_and_sets_the_rooms_a_profile_may_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(3):  # three rooms: the panel plan's limit (R27)
        book(capsys, "--profile", "acme")
    services = build_services(Settings())
    profile = services.booking.profile_named("acme")
    start = datetime.now(UTC) + timedelta(hours=5)
    fourth = BookingRequest(ReservationKind.PANEL, start, start + timedelta(hours=1), 2)
    with pytest.raises(RuleViolation):
        services.booking.request(profile.id, fourth)

    code, out, _ = run(capsys, "profile", "account-plan", "acme")
    assert code == 0 and out.strip() == "profile 'acme': account plan panel (at most 3 active rooms)"
    code, out, _ = run(capsys, "profile", "account-plan", "acme", "provider")
    assert code == 0 and out.strip() == "profile 'acme': account plan provider (any number of rooms)"
    assert services.booking.request(profile.id, fourth).status is ReservationStatus.ACTIVE  # R45

    code, _, err = run(capsys, "profile", "account-plan", "nobody", "provider")
    assert code == 1 and err.strip() == "dialconf: no profile 'nobody'"
    with pytest.raises(SystemExit) as bad:
        main(["profile", "account-plan", "acme", "unlimited"])
    assert bad.value.code == 2 and "invalid choice" in capsys.readouterr().err


# --- everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["book"],
        ["list"],
        ["cancel"],
        ["queue"],
        ["approve"],
        ["reject"],
        ["profile"],
        ["profile", "create"],
        ["profile", "account-plan"],
    ],
)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: dialconf {' '.join(argv)}")


def test_an_unmigrated_database_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, _, err = run(capsys, "list")
    assert code == 2
    assert err.strip().endswith("run `dialconf db upgrade`") and len(err.strip().splitlines()) == 1


def test_a_setting_that_cannot_work_is_named_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALCONF_ASTERISK__AMI_BIND_ADDRESS", "0.0.0.0")
    code, out, err = run(capsys, "list")
    assert code == 2 and not out
    assert err.startswith("dialconf: asterisk: AMI would listen on 0.0.0.0") and "ALLOW_REMOTE_AMI" in err
    assert "Traceback" not in err


def test_pin_lockouts_list_and_clear(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pin-lockouts", "list")
    assert code == 0 and out.strip() == "no lockouts"
    code, _, err = run(capsys, "pin-lockouts", "clear", "caller:+420600000009")
    assert code == 1 and "no wrong PINs recorded for caller:+420600000009" in err
    services = build_services(Settings())
    room = services.booking.book(None, None, 5).room
    for _ in range(5):  # one caller's limit...
        services.dialin.dial_in(room.conference_number, "100000000", "+420600009999")
    for n in range(5):  # ...and five more callers: the conference's budget of 10 is spent
        services.dialin.dial_in(room.conference_number, "100000000", f"+42060000{n:04d}")
    code, out, _ = run(capsys, "pin-lockouts", "list")
    assert code == 0
    assert f"conference:{room.conference_number}  10 wrong PINs  throttled until" in out
    assert "caller:+420600009999  5 wrong PINs  locked out until" in out
    code, out, _ = run(capsys, "pin-lockouts", "clear", f"conference:{room.conference_number}")
    assert code == 0 and f"cleared conference:{room.conference_number}" in out
    assert services.dialin.dial_in(room.conference_number, room.pin, "+420600001234").admitted


def test_sender_block_limit_unblock_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sender", "block", "sms", "+420 601 000 111", "--note", "spam")
    assert code == 0 and "+420601000111" in out and "BLOCKED" in out and "(spam)" in out
    code, out, _ = run(capsys, "sender", "limit", "email", "eva@Example.com", "3")
    assert code == 0 and "eva@example.com" in out and "limit 3/h" in out
    code, out, _ = run(capsys, "sender", "list", "--blocked")
    assert code == 0 and out.count("\n") == 1 and "+420601000111" in out
    code, out, _ = run(capsys, "sender", "unblock", "sms", "+420601000111")
    assert code == 0 and "BLOCKED" not in out


def test_sender_commands_refuse_bad_input_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sender", "limit", "sms", "+420601000111", "many")
    assert code == 2 and "a number of messages or 'default'" in err
    code, _, err = run(capsys, "sender", "block", "email", "nobody")
    assert code == 2 and "not an e-mail address" in err


# --- billing: tariff, plan, rate, statement ---------------------------------------------


def test_tariff_show_prints_the_toml_and_load_round_trips(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    code, out, _ = run(capsys, "tariff", "show")
    assert code == 0 and out.startswith("# tariff version 1 in force")
    assert "[[caller]]" in out and 'name = "professional"' in out
    shown = env / "tariff.toml"
    shown.write_text(out)
    code, out, err = run(capsys, "tariff", "load", str(shown), "--note", "unchanged")
    assert (code, out.strip(), err) == (0, "tariff version 2 loaded", "")
    code, out, _ = run(capsys, "tariff", "show")
    assert out.startswith("# tariff version 2 in force") and out.count("# tariff version") == 1


def test_tariff_load_refuses_a_broken_file_or_a_late_change(
    capsys: pytest.CaptureFixture[str], env: Path
) -> None:
    broken = env / "broken.toml"
    broken.write_text("vat_rate = [\n")
    code, _, err = run(capsys, "tariff", "load", str(broken))
    assert code == 2 and err.startswith("dialconf: tariff: not TOML") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "tariff", "load", str(env / "missing.toml"))
    assert code == 2 and "cannot read the tariff file" in err
    _, shown, _ = run(capsys, "tariff", "show")
    fixed = env / "fixed.toml"
    fixed.write_text(shown.replace('price_per_minute = "4.00"', 'price_per_minute = "3.60"'))
    code, _, err = run(capsys, "tariff", "load", str(fixed))
    assert code == 1 and "refused: tariff:" in err and "fix" in err
    code, out, _ = run(capsys, "tariff", "load", str(fixed), "--fix", "--note", "O2 correction")
    assert code == 0 and "tariff version 2 loaded" in out and "dialconf rate" in out


def test_plan_sets_a_profiles_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "profile", "create", "acme")[0] == 0
    code, out, _ = run(capsys, "plan", "acme", "professional")
    assert code == 0 and out.strip() == "profile 'acme' is on plan professional"
    code, _, err = run(capsys, "plan", "acme", "gold")
    assert code == 2 and "no plan 'gold'" in err


def test_rate_a_month(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rate", "2027-03")
    assert code == 0 and out.strip() == "2027-03: 0 legs rated with tariff version 1; 0 changed, 0 dropped"
    code, _, err = run(capsys, "rate", "March")
    assert (
        code == 2 and err.strip() == "dialconf: month: a month is written YYYY-MM, e.g. 2027-07, not 'March'"
    )


def test_statement_of_an_empty_month(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "profile", "create", "acme")[0] == 0
    code, out, _ = run(capsys, "statement", "acme", "2027-03")
    assert code == 0 and "statement of 'acme' for 2027-03, plan on_demand" in out
    assert "(no sessions this month)" in out
    totals = dict(line.rsplit(None, 1) for line in out.splitlines()[-7:])
    assert totals == {
        "usage": "0.00",
        "monthly minimum top-up": "0.00",
        "SMS notices (0)": "0.00",
        "net": "0.00",
        "VAT 21 %": "0.00",
        "gross": "0.00",
        "callers' own connection charges (R52, for information)": "0.00",
    }
    code, out, _ = run(capsys, "statement", "acme", "2027-03", "--csv")
    rows = out.splitlines()
    assert code == 0 and rows[0].startswith("joined_at,") and rows[-1] == ",,,,,,,,0.00,total:gross,"


def test_month_end_runs_once_and_again_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "profile", "create", "acme")[0] == 0
    code, out, _ = run(capsys, "month-end", "2027-03")
    assert code == 0 and out.startswith("2027-03: month-end revision 1, 0 statements, 0 e-mailed")
    assert run(capsys, "month-end", "2027-03")[1].startswith("2027-03: month-end revision 1,")  # done
    assert run(capsys, "month-end", "2027-03", "--again")[1].startswith("2027-03: month-end revision 2,")
    code, out, _ = run(capsys, "month-end")  # the last month that ended
    assert code == 0 and "month-end revision 1" in out
    code, _, err = run(capsys, "month-end", "March")
    assert code == 2 and err.startswith("dialconf: month: a month is written YYYY-MM")


def test_billing_commands_name_an_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["statement", "nobody", "2027-03"], ["plan", "nobody", "professional"]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == ""
        assert err.startswith("dialconf: no profile 'nobody'") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv", [["tariff"], ["tariff", "load"], ["rate"], ["statement"], ["plan"], ["month-end"]]
)
def test_billing_commands_have_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith(f"usage: dialconf {' '.join(argv)}")


def test_statement_lists_the_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    from booking.domain.usage import Leg

    rid, out = book(capsys, "--profile", "acme")
    number = re.search(r"conference number: (\d+)", out)
    assert number
    joined = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with build_services(Settings()).uow() as repo:
        usage = repo.usage
        leg = Leg(
            "u1",
            number.group(1),
            rid,
            "+420261000111",
            False,
            Role.PARTICIPANT,
            None,
            joined,
            session_id="s1",
        )
        usage.open(leg)
        usage.close("u1", joined + timedelta(seconds=600), EndReason.LEFT)
    code, out, _ = run(capsys, "statement", "acme", "2027-03")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("2027-03-10 10:00"))  # Prague time
    assert row.split()[-4:] == ["600", "600", "30.00", "s1"]  # 10 participant-minutes at 3.00
    assert out.splitlines()[-2].split()[-1] == "36.30"  # gross, with 21 % VAT
