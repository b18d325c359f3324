"""The booking benchmark's curve as a PNG: check + insert p99, and a refusal's p99, against the
bookings in the table (log-log), the ledger beside the sweep before it, per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: a file only
import matplotlib.pyplot as plt

STYLE = {"sqlite": "tab:blue", "postgresql": "tab:orange"}


def plot(latency: list[dict[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, part, title in (
        (axes[0], "request", "check + insert, p99"),
        (axes[1], "refusal", "a refusal with its suggestions, p99"),
    ):
        for backend in sorted({x["backend"] for x in latency}):
            runs = sorted((x for x in latency if x["backend"] == backend), key=lambda x: x["bookings"])
            for variant, dash in (("ledger", "-"), ("sweep (before)", "--")):
                points = [(x["bookings"], x[part][variant]["p99"]) for x in runs if variant in x[part]]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, dash, marker="o", color=STYLE.get(backend), label=f"{backend}, {variant}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("bookings in the table")
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
