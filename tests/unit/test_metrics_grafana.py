"""docker/grafana-dashboard.json: valid, and every query names only metrics that exist.

The controller's names come from its registry; Asterisk's (res_prometheus) from the list below,
which tests/asterisk/test_metrics_exposition.py checks against a real scrape.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conference_ivr.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docker" / "grafana-dashboard.json"
# What Asterisk 22's res_prometheus serves with core metrics on, channels and bridges.
ASTERISK_METRICS = frozenset(
    {
        "asterisk_core_uptime_seconds",
        "asterisk_core_last_reload_seconds",
        "asterisk_core_properties",
        "asterisk_core_scrape_time_ms",
        "asterisk_channels_count",
        "asterisk_calls_count",
        "asterisk_calls_sum",
        "asterisk_endpoints_count",
        "asterisk_bridges_count",
    }
)
# PromQL's binary and modifier keywords (functions and aggregations are told by their "(").
KEYWORDS = frozenset({"and", "or", "unless", "offset", "bool", "group_left", "group_right"})


def controller_series() -> set[str]:
    """Every series name a scrape of the controller can show, labelled ones included."""
    names: set[str] = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{suffix}" for suffix in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: what is left once strings, label matchers,
    ranges, grouping clauses, Grafana variables, function names and keywords are taken out."""
    e = re.sub(r'"[^"]*"', "", expr)
    e = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\$\w+", "", e)
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)
    e = re.sub(r"\b[A-Za-z_]\w*\s*\(", "(", e)  # a name before "(" is a function or aggregation
    return {t for t in re.findall(r"\b[A-Za-z_:][A-Za-z0-9_:]*\b", e) if t not in KEYWORDS}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in dashboard["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))  # panels inside collapsed rows
    return out


def test_the_dashboard_is_valid_json_with_unique_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"] == "dialconf-operations"
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for p in panels(dashboard):
        grid = p["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, p["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"  # no data source uid baked in


def test_every_query_names_only_metrics_that_are_exposed() -> None:
    exposed = controller_series() | ASTERISK_METRICS
    exprs = [t["expr"] for p in panels(json.loads(DASHBOARD.read_text())) for t in p.get("targets", [])]
    assert len(exprs) >= 20
    for expr in exprs:
        used = metric_names(expr)
        assert used, f"no metric in {expr!r}"
        assert used <= exposed, (expr, used - exposed)


def test_the_dashboard_covers_the_operations_metrics() -> None:
    text = DASHBOARD.read_text()
    for name in (
        "dialconf_conferences_live",
        "dialconf_members_live",
        "dialconf_seats_reserved",
        "dialconf_seats_capacity",
        "dialconf_live_seats",
        "dialconf_join_failures_total",
        "dialconf_pin_lockouts_active",
        "dialconf_extensions_total",
        "dialconf_terminations_total",
        "dialconf_moderator_ends_total",
        "dialconf_mobile_cuts_total",
        "dialconf_ami_up",
        "dialconf_ami_reconnects_total",
        "asterisk_core_uptime_seconds",
    ):
        assert name in text, name


def test_the_name_finder_sees_through_promql() -> None:
    expr = 'histogram_quantile(0.95, sum by (le, command) (rate(x_bucket{a="b"}[$__rate_interval]))) * 60'
    assert metric_names(expr) == {"x_bucket"}
    assert metric_names("time() - y_timestamp_seconds") == {"y_timestamp_seconds"}
