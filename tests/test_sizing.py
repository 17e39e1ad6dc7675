"""Limit advice on hand-checkable histories. Defaults: breach risk 5%, headroom 20%, burst 25%,
peak spread at least 5%. Prices: the tests' fixture (valkey us-east-1)."""

from __future__ import annotations

import numpy as np
import pytest

from costwise.model.forecast import project_month
from costwise.model.settings import SizingSettings
from costwise.limits import nice_ceil
from costwise.model.sizing import recommend_limits
from costwise.usage import CurrentLimits
from tests.helpers import GIB, frame


def steady(throttled=0.0):
    f = frame(2.0, 3.6e6)
    f["storage_max_bytes"] = 2.5 * GIB  # hourly peaks at 2.5 GB
    f["ecpu_max_minute"] = 60_000.0  # busiest minute: 60,000 ECPUs = 1,000 ECPU/s
    f["throttled_sum"] = throttled
    return f


def advise(f, limits, valkey, **settings):
    s = SizingSettings(**settings)
    p = project_month(f, valkey, s)
    return recommend_limits(f, p, limits, valkey, s)


def test_nice_ceil():
    assert nice_ceil(1550) == 1600
    assert nice_ceil(12_345) == 13_000
    assert nice_ceil(999) == 1000
    assert nice_ceil(87) == 87


# The peak model on steady(): every day's peak ratio is the same (storage 2.5 / 2 = 1.25; ECPU
# busiest 1,000 / mean 1,000 = 1.0), so the Gumbel's scale is the floor min_peak_spread x median:
#   scale = 0.05 x r, location = r - 0.3665 x scale,
#   the 95% quantile of the max over 730 / 24 = 30.417 days = location + scale x (ln 30.417 - ln(-ln 0.95))
#                                                         = location + scale x (3.4151 + 2.9702) = location + 6.3853 x scale
#   storage: 1.25 - 0.0229 + 0.3991 = 1.6262 -> x 2 GB = 3.2524 GB; x 1.2 headroom = 3.903 -> 4 GB
#   ECPU:    1.00 - 0.0183 + 0.3193 = 1.3009 -> x 1,000 = 1,300.9 ECPU/s; x 1.2 x 1.25 = 1,951 -> 2,000
# (a perfectly steady history: the projection's sigma is 0, so the level is not widened)


def test_recommended_limits_from_peaks(valkey):
    a = advise(steady(), CurrentLimits(), valkey)
    assert a.storage.recommended == 4
    assert a.ecpu.recommended == 2000
    assert a.storage.projected_peak == pytest.approx(3.2524, rel=1e-3)
    assert a.ecpu.projected_peak == pytest.approx(1300.9, rel=1e-3)
    assert a.action == "set"
    assert any("no storage limit: the bill is unbounded" in r for r in a.reasons)
    # each recommendation states its risk: 5% at the quantile, far less at the limit
    assert any("about a 5% chance that next month's busiest minute exceeds 1,301 ECPU/s" in r for r in a.reasons)
    assert a.ecpu.breach_risk < 0.001 and a.storage.breach_risk < 0.001
    # what the recommended limits would cap the bill at: 4 x 0.0837 x 730 = 244.404;
    # 2,000 x 3,600 x 730 / 1e6 x 0.00227 = 11.9312
    assert a.ceiling_recommended.total == pytest.approx(244.404 + 11.9312)
    assert a.ceiling_current.total is None


def test_lower_a_limit_far_above_need(valkey):
    a = advise(steady(), CurrentLimits(max_storage_gb=5, max_ecpu_per_second=10_000, source="aws"), valkey)
    # storage 5 GB is not 2.5x the 4 needed: keep 5. ECPU 10,000 > 2.5 x 2,000: lower to 2,000
    assert (a.storage.action, a.storage.recommended) == ("keep", 5)
    assert (a.ecpu.action, a.ecpu.recommended) == ("lower", 2000)
    assert a.action == "lower"
    # worst case now: 5 x 0.0837 x 730 + 10,000 x 3,600 x 730 / 1e6 x 0.00227 = 305.505 + 59.6556
    assert a.ceiling_current.total == pytest.approx(365.1606)
    assert a.ceiling_recommended.total == pytest.approx(305.505 + 11.9312)
    assert any("$365.16 a month at the current limits, $317.44 at the recommended" in r for r in a.reasons)


