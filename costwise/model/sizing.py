"""Recommend maximum limits by breach risk (and, where throttled spikes outrun scaling, an ECPU
minimum). Pure.

A limit must sit above every peak the cache will see (else evictions or throttling) and below the
bill you are willing to risk. Peaks are sized from their distribution, not from the single largest:

1. Each day's peak relative to that day's level: the busiest minute over the day's mean rate (ECPU),
   the hourly maximum over the day's mean stored (storage), on the days the level was fitted on
   (the current regime; a filling cache's plateau).
2. A Gumbel distribution fitted to those daily maxima by their median and MAD, so that one old burst
   does not size the limit alone; but a peak seen on two days or more (a weekly flash sale) recurs,
   and the limit never goes below it.
3. The maximum over the horizon's days at probability 1 - breach_risk (the extreme-value quantile),
   on the level the projection expects at its highest (growth included, and its uncertainty:
   x exp(sigma)).
4. The limit: that peak x (1 + headroom) (x (1 + burst allowance) for ECPU: sub-minute bursts the
   1-minute data cannot show), rounded to what AWS accepts. Each recommendation states the risk
   the model gives for it.
5. Never below the window's own largest peak x the same allowance, bursts included; where the days
   swing widely, the burst model's tail (a Gumbel over every day's peak). A regime shorter than a
   week has not seen the week's busiest day: its limit carries (1 + unseen_week_allowance x the
   share of the week not seen).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from dataclasses import dataclass, field

import numpy as np

from costwise.fmt import money
from costwise.limits import MIN_ECPU_LIMIT, clamp_ecpu_limit, clamp_storage_limit
from costwise.model.cost import Ceiling, ceiling_cost, ecpu_cost
from costwise.model.forecast import HOURS_PER_DAY, WEEK_DAYS, Projection, SeriesFit, daily_means
from costwise.model.settings import SizingSettings
from costwise.usage import busiest_ecpu_per_second, mean_ecpu_per_second

ACTION_ORDER = ("raise", "set", "lower", "keep")
GUMBEL_MEDIAN = -math.log(math.log(2))  # 0.3665: median of the standard Gumbel
GUMBEL_MAD = 0.7670  # median absolute deviation of the standard Gumbel


@dataclass
class DimensionAdvice:
    current: float | None
    recommended: int
    needed: float  # the level the recommendation covers, before rounding
    peak: float  # the history's peak in the current regime
    action: str
    reasons: list[str] = field(default_factory=list)
    projected_peak: float = 0.0  # next month's peak at the breach-risk quantile (no headroom)
    breach_risk: float | None = None  # the model's chance that next month's peak exceeds `recommended`


@dataclass(frozen=True)
class Replay:
    """A limit held against the history it was sized from: the hours (and days) whose peak went above
    it. CloudWatch's hourly data shows each hour's busiest minute only, so an hour above an ECPU
    limit is at least one throttled minute: `hours` is also a lower bound on the minutes."""

    limit: float
    hours: int
    days: int

    def to_dict(self) -> dict:
        return {"limit": self.limit, "hours": self.hours, "days": self.days}


@dataclass
class LimitAdvice:
    storage: DimensionAdvice
    ecpu: DimensionAdvice
    action: str
    reasons: list[str]
    ceiling_current: Ceiling
    ceiling_recommended: Ceiling
    ecpu_minimum: dict | None = None
    # each dimension's limits replayed over the history: "recommended", "current", and "typical"
    # (the tighter cap typical days alone would give, so a user sees its price in outages)
    replay: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PeakModel:
    """Daily maxima of peak / level, as a Gumbel (location, scale), and the level they multiply."""

    location: float
    scale: float
    level: float  # the highest level the projection expects over the horizon, uncertainty included
    days: float  # the horizon in days
    recurring: float = 0.0  # the second-largest daily ratio: a peak seen twice is not a one-off

    def quantile(self, risk: float) -> float:
        """The horizon's peak that is exceeded with probability `risk` (never below a recurring peak)."""
        p = 1 - risk
        tail = self.location + self.scale * (math.log(self.days) - math.log(-math.log(p)))
        return self.level * max(tail, self.recurring)

    def exceedance(self, value: float) -> float:
        """The chance that the horizon's peak exceeds `value` (certain below a recurring peak)."""
        if self.level <= 0:
            return 0.0
        y = value / self.level
        if y < self.recurring:
            return 1.0
        if self.scale <= 0:
            return 0.0 if y >= self.location else 1.0
        daily = math.exp(-math.exp(-(y - self.location) / self.scale))  # P(a day's max <= y)
        return float(1 - daily**self.days)


