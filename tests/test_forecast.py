"""Forecast on hand-checkable series. Rates: valkey us-east-1, $0.0837/GB-h, $0.00227/M ECPU, min 0.1 GB."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costwise.model.forecast import project_month
from costwise.model.settings import SizingSettings

from tests.helpers import INDEX, frame


def test_flat_series_projects_its_level(valkey):
    p = project_month(frame(2.0, 3.6e6), valkey)
    # 2 GB x 0.0837 x 730 = 122.202; 3.6e6 x 730 = 2,628e6 ECPUs x 0.00227/1e6 = 5.96556
    assert p.cost.storage == pytest.approx(122.202, rel=1e-9)
    assert p.cost.ecpu == pytest.approx(5.96556, rel=1e-9)
    assert p.low < p.cost.total < p.high
    assert p.high / p.low < 1.10  # a perfectly steady cache: a tight interval
    assert p.confidence == "high" and p.notes == []
    assert p.index[0] == pd.Timestamp("2026-10-31T00:00:00Z") and len(p.index) == 730


def test_steady_growth_is_extrapolated(valkey):
    t = np.arange(720) / 24
    p = project_month(frame(1.02**t, 0.0), valkey)
    # truth: sum over k=0..729 of 1.02^(30 + k/24) GB-hours x 0.0837
    #      = 0.0837 x 1.02^30 x (1.02^(730/24) - 1) / (1.02^(1/24) - 1) = 0.0837 x 1.8114 x 1000.6 = 151.7
    truth = 0.0837 * 1.02**30 * (1.02 ** (730 / 24) - 1) / (1.02 ** (1 / 24) - 1)
    assert p.cost.storage == pytest.approx(truth, rel=0.01)
    # the naive run rate (30-day mean x 730) would say 0.0837 x 730 x mean(1.02^t) = 0.0837 x 730 x 1.365 = 83.4
    assert p.cost.storage > 1.75 * 0.0837 * 730 * np.mean(1.02**t)
    assert any("storage grew 2.0%/day" in n for n in p.notes)
    assert p.storage.growth_over(730 / 24) == pytest.approx(1.02 ** (730 / 24), rel=0.01)


def test_level_shift_uses_the_new_level(valkey):
    # a TTL fix halved storage ten days ago: 4 GB for 20 days, 2 GB for 10
    storage = np.where(np.arange(720) < 480, 4.0, 2.0)
    p = project_month(frame(storage, 0.0), valkey)
    # the new level: 2 x 0.0837 x 730 = 122.202 (the 30-day mean, 3.33 GB, would say 203.7)
    assert p.cost.storage == pytest.approx(122.202, rel=0.01)
    assert any("fell 50% on 2026-10-21" in n for n in p.notes)
    assert p.storage.regime_start == pd.Timestamp("2026-10-21T00:00:00Z")


def daily_cycle(amplitude: float, index=INDEX) -> np.ndarray:
    """1 + amplitude x sin(hour of day): its hourly profile's spread is amplitude / sqrt(2)."""
    return 1 + amplitude * np.sin(2 * np.pi * np.asarray(index.hour) / 24)


def test_short_history_is_not_high_confidence_and_wide(valkey):
    # a cache created 72 hours ago, swinging +-20% within a day (a spread of 0.14, above the 0.10 from
    # which the short-history prior applies in full): no backtest can run, so the prior for 3 days:
    # sigma = 0.02 x (28 / 3)^0.75 = 0.02 x 5.3399 = 0.10680; the 80% half-width is 1.2816 x 0.1068 = 13.7%
    cycle = daily_cycle(0.2)
    storage = np.r_[np.full(648, np.nan), np.full(72, 1.0)] * cycle
    ecpu = np.r_[np.full(648, np.nan), np.full(72, 1e6)] * cycle
    p = project_month(frame(storage, ecpu), valkey)
    # 1 x 0.0837 x 730 = 61.101; 1e6 x 730 / 1e6 x 0.00227 = 1.6571
    assert p.cost.total == pytest.approx(61.101 + 1.6571, rel=0.01)
    assert p.storage.rel_sigma == pytest.approx(0.02 * (28 / 3) ** 0.75, rel=1e-6)
    assert p.halfwidth == pytest.approx(np.sinh(1.2816 * 0.1068), rel=0.01)  # (e^h - e^-h) / 2
    assert p.confidence == "low"  # +-13.7% is beyond medium's +-12%
    # a week-old cache: two origins are too few to backtest (5 days first, then 7 - 5), so the prior
    # for 7 days: 0.02 x (28 / 7)^0.75 = 0.05657; the half-width sinh(1.2816 x 0.05657) = 7.3%, but low:
    # no backtest checked it
    week = project_month(frame(np.r_[np.full(552, np.nan), np.full(168, 1.0)] * cycle, np.r_[np.full(552, np.nan), np.full(168, 1e6)] * cycle), valkey)
    assert week.storage.rel_sigma == pytest.approx(0.05657, rel=1e-3)
    assert week.halfwidth == pytest.approx(np.sinh(1.2816 * 0.05657), rel=0.02) and week.confidence == "low"
    assert any("too few to backtest" in n for n in week.notes)
    # an hour-old cache: 0.02 x 672^0.75 = 2.64, capped at 1.0: +-128% in log terms, low
    hour = project_month(frame(np.r_[np.full(719, np.nan), 1.0], np.r_[np.full(719, np.nan), 1e6]), valkey)
    assert hour.confidence == "low" and hour.high / hour.low > 5
    assert any("confidence is low" in n for n in hour.notes)


