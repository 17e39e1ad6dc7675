"""`costwise watch`: a series with an injected runaway alarms (exit 4, one line), one without is quiet.

Steady caches: 21 days of a constant 1 GB and 36,000,000 ECPUs an hour (10,000 ECPU/s) before the
6-hour stretch; the forecast of a constant series is that constant, so what it expected is known by
hand. Prices: tests/fixtures/pricing.yaml (valkey, us-east-1: 0.0837 $/GB-hour, 0.00227 $/M ECPUs).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import frame

ECPU_HOUR = 36_000_000.0
HOURS = 21 * 24 + 6
INDEX = pd.date_range("2026-10-01", periods=HOURS, freq="h", tz="UTC", name="timestamp")


def steady(runaway_factor: float = 1.0, runaway_hours: int = 0) -> pd.DataFrame:
    ecpu = np.full(HOURS, ECPU_HOUR)
    if runaway_hours:
        ecpu[-runaway_hours:] *= runaway_factor
    return frame(1.0, ecpu, INDEX)


def test_runaway_found_and_priced(valkey):
    from costwise.model.watch import WatchSettings, watch_frame

    finding = watch_frame(steady(3.0, 3), valkey, WatchSettings())
    assert finding.alarm and finding.dimensions == ["ecpu"] and finding.hours_out == 3
    assert finding.ratio == pytest.approx(3.0)
    # 2 x 36e6 ECPUs an hour above the expected: 72 M x 24 h x $0.00227 = $3.92256 a day
    assert finding.excess_per_day == pytest.approx(72 * 24 * 0.00227)
    # expected a day: 1 GB x 24 x 0.0837 = $2.0088 + 36 M x 24 x 0.00227 = $1.96128
    assert finding.expected_per_day == pytest.approx(2.0088 + 1.96128)


def test_quiet_series_and_small_or_short_rises(valkey):
    from costwise.model.watch import WatchSettings, watch_frame

    assert watch_frame(steady(), valkey, WatchSettings()).status == "ok"
    assert watch_frame(steady(1.8, 6), valkey, WatchSettings()).status == "ok"  # 1.8x: inside the band's 2x floor
    assert watch_frame(steady(3.0, 1), valkey, WatchSettings()).status == "ok"  # one hour is not sustained
    assert watch_frame(steady(3.0, 1), valkey, WatchSettings(sustained_hours=1)).alarm
    # 23 hours of history before the 6 watched: under young_min_hours (24), nothing to judge by
    assert watch_frame(steady().iloc[-29:], valkey, WatchSettings()).status == "short-history"


def test_a_cache_too_young_for_a_forecast_is_judged_by_its_largest_hour(valkey):
    from costwise.model.watch import WatchSettings, watch_frame

    # 2 days of history (under min_history_days, 3): the band is young_ratio 2 x the largest hour, 72 M ECPUs
    young = steady(2.5, 2).iloc[-(48 + 6):]
    finding = watch_frame(young, valkey, WatchSettings())
    assert finding.alarm and finding.basis == "largest hour" and finding.hours_out == 2
    # 90 M - 36 M = 54 M ECPUs an hour above the largest hour, x 24 x $0.00227 = $2.94192 a day
    assert finding.excess_per_day == pytest.approx(54 * 24 * 0.00227)
    quiet = watch_frame(steady(1.8, 2).iloc[-(48 + 6):], valkey, WatchSettings())
    assert quiet.status == "ok" and quiet.basis == "largest hour"  # 1.8x its largest hour: under 2x
    # young_ratio, not min_ratio, sets a young cache's floor: 2.5x is under 3x
    assert watch_frame(young, valkey, WatchSettings(young_ratio=3.0, min_ratio=1.5)).status == "ok"
    assert watch_frame(steady(2.5, 2), valkey, WatchSettings()).basis == "forecast"  # 21 days: the forecast
    assert watch_frame(steady().iloc[-29:], valkey, WatchSettings()).basis is None  # no band at all


def test_an_empty_cache_being_loaded_is_no_runaway(valkey):
    # 2 days (young) and 21 days (the forecast) without a single ECPU, then 36 M an hour: the band of
    # nothing is nothing, and so is its floor; nothing to go by, no alarm
    from costwise.model.watch import WatchSettings, watch_frame

    ecpu = np.zeros(HOURS)
    ecpu[-2:] = ECPU_HOUR
    loaded = frame(1.0, ecpu, INDEX)
    assert watch_frame(loaded, valkey, WatchSettings()).status == "ok"
    assert watch_frame(loaded.iloc[-(48 + 6):], valkey, WatchSettings()).status == "ok"


def test_streak_counts_newest_hours():
    from costwise.model.watch import streak

    assert streak([True, False, True, True]) == 2
    assert streak([True, True, False]) == 0
    assert list(streak(np.array([[True, True], [False, True], [True, False]]))) == [2, 1, 0]


def _history(tmp_path, frames: dict[str, pd.DataFrame]):
    from costwise.sources.history_file import save_history
    from costwise.usage import CurrentLimits, EnvHistory, History, Window

    window = Window(INDEX[0].to_pydatetime(), INDEX[-1].to_pydatetime() + pd.Timedelta(hours=1))
    envs = [EnvHistory(name, f"{name}-cache", "valkey", "us-east-1", frame=f,
                       limits=CurrentLimits(max_ecpu_per_second=50_000, max_storage_gb=10, source="file"))
            for name, f in frames.items()]
    path = tmp_path / "history.csv"
    save_history(History(window, envs, "cloudwatch"), path)
    return path


def test_cli_alarm_exit_4_one_line_per_cache(run, tmp_path):
    path = _history(tmp_path, {"prod": steady(3.0, 2), "dev": steady()})
    code, out, err = run("watch", "--metrics-file", str(path))
    assert code == 4, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "prod (prod-cache)" in lines[0] and "ECPUs 3.0x" in lines[0]
    assert "+$3.92/day" in lines[0]  # 72 M ECPUs an hour above, x 24 x $0.00227
    # the busiest minute: 3 x 10,000 ECPU/s = 30,000 of the 50,000 limit
    assert "60% of its max ECPU/s" in lines[0]

    code, out, err = run("watch", "--metrics-file", str(path), "--format", "markdown")
    assert code == 4 and out.startswith("**costwise watch**: 1 cache above") and out.count("\n- ") == 1

    code, out, err = run("watch", "--metrics-file", str(path), "--format", "json")
    assert code == 4
    data = json.loads(out)
    assert data["alarms"] == 1
    caches = {c["env"]: c for c in data["caches"]}
    assert caches["prod"]["alarm"] and caches["prod"]["dimensions"] == ["ecpu"] and caches["prod"]["grew"] is None
    assert caches["dev"]["status"] == "ok"


def test_cli_quiet_when_all_is_well(run, tmp_path):
    path = _history(tmp_path, {"prod": steady(), "dev": steady()})
    code, out, err = run("watch", "--metrics-file", str(path))
    assert code == 0 and out == "" and err == ""
    code, out, err = run("watch", "--metrics-file", str(path), "--sustained-hours", "9")
    assert code == 2 and "--sustained-hours" in err


def test_an_alarm_names_the_command_family_that_grew_and_a_quiet_run_reads_no_drivers(aws_env):
    # tests/cwfake.py's runaway (RUNAWAY_CHANGES, derived there): EVAL-based and non-key commands'
    # ECPUs an hour 1.4 M before the watched hours, 37.4 M during them: 26.7x; GET-type unmoved
    from tests.cwfake import RUNAWAY_AS_OF, RUNAWAY_CHANGES as runaway, STEADY_DRIVERS as base, FleetFake
    from tests.helpers import PRICING_FIXTURE, costwise

    args = ("watch", "--cache", "shop", "--as-of", RUNAWAY_AS_OF, "--days", "21", "--pricing", str(PRICING_FIXTURE))
    with FleetFake({"us-east-1": ["shop"]}, drivers={"shop": base}, changes=runaway) as fake:
        result = costwise(*args, "--endpoint-url", fake.url, "--format", "json")
        calls = fake.metric_calls
    assert result.code == 4, result.err
    [shop] = json.loads(result.out)["caches"]
    assert shop["alarm"] and shop["ratio"] == pytest.approx(3.0)
    assert shop["grew"] == ("EVAL-based commands (EvalBasedCmds): 26.7x their ECPUs an hour (1,400,000 -> 37,400,000); "
                            "by access: non-key commands (NonKeyTypeCmds): 26.7x their ECPUs an hour (1,400,000 -> 37,400,000)")
    assert calls == 3  # the usage, then the drivers before and during the watched hours
    with FleetFake({"us-east-1": ["shop"]}, drivers={"shop": base}) as fake:
        result = costwise(*args, "--endpoint-url", fake.url)
        calls = fake.metric_calls
    assert result.code == 0 and result.out == "", result.err
    assert calls == 1  # quiet: the usage alone, no drivers read


def test_an_hour_of_the_day_that_always_swings_is_judged_by_its_own_noise(valkey):
    # Steady but for 03:00-06:00 UTC, which swing by exp(N(0, 0.6)) every day (a nightly batch job).
    # The newest two hours (04:00, 05:00) come at 2.6x what the forecast expects for them. Judged by
    # the day's noise (MAD over 24 hours, 4 of them swinging: small) the band is the 2x floor, so
    # 2.6x alarms; judged by those hours' own noise (the robust sigma of the last 7 days' 03:00-06:00
    # around each: 0.43 with this seed) the band is exp(2.576 x sqrt(0.43^2 + 0.054^2)) = 3.0x the
    # expected hour, and 2.6x is what such hours do.
    from costwise.model.watch import WatchSettings, watch_frame

    rng = np.random.default_rng(7)
    ecpu = np.full(HOURS, ECPU_HOUR)
    swinging = np.isin(INDEX.hour, (3, 4, 5, 6))
    ecpu[swinging] *= np.exp(rng.normal(0.0, 0.6, swinging.sum()))
    history_only = frame(1.0, ecpu, INDEX).iloc[:-6]
    from costwise.model.watch import expected_band

    band = expected_band(history_only, valkey, WatchSettings(), 6)
    ecpu[-2:] = 2.6 * band.ecpu.expected[-2:]
    f = frame(1.0, ecpu, INDEX)
    assert watch_frame(f, valkey, WatchSettings(noise_by_hour=False)).alarm
    assert watch_frame(f, valkey, WatchSettings()).status == "ok"


def _climbing(before: float, newest: float) -> pd.DataFrame:
    """Steady, then the stretch's first 4 hours at `before` x and its newest 2 at `newest` x."""
    ecpu = np.full(HOURS, ECPU_HOUR)
    ecpu[-6:-2] *= before
    ecpu[-2:] *= newest
    return frame(1.0, ecpu, INDEX)


