"""The billing endpoints: statements (JSON and CSV), sessions and their reports, and the
operator's tariff, rating runs and plans. Money is always a string with two decimals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from booking.domain.clock import FakeClock
from booking.domain.model import Role
from booking.domain.tariff_file import default_text
from booking.domain.usage import EndReason, Leg
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from tests.support.api import NOW, OPERATOR_TOKEN, Api, at, bearer, parse
from tests.support.services import api_app, services_on

MONTH = f"{NOW:%Y-%m}"
# caller, access number dialled, seconds: an O2 mobile, a landline, the 141xx line, a free number
CALLS = [
    ("+420601234567", "8000", 61),
    ("+420261000111", "8000", 59),
    ("+420261000222", "14111", 180),
    ("+420601000333", "800123456", 3600),
]
MONEY = ("usage_net", "minimum_top_up", "net", "vat", "gross", "callers_gross")
NEW_PATHS = {
    ("get", "/api/statements/{month}"),
    ("get", "/api/statements/{month}.csv"),
    ("get", "/api/reservations/{reservation_id}/sessions"),
    ("get", "/api/reservations/{reservation_id}/sessions/{session_id}/report"),
    ("get", "/api/tariff"),
    ("put", "/api/tariff"),
    ("post", "/api/billing/{month}/rate"),
    ("put", "/api/profiles/{profile_id}/plan"),
    ("get", "/api/profiles/{profile_id}/statements/{month}"),
    ("get", "/api/me/mail"),
    ("put", "/api/me/mail"),
    ("put", "/api/profiles/{profile_id}/mail"),
    ("post", "/api/billing/{month}/month-end"),
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    clock = FakeClock(NOW)
    services = services_on(engine, clock, data_dir=tmp_path)
    try:
        app = api_app(services, OPERATOR_TOKEN, messaging=False, dialout=False)
        app.state.month_end = services.month_end  # as build_api serves it
        with TestClient(app) as client:
            yield Api(client, services.booking, clock, services)
    finally:
        engine.dispose()


def held(api: Api, who: str = "acme", session: str = "s1") -> dict[str, Any]:
    """A reservation of ``who`` whose conference was held with CALLS (closed legs)."""
    r = api.book(who)
    start = parse(at(60))
    with api.services.uow() as repo:
        usage = repo.usage
        for n, (caller, access, seconds) in enumerate(CALLS):
            uid = f"{session}-{n}"
            joined = start + timedelta(minutes=n)
            leg = Leg(
                uid,
                r["conference_number"],
                r["id"],
                caller,
                caller.startswith("+4206"),
                Role.PARTICIPANT,
                f"/names/{uid}",
                joined,
                session_id=session,
                access_number=access,
            )
            usage.open(leg)
            usage.close(uid, joined + timedelta(seconds=seconds), EndReason.LEFT)
    return r


def get(api: Api, path: str, headers: dict[str, str], expect: int = 200) -> Any:
    r = api.client.get(path, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def profile_id(api: Api, who: str) -> int:
    found: int = get(api, "/api/me", api.profile(who))["id"]
    return found


def test_the_statement_gives_money_as_strings(api: Api) -> None:
    held(api)
    s = get(api, f"/api/statements/{MONTH}", api.profile("acme"))
    assert all(isinstance(s[k], str) for k in MONEY)
    assert s["plan"] == "on_demand" and s["month"] == MONTH and s["vat_rate"] == "0.21"
    # 120 + 60 + 180 + 3600 billed seconds (per started minute) = 66 participant-minutes at 3.00
    assert (s["usage_net"], s["minimum_top_up"], s["net"], s["vat"], s["gross"]) == (
        "198.00",
        "0.00",
        "198.00",
        "41.58",
        "239.58",
    )
    assert s["callers_gross"] == "17.84"  # 4.92 (O2) + 2.42 (landline) + 10.50 (141xx) + 0 (free)
    [line] = s["lines"]
    assert (line["session_id"], line["participants"], line["billed_seconds"], line["net"]) == (
        "s1",
        4,
        3960,
        "198.00",
    )


def test_the_statement_as_csv(api: Api) -> None:
    held(api)
    r = api.client.get(f"/api/statements/{MONTH}.csv", headers=api.profile("acme"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert f'filename="statement-{MONTH}.csv"' in r.headers["content-disposition"]
    rows = r.text.splitlines()
    assert rows[0].split(",")[:3] == ["joined_at", "left_at", "conference"]
    assert len(rows) == 1 + len(CALLS) + 6 and rows[-1].split(",")[8:10] == ["239.58", "total:gross"]


def test_a_bad_month_is_named(api: Api) -> None:
    for path in ("/api/statements/2026-13", "/api/statements/march.csv"):
        got = api.client.get(path, headers=api.profile("acme"))
        assert got.status_code == 422, path
        assert got.json()["detail"][0]["loc"][-1] == "month"
    bad = api.client.post("/api/billing/2026-3/rate", headers=api.operator)
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["detail"][0]["msg"]


def test_sessions_and_the_post_conference_report(api: Api) -> None:
    r = held(api)
    path = f"/api/reservations/{r['id']}/sessions"
    [session] = get(api, path, api.profile("acme"))
    assert session["session_id"] == "s1" and session["legs"] == 4
    assert parse(session["started_at"]) == parse(at(60))
    rows = get(api, f"{path}/s1/report", api.profile("acme"))
    assert [row["caller_number"] for row in rows] == [c for c, _, _ in CALLS]
    first = rows[0]
    assert (first["role"], first["name_file"], first["end_reason"]) == ("participant", "/names/s1-0", "left")
    assert (first["seconds"], first["billed_seconds"], first["amount"], first["caller_gross"]) == (
        61,
        120,
        "6.00",
        "4.92",
    )
    assert rows[3]["caller_gross"] == "0.00"  # a free number
    get(api, f"{path}/nope/report", api.profile("acme"), expect=404)


def test_another_profiles_reservation_is_not_found(api: Api) -> None:
    r = held(api)
    mine, missing = f"/api/reservations/{r['id']}", "/api/reservations/9999"
    for suffix in ("/sessions", "/sessions/s1/report"):
        theirs = get(api, mine + suffix, api.profile("intruder"), expect=404)
        assert theirs == {"detail": f"no reservation {r['id']}"}
        assert get(api, missing + suffix, api.profile("intruder"), expect=404) == {
            "detail": "no reservation 9999"
        }
    empty = get(api, f"/api/statements/{MONTH}", api.profile("intruder"))
    assert empty["lines"] == [] and empty["gross"] == "0.00"


def test_tariff_endpoints_take_only_the_operator_token(api: Api) -> None:
    for method, path in (
        ("get", "/api/tariff"),
        ("put", "/api/tariff"),
        ("post", f"/api/billing/{MONTH}/rate"),
    ):
        for headers in ({}, api.profile("acme"), bearer("guess")):
            got = api.client.request(method, path, headers=headers, json={"text": "x"})
            assert got.status_code == 401, (method, path, headers)
    t = get(api, "/api/tariff", api.operator)
    assert t["version"] == 1 and t["text"] == default_text()


def test_a_broken_tariff_changes_nothing(api: Api) -> None:
    bad = api.client.put("/api/tariff", json={"text": "vat_rate = [", "note": "oops"}, headers=api.operator)
    assert bad.status_code == 422
    assert (
        bad.json()["detail"][0]["loc"] == ["body", "tariff"] and "not TOML" in bad.json()["detail"][0]["msg"]
    )
    no_rules = api.client.put("/api/tariff", json={"text": 'vat_rate = "0.21"'}, headers=api.operator)
    assert no_rules.status_code == 422 and "[[caller]]" in no_rules.json()["detail"][0]["msg"]
    assert get(api, "/api/tariff", api.operator)["version"] == 1


def test_a_price_fix_needs_fix_and_rerates_only_what_it_changes(api: Api) -> None:
    held(api)
    first = api.client.post(f"/api/billing/{MONTH}/rate", headers=api.operator).json()
    assert (first["month"], first["tariff_version"], first["legs"], first["changed"]) == (MONTH, 1, 4, 4)
    again = api.client.post(f"/api/billing/{MONTH}/rate", headers=api.operator).json()
    assert (again["legs"], again["changed"], again["dropped"]) == (4, 0, 0)
    fixed = default_text().replace('price_per_minute = "4.00"', 'price_per_minute = "3.60"')
    late = api.client.put("/api/tariff", json={"text": fixed}, headers=api.operator)
    assert late.status_code == 422 and "fix" in late.json()["detail"][0]["msg"]
    ok = api.client.put(
        "/api/tariff", json={"text": fixed, "note": "O2 fix", "fix": True}, headers=api.operator
    )
    assert ok.status_code == 200 and ok.json() == {"version": 2}
    after = api.client.post(f"/api/billing/{MONTH}/rate", headers=api.operator).json()
    assert (after["tariff_version"], after["changed"]) == (2, 1)


def test_the_professional_plan_bills_its_monthly_minimum(api: Api) -> None:
    held(api)
    pid = profile_id(api, "acme")
    set_plan = api.client.put(
        f"/api/profiles/{pid}/plan", json={"plan": "professional"}, headers=api.operator
    )
    assert set_plan.status_code == 200 and set_plan.json() == {"profile_id": pid, "plan": "professional"}
    s = get(api, f"/api/statements/{MONTH}", api.profile("acme"))
    assert s["plan"] == "professional"
    assert (s["usage_net"], s["minimum_top_up"], s["net"], s["gross"]) == (
        "132.00",
        "1368.00",
        "1500.00",
        "1815.00",
    )
    assert get(api, f"/api/profiles/{pid}/statements/{MONTH}", api.operator) == s
    gold = api.client.put(f"/api/profiles/{pid}/plan", json={"plan": "gold"}, headers=api.operator)
    assert gold.status_code == 422 and gold.json()["detail"][0]["loc"] == ["body", "plan"]
    nobody = api.client.put("/api/profiles/9999/plan", json={"plan": "professional"}, headers=api.operator)
    assert nobody.status_code == 404
    get(api, f"/api/profiles/9999/statements/{MONTH}", api.operator, expect=404)
    get(api, f"/api/profiles/{pid}/statements/{MONTH}", api.profile("acme"), expect=401)


def test_the_openapi_document_lists_the_billing_endpoints(api: Api) -> None:
    doc = get(api, "/openapi.json", {})
    ops = {(m, p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert NEW_PATHS.issubset(ops)
    for key in NEW_PATHS:
        assert ops[key].get("summary") and ops[key].get("tags") and ops[key].get("security"), key
    assert "text/csv" in ops[("get", "/api/statements/{month}.csv")]["responses"]["200"]["content"]
    assert ".csv" in ops[("get", "/api/statements/{month}")]["description"]
    money = doc["components"]["schemas"]["StatementOut"]["properties"]["gross"]
    assert money["type"] == "string"


def test_without_billing_the_endpoints_are_absent(tmp_path: Path) -> None:
    from tests.support.api import running_api

    with running_api(tmp_path) as plain:
        paths = plain.client.get("/openapi.json").json()["paths"]
        assert not {p for _, p in NEW_PATHS} & set(paths)


def test_mail_settings_by_the_organizer_and_the_operator(api: Api) -> None:
    me = api.profile("acme")
    assert get(api, "/api/me/mail", me) == {
        "profile_id": profile_id(api, "acme"),
        "address": None,
        "sends_to": None,
        "reports": False,
    }
    put = api.client.put("/api/me/mail", headers=me, json={"address": "boss@acme.example", "reports": True})
    assert put.status_code == 200 and put.json()["sends_to"] == "boss@acme.example" and put.json()["reports"]
    bad = api.client.put("/api/me/mail", headers=me, json={"address": "no address", "reports": True})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "address"
    assert get(api, "/api/me/mail", me)["address"] == "boss@acme.example"  # nothing half-stored
    pid = profile_id(api, "acme")
    off = api.client.put(f"/api/profiles/{pid}/mail", headers=api.operator, json={"reports": False})
    assert off.status_code == 200 and off.json() == {
        "profile_id": pid,
        "address": None,
        "sends_to": None,
        "reports": False,
    }
    assert api.client.put("/api/profiles/999/mail", headers=api.operator, json={}).status_code == 404
    assert api.client.put(f"/api/profiles/{pid}/mail", headers=me, json={}).status_code in (401, 403)


def test_the_operator_runs_a_month_end_and_a_repeat_changes_nothing(api: Api) -> None:
    held(api)
    first = api.client.post(f"/api/billing/{MONTH}/month-end", headers=api.operator)
    assert first.status_code == 200, first.text
    assert (first.json()["revision"], first.json()["statements"], first.json()["mailed"]) == (1, 1, 0)
    again = api.client.post(f"/api/billing/{MONTH}/month-end", headers=api.operator)
    assert again.json() == first.json()
    rerun = api.client.post(f"/api/billing/{MONTH}/month-end", headers=api.operator, json={"again": True})
    assert rerun.json()["revision"] == 2
    bad = api.client.post("/api/billing/2026-3/month-end", headers=api.operator)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "month"
    s = get(api, f"/api/statements/{MONTH}", api.profile("acme"))
    assert (s["sms_count"], s["sms_net"]) == (0, "0.00")
