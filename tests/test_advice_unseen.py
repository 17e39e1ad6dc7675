"""Advice that holds on traffic it was not tuned on (issue 20): limits never below a peak the history
reached, each replayed over the history; a level that falls back to the run rate where the
structured model does not pay for itself; a holiday calendar suggested, never applied.
Prices: the tests' fixture (valkey us-east-1)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from costwise.config import dataclass_from_mapping
from costwise.errors import InputError
from costwise.model.forecast import project_month
from costwise.model.settings import SizingSettings
from costwise.model.sizing import recommend_limits
from costwise.usage import CurrentLimits
from tests.helpers import GIB, costwise, frame


def advise(f, limits, valkey, **settings):
    s = SizingSettings(**settings)
    p = project_month(f, valkey, s)
    return p, recommend_limits(f, p, limits, valkey, s)


def test_a_one_off_burst_sizes_the_limit_and_the_replay_names_its_price(valkey):
    f = frame(10.0, 3.6e6)  # 10 GB, 1,000 ECPU/s, steady for 30 days
    f.iloc[100, f.columns.get_loc("storage_max_bytes")] = 26.4 * GIB  # one hour at 26.4 GB, 26 days ago
    p, a = advise(f, CurrentLimits(max_storage_gb=20, max_ecpu_per_second=5_000, source="aws"), valkey)
    # The burst is a one-off for the typical days' model (12 GB: 10 GB x 1.2, the spread's floor
    # adds little), but the cache reached 26.4 GB: 26.4 x 1.2 = 31.68 -> 32 GB.
    # The burst model (log daily peaks, GB: 29 days at ln 10, one at ln 26.4, d = ln 2.64 = 0.970779
    # above): sd = d / sqrt(30) = 0.177238, beta = sd x sqrt(6)/pi = 0.138192, mu = ln 10 + d/30 -
    # 0.5772 beta = ln 10 - 0.047406; at 5% over 30.4167 days: + beta x 6.385185 = ln 10 + 0.834991
    # -> 23.05 GB, below 31.68.
    assert a.storage.recommended == 32
    assert a.storage.action == "raise"
    assert a.replay["storage"]["recommended"] == {"limit": 32.0, "hours": 0, "days": 0}
    # the current 20 GB was reached in that one hour; the typical days' 12 GB would have evicted in it too
    assert a.replay["storage"]["current"] == {"limit": 20.0, "hours": 1, "days": 1}
    assert a.replay["storage"]["typical"]["hours"] == 1
    assert any("the recommended 32 GB would have evicted in no hour" in r and
               "the current 20 GB limit was reached in 1 hour on 1 day" in r for r in a.reasons)
    # never below a peak the history reached, whatever the settings say about risk
    _, loose = advise(f, CurrentLimits(), valkey, breach_risk=0.5, headroom=0.0)
    assert loose.storage.recommended >= 26.4


def test_a_level_that_does_not_pay_for_itself_falls_back_towards_the_run_rate(valkey):
    # a two-week cycle (7 days at 1.3, 7 at 0.7): the recency-weighted level chases the newest
    # half-cycle, the run rate does not; the own backtest measures both and weighs them
    days = np.arange(30)
    daily = 1 + 0.3 * np.sign(np.sin(2 * np.pi * (days + 0.5) / 14))
    f = frame(1.0, np.repeat(daily, 24) * 3.6e6)
    combined = project_month(f, valkey)
    structured = project_month(f, valkey, SizingSettings(level_strategies=("structured",)))
    run_rate = project_month(f, valkey, SizingSettings(level_strategies=("run_rate",)))
    w = combined.ecpu.level_weights
    assert w["run_rate"] > w["structured"] > 0 and sum(w.values()) == pytest.approx(1.0)
    # the level is the weighted geometric mean of the strategies' levels
    expected = np.exp(w["structured"] * np.log(structured.ecpu.level0) + w["run_rate"] * np.log(run_rate.ecpu.level0))
    assert combined.ecpu.level0 == pytest.approx(expected, rel=1e-9)
    assert structured.ecpu.level_weights == {"structured": 1.0}


def test_a_trend_keeps_the_structured_level(valkey):
    # 2%/day growth: the flat run rate misses every week ahead, the structured level (with its trend) does not
    t = np.arange(720) / 24
    p = project_month(frame(1.02**t, 3.6e6), valkey)
    assert p.storage.level_weights["structured"] > 0.95


def _month(start: str):
    return pd.date_range(start, periods=720, freq="h", tz="UTC")


def test_a_calendar_is_suggested_when_the_one_off_days_are_one_countrys_holidays(valkey):
    index = _month("2026-10-31")
    ecpu = np.full(720, 3.6e6)
    day = np.asarray(index.strftime("%Y-%m-%d"))
    # Veterans Day (US; also France's Armistice) and Thanksgiving (US only) at 30%: US explains both,
    # France one, so US is suggested and nothing is applied
    ecpu[(day == "2026-11-11") | (day == "2026-11-26")] *= 0.3
    p = project_month(frame(1.0, ecpu, index=index), valkey)
    assert any(n.startswith("2 of 2 one-off days are US public holidays: set sizing.holidays: US") for n in p.notes)
    # not applied: no holiday is projected in the month ahead (Christmas would be, with the calendar)
    assert not any("ahead:" in n for n in p.notes)
    with_calendar = project_month(frame(1.0, ecpu, index=index), valkey, SizingSettings(holidays="US"))
    assert any("(US) ahead: Dec 25" in n for n in with_calendar.notes)
    # with the calendar set there is nothing to suggest
    p = project_month(frame(1.0, ecpu, index=index), valkey, SizingSettings(holidays="US"))
    assert not any("public holidays: set" in n for n in p.notes)
    # one one-off day proves nothing: no suggestion
    ecpu = np.full(720, 3.6e6)
    ecpu[day == "2026-11-26"] *= 0.3
    p = project_month(frame(1.0, ecpu, index=index), valkey)
    assert not any("public holidays: set" in n for n in p.notes)


def test_an_outage_on_holidays_of_many_countries_suggests_none(valkey):
    # Christmas and New Year's Day are public holidays nearly everywhere: no one calendar is suggested
    index = _month("2026-12-10")
    ecpu = np.full(720, 3.6e6)
    day = np.asarray(index.strftime("%Y-%m-%d"))
    ecpu[(day == "2026-12-25") | (day == "2027-01-01")] *= 0.3
    p = project_month(frame(1.0, ecpu, index=index), valkey)
    assert p.ecpu.outlier_days == 2
    assert not any("public holidays: set" in n for n in p.notes)


@pytest.mark.parametrize("value", [["structured", "bogus"], [], ["run_rate", "run_rate"], "structured", [1]])
def test_level_strategies_are_validated(value):
    with pytest.raises(InputError, match=r"costwise.yaml: sizing.level_strategies: (must be|expected) a list"):
        dataclass_from_mapping(SizingSettings, {"level_strategies": value}, "costwise.yaml: sizing")


def test_level_strategies_from_costwise_yaml():
    s = dataclass_from_mapping(SizingSettings, {"level_strategies": ["run_rate", "last_week"]}, "costwise.yaml: sizing")
    assert s.level_strategies == ("run_rate", "last_week")


def test_json_carries_the_replay_and_the_level_weights():
    r = costwise("estimate", "--demo", "--format", "json")
    assert r.code == 0, r.err
    for env in json.loads(r.out)["environments"]:
        replay = env["limits"]["replay"]
        recommended = env["limits"]["recommended"]
        assert replay["storage"]["recommended"]["limit"] == recommended["max_storage_gb"]
        assert replay["ecpu"]["recommended"]["limit"] == recommended["max_ecpu_per_second"]
        for dim in ("storage", "ecpu"):
            assert sum(env["forecast"]["level_weights"][dim].values()) == pytest.approx(1.0)


def test_an_outage_in_the_window_is_not_history(valkey):
    # 30 days in the window, but the cache's metrics were out from day 3 to day 27: five days of data,
    # three at the start and two at the end; the fit rests on 5 days, not 30
    hours = np.arange(720)
    ecpu = 3.6e6 * (1 + 0.2 * np.sin(2 * np.pi * hours / 24))  # swings +-20% within a day
    gap = ecpu.copy()
    gap[3 * 24 : 28 * 24] = np.nan
    full, outage = project_month(frame(1.0, ecpu), valkey), project_month(frame(1.0, gap), valkey)
    assert full.ecpu.days_used == pytest.approx(30.0)
    assert outage.ecpu.days_used == pytest.approx(5.0)
    # five days of data are not two weeks: an hour-of-day profile, every hour of it seen (an
    # hour-of-week one would leave most hours at 1: the daily swing lost)
    assert not outage.ecpu.weekly
    assert outage.ecpu.profile[6] == pytest.approx(1.2, rel=1e-3)  # 06:00, the sine's top: 1 + 0.2
    # the backtest of a perfectly steady level measures nothing, and what five days cannot show is
    # added: the prior 2% x (28 / 5)^0.75 = 7.287% (the daily swing, 0.2 / sqrt 2 = 14% > 10%, keeps
    # it whole) less the 2% the backtest stands for: sqrt(0.07287^2 - 0.02^2) = 7.007%; thirty days: ~0
    assert outage.ecpu.rel_sigma == pytest.approx(np.sqrt((0.02 * (28 / 5) ** 0.75) ** 2 - 0.02**2), rel=1e-6)
    assert full.ecpu.rel_sigma < 1e-6


def test_a_cache_younger_than_a_week_gets_room_for_the_days_it_has_not_seen(valkey):
    # Steady 10 GB and 1,000 ECPU/s. Three days of history carry x (1 + 0.75 x 4/7) = 1.4286 on their
    # limits; a week carries none. Only the factor differs, so the limits' ratio is it (before AWS's
    # rounding): needed(3 days) / needed(3 days, allowance 0) = 1.4286 in both dimensions.
    three_days = frame(10.0, 3.6e6)
    three_days.iloc[: 720 - 72] = np.nan
    _, with_room = advise(three_days, CurrentLimits(), valkey)
    _, without = advise(three_days, CurrentLimits(), valkey, unseen_week_allowance=0.0)
    assert with_room.storage.needed / without.storage.needed == pytest.approx(1 + 0.75 * 4 / 7)
    assert with_room.ecpu.needed / without.ecpu.needed == pytest.approx(1 + 0.75 * 4 / 7)
    assert any("the limits carry storage x1.43 and ECPU x1.43 (sizing.unseen_week_allowance)" in r for r in with_room.reasons)
    assert not any("unseen_week_allowance" in r for r in without.reasons)
    # a week of days: nothing unseen, the same limits whatever the allowance
    week = frame(10.0, 3.6e6)
    week.iloc[: 720 - 7 * 24] = np.nan
    _, a = advise(week, CurrentLimits(), valkey)
    _, b = advise(week, CurrentLimits(), valkey, unseen_week_allowance=3.0)
    assert (a.storage.needed, a.ecpu.needed) == (b.storage.needed, b.ecpu.needed)
    assert not any("unseen_week_allowance" in r for r in a.reasons)
    with pytest.raises(InputError, match="unseen_week_allowance"):
        dataclass_from_mapping(SizingSettings, {"unseen_week_allowance": -1}, "sizing")


def test_a_recent_level_shift_gets_the_unseen_week_on_its_model_not_on_the_windows_own_peak(valkey):
    # 27 days at 30 GB, then 3 days at 10 GB: the regime (3 days) has not seen a week, the window
    # (30 days) has. The window's own peak carries only the headroom: 30 x 1.2 = 36 GB, not
    # 36 x 1.4286 = 51.4. The regime's typical days, x1.4286, need less (10 GB, its uncertainty
    # and headroom: 25.35 / 1.5714 x 1.4286 = 23.05 GB), so 36 GB it is; the note names the factor.
    storage = np.r_[np.full(720 - 72, 30.0), np.full(72, 10.0)]
    p, a = advise(frame(storage, 3.6e6), CurrentLimits(), valkey)
    assert p.storage.days_used == 3.0
    assert a.storage.recommended == 36
    assert any("the limits carry storage x1.43" in r for r in a.reasons)