def test_throttling_means_raise(valkey):
    a = advise(steady(throttled=10.0), CurrentLimits(max_storage_gb=5, max_ecpu_per_second=1_200, source="aws"), valkey)
    assert a.ecpu.action == "raise" and a.action == "raise"
    # 10 throttled commands in each of 720 hours
    assert any("ThrottledCmds: 7,200 commands throttled in 720 hours" in r for r in a.reasons)
    # all 720 hours had a busiest minute (1,000/s) above 75% of 1,200 (900/s)
    assert any("720 hours above 75% of the 1,200 ECPU/s limit" in r for r in a.reasons)
    assert a.ecpu.recommended == 2000


def test_storage_near_its_limit_means_raise(valkey):
    a = advise(steady(), CurrentLimits(max_storage_gb=3, max_ecpu_per_second=2_000, source="aws"), valkey)
    # next month's peak at 5% risk, 3.25 GB, is above 3 GB: raise to 4
    assert (a.storage.action, a.storage.recommended) == ("raise", 4)
    assert a.ecpu.action == "keep"


def test_growth_raises_the_recommendation(valkey):
    t = np.arange(720) / 24
    f = frame(1.02**t, 0.0)
    # the structured level alone (a flat run rate beside it would weigh about 1% here and move the level)
    a = advise(f, CurrentLimits(), valkey, level_strategies=("structured",))
    # the level now: 1.02^30 = 1.8114 GB; growth over 730 h: 1.02^30.417 = 1.8255 -> 3.3067 GB.
    # Each day's peak over its mean: 1.02^(23/24) / 1.02^(11.5/24) = 1.02^(11.5/24) = 1.00953, every day:
    # scale 0.050477, location 0.99103, quantile 0.99103 + 6.3853 x 0.050477 = 1.31334 -> 4.3428 GB;
    # x 1.2 = 5.21 -> 6 GB (without growth it would be ceil(1.8114 x 1.31334 x 1.2) = 3).
    # The level is widened by exp(1.6449 sigma): the own backtest measures about 0.36% here (weekday
    # factors estimated at the window's edges are not exactly 1 on an exponential), x backtest_scale 1.6
    p = project_month(f, valkey, SizingSettings(level_strategies=("structured",)))
    assert p.storage.rel_sigma < 0.0065
    assert a.storage.recommended == 6
    # ...at its breach-risk quantile: x exp(1.6449 sigma), 1.6449 the standard normal's 95th percentile
    assert a.storage.projected_peak == pytest.approx(4.3428 * np.exp(1.6449 * p.storage.rel_sigma), rel=1e-3)


def test_settings_change_the_advice(valkey):
    a = advise(steady(), CurrentLimits(), valkey, headroom=0.0, ecpu_burst_allowance=0.0, min_peak_spread=0.0)
    # no headroom and no assumed spread: the peaks themselves, ceil(2.5) = 3 GB, and 1,000 ECPU/s (AWS's floor)
    assert (a.storage.recommended, a.ecpu.recommended) == (3, 1000)


