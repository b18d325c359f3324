"""The placement simulation's plot: max node load over the mean through the replayed days, per
variant, with the mean fill and the node loss marked; and how the busy samples' ratios spread."""

from __future__ import annotations

from pathlib import Path

from bench.placement_replay import Replay

DAY_S = 86_400.0


def plot(replays: dict[str, Replay], seats: int, busy_fraction: float, goal: float, path: Path) -> Path:
    import matplotlib  # only when plotting

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    fig, (series, spread) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [2, 1]})
    fill = series.twinx()
    for v, r in replays.items():
        busy = [(t / DAY_S, mx / mean) for t, mx, mean, _ in r.samples if mean >= busy_fraction * seats]
        if not busy:
            continue
        xs, ys = zip(*busy, strict=True)
        # The rule's own points first: a baseline that places the same way draws over them.
        series.plot(xs, ys, ".", markersize=1.5, label=v, zorder=3 if v == "rule" else 2)
        ratios = sorted(ys)
        spread.plot(ratios, [i / len(ratios) for i in range(1, len(ratios) + 1)], label=v)
        if v == "rule":
            fill.plot([t / DAY_S for t, *_ in r.samples], [mean / seats for _, _, mean, _ in r.samples],
                      color="grey", linewidth=0.6, alpha=0.6, label="mean fill (rule)")  # fmt: skip
            if r.kill:
                series.axvline(float(r.kill["at"]) / DAY_S, color="red", linestyle=":", label="node lost")  # type: ignore[arg-type]
    for ax in (series, spread):
        ax.grid(True, alpha=0.3)
    series.axhline(goal, color="black", linestyle="--", linewidth=0.8, label=f"goal {goal}")
    series.set_xlabel("day of the month (the fraction: the time of day)")
    series.set_ylabel("max node members / mean (busy samples)")
    series.set_title(f"balance over the replay (busy: mean >= {busy_fraction:.0%} of seats)", fontsize=9)
    series.legend(fontsize=7, markerscale=6, loc="upper left")
    fill.set_ylabel("mean fill of a node's seats")
    fill.set_ylim(0, 1.2)
    spread.axvline(goal, color="black", linestyle="--", linewidth=0.8)
    spread.set_xlabel("max / mean")
    spread.set_ylabel("share of busy samples at most")
    spread.set_title("spread of the busy samples", fontsize=9)
    spread.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
