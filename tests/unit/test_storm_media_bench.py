"""The join-storm and media benchmarks' pure parts (bench/storm_*.py, bench/media_*.py):
reading Asterisk's log into per-call timings, splitting the time after the PIN, percentiles,
and where 50 % of the machine falls between ramp steps. The benchmarks themselves run real
Asterisk and SIPp in `make bench`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.media_report import members_at
from bench.storm_log import ChannelLog, after_pin, parse
from bench.storm_measure import percentiles

CHAN = "PJSIP/sipp-00000001"
LOG = f"""\
[2026-12-02 05:40:00.000] VERBOSE[1][C-1] file.c: <{CHAN}> Playing 'dialconf/greeting.gsm' (language 'en')
[2026-12-02 05:40:02.500] DTMF[1][C-1] channel.c: DTMF end '1' received on {CHAN}, duration 100 ms
[2026-12-02 05:40:04.000] DTMF[1][C-1] channel.c: DTMF end '#' received on {CHAN}, duration 100 ms
[2026-12-02 05:40:05.000] DTMF[1][C-1] channel.c: DTMF end '#' received on {CHAN}, duration 100 ms
[2026-12-02 05:40:05.050] VERBOSE[1][C-1] file.c: <{CHAN}> Playing 'dialconf/say_name.gsm' (language 'en')
[2026-12-02 05:40:07.050] VERBOSE[1][C-1] file.c: <{CHAN}> Playing 'beep.gsm' (language 'en')
[2026-12-02 05:40:09.300] DTMF[1][C-1] channel.c: DTMF end '#' received on {CHAN}, duration 100 ms
[2026-12-02 05:40:09.400] VERBOSE[1][C-1] file.c: <{CHAN}> Playing 'dialconf/joining.gsm' (language 'en')
[2026-12-02 05:40:11.500] VERBOSE[1][C-1] bridge.c: Channel {CHAN} joined 'softmix' base-bridge <x>
[2026-12-02 05:40:11.600] VERBOSE[1][C-2] file.c: <PJSIP/other-00000002> Playing 'dialconf/greeting.gsm'
"""
MS = 1e-3  # the log's clock has milliseconds; float timestamps lose a little more
LENGTHS = {"dialconf/greeting": 3.0, "dialconf/say_name": 2.0, "beep": 0.25, "dialconf/joining": 2.0}


def test_the_log_gives_each_traced_channels_plays_keys_and_join(tmp_path: Path) -> None:
    path = tmp_path / "full"
    path.write_text(LOG)
    logs = parse(path, {CHAN})
    assert set(logs) == {CHAN}  # the untraced channel is left out
    ch = logs[CHAN]
    assert [s for _, s in ch.plays] == ["dialconf/greeting", "dialconf/say_name", "beep", "dialconf/joining"]
    assert "".join(d for _, d in ch.keys) == "1###"
    assert ch.joined is not None and ch.joined - ch.plays[0][0] == pytest.approx(11.5, abs=MS)


def test_after_the_pin_prompts_the_name_and_the_system_share_the_time(tmp_path: Path) -> None:
    path = tmp_path / "full"
    path.write_text(LOG)
    split = after_pin(parse(path, {CHAN})[CHAN], LENGTHS.__getitem__)
    assert split is not None
    assert split.total_s == pytest.approx(6.5, abs=MS)  # the PIN's # (05.000) to the join (11.500)
    assert split.prompt_s == pytest.approx(2.0 + 0.25 + 2.0, abs=MS)
    assert split.name_window_s == pytest.approx(9.3 - 7.3, abs=MS)  # tone end to the name's #
    assert split.system_s == pytest.approx(6.5 - 4.25 - 2.0, abs=MS)
    assert split.to_first_sound_s == pytest.approx(0.05, abs=MS)  # the PIN check
    assert split.name_to_next_sound_s == pytest.approx(0.1, abs=MS)
    assert split.last_sound_to_join_s == pytest.approx(0.1, abs=MS)  # "joining" ends 11.400


def test_a_call_that_never_joined_has_no_split() -> None:
    assert after_pin(ChannelLog(keys=[(1.0, "#"), (2.0, "#")]), LENGTHS.__getitem__) is None


def test_percentiles_by_nearest_rank() -> None:
    p = percentiles([float(x) for x in range(1, 101)], scale=1000, digits=0)
    assert (p["n"], p["min"], p["p50"], p["p90"], p["p99"], p["max"]) == (
        100,
        1000,
        50000,
        90000,
        99000,
        100000,
    )
    assert percentiles([]) == {"n": 0}


def test_members_at_50_percent_interpolated_between_the_steps_that_bracket_it() -> None:
    steps = [{"members": 100, "asterisk_pct": 20.0}, {"members": 300, "asterisk_pct": 60.0}]
    assert members_at(steps, idle=1.0, threshold=50.0) == {
        "members": 250,
        "how": "interpolated",
        "bracket": [100, 300],
    }


def test_members_at_50_percent_extrapolated_past_the_last_step_and_said_so() -> None:
    steps = [{"members": 100, "asterisk_pct": 21.0}, {"members": 200, "asterisk_pct": 41.0}]
    found = members_at(steps, idle=1.0, threshold=50.0)
    assert found == {"members": 245, "how": "extrapolated past 200"}  # 0.2 % per member from idle
    assert members_at([], idle=1.0, threshold=50.0)["members"] is None


def test_media_plot_draws_each_layouts_curve(tmp_path: Path) -> None:
    from bench.media_plot import plot

    def layout(c: int, points: list[tuple[int, float]]) -> dict[str, object]:
        return {
            "variant": "shipped",
            "conferences": c,
            "idle": {"asterisk_pct": 0.5},
            "steps": [{"members": n, "asterisk_pct": pct} for n, pct in points],
            "members_at_50": {"members": 240},
        }

    layouts = [layout(1, [(50, 10.0), (180, 36.0), (260, 52.0)]), layout(15, [(60, 13.0), (255, 51.0)])]
    png = plot(layouts, 50.0, tmp_path / "media.png", "title")
    assert png is not None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000  # two panels with their lines, not an empty canvas
    assert plot([layout(1, [])], 50.0, tmp_path / "none.png", "t") is None
    assert not (tmp_path / "none.png").exists()