def test_a_burst_the_history_reached_always_sizes_the_limit(valkey):
    f = steady()
    f.iloc[30, f.columns.get_loc("ecpu_max_minute")] = 600_000.0  # one minute at 10,000 ECPU/s, four weeks ago
    a = advise(f, CurrentLimits(), valkey)
    # The typical days' model ignores one day in 30 (2,000 ECPU/s, as without the burst), but a cap
    # below a peak the cache already reached would have throttled it: 10,000 x 1.2 x 1.25 = 15,000.
    # The burst model (a Gumbel by moments on log daily peaks, in units of 1,000 ECPU/s: 29 days at
    # 0, one at ln 10 = 2.302585): mean 0.076753, sd 0.420395, beta = sd x sqrt(6)/pi = 0.327781,
    # mu = mean - 0.5772 beta = -0.112442; over 730/24 = 30.4167 days at 5%:
    # mu + beta (ln 30.4167 - ln(-ln 0.95)) = -0.112442 + 0.327781 x 6.385185 = 1.980499 -> 7,246 < 15,000
    assert a.ecpu.recommended == 15000
    assert a.ecpu.projected_peak == pytest.approx(10_000)
    # replayed: the recommendation throttles nothing; the typical days' 2,000 would have throttled that hour
    assert a.replay["ecpu"]["recommended"] == {"limit": 15000.0, "hours": 0, "days": 0}
    assert a.replay["ecpu"]["typical"] == {"limit": 2000.0, "hours": 1, "days": 1}
    assert any("the recommended 15,000 ECPU/s would have throttled in no hour; a tighter 2,000 ECPU/s, sized on "
               "typical days with the bursts left out, would have throttled in 1 hour on 1 day (at least 1 minute)" in r for r in a.reasons)

    f.iloc[[30, 200, 400, 600], f.columns.get_loc("ecpu_max_minute")] = 600_000.0  # on four days
    a = advise(f, CurrentLimits(), valkey)
    # four days in 30 at 10x: mean = 4 x 2.302585 / 30 = 0.307011, sd = sqrt((4 x 1.995574^2 +
    # 26 x 0.307011^2) / 29) = 0.796114, beta = 0.620726, mu = 0.307011 - 0.5772 x 0.620726 = -0.051272;
    # mu + beta x 6.385185 = 3.912163 -> e^3.912163 = 50.01 -> 50,006 ECPU/s, rounded up to 51,000;
    # a history whose days swing this widely gets room to match (no allowance on top: the model sees the bursts)
    assert a.ecpu.projected_peak == pytest.approx(50_006, rel=1e-3)
    assert a.ecpu.recommended == 51000


def test_filling_cache_is_sized_on_its_plateau(valkey):
    # five days old; storage filled from empty to 2 GB over the first two days, then held
    hours = np.arange(120)
    storage = np.r_[np.full(600, np.nan), 2.0 * np.clip((hours + 1) / 48, 0.02, 1.0)]
    ecpu = np.r_[np.full(600, np.nan), np.full(120, 3.6e6)]
    f = frame(storage, ecpu)
    p = project_month(f, valkey)
    assert p.storage.plateau and p.storage.slope == 0
    assert p.storage.level0 == pytest.approx(2.0)
    # the projection is the plateau: 2 x 0.0837 x 730 = 122.202 (growth from 0 to 2 GB in 2 days would be absurd)
    assert p.cost.storage == pytest.approx(122.202, rel=1e-6)
    # peaks are read from the plateau's days only (the ramp's hours over their day's mean do not count);
    # the unseen week's allowance off, so that only the peaks decide
    a = recommend_limits(f, p, CurrentLimits(), valkey, SizingSettings(unseen_week_allowance=0.0))
    assert a.storage.recommended <= 5


