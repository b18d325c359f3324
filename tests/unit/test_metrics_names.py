"""The controller's metric names follow Prometheus conventions and stay low-cardinality."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from booking.services.figures import HORIZONS
from booking.web.dashboard import FAILURE_LABELS, HORIZON_LABELS
from conference_ivr.errors import JoinFailure
from conference_ivr.metrics import JOIN_FAILURE_REASONS, LOCKOUT_SCOPES, SEAT_HORIZONS, Metrics

JOURNEY = Path(__file__).resolve().parents[2] / "conference_ivr" / "ivr" / "journey.py"
# Every label a dialconf metric may carry: each takes a handful of values fixed in the code
# (node: the cluster's media nodes, a handful named in its settings, issue 21).
# Never a conference number, a caller number, a channel or a reservation id.
ALLOWED_LABELS = {"role", "reason", "command", "step", "action", "kind", "result", "horizon", "scope", "node"}


def families(registry: CollectorRegistry) -> dict[str, str]:
    """Family name -> type, as a scrape shows them."""
    text = generate_latest(registry).decode()
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def test_every_name_is_namespaced_snake_case_with_help() -> None:
    metrics = Metrics()
    for collector in metrics.registry.collect():
        assert re.fullmatch(r"dialconf_[a-z][a-z0-9_]*[a-z0-9]", collector.name), collector.name
        assert collector.documentation.strip(), f"{collector.name} has no HELP"
        assert not re.search(r"_(ms|millis|milliseconds|minutes|hours|count|sum|bucket)$", collector.name)


def test_counters_end_in_total_and_gauges_do_not() -> None:
    metrics = Metrics()
    metrics.seats_reserved.labels(horizon="now").set(1)
    for family in metrics.registry.collect():  # typed families (the text format adds *_created gauges)
        names = {s.name for s in family.samples}
        if family.type == "counter":
            assert names <= {f"{family.name}_total", f"{family.name}_created"}, names
        elif family.type == "gauge":
            assert not family.name.endswith(("_total", "_count", "_sum", "_created")), family.name
            assert names <= {family.name}
        else:
            assert family.type == "histogram" and family.name.endswith("_seconds"), family.name


def test_labels_are_few_and_fixed() -> None:
    metrics = Metrics()
    for value in vars(metrics).values():
        labelnames = getattr(value, "_labelnames", ())
        assert set(labelnames) <= ALLOWED_LABELS, labelnames


def test_known_label_values_are_series_from_the_start() -> None:
    r = Metrics().registry
    assert r.get_sample_value("dialconf_joins_total", {"role": "participant"}) == 0
    assert r.get_sample_value("dialconf_joins_total", {"role": "moderator"}) == 0
    assert r.get_sample_value("dialconf_extensions_total", {"result": "granted"}) == 0
    assert r.get_sample_value("dialconf_extensions_total", {"result": "denied"}) == 0


def test_every_reason_the_journey_gives_is_known_and_labelled() -> None:
    source = JOURNEY.read_text()
    given = set(re.findall(r"JoinFailure\.(\w+)", source))
    assert given, "no join failure reasons found in the journey?"
    assert given <= {r.name for r in JoinFailure}, given - {r.name for r in JoinFailure}
    assert tuple(r.value for r in JoinFailure) == JOIN_FAILURE_REASONS
    assert set(FAILURE_LABELS) == set(JOIN_FAILURE_REASONS)


def test_seat_horizons_agree() -> None:
    assert tuple(HORIZONS) == SEAT_HORIZONS == tuple(HORIZON_LABELS)
    assert list(HORIZONS.values()) == sorted(HORIZONS.values())
    assert LOCKOUT_SCOPES == ("conference", "caller", "web-conference", "web")


def test_the_new_metrics_are_exposed_with_their_types() -> None:
    m = Metrics()
    m.seats_reserved.labels(horizon="now").set(5)
    m.pin_lockouts_active.labels(scope="caller").set(1)
    m.moderator_ends.inc()
    m.ami_reconnects.inc()
    found = families(m.registry)
    assert found["dialconf_seats_reserved"] == "gauge"
    assert found["dialconf_seats_capacity"] == "gauge"
    assert found["dialconf_live_seats"] == "gauge"
    assert found["dialconf_pin_lockouts_active"] == "gauge"
    assert found["dialconf_booking_figures_timestamp_seconds"] == "gauge"
    assert found["dialconf_moderator_ends"] == "counter"
    assert found["dialconf_ami_reconnects"] == "counter"
    assert found["dialconf_terminations"] == "counter"
    assert found["dialconf_mobile_cuts"] == "counter"
    assert found["dialconf_join_failures"] == "counter"
    assert m.registry.get_sample_value("dialconf_moderator_ends_total") == 1
    assert m.registry.get_sample_value("dialconf_seats_reserved", {"horizon": "now"}) == 5