def _storage_max_gb(frame, rates) -> np.ndarray:
    """Each hour's largest storage in GB (the hour's average where the Maximum is missing)."""
    stored_max = frame["storage_max_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb
    if not np.isfinite(stored_max).any():
        stored_max = frame["storage_avg_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb
    return stored_max


def _daily_peaks(peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each daily block's largest peak (the forecast's blocks, ending at as_of) and the block's number."""
    if peaks.size == 0:
        return peaks, peaks.astype(int)
    _, day_of_hour = daily_means(peaks)
    maxima = np.full(int(day_of_hour[-1]) + 1, -np.inf)
    np.maximum.at(maxima, day_of_hour, np.where(np.isfinite(peaks), peaks, -np.inf))
    keep = np.isfinite(maxima) & (maxima > 0)
    return maxima[keep], np.flatnonzero(keep)


@dataclass(frozen=True)
class BurstModel:
    """A Gumbel fitted by its moments to the log of every day's peak, burst days included: a robust
    fit (PeakModel) leaves one-off days out, and a cap's whole job is the bursts, so a history whose
    days swing widely gets room to match. No parameter of its own: its tail is breach_risk's."""

    mu: float  # of the log daily peak
    beta: float
    growth: float  # the level's growth over the horizon (>= 1)
    days: float

    @classmethod
    def fit(cls, peaks: np.ndarray, slope: float, days: float, min_days: int) -> "BurstModel | None":
        """Fitted to the daily peaks moved to as_of along the projection's trend (log growth per day),
        so that a trend is not mistaken for a spread; growth over the horizon as the projection's.
        None below `min_days` days: the moments of three days, one of them a burst, put the tail at
        thousands of times the level (the window's own peak still floors the limit)."""
        daily, day = _daily_peaks(peaks)
        if daily.size < max(min_days, 3):
            return None
        last = (peaks.size - 1) // HOURS_PER_DAY  # the newest block's number
        logs = np.log(daily) + slope * (last - day)
        beta = float(np.std(logs, ddof=1)) * math.sqrt(6) / math.pi
        return cls(float(np.mean(logs)) - 0.5772 * beta, beta, max(math.exp(slope * days), 1.0), days)

    def quantile(self, risk: float) -> float:
        """The horizon's largest daily peak, exceeded with probability `risk`."""
        return math.exp(self.mu + self.beta * (math.log(self.days) - math.log(-math.log(1 - risk)))) * self.growth

    def exceedance(self, value: float) -> float:
        if value <= 0:
            return 1.0
        if self.beta <= 0:
            return 0.0 if value >= math.exp(self.mu) * self.growth else 1.0
        daily = math.exp(-math.exp(-(math.log(value / self.growth) - self.mu) / self.beta))
        return float(1 - daily**self.days)


@dataclass(frozen=True)
class PeakSizing:
    """One dimension's peaks, as the limit is sized from them."""

    seen: float  # the window's own largest peak, bursts and one-off days included
    regime_peak: float  # the largest peak in the current regime (what the notes call "the peak")
    projected: float  # next month's peak at breach_risk: the larger model's, never below `seen`
    needed: float  # the limit before rounding
    typical_needed: float  # what typical days alone (the robust model, with allowance) would need
    typical: PeakModel | None
    burst: BurstModel | None
    unseen_week: float = 1.0  # the factor for a regime shorter than a week (1: a week or more seen)

    def exceedance(self, limit: float) -> float | None:
        risks = [m.exceedance(limit) for m in (self.typical, self.burst) if m is not None]
        return max(risks) if risks else None


def size_peaks(all_peaks: np.ndarray, regime_peaks: np.ndarray, regime_level: np.ndarray, fit: SeriesFit, level_now: float,
               allowance: float, settings: SizingSettings) -> PeakSizing:
    """The limit one dimension needs: the largest of
    - the typical days' peak (PeakModel: robust, on the current regime) x allowance (headroom, and
      for ECPU the sub-minute bursts CloudWatch cannot show), which typical days cannot see past;
    - the window's own largest peak x allowance: a cap below a peak the cache already reached
      throttles or evicts inside the very window it was computed from;
    - the bursty days' peak (BurstModel, the current regime's every day), which sees the bursts
      and needs no allowance on top (with it, limits ran 2x oversized on steady real traffic).
    The first two carry the unseen week's factor where the regime (the window, for its own peak) is
    shorter than a week: without it, on real traffic, caches of three days breach next month in 8%
    (road traffic), 18% (bike rentals) and 6% (Wikipedia) of cases, those of a week or more in none
    (bench_realtraces)."""
    finite = np.isfinite(all_peaks)
    seen = float(np.nanmax(all_peaks)) if finite.any() else 0.0
    regime_peak = float(np.nanmax(regime_peaks)) if np.isfinite(regime_peaks).any() else 0.0
    typical = peak_model(regime_peaks, regime_level, fit, level_now, settings)
    horizon_days = settings.horizon_hours / HOURS_PER_DAY
    burst = None if fit.zero else BurstModel.fit(regime_peaks, fit.slope, horizon_days, settings.anomaly_min_days)
    typical_q = typical.quantile(settings.breach_risk) if typical else 0.0
    burst_q = burst.quantile(settings.breach_risk) if burst else 0.0
    # the regime's days for its model; the whole window's for its own peak (a week of history has
    # seen the week's busiest day, if at an older level)
    week = unseen_week_factor(fit.days_used, settings)
    week_seen = unseen_week_factor(float(finite.sum()) / HOURS_PER_DAY, settings)
    return PeakSizing(seen, regime_peak, max(typical_q, burst_q, seen),
                      max(typical_q * allowance * week, seen * allowance * week_seen, burst_q), typical_q * allowance, typical, burst, week)


def unseen_week_factor(days: float, settings: SizingSettings) -> float:
    """1 + unseen_week_allowance x the share of the week `days` of history have not seen: three days
    (the weekend, say) cannot show the week's busiest day."""
    return 1 + settings.unseen_week_allowance * max(0.0, WEEK_DAYS - days) / WEEK_DAYS


def replay(peaks: np.ndarray, index, limit: float, reached: bool = False) -> Replay:
    """How often the history's hourly peaks went above `limit` (or reached it: a limit in force caps
    the peaks it throttles at itself): hours, and the UTC days they fell on."""
    over = np.isfinite(peaks) & ((peaks >= limit) if reached else (peaks > limit))
    days = len(set(np.asarray(index.normalize())[over].tolist())) if over.any() else 0
    return Replay(float(limit), int(over.sum()), days)


def _replay_note(name: str, verb: str, unit, rec: Replay, typical: Replay | None, current: Replay | None, days: float) -> str:
    """'replayed over the 30 days of history, the recommended 130,000 ECPU/s would have throttled in
    no hour; a tighter 94,000 ECPU/s ... would have throttled in 41 hours on 3 days (at least 41 minutes)'."""
    def times(r: Replay) -> str:
        text = f"in {r.hours:,} {'hour' if r.hours == 1 else 'hours'} on {r.days} {'day' if r.days == 1 else 'days'}"
        # the hourly data shows each hour's busiest minute: an hour above the limit is a minute at least
        return text + (f" (at least {r.hours:,} {'minute' if r.hours == 1 else 'minutes'})" if name == "ECPU" else "")

    kept = current is not None and current.limit == rec.limit
    subject = f"the {unit(rec.limit)} limit, current and recommended," if kept else f"the recommended {unit(rec.limit)}"
    text = f"replayed over the {days:.0f} days of history, {subject} would have {verb} " + (times(rec) if rec.hours else "in no hour")
    if kept:
        current = None  # said once
    if typical is not None and typical.hours:
        text += f"; a tighter {unit(typical.limit)}, sized on typical days with the bursts left out, would have {verb} {times(typical)}"
    if current is not None and current.hours:
        text += f"; the current {unit(current.limit)} limit was reached {times(current)}"
    return text


def _since(frame, start):
    return frame if start is None else frame[frame.index >= start]


def _daily_max_ratio(peaks: np.ndarray, level_per_hour: np.ndarray) -> np.ndarray:
    """Each day's largest peak over that day's mean level (the forecast's daily blocks)."""
    if peaks.size == 0:
        return peaks
    day_level, day_of_hour = daily_means(level_per_hour)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = peaks / day_level[day_of_hour]
    ratio[~np.isfinite(ratio)] = -np.inf
    maxima = np.full(day_level.size, -np.inf)
    np.maximum.at(maxima, day_of_hour, ratio)
    return maxima[np.isfinite(maxima) & (maxima > 0)]


def peak_model(peaks: np.ndarray, level_per_hour: np.ndarray, fit: SeriesFit, level_now: float, settings: SizingSettings) -> PeakModel | None:
    """The Gumbel of daily peak ratios, on the level the projection expects at its highest."""
    maxima = _daily_max_ratio(peaks, level_per_hour)
    if maxima.size == 0 or level_now <= 0:
        return None
    median = float(np.median(maxima))
    scale = float(np.median(np.abs(maxima - median))) / GUMBEL_MAD if maxima.size >= 3 else 0.0
    # at least the spread a handful of days cannot show: a few days of history say little of the tail
    scale = max(scale, settings.min_peak_spread * median)
    location = median - GUMBEL_MEDIAN * scale
    horizon_days = settings.horizon_hours / HOURS_PER_DAY
    growth = max(1.0, fit.growth_over(horizon_days))
    level = level_now * growth * math.exp(NormalDist().inv_cdf(1 - settings.breach_risk) * fit.rel_sigma)
    recurring = float(np.sort(maxima)[-2]) if maxima.size >= 2 else 0.0
    return PeakModel(location, scale, level, horizon_days, recurring)


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
    risk_note: str,
) -> DimensionAdvice:
    reasons: list[str] = []
    suffix = " " + name if name == "storage" else ""
    if current is None:
        return DimensionAdvice(None, recommended, needed, peak, "set", [
            f"no {name} limit: the bill is unbounded; {fmt(recommended)} covers the peak of {fmt(peak)} with growth and headroom ({risk_note})"
        ])
    if pressure or recommended > current:
        reasons.extend(pressure)
        if hours_above_alarm:
            reasons.append(f"{hours_above_alarm} hours above {settings.alarm_threshold:.0%} of the {fmt(current)}{suffix} limit")
        reasons.append(f"{name} peak {fmt(peak)}, expected to need {fmt(needed)} within the month: raise the limit from {fmt(current)} to {fmt(max(recommended, int(current)))} ({risk_note})")
        return DimensionAdvice(current, max(recommended, int(current)), needed, peak, "raise", reasons)
    if current > settings.lower_when_above * recommended:
        reasons.append(
            f"the {fmt(current)}{suffix} limit is {current / recommended:.1f}x the {fmt(recommended)} needed (peak {fmt(peak)}): lower it to cap a runaway bill ({risk_note})"
        )
        return DimensionAdvice(current, recommended, needed, peak, "lower", reasons)
    reasons.append(f"the {fmt(current)}{suffix} limit covers the peak of {fmt(peak)} with room to spare")
    return DimensionAdvice(current, int(current), needed, peak, "keep", reasons)


def _risk_note(sizing: PeakSizing, what: str, recommended: int, settings: SizingSettings, fmt) -> tuple[str, float | None]:
    """('about a 5% chance ...', the models' risk at the recommended limit)."""
    risk = sizing.exceedance(recommended)
    if risk is None:
        return "no datapoints to size it from: AWS's floor", None
    return (f"about a {settings.breach_risk:.0%} chance that next month's {what} exceeds {fmt(sizing.projected)}; "
            f"{_chance(risk)} that it exceeds {fmt(recommended)}"), risk


def _chance(risk: float) -> str:
    if risk < 0.001:
        return "under a 0.1% chance"
    if risk < 0.01:
        return f"about a {risk:.1%} chance"
    return f"about a {risk:.0%} chance"


def recommend_limits(frame, projection: Projection, current, rates, settings: SizingSettings | None = None) -> LimitAdvice:
    """Advice for one cache. frame: the hourly history; current: CurrentLimits."""
    settings = settings or SizingSettings()
    gb = lambda v: f"{v:,.0f} GB" if v >= 10 or float(v).is_integer() else f"{v:,.2f} GB"  # noqa: E731
    eps = lambda v: f"{v:,.0f} ECPU/s"  # noqa: E731

    # --- storage: hourly maxima over the day's mean stored ---
    storage_frame = _since(frame, projection.storage.level_start)
    all_stored_max = _storage_max_gb(frame, rates)
    storage_sizing = size_peaks(all_stored_max, _storage_max_gb(storage_frame, rates),
                                storage_frame["storage_avg_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb,
                                projection.storage, projection.storage.level0, 1 + settings.headroom, settings)
    storage_peak, storage_projected = storage_sizing.regime_peak, storage_sizing.projected
    storage_needed = storage_sizing.needed
    storage_rec = clamp_storage_limit(storage_needed)
    storage_note, _ = _risk_note(storage_sizing, "largest hourly peak", storage_rec, settings, gb)

    # --- ECPU/s: the busiest minute over the day's mean rate ---
    ecpu_frame = _since(frame, projection.ecpu.level_start)
    all_busiest = busiest_ecpu_per_second(frame)
    ecpu_sizing = size_peaks(all_busiest, busiest_ecpu_per_second(ecpu_frame), mean_ecpu_per_second(ecpu_frame), projection.ecpu,
                             projection.ecpu.level0 / 3600, (1 + settings.headroom) * (1 + settings.ecpu_burst_allowance), settings)
    ecpu_peak, ecpu_projected = ecpu_sizing.regime_peak, ecpu_sizing.projected
    ecpu_needed = ecpu_sizing.needed
    ecpu_rec = clamp_ecpu_limit(ecpu_needed)
    ecpu_note, _ = _risk_note(ecpu_sizing, "busiest minute", ecpu_rec, settings, eps)

    storage_pressure: list[str] = []
    ecpu_pressure: list[str] = []
    storage_alarm_hours = ecpu_alarm_hours = 0
    if current.max_storage_gb:
        limit = float(current.max_storage_gb)
        all_storage = frame["storage_max_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb
        storage_alarm_hours = int(np.sum(all_storage > settings.alarm_threshold * limit))
        if storage_peak >= 0.95 * limit:
            storage_pressure.append(f"storage reached {storage_peak / limit:.0%} of its {gb(limit)} limit: keys with a TTL are being evicted")
        elif storage_projected >= limit:
            storage_pressure.append(f"storage is expected to reach the {gb(limit)} limit within the month ({storage_note})")
    if current.max_ecpu_per_second:
        limit = float(current.max_ecpu_per_second)
        ecpu_alarm_hours = int(np.sum(busiest_ecpu_per_second(frame) > settings.alarm_threshold * limit))
        if ecpu_projected >= limit:
            ecpu_pressure.append(f"busiest-minute traffic will reach the {eps(limit)} limit within the month")
    throttled_hours = frame["throttled_sum"].to_numpy(dtype=float) if "throttled_sum" in frame else np.zeros(len(frame))
    throttled = float(np.nansum(throttled_hours))
    if throttled > 0:
        ecpu_pressure.insert(0, f"ThrottledCmds: {throttled:,.0f} commands throttled in {int(np.sum(throttled_hours > 0))} hours")

    storage = _dimension("storage", current.max_storage_gb, storage_peak, storage_needed, storage_rec, storage_alarm_hours,
                         storage_pressure, settings, gb, storage_note)
    storage.projected_peak = storage_projected
    storage.breach_risk = storage_sizing.exceedance(storage.recommended)
    ecpu = _dimension("ECPU", current.max_ecpu_per_second, ecpu_peak, ecpu_needed, ecpu_rec, ecpu_alarm_hours, ecpu_pressure,
                      settings, eps, ecpu_note)
    ecpu.projected_peak = ecpu_projected
    ecpu.breach_risk = ecpu_sizing.exceedance(ecpu.recommended)
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
        reasons.append(f"only {projection.history_days:.1f} days of history: the limits allow for how little it shows")
    unseen = [f"{name} x{sizing.unseen_week:.2f}" for name, sizing in (("storage", storage_sizing), ("ECPU", ecpu_sizing))
              if sizing.unseen_week > 1]
    if unseen:
        reasons.append(f"less than a week in the current level's days: the week's busiest day may be still to come, "
                       f"so the limits carry {' and '.join(unseen)} (sizing.unseen_week_allowance)")

    # every recommendation replayed over the history, beside the tighter cap typical days alone give
    replays: dict = {}
    for dim, name, verb, unit, peaks, typical_needed, current_limit, chosen in (
        ("storage", "storage", "evicted", gb, all_stored_max, storage_sizing.typical_needed, current.max_storage_gb, storage),
        ("ecpu", "ECPU", "throttled", eps, all_busiest, ecpu_sizing.typical_needed, current.max_ecpu_per_second, ecpu),
    ):
        clamp = clamp_storage_limit if dim == "storage" else clamp_ecpu_limit
        rec = replay(peaks, frame.index, chosen.recommended)
        typical_limit = clamp(typical_needed)
        typical = replay(peaks, frame.index, typical_limit) if typical_limit < chosen.recommended else None
        now = replay(peaks, frame.index, float(current_limit), reached=True) if current_limit else None
        replays[dim] = {"recommended": rec.to_dict(), "typical": typical.to_dict() if typical else None,
                        "current": now.to_dict() if now else None}
        if peaks.size and np.isfinite(peaks).any():
            reasons.append(_replay_note(name, verb, unit, rec, typical, now, projection.history_days))

    minimum = _ecpu_minimum(frame, projection, rates, settings)
    return LimitAdvice(storage, ecpu, action, reasons, ceiling_now, ceiling_rec, minimum, replays)


WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def _ecpu_minimum(frame, projection: Projection, rates, settings: SizingSettings) -> dict | None:
    """A minimum ECPU/s to pre-warm for spikes that outrun serverless scaling.

    Recommended only where ThrottledCmds show throttling in those spikes; otherwise an explicitly
    optional note, and only when it costs under `optional_minimum_max_share` of the projected bill.
    Priced both all month and as a schedule (only around the recurring spike window).
    """
    busiest = busiest_ecpu_per_second(frame)
    mean_rate = mean_ecpu_per_second(frame)
    if busiest.size < 2:
        return None
    previous = np.concatenate([[np.nan], mean_rate[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = busiest / previous
        within = busiest / mean_rate
    spikes = np.isfinite(ratio) & (ratio > settings.spike_ratio) & (busiest >= MIN_ECPU_LIMIT / 2)
    throttled = frame["throttled_sum"].to_numpy(dtype=float) if "throttled_sum" in frame else np.zeros(busiest.size)
    throttled_spikes = int(np.sum(spikes & (np.nan_to_num(throttled) > 0)))
    if throttled_spikes < settings.min_spike_hours:
        # without throttling, only bursts (a minute far above its own hour, not a morning ramp)
        spikes &= np.isfinite(within) & (within >= settings.burst_within_hour)
    count = int(spikes.sum())
    if count < settings.min_spike_hours:
        return None
    # Pre-warm to half the typical spike: serverless doubles capacity in minutes from there.
    suggested = clamp_ecpu_limit(float(np.median(busiest[spikes])) / 2)
    projected_rate = projection.ecpu_per_hour / 3600
    extra_by_hour = ecpu_cost(np.maximum(suggested - projected_rate, 0) * 3600, rates)
    extra = float(extra_by_hour.sum())
    share = extra / projection.cost.total if projection.cost.total > 0 else math.inf

    # the recurring window: the hours of the week the spikes fell in, an hour either side to warm up
    index = frame.index
    slots = np.asarray(index.day_of_week)[spikes] * 24 + np.asarray(index.hour)[spikes]
    window = np.zeros(168, bool)
    for slot in np.unique(slots):
        window[[(slot - 1) % 168, slot, (slot + 1) % 168]] = True
    future_slots = np.asarray(projection.index.day_of_week) * 24 + np.asarray(projection.index.hour)
    in_window = window[future_slots]
    scheduled = {
        "window": _describe_window(np.unique(slots)),
        "hours_per_month": int(in_window.sum()),
        "extra_cost_per_month": float(extra_by_hour[in_window].sum()),
    }
    kind = "recommended" if throttled_spikes >= settings.min_spike_hours else "optional"
    scheduled_share = scheduled["extra_cost_per_month"] / projection.cost.total if projection.cost.total > 0 else math.inf
    if kind == "optional" and min(share, scheduled_share) >= settings.optional_minimum_max_share:
        return None  # it would cost more than it could be worth, with no throttling to show for it
    if kind == "optional" and share >= settings.optional_minimum_max_share:
        # all month costs too much for an option: offer the schedule alone
        why = (f"{count} bursts ran over {settings.spike_ratio:g}x the previous hour's rate but nothing was throttled: no "
               f"minimum is needed. If they must never wait for scaling, a minimum of {suggested:,} ECPU/s scheduled for "
               f"{scheduled['window']} only costs about {money(scheduled['extra_cost_per_month'])} a month ({scheduled_share:.0%} of the bill)")
        extra, share = scheduled["extra_cost_per_month"], scheduled_share
    elif kind == "recommended":
        why = (f"{throttled_spikes} throttled spikes ran over {settings.spike_ratio:g}x the previous hour's rate, faster than "
               f"serverless scales: a minimum of {suggested:,} ECPU/s pre-warms for them at about {money(extra)} a month, "
               f"or {money(scheduled['extra_cost_per_month'])} scheduled for {scheduled['window']} only")
    else:
        why = (f"{count} bursts ran over {settings.spike_ratio:g}x the previous hour's rate but nothing was "
               f"throttled: no minimum is needed. If those spikes must never wait for scaling, a minimum of {suggested:,} ECPU/s "
               f"costs about {money(extra)} a month ({share:.0%} of the bill), or {money(scheduled['extra_cost_per_month'])} "
               f"scheduled for {scheduled['window']} only")
    return {
        "kind": kind,
        "suggested_min_ecpu_per_second": suggested,
        "spike_hours": count,
        "throttled_spike_hours": throttled_spikes,
        "extra_cost_per_month": extra,
        "share_of_bill": share,
        "scheduled": scheduled,
        "why": why,
    }


def _describe_window(slots: np.ndarray) -> str:
    """'Fridays 17:00-20:00 UTC' for recurring slots; 'the spike hours (7 a week)' when scattered."""
    hours = sorted({int(s) % 24 for s in slots})
    days = sorted({int(s) // 24 for s in slots})
    if len(hours) <= 2 and max(hours) - min(hours) <= 1:
        span = f"{(min(hours) - 1) % 24:02d}:00-{(max(hours) + 2) % 24:02d}:00 UTC"
        if len(days) <= 2:
            return f"{' and '.join(WEEKDAYS[d] for d in days)} {span}"
        return f"daily {span}"
    return f"the hours around the spikes ({len(slots)} hours of the week, an hour either side)"