def test_a_run_out_of_band_must_also_be_a_step_from_the_hours_before_it(valkey):
    # The band of a constant series is its 2x floor (72 M ECPUs an hour). Newest 2 hours at 2.5x
    # (90 M): out of band, a run of 2. The hour before them (step_base_hours=1) at 1.9x: inside the
    # band, so the run starts there; 2.5 / 1.9 = 1.316x that hour: a day climbing, not a step of 2.
    from costwise.model.watch import WatchSettings, watch_frame

    climbing = _climbing(1.9, 2.5)
    assert watch_frame(climbing, valkey, WatchSettings(step_ratio=1.0)).alarm  # off: the band alone
    assert watch_frame(climbing, valkey, WatchSettings(step_ratio=2.0)).status == "ok"
    assert watch_frame(climbing, valkey, WatchSettings(step_ratio=1.3)).alarm  # 1.316 >= 1.3
    # from 1x to 2.5x: a step of 2.5 >= 2
    assert watch_frame(_climbing(1.0, 2.5), valkey, WatchSettings(step_ratio=2.0)).alarm
    # out of band over the whole stretch (6 of 6 hours): no watched hour before the run, the band decides
    assert watch_frame(_climbing(2.5, 2.5), valkey, WatchSettings(step_ratio=2.0)).alarm