def test_a_short_history_that_barely_moves_within_a_day_is_less_uncertain(valkey):
    # three days (no backtest yet): swinging +-20% within a day, the full prior (0.1068, low: the test
    # above); +-5% within a day: a spread of 0.05 / sqrt(2) = 0.035355, so 0.35355 of the growth beyond
    # model_sigma: 0.02 x (1 + 4.3399 x 0.35355) = 0.050688 (+-6.5%; still low: no backtest checked it)
    calm, new = daily_cycle(0.05), np.r_[np.full(648, np.nan), np.ones(72)]
    steady = project_month(frame(new * calm, 1e6 * new * calm), valkey)
    assert np.std(steady.storage.profile) == pytest.approx(0.05 / np.sqrt(2), rel=1e-6)
    assert steady.storage.rel_sigma == pytest.approx(0.050688, rel=1e-4)
    assert steady.ecpu.rel_sigma == pytest.approx(0.050688, rel=1e-4)
    assert steady.confidence == "low"
    # five days growing 4% a day, the same calm cycle: a trend keeps the full prior (few days cannot vouch
    # for one): 0.02 x (28 / 5)^0.75 = 0.02 x 3.6403 = 0.072805; the flat ECPU beside it gets 0.35355 of the growth
    five = np.r_[np.full(600, np.nan), np.ones(120)]
    growing = project_month(frame(five * calm * 1.04 ** (np.arange(720) / 24), 1e6 * five * calm), valkey)
    assert growing.storage.slope > 0 and growing.ecpu.slope == 0
    assert growing.storage.rel_sigma == pytest.approx(0.072805, rel=1e-4)
    assert growing.ecpu.rel_sigma == pytest.approx(0.02 * (1 + (5.6 ** 0.75 - 1) * 0.05 / np.sqrt(2) / 0.1), rel=1e-4)


def test_a_short_history_whose_days_stray_is_at_least_as_uncertain_as_its_days(valkey):
    # three days flat within each day (no daily swing: the prior is model_sigma, 0.02) at 1, 2 and 1 GB:
    # the log daily levels 0, ln 2, 0 have a standard deviation of ln 2 / sqrt(3) = 0.40019, the sigma
    new = np.r_[np.full(648, np.nan), np.repeat([1.0, 2.0, 1.0], 24)]
    p = project_month(frame(new, 1e6 * new), valkey)
    assert p.storage.rel_sigma == pytest.approx(np.log(2) / np.sqrt(3), rel=1e-6)
    assert p.ecpu.rel_sigma == pytest.approx(np.log(2) / np.sqrt(3), rel=1e-6)
    assert p.confidence == "low"


