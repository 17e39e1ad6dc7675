"""Forecast on hand-checkable series. Rates: valkey us-east-1, $0.0837/GB-h, $0.00227/M ECPU, min 0.1 GB."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costwise.model.forecast import project_month

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


def test_short_history_is_low_confidence_and_wide(valkey):
    # a cache created 60 hours ago
    storage = np.r_[np.full(660, np.nan), np.full(60, 1.0)]
    ecpu = np.r_[np.full(660, np.nan), np.full(60, 1e6)]
    p = project_month(frame(storage, ecpu), valkey)
    # 1 x 0.0837 x 730 = 61.101; 1e6 x 730 / 1e6 x 0.00227 = 1.6571
    assert p.cost.total == pytest.approx(61.101 + 1.6571, rel=0.01)
    assert p.confidence == "low"
    assert p.high / p.low > 1.5
    assert any("confidence is low" in n for n in p.notes)


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