def test_ecpu_minimum_only_an_option_without_throttling(valkey):
    f = frame(1.0, 360_000.0)  # 100 ECPU/s on average
    spikes = [100, 300, 500]
    f.iloc[spikes, f.columns.get_loc("ecpu_max_minute")] = 300_000.0  # a minute at 5,000 ECPU/s
    a = advise(f, CurrentLimits(), valkey)
    m = a.ecpu_minimum
    assert m is not None and m["spike_hours"] == 3 and m["kind"] == "optional"
    # half the typical spike: 5,000 / 2 = 2,500 ECPU/s
    assert m["suggested_min_ecpu_per_second"] == 2500
    # billed at least 2,500/s when the projection is 100/s: (2,500 - 100) x 3,600 x 730 / 1e6 x 0.00227 = 14.3,
    # 23% of the 61.70 bill (1 GB x 0.0837 x 730 = 61.101 + 0.597 of ECPUs): under a quarter, so it may be offered
    assert m["extra_cost_per_month"] == pytest.approx(2400 * 3600 * 730 / 1e6 * 0.00227, rel=0.01)
    assert m["share_of_bill"] < 0.25
    assert "nothing was throttled: no minimum is needed" in m["why"]
    # the schedule: an hour either side of the three spike hours of the week: 9 hours a week,
    # 39 of the next 730 hours -> 39 x 2,400 x 3,600 / 1e6 x 0.00227 = 0.765
    assert m["scheduled"]["hours_per_month"] == 39
    assert m["scheduled"]["extra_cost_per_month"] == pytest.approx(39 * 2400 * 3600 / 1e6 * 0.00227, rel=0.01)
    # a cache whose bill is $6.17 (0.1 GB x 0.0837 x 730 = 6.1101 + 10 ECPU/s = 0.0597): a minimum all
    # month, (2,500 - 10) x 3,600 x 730 / 1e6 x 0.00227 = 14.86, is 241% of it: not offered. The
    # schedule, 39 x 2,490 x 3,600 / 1e6 x 0.00227 = 0.794 (13%), is offered alone
    f2 = frame(0.1, 36_000.0)
    f2.iloc[spikes, f2.columns.get_loc("ecpu_max_minute")] = 300_000.0
    m2 = advise(f2, CurrentLimits(), valkey).ecpu_minimum
    assert m2["extra_cost_per_month"] == pytest.approx(39 * 2490 * 3600 / 1e6 * 0.00227, rel=0.01)
    assert m2["share_of_bill"] == pytest.approx(0.794 / 6.17, rel=0.01)
    assert "scheduled for" in m2["why"] and "14.86" not in m2["why"]
    # and when even the schedule costs a quarter of the bill, nothing is offered: three bursts a week
    # around the clock would be 9 x 4.35 weeks; make every hour a burst hour instead
    f3 = frame(0.1, 36_000.0)
    f3.iloc[::7, f3.columns.get_loc("ecpu_max_minute")] = 300_000.0
    assert advise(f3, CurrentLimits(), valkey).ecpu_minimum is None


def test_ecpu_minimum_recommended_when_spikes_were_throttled(valkey):
    f = frame(1.0, 360_000.0)
    spikes = [100, 268, 436]  # Mondays 04:00, a week apart
    f.iloc[spikes, f.columns.get_loc("ecpu_max_minute")] = 300_000.0
    f.iloc[spikes, f.columns.get_loc("throttled_sum")] = 5_000.0
    m = advise(f, CurrentLimits(), valkey).ecpu_minimum
    assert m["kind"] == "recommended" and m["throttled_spike_hours"] == 3
    assert m["scheduled"]["window"] == "Mondays 03:00-06:00 UTC"
    # 3 hours a week; the next 730 hours (Saturday 2026-10-31 00:00 to Monday 2026-11-30 10:00) hold
    # five Mondays (Nov 2, 9, 16, 23, 30): 15 hours
    assert m["scheduled"]["hours_per_month"] == 15


def test_short_history_is_sized_with_its_uncertainty(valkey):
    f = steady()
    f.iloc[:708] = np.nan  # twelve hours of history
    a = advise(f, CurrentLimits(), valkey)
    # half a day: sigma = 0.02 x (28 / 0.5)^0.75 = 0.02 x 20.47 = 0.4095; the level is taken at its
    # breach-risk quantile, exp(1.6449 x 0.4095) = 1.9614. Storage 2 GB x 1.9614 x 1.6262 = 6.379 GB,
    # x 1.2 = 7.66; ECPU 1,000 x 1.9614 x 1.3009 = 2,551.6, x 1.2 x 1.25 = 3,827. Half a day has not
    # seen 6.5 of the week's 7 days: x (1 + 0.75 x 6.5/7) = 1.6964, so 12.99 -> 13 GB and 6,493 -> 6,500 ECPU/s
    assert (a.storage.recommended, a.ecpu.recommended) == (13, 6500)
    assert any("the limits carry storage x1.70 and ECPU x1.70 (sizing.unseen_week_allowance)" in r for r in a.reasons)
    assert any("only 0.5 days of history" in r for r in a.reasons)
