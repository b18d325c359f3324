"""The month end's pure parts: which month is due, paid SMS prices, the statement's SMS lines
and CSV rows, the e-mail texts, and the PDF (parsed back)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from booking.adapters.statement_pdf import StatementPdf
from booking.domain.errors import TariffError
from booking.domain.model import Role
from booking.domain.month_end import due_month, previous_month, report_mail, statement_key, statement_mail
from booking.domain.rating import PaidSms, rate_leg, rate_sms
from booking.domain.statement import Statement, session_report, statement, statement_csv
from booking.domain.tariff import SmsPrice, Validity, plan_for, sms_price_for
from booking.domain.tariff_file import default_text, load
from booking.domain.texts import Texts
from booking.domain.usage import EndReason, Leg

PRAGUE = ZoneInfo("Europe/Prague")
MARCH = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def test_previous_month_crosses_the_year() -> None:
    assert previous_month("2027-03") == "2027-02"
    assert previous_month("2027-01") == "2026-12"


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2027, 4, 1, 3, 0, tzinfo=PRAGUE), "2027-02"),  # March ended 3 h ago: not yet
        (datetime(2027, 4, 1, 6, 0, tzinfo=PRAGUE), "2027-03"),  # 6 h after its end
        (datetime(2027, 4, 20, 12, 0, tzinfo=PRAGUE), "2027-03"),
        (datetime(2027, 1, 1, 7, 0, tzinfo=PRAGUE), "2026-12"),
    ],
)
def test_the_due_month_is_the_last_that_ended_at_least_the_delay_ago(now: datetime, due: str) -> None:
    assert due_month(now.astimezone(UTC), PRAGUE, timedelta(hours=6)) == due


def test_a_rerun_has_its_own_outbox_key() -> None:
    assert statement_key("2027-03", 7, 1) != statement_key("2027-03", 7, 2)


def test_the_sms_price_in_force_on_the_day_it_was_sent() -> None:
    old = SmsPrice("old", Decimal("1.50"), Validity(date(2020, 1, 1), date(2027, 3, 15)))
    new = SmsPrice("new", Decimal("1.21"), Validity(date(2027, 3, 15)), vat_included=True)
    assert sms_price_for((old, new), date(2027, 3, 14)) is old
    assert sms_price_for((old, new), date(2027, 3, 15)) is new
    assert new.net == Decimal("1.00")  # 1.21 with 21 % VAT
    sent = PaidSms(1, 5, 9, "+420601000001", datetime(2027, 3, 14, 23, 30, tzinfo=UTC))  # 15th in Prague
    assert rate_sms(sent, (old, new), PRAGUE).price == "new"
    assert rate_sms(sent, (), PRAGUE).net == Decimal("0.00")  # a tariff without SMS prices bills none


def test_the_default_tariff_prices_sms_notices_and_a_bad_entry_is_named() -> None:
    [price] = load(default_text()).sms
    assert price.price_per_message == Decimal("1.50") and not price.vat_included
    bad = default_text() + '\n[[sms]]\nname = "x"\nprice_per_message = "-1"\nvalid_from = 2020-01-01\n'
    with pytest.raises(TariffError, match=r"sms price 2 \(x\)"):
        load(bad)


def _legs() -> dict[str, Leg]:
    legs = {}
    for n, (caller, seconds) in enumerate((("+420601234567", 61), ("+420261000111", 600))):
        uid = f"u{n}"
        joined = MARCH + timedelta(minutes=n)
        role = Role.MODERATOR if n == 0 else Role.PARTICIPANT
        leg = Leg(uid, "150622", 3, caller, n == 0, role, None, joined, session_id="s1", access_number="8000")
        legs[uid] = Leg(
            **{**leg.__dict__, "left_at": joined + timedelta(seconds=seconds), "end_reason": EndReason.LEFT}
        )
    return legs


def _statement_with_sms() -> tuple[Statement, str]:
    t = load(default_text())
    plan = plan_for(t.plans, "on_demand", MARCH.date())
    legs = _legs()
    rated = [rate_leg(leg, t.rules, plan, 5, PRAGUE) for leg in legs.values()]
    sms = [
        rate_sms(PaidSms(n, 5, 3, f"+42060200000{n}", MARCH + timedelta(hours=n)), t.sms, PRAGUE)
        for n in (1, 2)
    ]
    s = statement(5, "2027-03", plan, rated, legs, sms)
    return s, statement_csv(s, rated, legs)


def test_paid_sms_notices_are_on_the_statement_beside_the_minutes() -> None:
    s, csv = _statement_with_sms()
    assert s.usage_net == Decimal("36.00")  # 2 + 10 billed minutes x 3.00
    assert len(s.sms) == 2 and s.sms_net == Decimal("3.00")  # 2 x 1.50
    assert s.net == Decimal("39.00") and s.gross == Decimal("47.19")
    rows = csv.splitlines()
    assert sum(",sms," in row for row in rows) == 2
    assert "3.00,total:sms_net" in csv and "39.00,total:net" in csv


def test_the_statement_mail_gives_the_totals() -> None:
    s, _ = _statement_with_sms()
    subject, body = statement_mail(s, "Dialconf", Texts("en"))
    assert subject == "Dialconf: your statement for 2027-03"
    assert "SMS notices (2): 3.00 CZK" in body and "Total: 47.19 CZK" in body
    _, czech = statement_mail(s, "Dialconf", Texts("cs"))
    assert "Celkem: 47.19 Kč" in czech


def test_the_report_mail_lists_every_leg() -> None:
    legs = _legs()
    t = load(default_text())
    plan = plan_for(t.plans, "on_demand", MARCH.date())
    rated = {u: rate_leg(leg, t.rules, plan, 5, PRAGUE) for u, leg in legs.items()}
    subject, body = report_mail(
        session_report(list(legs.values()), rated), "150622", "Dialconf", Texts("en"), PRAGUE
    )
    assert subject == "Dialconf: report of conference 150622, 10 March 2027 10:00"
    lines = body.splitlines()
    assert lines[0] == "Participants of conference 150622 on 10 March 2027, 10:00 to 10:11:"
    assert lines[2].startswith("10:00-10:01  +420601234567  moderator  61 s  6.00 CZK")
    assert lines[3].startswith("10:01-10:11  +420261000111  participant  600 s  30.00 CZK")
    assert lines[-1] == "2 participant legs, 12.0 billed minutes, 36.00 CZK excl. VAT."


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_names_the_organizer_and_the_totals() -> None:
    s, _ = _statement_with_sms()
    data = StatementPdf("Dialconf", PRAGUE)(s, "Pivovar Příbram")
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for part in (
        "Dialconf: statement 2027-03",
        "Organizer:",
        "150622",
        "+420602000001",
        "47.19",
        "SMS notices (2)",
    ):
        assert part in text, part


def test_without_a_unicode_font_letters_are_folded_not_refused() -> None:
    s, _ = _statement_with_sms()
    renderer = StatementPdf("Dialconf", PRAGUE, fonts=())  # as on a host without DejaVu
    text = _pdf_text(renderer(s, "Pivovar Příbram"))
    assert "Pivovar Pribram" in text and "47.19" in text
