"""Limit advice on hand-checkable histories. Defaults: headroom 20%, burst 25%, margin 1 + 1/days."""

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


def test_recommended_limits_from_peaks(valkey):
    a = advise(steady(), CurrentLimits(), valkey)
    # storage: ceil(2.5 GB x growth 1 x 1.2 x (1 + 1/30)) = ceil(3.1) = 4 GB
    assert a.storage.recommended == 4
    # ECPU/s: 1,000 x 1.2 x 1.25 x (1 + 1/30) = 1,550 -> 1,600
    assert a.ecpu.recommended == 1600
    assert a.action == "set"
    assert any("no storage limit: the bill is unbounded" in r for r in a.reasons)
    # what the recommended limits would cap the bill at: 4 x 0.0837 x 730 = 244.404;
    # 1,600 x 3,600 x 730 / 1e6 x 0.00227 = 9.544896
    assert a.ceiling_recommended.total == pytest.approx(244.404 + 9.544896)
    assert a.ceiling_current.total is None


def test_lower_a_limit_far_above_need(valkey):
    a = advise(steady(), CurrentLimits(max_storage_gb=5, max_ecpu_per_second=10_000, source="aws"), valkey)
    # storage 5 GB is not 2.5x the 4 needed: keep 5. ECPU 10,000 > 2.5 x 1,600: lower to 1,600
    assert (a.storage.action, a.storage.recommended) == ("keep", 5)
    assert (a.ecpu.action, a.ecpu.recommended) == ("lower", 1600)
    assert a.action == "lower"
    # worst case now: 5 x 0.0837 x 730 + 10,000 x 3,600 x 730 / 1e6 x 0.00227 = 305.505 + 59.6556
    assert a.ceiling_current.total == pytest.approx(365.1606)
    assert a.ceiling_recommended.total == pytest.approx(305.505 + 9.544896)
    assert any("$365.16 a month at the current limits, $315.05 at the recommended" in r for r in a.reasons)


def test_throttling_means_raise(valkey):
    a = advise(steady(throttled=10.0), CurrentLimits(max_storage_gb=5, max_ecpu_per_second=1_200, source="aws"), valkey)
    assert a.ecpu.action == "raise" and a.action == "raise"
    # 10 throttled commands in each of 720 hours
    assert any("ThrottledCmds: 7,200 commands throttled in 720 hours" in r for r in a.reasons)
    # all 720 hours had a busiest minute (1,000/s) above 75% of 1,200 (900/s)
    assert any("720 hours above 75% of the 1,200 ECPU/s limit" in r for r in a.reasons)
    assert a.ecpu.recommended == 1600


def test_storage_near_its_limit_means_raise(valkey):
    a = advise(steady(), CurrentLimits(max_storage_gb=3, max_ecpu_per_second=2_000, source="aws"), valkey)
    # peak 2.5 GB is 83% of 3 GB; 3.1 GB needed > 3: raise to 4
    assert (a.storage.action, a.storage.recommended) == ("raise", 4)
    assert a.ecpu.action == "keep"


def test_growth_raises_the_recommendation(valkey):
    t = np.arange(720) / 24
    f = frame(1.02**t, 0.0)
    a = advise(f, CurrentLimits(), valkey)
    # peak at the end: 1.02^(719/24) = 1.809 GB; growth over 730 h: 1.02^30.42 = 1.827;
    # ceil(1.809 x 1.827 x 1.2 x 1.0333) = ceil(4.10) = 5
    assert a.storage.recommended == 5


def test_settings_change_the_advice(valkey):
    a = advise(steady(), CurrentLimits(), valkey, headroom=0.0, ecpu_burst_allowance=0.0, short_history_margin=0.0)
    # no headroom at all: ceil(2.5) = 3 GB, and 1,000 ECPU/s is AWS's floor
    assert (a.storage.recommended, a.ecpu.recommended) == (3, 1000)


def test_ecpu_minimum_advice_for_spikes(valkey):
    f = frame(1.0, 360_000.0)  # 100 ECPU/s on average
    spikes = [100, 300, 500]
    f.iloc[spikes, f.columns.get_loc("ecpu_max_minute")] = 300_000.0  # a minute at 5,000 ECPU/s
    a = advise(f, CurrentLimits(), valkey)
    m = a.ecpu_minimum
    assert m is not None and m["spike_hours"] == 3
    # half the typical spike: 5,000 / 2 = 2,500 ECPU/s
    assert m["suggested_min_ecpu_per_second"] == 2500
    # billed at least 2,500/s when the projection is 100/s: (2,500 - 100) x 3,600 x 730 / 1e6 x 0.00227 = 14.3
    assert m["extra_cost_per_month"] == pytest.approx(2400 * 3600 * 730 / 1e6 * 0.00227, rel=0.01)


def test_short_history_margin_is_capped(valkey):
    f = steady()
    f.iloc[:708] = np.nan  # twelve hours of history: 1 + 1/0.5 = 3, capped at 2
    a = advise(f, CurrentLimits(), valkey)
    # ceil(2.5 GB x 1.2 x 2) = 6 GB; 1,000 ECPU/s x 1.2 x 1.25 x 2 = 3,000
    assert (a.storage.recommended, a.ecpu.recommended) == (6, 3000)
    assert any("short-history margin" in r for r in a.reasons)
