"""Synthetic ElastiCache workloads at minute resolution, aggregated the way CloudWatch does.

Used by the bundled demo data and by the forecast backtest. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 1440
GIB = 2**30


@dataclass
class Workload:
    storage_gb: float = 1.0  # level at minute 0
    storage_growth: float = 0.0  # per day, multiplicative
    storage_daily_amp: float = 0.05  # daily swing as a share of the level
    ecpu_per_second: float = 1000.0  # mean rate at minute 0
    ecpu_growth: float = 0.0  # per day, multiplicative
    daily_amp: float = 0.5  # traffic's daily cycle
    weekend_factor: float = 1.0  # Saturday/Sunday traffic x this
    noise: float = 0.05  # minute-to-minute noise (lognormal sigma), plus the same per day
    shift_day: float | None = None  # a level shift (TTL fix, migration) on this day...
    shift_storage: float = 1.0  # ...multiplies storage by this
    shift_ecpu: float = 1.0  # ...and traffic by this
    spike_every_days: float | None = None  # recurring flash sales
    spike_factor: float = 5.0
    spike_minutes: int = 45
    spike_hour: int = 18
    drift: float = 0.0  # daily random-walk sigma of the log level (both series): the future wanders
    start_day: float = 0.0  # the cache exists from this day on (NaN before)
    fill_days: float | None = None  # storage fills from empty over this many days after start_day, then holds
    max_storage_gb: float | None = None  # evict at the cap
    max_ecpu_per_second: float | None = None  # throttle at the cap
    seed: int = 0
    extra: dict = field(default_factory=dict)


def simulate_minutes(w: Workload, days: float, start_weekday: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(storage bytes, ECPUs consumed, commands throttled), one value per minute."""
    rng = np.random.default_rng(w.seed)
    n = int(days * MINUTES_PER_DAY)
    t_days = np.arange(n) / MINUTES_PER_DAY
    hour_of_day = (np.arange(n) // MINUTES_PER_HOUR) % 24
    weekday = (start_weekday + (np.arange(n) // MINUTES_PER_DAY)) % 7
    # daily cycle peaking mid-afternoon
    cycle = np.sin((hour_of_day + (np.arange(n) % 60) / 60 - 9) / 24 * 2 * np.pi)
    day_noise = np.exp(rng.normal(0, w.noise, int(np.ceil(days)) + 1))[(t_days).astype(int)]

    storage = w.storage_gb * (1 + w.storage_growth) ** t_days * (1 + w.storage_daily_amp * cycle)
    storage *= np.exp(rng.normal(0, w.noise / 5, n))
    rate = w.ecpu_per_second * (1 + w.ecpu_growth) ** t_days * (1 + w.daily_amp * cycle)
    rate *= np.where(weekday >= 5, w.weekend_factor, 1.0) * day_noise * np.exp(rng.normal(0, w.noise, n))
    if w.drift:
        walk = np.exp(np.cumsum(rng.normal(0, w.drift, int(np.ceil(days)) + 1)))[t_days.astype(int)]
        storage *= walk
        rate *= walk
    if w.fill_days:
        storage *= np.clip((t_days - w.start_day) / w.fill_days, 0.02, 1.0)
    if w.shift_day is not None:
        after = t_days >= w.shift_day
        storage[after] *= w.shift_storage
        rate[after] *= w.shift_ecpu
    if w.spike_every_days:
        day_index = np.floor(t_days).astype(int)
        spike_days = (day_index % int(w.spike_every_days)) == int(w.spike_every_days) - 1
        minute_of_day = np.arange(n) % MINUTES_PER_DAY
        in_spike = spike_days & (minute_of_day >= w.spike_hour * 60) & (minute_of_day < w.spike_hour * 60 + w.spike_minutes)
        rate[in_spike] *= w.spike_factor
    storage_bytes = storage * GIB
    if w.max_storage_gb is not None:
        storage_bytes = np.minimum(storage_bytes, w.max_storage_gb * GIB)
    ecpus = rate * 60
    throttled = np.zeros(n)
    if w.max_ecpu_per_second is not None:
        cap = w.max_ecpu_per_second * 60
        throttled = np.maximum(ecpus - cap, 0)  # one ECPU per throttled simple command
        ecpus = np.minimum(ecpus, cap)
    before = t_days < w.start_day
    for arr in (storage_bytes, ecpus, throttled):
        arr[before] = np.nan
    return storage_bytes, ecpus, throttled


def hourly_statistics(storage_bytes: np.ndarray, ecpus: np.ndarray, throttled: np.ndarray) -> dict[str, np.ndarray]:
    """What GetMetricData returns at Period=3600: the frame columns costwise uses."""
    hours = storage_bytes.size // MINUTES_PER_HOUR
    s = storage_bytes[: hours * 60].reshape(hours, 60)
    e = ecpus[: hours * 60].reshape(hours, 60)
    th = throttled[: hours * 60].reshape(hours, 60)
    import warnings

    with warnings.catch_warnings():
        # hours before a cache exists are all NaN: "mean of empty slice" is expected there
        warnings.simplefilter("ignore", RuntimeWarning)
        return {
            "storage_avg_bytes": np.nanmean(s, axis=1),
            "storage_max_bytes": np.nanmax(s, axis=1),
            "ecpu_sum": np.where(np.isnan(e).all(axis=1), np.nan, np.nansum(e, axis=1)),
            "ecpu_max_minute": np.nanmax(e, axis=1),
            "throttled_sum": np.where(np.isnan(th).all(axis=1), np.nan, np.nansum(th, axis=1)),
        }


def hourly_frame(w: Workload, start, days: float):
    """Hourly frame for a workload starting at `start` (a UTC timestamp)."""
    import pandas as pd

    start = pd.Timestamp(start)
    storage, ecpus, throttled = simulate_minutes(w, days, start_weekday=start.day_of_week)
    stats = hourly_statistics(storage, ecpus, throttled)
    index = pd.date_range(start, periods=len(stats["ecpu_sum"]), freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame(stats, index=index)