def test_the_days_spread_leaves_out_a_fitted_climb_and_a_part_of_a_day(valkey):
    # five days growing exactly 10% a day, nothing else: the trend is the model's, so the spread
    # around it is 0 and the range is the prior for 5 days, 0.02 x (28 / 5)^0.75 = 0.072805 (around a
    # flat mean the spread would be ln 1.1 x sd(0..4) = 0.0953 x 1.5811 = 0.1507)
    t = np.arange(720) / 24
    five = np.r_[np.full(600, np.nan), np.ones(120)] * 1.1**t
    p = project_month(frame(five, 1e6 * five), valkey)
    assert p.storage.rel_sigma == pytest.approx(0.02 * (28 / 5) ** 0.75, rel=1e-4)
    # 84 hours of a +-50% daily cycle, every day alike: the oldest 12 hours are no day's level, the
    # three complete days agree, so the prior for 3.5 days: 0.02 x 8^0.75 = 0.095137
    cycle = 1 + 0.5 * np.sin(np.arange(720) * 2 * np.pi / 24)
    young = np.r_[np.full(636, np.nan), np.ones(84)] * cycle
    assert project_month(frame(young, 1e6 * young), valkey).storage.rel_sigma == pytest.approx(0.02 * 8**0.75, rel=1e-4)


def test_a_cheap_backtested_series_does_not_vouch_for_an_unchecked_one(valkey):
    # storage steady for 30 days (backtested), ECPUs only for the last 3 (not): low, and the note
    # names the 3 days, not the backtest
    ecpu = np.r_[np.full(648, np.nan), np.full(72, 3.6e9)]
    p = project_month(frame(np.full(720, 1.0), ecpu), valkey)
    assert p.confidence == "low" and not p.backtested
    assert any("only 3.0 days in its current level, too few to backtest" in n for n in p.notes)
    # a cache without traffic two hours old: nothing checked it either
    idle = np.r_[np.full(718, np.nan), 0.0, 0.0]
    assert project_month(frame(idle, idle), valkey).confidence == "low"


def test_confidence_comes_from_the_own_backtest(valkey):
    # two 30-day histories, the same length: a steady one, and one whose days vary +-15% at random
    # (sd 0.087 a day: a week's mean misses by about 0.087 x sqrt(1/7 + 1/20) = 3.8%)
    rng = np.random.default_rng(7)
    day = np.repeat(rng.uniform(0.85, 1.15, size=30), 24)
    steady, jumpy = project_month(frame(1.0, 3.6e6), valkey), project_month(frame(day, 3.6e6 * day), valkey)
    assert steady.confidence == "high" and steady.halfwidth < 0.03
    assert jumpy.storage.backtest_sigma > 0.02
    assert jumpy.halfwidth > 1.5 * steady.halfwidth


def test_below_minimum_prices_each_hour_at_the_floor(valkey):
    # 30 MB, swinging +-50% through the day: every hour is billed 0.1 GB
    t = np.arange(720)
    storage = 30 / 1024 * (1 + 0.5 * np.sin(t / 24 * 2 * np.pi))
    p = project_month(frame(storage, 0.0), valkey)
    assert p.cost.storage == pytest.approx(0.1 * 0.0837 * 730, rel=1e-9)  # 6.1101
    assert p.low == pytest.approx(6.1101, rel=1e-9)  # even the low bound cannot go below the floor


def test_gaps_are_tolerated(valkey):
    storage = np.full(720, 2.0)
    storage[100:130] = np.nan
    p = project_month(frame(storage, 3.6e6), valkey)
    assert p.cost.storage == pytest.approx(122.202, rel=1e-6)


def test_recurring_spikes_keep_their_share(valkey):
    # 1e6 ECPUs an hour, and every Friday 18:00 an hour of 25e6 (a flash sale)
    ecpu = np.full(720, 1e6)
    fridays = (INDEX.day_of_week == 4) & (INDEX.hour == 18)
    ecpu[fridays] = 25e6
    p = project_month(frame(1.0, ecpu), valkey)
    # the next 730 h (2026-10-31 00:00 to 2026-11-30 10:00) hold 4 Fridays 18:00:
    # (726 x 1e6 + 4 x 25e6) x 0.00227 / 1e6 = 826e6 -> 1.87502
    future = pd.date_range("2026-10-31", periods=730, freq="h", tz="UTC")
    n_spikes = int(((future.day_of_week == 4) & (future.hour == 18)).sum())
    assert n_spikes == 4
    assert p.cost.ecpu == pytest.approx((726e6 + 4 * 25e6) * 0.00227 / 1e6, rel=0.02)


def weekly(level, weekend=0.6, index=INDEX):
    """A traffic-like series: weekdays at `level`, weekends at `weekend` x level."""
    return np.where(np.asarray(index.day_of_week) >= 5, weekend, 1.0) * level