def test_stepped_up_row_by_row_with_a_base_of_two_hours(valkey):
    from costwise.model.watch import DimensionBand, WatchSettings, stepped_up

    band = DimensionBand(np.ones(4), 0.0, 0.0, 1.0)
    observed = np.array([[1.0, 1.0, 3.0, 3.0],   # base mean(log 1, log 1) = 0; lowest run hour 3x: step 3
                         [1.0, 2.0, 3.0, 3.0],   # base (0 + log 2) / 2: sqrt(2) = 1.414; 3 / 1.414 = 2.12
                         [2.0, 2.0, 3.0, 3.0],   # base 2x; 3 / 2 = 1.5
                         [np.nan, np.nan, 3.0, 3.0]])  # no base known: not tested
    settings = WatchSettings(step_ratio=2.0, step_base_hours=2)
    assert list(stepped_up(observed, band, np.array([2, 2, 2, 2]), settings)) == [True, True, False, True]
    # a run of 3 in row 0 starts at the 1x hour: its lowest hour is 1x the base (the one hour before)
    assert not stepped_up(observed[0], band, 3, settings)


def test_cli_names_the_largest_hour_for_a_young_cache(run, tmp_path):
    # the young cache's frame starts 2 days before its 6 watched hours (the window's earlier hours
    # are gaps): newest 2 hours at 2.5x, as in the test above (+$2.94/day above its largest hour)
    young = steady(2.5, 2)
    young.iloc[: -(48 + 6)] = np.nan
    path = _history(tmp_path, {"new": young})
    code, out, err = run("watch", "--metrics-file", str(path), "--format", "json")
    assert code == 4, err
    [cache] = json.loads(out)["caches"]
    assert cache["basis"] == "largest hour" and cache["alarm"]
    code, out, err = run("watch", "--metrics-file", str(path))
    assert code == 4 and "2.5x its largest hour so far for the last 2 hours (too young for a forecast)" in out
    assert "+$2.94/day above that" in out
