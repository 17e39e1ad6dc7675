"""Recommend maximum limits (and, where spikes outrun scaling, an ECPU minimum). Pure.

A limit must sit above every peak the cache will see (else evictions or throttling) and below the
bill you are willing to risk. From the history's peaks (Maximum statistics) in the current regime:

    storage limit = ceil(peak GB x growth x (1 + headroom) x margin)
    ECPU limit    = nice_ceil(busiest-minute ECPU/s x growth x (1 + headroom) x (1 + burst) x margin)

growth is the projected level at the end of the horizon over the level now (never below 1),
margin = 1 + short_history_margin / days of history, at most max_history_margin (VPA's confidence
factor: short histories get more room), burst covers sub-minute peaks the 1-minute data cannot show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from costwise.limits import MIN_ECPU_LIMIT, clamp_ecpu_limit, clamp_storage_limit
from costwise.model.cost import Ceiling, ceiling_cost, ecpu_cost
from costwise.model.forecast import HOURS_PER_DAY, Projection
from costwise.model.settings import SizingSettings
from costwise.fmt import money
from costwise.usage import busiest_ecpu_per_second, mean_ecpu_per_second

ACTION_ORDER = ("raise", "set", "lower", "keep")


@dataclass
class DimensionAdvice:
    current: float | None
    recommended: int
    needed: float  # the level the recommendation covers, before rounding
    peak: float  # the history's peak in the current regime
    action: str
    reasons: list[str] = field(default_factory=list)
    projected_peak: float = 0.0  # the peak grown to the end of the horizon (no headroom)


@dataclass
class LimitAdvice:
    storage: DimensionAdvice
    ecpu: DimensionAdvice
    action: str
    reasons: list[str]
    ceiling_current: Ceiling
    ceiling_recommended: Ceiling
    ecpu_minimum: dict | None = None


def _percentile(values: np.ndarray, q: float) -> float:
    values = values[np.isfinite(values)]
    return float(np.percentile(values, q)) if values.size else 0.0


def _since(frame, start):
    return frame if start is None else frame[frame.index >= start]


def _dimension(
    name: str,
    current: float | None,
    peak: float,
    needed: float,
    recommended: int,
    hours_above_alarm: int,
    pressure: list[str],
    settings: SizingSettings,
    fmt,
) -> DimensionAdvice:
    reasons: list[str] = []
    if current is None:
        return DimensionAdvice(None, recommended, needed, peak, "set", [
            f"no {name} limit: the bill is unbounded; {fmt(recommended)} covers the peak of {fmt(peak)} with growth and headroom"
        ])
    if pressure or recommended > current:
        reasons.extend(pressure)
        if hours_above_alarm:
            reasons.append(f"{hours_above_alarm} hours above {settings.alarm_threshold:.0%} of the {fmt(current)}{' ' + name if name == 'storage' else ''} limit")
        reasons.append(f"{name} peak {fmt(peak)}, expected to need {fmt(needed)} within the month: raise the limit from {fmt(current)} to {fmt(recommended)}")
        return DimensionAdvice(current, max(recommended, int(current)), needed, peak, "raise", reasons)
    if current > settings.lower_when_above * recommended:
        reasons.append(
            f"the {fmt(current)}{' ' + name if name == 'storage' else ''} limit is {current / recommended:.1f}x the {fmt(recommended)} needed (peak {fmt(peak)}): lower it to cap a runaway bill"
        )
        return DimensionAdvice(current, recommended, needed, peak, "lower", reasons)
    reasons.append(f"the {fmt(current)}{' ' + name if name == 'storage' else ''} limit covers the peak of {fmt(peak)} with room to spare")
    return DimensionAdvice(current, int(current), needed, peak, "keep", reasons)


def recommend_limits(frame, projection: Projection, current, rates, settings: SizingSettings | None = None) -> LimitAdvice:
    """Advice for one cache. frame: the hourly history; current: CurrentLimits."""
    settings = settings or SizingSettings()
    horizon_days = settings.horizon_hours / HOURS_PER_DAY
    history_days = max(projection.history_days, 1 / HOURS_PER_DAY)
    margin = min(1 + settings.short_history_margin / history_days, settings.max_history_margin)

    # --- storage ---
    storage_frame = _since(frame, projection.storage.regime_start)
    storage_bytes = storage_frame["storage_max_bytes"].to_numpy(dtype=float)
    if not np.isfinite(storage_bytes).any():
        storage_bytes = storage_frame["storage_avg_bytes"].to_numpy(dtype=float)
    storage_peak = _percentile(storage_bytes, settings.storage_percentile) / rates.bytes_per_gb
    storage_growth = max(1.0, projection.storage.growth_over(horizon_days))
    storage_needed = storage_peak * storage_growth * (1 + settings.headroom) * margin
    storage_rec = clamp_storage_limit(storage_needed)

    # --- ECPU/s: busiest minute of each hour = hourly Maximum / 60 ---
    ecpu_frame = _since(frame, projection.ecpu.regime_start)
    busiest = busiest_ecpu_per_second(ecpu_frame)
    ecpu_peak = _percentile(busiest, settings.ecpu_percentile)
    ecpu_growth = max(1.0, projection.ecpu.growth_over(horizon_days))
    ecpu_needed = ecpu_peak * ecpu_growth * (1 + settings.headroom) * (1 + settings.ecpu_burst_allowance) * margin
    ecpu_rec = clamp_ecpu_limit(ecpu_needed)

    gb = lambda v: f"{v:,.0f} GB" if v >= 10 or float(v).is_integer() else f"{v:,.2f} GB"  # noqa: E731
    eps = lambda v: f"{v:,.0f} ECPU/s"  # noqa: E731

    storage_pressure: list[str] = []
    ecpu_pressure: list[str] = []
    storage_alarm_hours = ecpu_alarm_hours = 0
    if current.max_storage_gb:
        limit = float(current.max_storage_gb)
        all_storage = frame["storage_max_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb
        storage_alarm_hours = int(np.sum(all_storage > settings.alarm_threshold * limit))
        if storage_peak >= 0.95 * limit:
            storage_pressure.append(f"storage reached {storage_peak / limit:.0%} of its {gb(limit)} limit: keys with a TTL are being evicted")
        elif storage_peak * storage_growth >= limit:
            storage_pressure.append(f"at {projection.storage.daily_growth:.1%}/day growth storage reaches the {gb(limit)} limit within the month")
    if current.max_ecpu_per_second:
        limit = float(current.max_ecpu_per_second)
        all_busiest = busiest_ecpu_per_second(frame)
        ecpu_alarm_hours = int(np.sum(all_busiest > settings.alarm_threshold * limit))
        if ecpu_peak * ecpu_growth >= limit:
            ecpu_pressure.append(f"busiest-minute traffic will reach the {eps(limit)} limit within the month")
    throttled = float(np.nansum(frame["throttled_sum"].to_numpy(dtype=float))) if "throttled_sum" in frame else 0.0
    if throttled > 0:
        throttled_hours = int(np.sum(frame["throttled_sum"].to_numpy(dtype=float) > 0))
        ecpu_pressure.insert(0, f"ThrottledCmds: {throttled:,.0f} commands throttled in {throttled_hours} hours")

    storage = _dimension("storage", current.max_storage_gb, storage_peak, storage_needed, storage_rec, storage_alarm_hours, storage_pressure, settings, gb)
    storage.projected_peak = storage_peak * storage_growth
    ecpu = _dimension("ECPU", current.max_ecpu_per_second, ecpu_peak, ecpu_needed, ecpu_rec, ecpu_alarm_hours, ecpu_pressure, settings, eps)
    ecpu.projected_peak = ecpu_peak * ecpu_growth
    action = min((storage.action, ecpu.action), key=ACTION_ORDER.index)

    ceiling_now = ceiling_cost(current.max_storage_gb, current.max_ecpu_per_second, rates)
    ceiling_rec = ceiling_cost(storage.recommended, ecpu.recommended, rates)
    # throttling is the most urgent news: it leads when it happened
    reasons = ecpu.reasons + storage.reasons if throttled > 0 else storage.reasons + ecpu.reasons
    if action in ("lower", "set"):
        reasons.append(
            f"worst-case bill: {money(ceiling_now.total)} a month at the current limits, {money(ceiling_rec.total)} at the recommended ones"
        )
    if projection.history_days < settings.min_history_days:
        reasons.append(f"only {projection.history_days:.1f} days of history: limits include a {margin - 1:.0%} short-history margin")

    return LimitAdvice(storage, ecpu, action, reasons, ceiling_now, ceiling_rec, _ecpu_minimum(frame, projection, rates, settings))


def _ecpu_minimum(frame, projection: Projection, rates, settings: SizingSettings) -> dict | None:
    """Spikes that outrun serverless scaling (busiest minute far above the previous hour's rate)."""
    busiest = busiest_ecpu_per_second(frame)
    mean_rate = mean_ecpu_per_second(frame)
    if busiest.size < 2:
        return None
    previous = np.concatenate([[np.nan], mean_rate[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = busiest / previous
    spikes = np.isfinite(ratio) & (ratio > settings.spike_ratio) & (busiest >= MIN_ECPU_LIMIT / 2)
    count = int(spikes.sum())
    if count < settings.min_spike_hours:
        return None
    # Pre-warm to half the typical spike: serverless doubles capacity in minutes from there.
    suggested = clamp_ecpu_limit(float(np.median(busiest[spikes])) / 2)
    projected_rate = projection.ecpu_per_hour / 3600
    extra_ecpus = np.maximum(suggested - projected_rate, 0) * 3600
    extra = float(ecpu_cost(extra_ecpus.sum(), rates))
    return {
        "suggested_min_ecpu_per_second": suggested,
        "spike_hours": count,
        "extra_cost_per_month": extra,
        "why": (
            f"{count} hours had a busiest minute over {settings.spike_ratio:g}x the previous hour's rate, faster than "
            f"serverless scales; a minimum of {suggested:,} ECPU/s pre-warms for them at about {money(extra)} a month more"
        ),
    }
