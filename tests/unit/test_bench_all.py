"""`make bench`'s summary (bench/all.py): each benchmark's verdict count and the plots it wrote,
linked by file name from bench/results/bench-<date>.md, which sits beside them."""

from __future__ import annotations

import pytest

from bench import all as bench_all

pytestmark = pytest.mark.unit


def test_the_summary_links_each_benchmarks_plots_and_counts_what_it_missed() -> None:
    runs: list[dict[str, object]] = [
        {"name": "agi", "seconds": 200.0, "results": "bench/results/agi-2026-12-03.md",
         "plots": ["agi-2026-12-03.png"], "verdict": ["p99 ... target <= 5 ms MISSED.", "ok: met"]},
        {"name": "storm", "seconds": 60.0, "results": None, "plots": [], "verdict": []},
    ]  # fmt: skip
    text = bench_all.markdown("2026-12-03", runs, 260.0, ("1.0 1.0 1.0", "2.0 1.0 1.0"))
    assert (
        "| agi | 200.0 | 1 missed | bench/results/agi-2026-12-03.md "
        "| [agi-2026-12-03.png](agi-2026-12-03.png) |" in text
    )
    assert "| storm | 60.0 | no results | None | - |" in text
    assert "within the 10-minute budget" in text
