"""Every tunable number of the forecast and the advisor, with its default and why.

Set any of them under `sizing:` in costwise.yaml; unknown keys are errors.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SizingSettings:
    # --- forecast ---
    horizon_hours: int = 730  # AWS's month
    interval: float = 0.80  # the projection's low/high cover this share of outcomes
    min_interval_halfwidth: float = 0.02  # irreducible model risk: never claim better than +-2%
    level_shift_min_change: float = 0.15  # a step smaller than 15% is noise, not a regime change
    level_shift_min_days: int = 3  # the newest regime needs this many days before it counts
    max_daily_growth: float = 0.10  # extrapolate at most 10%/day: runaway fits on short histories
    # --- limits ---
    headroom: float = 0.20  # AWS Compute Optimizer: 20% above the peak
    ecpu_burst_allowance: float = 0.25  # sub-minute bursts hidden inside the busiest minute
    storage_percentile: float = 100.0  # of hourly Maximum: storage evicts at the cap, so the peak
    ecpu_percentile: float = 100.0  # of busiest-minute ECPU/s: throttling hurts at the peak
    alarm_threshold: float = 0.75  # AWS suggests alarms at 75% of a limit
    lower_when_above: float = 2.5  # advise lowering a limit more than 2.5x what is needed
    min_history_days: float = 7.0  # below this the advice says confidence is low
    short_history_margin: float = 1.0  # VPA-style: margin x (1 + this / days of history)...
    max_history_margin: float = 2.0  # ...but never more than x2: an hour-old cache is not 25x its peak
    # --- ECPU minimum (pre-warming) advice ---
    spike_ratio: float = 4.0  # busiest minute > 4x the hour's mean rate: faster than scaling
    min_spike_hours: int = 2  # advise a minimum only when this happens repeatedly