def test_a_holiday_does_not_move_the_level(valkey):
    ecpu = weekly(3.6e6)
    holiday = (INDEX >= pd.Timestamp("2026-10-26T00:00:00Z")) & (INDEX < pd.Timestamp("2026-10-27T00:00:00Z"))
    ecpu[holiday] *= 0.3  # a Monday at 30%, four days before as_of
    structured = SizingSettings(level_strategies=("structured",))
    p, plain = project_month(frame(1.0, ecpu), valkey, structured), project_month(frame(1.0, weekly(3.6e6)), valkey, structured)
    assert p.ecpu.outlier_days == 1
    # the structured level is the one without the holiday (the naive run rate would lose 0.7 / 26.6 = 2.6%)
    assert p.cost.ecpu == pytest.approx(plain.cost.ecpu, rel=0.002)
    assert any("1 one-off day in ECPU" in n for n in p.notes)
    # By default the run rate (every day, the holiday included) stands beside it, each weighed by its
    # own backtest: the level is their weighted geometric mean, so the holiday moves it by at most
    # the run rate's share of the 2.6%
    p = project_month(frame(1.0, ecpu), valkey)
    w = p.ecpu.level_weights
    assert set(w) == {"structured", "run_rate"} and sum(w.values()) == pytest.approx(1.0)
    loss = 1 - p.cost.ecpu / plain.cost.ecpu
    assert 0 < loss < w["run_rate"] * 0.7 / 26.6 * 1.1


def test_weekends_are_neither_a_trend_nor_a_level_shift(valkey):
    # three days, Friday to Sunday: falling, but that is the week's shape, not a trend
    index = pd.date_range("2026-10-30", periods=72, freq="h", tz="UTC")
    p = project_month(frame(1.0, weekly(3.6e6, index=index), index=index), valkey)
    assert p.ecpu.slope == 0 and p.ecpu.shift_change is None
    # a month of it: no level shift at any weekend either
    p = project_month(frame(1.0, weekly(3.6e6)), valkey)
    assert p.ecpu.regime_start is None and p.ecpu.slope == 0


def test_a_random_walk_gets_no_trend_and_a_wide_interval(valkey):
    rng = np.random.default_rng(3)
    walk = np.exp(np.cumsum(rng.normal(0, 0.03, 30)))  # 3%/day
    p = project_month(frame(np.repeat(walk, 24), 3.6e6), valkey)
    assert p.storage.slope == 0
    assert p.storage.rel_sigma > 0.05


@pytest.mark.parametrize("storage, ecpu", [
    (np.where(np.arange(720) % 24 < 18, 0.0, 1.0), np.where(np.arange(720) % 24 < 18, 0.0, 1e5)),  # 75% zero hours
    (np.r_[np.full(300, 1.0), np.full(200, np.nan), np.full(220, 1.0)], np.full(720, 1e6)),  # 8 days missing
    (np.full(720, 3.0), np.full(720, 0.0)),  # constant storage, no traffic at all
    (np.r_[np.full(717, np.nan), 1.0, 1.1, 1.2], np.r_[np.full(717, np.nan), 1e6, 1e6, 2e6]),  # 3 hours old
])
def test_hostile_series_give_a_sane_answer(valkey, storage, ecpu):
    p = project_month(frame(storage, ecpu), valkey)
    assert np.isfinite([p.cost.total, p.low, p.high]).all()
    assert 0 < p.low <= p.cost.total <= p.high
    # never below valkey's floor: 0.1 GB x 0.0837 x 730 = 6.1101
    assert p.cost.storage >= 6.1101 - 1e-9


# ---- public holidays (sizing.holidays, sizing.timezone) ----------------------------------


def _hour(projection, stamp: str) -> float:
    return float(projection.ecpu_per_hour[projection.index.get_loc(pd.Timestamp(stamp))])


