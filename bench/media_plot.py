"""The media benchmark's curve as a PNG (issue 18): Asterisk's CPU against the members, and its
CPU per member, from the first step (50 members) to past the 50 % point, one line per layout
(one conference, 15 conferences), the 50 % threshold drawn across."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(layouts: list[dict[str, Any]], threshold: float, path: Path, title: str) -> Path | None:
    """Writes the plot; None when no layout sampled a step (nothing to draw)."""
    drawn = [lay for lay in layouts if lay["steps"]]
    if not drawn:
        return None
    import matplotlib  # only when plotting: the benchmark's other parts need no matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    fig, (total, per) = plt.subplots(1, 2, figsize=(11, 4.2))
    for lay in drawn:
        label = f"{lay['variant']}, {lay['conferences']} conference(s)"
        steps = sorted(lay["steps"], key=lambda s: s["members"])
        xs = [0] + [s["members"] for s in steps]
        total.plot(xs, [lay["idle"]["asterisk_pct"]] + [s["asterisk_pct"] for s in steps], "o-", label=label)
        counted = [s for s in steps if s["members"]]
        per.plot(
            [s["members"] for s in counted],
            [s["asterisk_pct"] / s["members"] * 100 for s in counted],
            "o-",
            label=label,
        )
        at = lay["members_at_50"].get("members")
        if at:
            total.axvline(at, linestyle=":", alpha=0.5)
    total.axhline(threshold, color="grey", linestyle="--", label=f"{threshold:g} % of the machine")
    total.set_xlabel("members")
    total.set_ylabel("Asterisk CPU, % of the machine")
    total.set_title("Asterisk's CPU by members")
    per.set_xlabel("members")
    per.set_ylabel("Asterisk CPU % per 100 members")
    per.set_title("cost per member")
    per.set_ylim(bottom=0)
    for ax in (total, per):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
