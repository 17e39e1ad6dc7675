"""Every tunable number of the forecast and the advisor, with its default and why.

Set any of them under `sizing:` in costwise.yaml; unknown keys are errors. The defaults were tuned
on both backtests (bench/bench_realtraces.py on real traffic, bench/bench_backtest.py synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class SizingSettings:
    # what costwise.yaml may set each to (inclusive): a horizon of 0 hours or a 200% interval is a typo
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "horizon_hours": (1, 8760), "interval": (0.5, 0.99), "min_interval_halfwidth": (0, 1),
        "level_shift_min_change": (0.01, 10), "level_shift_min_days": (1, 60), "weekly_min_days": (7, 400),
        "level_halflife_days": (1, 10_000), "anomaly_sigma": (1, 100), "anomaly_min_spread": (0, 1),
        "anomaly_min_days": (3, 1000), "trend_min_t": (0.5, 100), "min_daily_growth": (0, 1),
        "trend_min_days": (3, 400), "short_trend_min_days": (3, 60), "short_trend_steadiness": (0, 1),
        "plateau_min_climb": (0.1, 100), "max_daily_growth": (0, 1), "model_sigma": (0.001, 1),
        "full_history_days": (1, 400), "short_history_exponent": (0, 2), "short_history_full_swing": (0, 10), "backtest_min_days": (2, 60), "strategy_weight_power": (0, 10),
        "backtest_scale": (0, 10), "day_spread_scale": (0, 10), "confidence_high_halfwidth": (0, 1), "confidence_medium_halfwidth": (0, 10),
        "breach_risk": (0.001, 0.5), "headroom": (0, 10), "ecpu_burst_allowance": (0, 10), "min_peak_spread": (0, 1),
        "unseen_week_allowance": (0, 10),
        "alarm_threshold": (0.1, 1), "lower_when_above": (1, 100), "min_history_days": (0, 400),
        "spike_ratio": (1, 1000), "min_spike_hours": (1, 1000), "burst_within_hour": (1, 1000),
        "optional_minimum_max_share": (0, 1),
    }

    # what a list setting may hold
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"level_strategies": ("structured", "run_rate", "last_week")}

    @classmethod
    def text_problem(cls, key: str, value: str) -> str | None:
        """Why a text setting's value cannot be used (None: it can)."""
        from costwise.model.calendar import calendar_problem, timezone_problem

        return {"holidays": calendar_problem, "timezone": timezone_problem}[key](value)

    # --- forecast ---
    horizon_hours: int = 730  # AWS's month
    holidays: str = "none"  # the users' public holidays (US, GB, DE, US-CA...): neither level nor weekday; projected like Sundays
    timezone: str = "UTC"  # the users' timezone (America/Chicago...): whose dates are holidays and whose weekdays count
    interval: float = 0.80  # the projection's low/high cover this share of outcomes
    min_interval_halfwidth: float = 0.02  # irreducible model risk: never claim better than +-2%
    level_shift_min_change: float = 0.15  # a step smaller than 15% is noise, not a regime change
    level_shift_min_days: int = 3  # the newest regime needs this many days before it counts
    weekly_min_days: float = 14.0  # two weeks before weekday factors and an hour-of-week profile
    level_halflife_days: float = 21.0  # recent days weigh more in the level, but a month still counts
    anomaly_sigma: float = 3.5  # a day this many robust sigmas off the level is a one-off (holiday, outage)
    anomaly_min_spread: float = 0.02  # ...but never flag a day within 3.5 x 2% of a very steady level
    anomaly_min_days: int = 7  # below a week, no day can be called a one-off
    trend_min_t: float = 3.0  # a trend must stand 3 standard errors out of the noise...
    min_daily_growth: float = 0.002  # ...and be at least 0.2%/day; then it is shrunk by t^2 / (t^2 + 3^2)
    trend_min_days: int = 21  # a trend needs three weeks in the current regime...
    short_trend_min_days: int = 4  # ...or, below two weeks of history, 4 days...
    short_trend_steadiness: float = 0.9  # ...rising (or falling) day after day (90%): a weekly cycle does not
    plateau_min_climb: float = 0.8  # newest days level and 80%+ above the oldest: a cache filled to its working set
    max_daily_growth: float = 0.10  # extrapolate at most 10%/day: runaway fits on short histories
    model_sigma: float = 0.02  # the prior sigma of a month's mean, where no backtest can run...
    full_history_days: float = 28.0  # ...growing as (28 / days) ^ short_history_exponent for shorter
    short_history_exponent: float = 0.75  # histories (a few days cannot show a weekly cycle)...
    short_history_full_swing: float = 0.10  # ...in full for a series whose hours swing +-10% or more within a day;
    # a flatter one (a working set with long TTLs), projected flat, gets that share of the growth (0: always in full)
    # the level: these strategies (model/forecast.py), weighed by 1 / (own backtest's MSE)^power; chosen
    # leave one family out on bench_realtraces (the structured model alone lost to the run rate on a held-out family)
    level_strategies: tuple = ("structured", "run_rate")
    strategy_weight_power: float = 0.5  # 0 weighs them equally, a large power picks the best alone
    backtest_min_days: int = 5  # the own backtest starts with this many days before its first origin
    backtest_scale: float = 1.6  # how the backtest's two-week-ahead error counts towards the month's: a 30-day
    # history cannot show a month's drift (chosen leave one family out on bench_realtraces: 1.6 in all 5 folds)
    day_spread_scale: float = 1.0  # too short to backtest: sigma at least this x the spread of the daily levels
    # (log sd, around the trend, days with 18 hours or more; chosen leave one family out on
    # bench_realtraces: 1.0 in 3 of 5 folds, 3.0 in the other two)
    confidence_high_halfwidth: float = 0.05  # confidence high: the interval is within +-5% (typical error under 3%)...
    confidence_medium_halfwidth: float = 0.12  # ...medium within +-12% (typically under 7.5%), low beyond or unbacktested
    # --- limits ---
    breach_risk: float = 0.05  # size for the peak next month exceeds with a 5% chance...
    headroom: float = 0.20  # ...plus 20% (AWS Compute Optimizer's headroom; alarms fire at 75%)
    ecpu_burst_allowance: float = 0.25  # sub-minute bursts hidden inside the busiest minute
    min_peak_spread: float = 0.05  # the daily peaks' spread is at least 5% of their median (few days say little)
    # a regime shorter than a week has not seen the week's busiest day: its limits x (1 + this x the
    # share of the week unseen), x1.43 for 3 days (chosen leave one family out on bench_realtraces:
    # 0.75 in 4 of 5 folds once short histories carry their days' spread, day_spread_scale)
    unseen_week_allowance: float = 0.75
    alarm_threshold: float = 0.75  # AWS suggests alarms at 75% of a limit
    lower_when_above: float = 2.5  # advise lowering a limit more than 2.5x what is needed
    min_history_days: float = 7.0  # below this the advice says how little history it rests on
    # --- ECPU minimum (pre-warming) advice ---
    spike_ratio: float = 4.0  # busiest minute > 4x the previous hour's mean rate: faster than scaling
    min_spike_hours: int = 2  # advise a minimum only when this happens repeatedly (and was throttled)
    burst_within_hour: float = 2.0  # unthrottled, only bursts: a minute 2x its own hour's mean (not a ramp)
    optional_minimum_max_share: float = 0.25  # without throttling, mention one only if under 25% of the bill