def test_holidays_are_neither_level_nor_weekday_and_run_like_sundays(valkey):
    # INDEX: Oct 1..30 2026, weekends at 0.6; Columbus Day (Mon Oct 12) at 0.5 of a weekday
    ecpu = weekly(3.6e6)
    on_columbus_day = np.asarray(INDEX.normalize() == pd.Timestamp("2026-10-12", tz="UTC"))
    ecpu[on_columbus_day] = 0.5 * 3.6e6
    p = project_month(frame(1.0, ecpu), valkey, SizingSettings(holidays="US"))
    assert p.ecpu.outlier_days == 0  # a holiday is not a one-off: it has a factor of its own
    # Mondays unmoved by it: five weekdays at 1 and two weekend days at 0.6 average 6.2 / 7, so a
    # weekday's factor is 7 / 6.2 and a Sunday's 0.6 x 7 / 6.2
    assert p.ecpu.weekday_factors[0] == pytest.approx(7 / 6.2, rel=0.01)
    assert p.ecpu.holiday_factor == pytest.approx(p.ecpu.weekday_factors[6]) and p.ecpu.holidays_seen == 0
    assert p.ecpu.holiday_factor == pytest.approx(0.6 * 7 / 6.2, rel=0.01)
    # Veterans Day (Wed Nov 11) against the Wednesday before, hour for hour: a Sunday over a weekday
    ratio = _hour(p, "2026-11-11T14:00Z") / _hour(p, "2026-11-04T14:00Z")
    assert ratio == pytest.approx(p.ecpu.holiday_factor / p.ecpu.weekday_factors[2], rel=1e-9)
    assert ratio == pytest.approx(0.6, rel=0.01)
    assert any("public holidays (US) ahead: Nov 11, Nov 26" in n and "like the history's Sundays" in n for n in p.notes)

    # without a calendar the same day is a one-off, and Nov 11 runs like any Wednesday
    plain = project_month(frame(1.0, ecpu), valkey)
    assert plain.ecpu.outlier_days == 1
    assert _hour(plain, "2026-11-11T14:00Z") == pytest.approx(_hour(plain, "2026-11-04T14:00Z"), rel=1e-9)
    assert not any("public holiday" in n for n in plain.notes)
    assert p.cost.ecpu < plain.cost.ecpu


def test_below_two_weeks_a_holiday_runs_as_the_historys_holiday_ran(valkey):
    # ten days, Mon Oct 5 to Wed Oct 14 2026, weekends at 0.6, Columbus Day (Oct 12) at 0.5: the other
    # nine days average (7 x 1 + 2 x 0.6) / 9 = 0.91111, so a holiday runs at 0.5 / 0.91111 = 0.54878
    index = pd.date_range("2026-10-05", periods=240, freq="h", tz="UTC", name="timestamp")
    ecpu = weekly(3.6e6, index=index)
    ecpu[np.asarray(index.normalize() == pd.Timestamp("2026-10-12", tz="UTC"))] = 0.5 * 3.6e6
    p = project_month(frame(1.0, ecpu, index=index), valkey, SizingSettings(holidays="US"))
    assert p.ecpu.holidays_seen == 1
    assert p.ecpu.holiday_factor == pytest.approx(0.5 / (8.2 / 9), rel=1e-9)
    # no weekday factors below two weeks: Nov 11 is the holiday factor times a Wednesday (Nov 4)
    assert _hour(p, "2026-11-11T14:00Z") / _hour(p, "2026-11-04T14:00Z") == pytest.approx(0.5 / (8.2 / 9), rel=1e-9)
    assert any("as the history's 1 holiday ran" in n for n in p.notes)


def test_with_no_holiday_seen_a_holiday_runs_like_a_sunday_in_the_users_timezone(valkey):
    # August 2026 has no US holiday; Labor Day (Mon Sep 7) is in the month ahead
    index = pd.date_range("2026-08-01", periods=720, freq="h", tz="UTC", name="timestamp")
    history = frame(1.0, weekly(3.6e6, index=index), index=index)
    p = project_month(history, valkey, SizingSettings(holidays="US", timezone="America/Chicago"))
    assert p.ecpu.holidays_seen == 0
    assert p.ecpu.holiday_factor == pytest.approx(p.ecpu.weekday_factors[6])  # like a Sunday: 0.6 of a Monday
    # Chicago is UTC-5 in September: Labor Day runs from 05:00 UTC on Sep 7 to 04:00 UTC on Sep 8
    assert _hour(p, "2026-09-07T04:00Z") / _hour(p, "2026-09-14T04:00Z") == pytest.approx(1.0, rel=1e-9)
    assert _hour(p, "2026-09-07T05:00Z") / _hour(p, "2026-09-14T05:00Z") == pytest.approx(0.6, rel=0.01)
    assert _hour(p, "2026-09-08T04:00Z") / _hour(p, "2026-09-15T04:00Z") == pytest.approx(0.6, rel=0.01)
    assert _hour(p, "2026-09-08T05:00Z") / _hour(p, "2026-09-15T05:00Z") == pytest.approx(1.0, rel=1e-9)
    assert any("like the history's Sundays" in n for n in p.notes)
