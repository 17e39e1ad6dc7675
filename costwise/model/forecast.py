"""Project the 730 hours after `as_of` from an hourly history: pure, numpy and pandas only.

Storage is a level and ECPU a flow, so each is projected on its own and only then priced hour by
hour (the storage minimum applies per hour, so the projected hours are priced, not their mean).

For each series:
1. Daily values (mean of the hours present; gaps stay gaps).
2. The current regime: the newest level shift (a TTL fix, a migration) is found by comparing a
   single robust line with a line broken at each candidate day; history before it is dropped.
3. A robust trend on the regime (Theil-Sen on log values: growth is multiplicative), clamped to a
   plausible daily rate, and kept only when it stands out of the noise.
4. An hourly profile: the mean ratio of each hour (of the week with two weeks of regime, of the day
   otherwise) to the trend. Means, not medians, so recurring spikes keep their share of the bill.
5. An interval from the residual noise, the level and slope uncertainty, scaled by a backtest on
   the environment's own history (rolling origins), with a small floor for model risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np

from costwise.model.cost import Cost, hourly_bill
from costwise.model.robust import mad_sigma, slope_stderr, theil_sen
from costwise.model.settings import SizingSettings

HOURS_PER_DAY = 24


@dataclass
class SeriesFit:
    """A fitted series: enough to project any future hour and to explain the projection."""

    log_model: bool
    intercept: float  # at x = 0 (as_of), in log or linear units
    slope: float  # per day
    profile: np.ndarray  # multiplicative, by slot
    weekly: bool  # slots are hours of the week (168) rather than of the day (24)
    rel_sigma: float  # log-scale sigma of the horizon's total, calibrated
    days_used: float  # days in the regime the fit used
    regime_start: object = None  # timestamp of the newest level shift, if any
    shift_change: float | None = None  # relative change at that shift
    zero: bool = False  # the series is all zero (or absent)

    def level(self, x_days: np.ndarray) -> np.ndarray:
        if self.zero:
            return np.zeros_like(x_days, dtype=float)
        if self.log_model:
            return np.exp(self.intercept + self.slope * x_days)
        return np.maximum(self.intercept + self.slope * x_days, 0.0)

    @property
    def daily_growth(self) -> float:
        """Fractional growth per day at as_of."""
        if self.zero:
            return 0.0
        if self.log_model:
            return float(np.expm1(self.slope))
        base = max(self.intercept, 1e-12)
        return self.slope / base

    def growth_over(self, days: float) -> float:
        """Level at as_of + days over level at as_of."""
        now = self.level(np.array([0.0]))[0]
        later = self.level(np.array([days]))[0]
        return float(later / now) if now > 0 else 1.0

    def project(self, x_days: np.ndarray, slots: np.ndarray) -> np.ndarray:
        return self.level(x_days) * self.profile[slots % self.profile.size]


def _slots(index, weekly: bool) -> np.ndarray:
    hours = np.asarray(index.hour)
    return (np.asarray(index.day_of_week) * 24 + hours) if weekly else hours


def _daily(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily means over days ending at the last hour; returns (x_center_days, mean, day_of_hour)."""
    n = values.size
    # day 0 is the newest day; days count backwards so the last day ends exactly at as_of
    day_of_hour = (n - 1 - np.arange(n)) // HOURS_PER_DAY
    n_days = int(day_of_hour.max()) + 1 if n else 0
    sums = np.bincount(day_of_hour, weights=np.nan_to_num(values), minlength=n_days)
    counts = np.bincount(day_of_hour, weights=np.isfinite(values).astype(float), minlength=n_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    min_hours = min(6, max(1, n // 4))
    means[counts < min_hours] = np.nan
    x = -(np.arange(n_days) + 0.5)  # day centres, in days before as_of
    return x[::-1], means[::-1], day_of_hour


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    slope, intercept = theil_sen(x, y)
    return slope, intercept, y - (intercept + slope * x)


def _find_regime(x: np.ndarray, y: np.ndarray, settings: SizingSettings) -> tuple[int, float | None]:
    """Index of the first day of the current regime and the relative jump there (None: no shift)."""
    n = x.size
    min_days = settings.level_shift_min_days
    if n < 2 * min_days:
        return 0, None
    _, _, resid_one = _fit_line(x, y)
    cost_one = float(np.sum(np.abs(resid_one)))
    best: tuple[float, int, float] | None = None
    for k in range(min_days, n - min_days + 1):
        s1, i1, r1 = _fit_line(x[:k], y[:k])
        s2, i2, r2 = _fit_line(x[k:], y[k:])
        cost_two = float(np.sum(np.abs(r1)) + np.sum(np.abs(r2)))
        at = (x[k - 1] + x[k]) / 2
        jump = (i2 + s2 * at) - (i1 + s1 * at)
        noise = max(mad_sigma(np.concatenate([r1, r2])), 1e-9)
        if abs(jump) < np.log1p(settings.level_shift_min_change) or abs(jump) < 4 * noise:
            continue
        if cost_two > 0.5 * cost_one:
            continue
        if best is None or cost_two < best[0]:
            best = (cost_two, k, jump)
    if best is None:
        return 0, None
    _, k, jump = best
    # a shift inside the new regime (two changes in a month) moves the start later still
    later, later_jump = _find_regime(x[k:], y[k:], settings)
    if later_jump is not None:
        return k + later, later_jump
    return k, float(np.expm1(jump))


@dataclass
class Trend:
    log_model: bool
    intercept: float
    slope: float
    resid: np.ndarray  # daily residuals, in log units
    slope_se: float
    walk_var: float = 0.0  # daily variance of a random walk in the log level (0: none found)
    recent_level: bool = False  # the intercept is the newest week's level, not the line's


def _walk_variance(y: np.ndarray) -> float:
    """Daily random-walk variance of a log series, from how its 7- and 14-day changes spread.

    For noise around a line, 7- and 14-day differences spread alike; a wandering level spreads the
    14-day ones more: var(d14) - var(d7) = 7 q^2. Whole weeks cancel the weekly pattern.
    """
    if y.size < 21:
        return 0.0
    v7 = _clipped_var(y[7:] - y[:-7])
    v14 = _clipped_var(y[14:] - y[:-14])
    if v14 <= 1.2 * v7:  # within what sampling noise does to iid data
        return 0.0
    return (v14 - v7) / 7


def _clipped_var(d: np.ndarray) -> float:
    """Variance around the median with outliers (a spike day) clipped at 4 robust sigmas."""
    centre = np.median(d)
    limit = 4 * max(mad_sigma(d), 1e-12)
    return float(np.mean(np.clip(d - centre, -limit, limit) ** 2))


def _fit_trend(x: np.ndarray, values: np.ndarray, settings: SizingSettings, short: bool) -> Trend:
    """A robust trend for daily values on the regime."""
    positive = values[values > 0]
    floor = float(positive.min()) * 0.5 if positive.size else 1e-9
    y = np.log(np.maximum(values, floor))
    max_slope = np.log1p(settings.max_daily_growth)
    if short:
        # Days old: a straight line in level units, damped, is safer than compounding growth.
        slope, intercept, _ = _fit_line(x, values)
        mean = max(float(np.mean(values)), 1e-12)
        slope = float(np.clip(slope, -max_slope * mean, max_slope * mean))
        fitted = np.maximum(intercept + slope * x, floor)
        resid = y - np.log(fitted)
        return Trend(False, intercept, slope, resid, slope_stderr(x, resid) * mean)
    slope, intercept, resid = _fit_line(x, y)
    se = slope_stderr(x, resid)
    walk_var = _walk_variance(y)
    if walk_var > 0:
        # residuals of a wandering level are correlated: the slope is far less certain than they say
        se = max(se, float(np.sqrt(walk_var * 1.2 / x.size)))
    if abs(slope) < 2 * se or not _consistent(x, y, slope):
        # not distinguishable from noise or from a wandering level: project a flat level
        slope = 0.0
        intercept = float(np.median(y))
        resid = y - intercept
    slope = float(np.clip(slope, -max_slope, max_slope))
    recent = False
    if x.size >= 14:
        # the newest week tells more about now than the month's line when the level wanders, and
        # costs little when it does not (a whole week: the weekly pattern cancels)
        intercept = float(np.median(y[-7:] - slope * x[-7:]))
        recent = True
    return Trend(True, intercept, slope, resid, se, walk_var, recent)


def _consistent(x: np.ndarray, y: np.ndarray, slope: float) -> bool:
    """Real growth shows in both halves of the history; a random walk's 'trend' rarely does."""
    if x.size < 10 or slope == 0:
        return True
    half = x.size // 2
    first, _ = theil_sen(x[:half], y[:half])
    second, _ = theil_sen(x[half:], y[half:])
    return all(np.sign(part) == np.sign(slope) and abs(part) >= abs(slope) / 3 for part in (first, second))


def _local_level(values: np.ndarray, trend: Trend) -> np.ndarray:
    """Each hour's underlying level: a centred 7-day rolling median of the detrended daily values.

    The hourly profile is measured against this rather than against the fitted line, so a level
    that wanders (or a line that misses) does not leak the past level into the projection.
    """
    import pandas as pd

    x_days, daily, day_of_hour = _daily(values)  # oldest first; day_of_hour counts back from the newest
    if not trend.log_model:
        return np.maximum(trend.intercept + trend.slope * (-(day_of_hour + 0.5)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(daily) - trend.slope * x_days
    z[~np.isfinite(z)] = np.nan
    smooth = pd.Series(z).rolling(7, center=True, min_periods=1).median().to_numpy()
    level_by_day = np.exp(smooth + trend.slope * x_days)  # oldest first
    newest_first = level_by_day[::-1]
    return newest_first[day_of_hour]


def _profile(values: np.ndarray, index, level: np.ndarray, weekly: bool) -> np.ndarray:
    """Mean ratio of each hour to its local level, by slot; empty slots borrow the overall mean."""
    slots = _slots(index, weekly)
    size = 168 if weekly else 24
    ok = np.isfinite(values) & np.isfinite(level) & (level > 0)
    ratio = np.zeros_like(values, dtype=float)
    ratio[ok] = values[ok] / level[ok]
    sums = np.bincount(slots[ok], weights=ratio[ok], minlength=size)
    counts = np.bincount(slots[ok], minlength=size).astype(float)
    overall = float(ratio[ok].mean()) if ok.any() else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(counts > 0, sums / np.maximum(counts, 1), overall)
    return profile


def _uncertainty(x: np.ndarray, trend: Trend, horizon_days: float) -> float:
    """Log-scale sigma of the mean over the horizon: level, slope, day-to-day noise, wandering."""
    n = max(x.size, 1)
    resid = trend.resid
    sigma_d = mad_sigma(resid) if resid.size >= 3 else 0.0
    distance = horizon_days / 2 - float(np.mean(x)) if x.size else horizon_days / 2
    level_var = sigma_d**2 / (min(n, 7) if trend.recent_level else n)
    slope_var = (trend.slope_se * distance) ** 2
    noise_var = sigma_d**2 / max(horizon_days, 1.0)
    # a random walk: the mean of the next H days strays by q^2 H/3, the level now by q^2 7/3
    walk_var = trend.walk_var * (horizon_days / 3 + (7 if trend.recent_level else n) / 3)
    return float(np.sqrt(level_var + slope_var + noise_var + walk_var))


def fit_series(values: np.ndarray, index, settings: SizingSettings, *, calibrate: bool = True, find_regime: bool = True) -> SeriesFit:
    """Fit one hourly series (NaN = gap) whose last hour ends at as_of."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    horizon_days = settings.horizon_hours / HOURS_PER_DAY
    if not finite.any() or np.nanmax(np.abs(values)) == 0:
        return SeriesFit(True, 0.0, 0.0, np.ones(24), False, 0.0, 0.0, zero=True)

    # Only the stretch since the first datapoint is history; a cache created mid-window has none before.
    first = int(np.argmax(finite))
    values = values[first:]
    index = index[first:]
    n = values.size
    x_hours = -(n - np.arange(n) - 0.5) / HOURS_PER_DAY  # hour centres in days before as_of

    x_days, daily, _ = _daily(values)
    keep = np.isfinite(daily)
    x_days, daily = x_days[keep], daily[keep]

    regime_start = None
    shift_change = None
    if find_regime and x_days.size >= 2:
        positive = daily[daily > 0]
        floor = float(positive.min()) * 0.5 if positive.size else 1e-9
        start, shift_change = _find_regime(x_days, np.log(np.maximum(daily, floor)), settings)
        if shift_change is not None:
            cut_x = x_days[start] - 0.5
            cut_hour = int(np.searchsorted(x_hours, cut_x))
            regime_start = index[cut_hour]
            values, index, x_hours = values[cut_hour:], index[cut_hour:], x_hours[cut_hour:]
            x_days, daily = x_days[start:], daily[start:]

    days_used = values.size / HOURS_PER_DAY
    short = days_used < settings.min_history_days
    if x_days.size >= 3:
        trend = _fit_trend(x_days, daily, settings, short)
        fit_x = x_days
    else:
        # less than three days: fit the hours themselves, straight line, damped
        ok = np.isfinite(values)
        trend = _fit_trend(x_hours[ok], values[ok], settings, True)
        fit_x = x_hours[ok]

    weekly = days_used >= 14
    fit = SeriesFit(trend.log_model, trend.intercept, trend.slope, np.ones(24), weekly, 0.0, days_used, regime_start, shift_change)
    fit.profile = _profile(values, index, _local_level(values, trend) if x_days.size >= 3 else fit.level(x_hours), weekly)
    sigma = _uncertainty(fit_x, trend, horizon_days)
    if calibrate:
        # Past fits (shorter histories) cannot see a random walk: calibrate the model without it,
        # and keep whichever of the two says more.
        plain = Trend(trend.log_model, trend.intercept, trend.slope, trend.resid, trend.slope_se)
        sigma = max(sigma, _uncertainty(fit_x, plain, horizon_days) * _backtest_scale(values, index, settings))
    if short:
        sigma = max(2 * sigma, 0.25)
    # beyond +-100% in log terms (x2.7) an interval says nothing more: keep the numbers finite
    fit.rel_sigma = min(sigma, 1.0)
    return fit


def _backtest_scale(values: np.ndarray, index, settings: SizingSettings) -> float:
    """How much wider the interval must be for past projections to have been right.

    Rolling origins inside the regime: fit on the days before each origin, project up to a week,
    compare the mean with what happened, in units of the sigma the fit claimed for that horizon.
    """
    n = values.size
    days = n // HOURS_PER_DAY
    if days < 10:
        return 1.0
    z = []
    for origin_day in range(7, days - 2, 2):
        origin = origin_day * HOURS_PER_DAY
        test_hours = min(7 * HOURS_PER_DAY, n - origin)
        sub = replace(settings, horizon_hours=test_hours)
        # the values are already the current regime: no shift to look for again
        past = fit_series(values[:origin], index[:origin], sub, calibrate=False, find_regime=False)
        if past.zero:
            continue
        future_index = index[origin : origin + test_hours]
        x = (np.arange(test_hours) + 0.5) / HOURS_PER_DAY
        predicted = past.project(x, _slots(future_index, past.weekly))
        actual = values[origin : origin + test_hours]
        ok = np.isfinite(actual)
        if not ok.any() or predicted[ok].sum() <= 0 or actual[ok].sum() <= 0:
            continue
        error = abs(np.log(actual[ok].sum() / predicted[ok].sum()))
        z.append(error / max(past.rel_sigma, settings.min_interval_halfwidth / 2))
    if not z:
        return 1.0
    # median |N(0,1)| is 0.6745: the scale that makes the observed errors typical
    return float(np.clip(np.median(z) / 0.6745, 1.0, 10.0))


@dataclass
class Projection:
    """The next `horizon_hours` after as_of, priced, with an interval."""

    index: object  # DatetimeIndex of the projected hours
    storage_gb: np.ndarray
    ecpu_per_hour: np.ndarray
    cost: Cost
    low: float
    high: float
    storage_band: tuple[np.ndarray, np.ndarray]
    ecpu_band: tuple[np.ndarray, np.ndarray]
    storage: SeriesFit
    ecpu: SeriesFit
    confidence: str
    history_days: float
    notes: list[str] = field(default_factory=list)


def _describe(name: str, fit: SeriesFit) -> list[str]:
    notes = []
    if fit.zero:
        return notes
    if fit.shift_change is not None and fit.regime_start is not None:
        verb = "rose" if fit.shift_change > 0 else "fell"
        notes.append(
            f"{name} {verb} {abs(fit.shift_change):.0%} on {fit.regime_start:%Y-%m-%d} (level shift): projecting from the new level"
        )
    growth = fit.daily_growth
    if abs(growth) >= 0.001:
        verb = "grew" if growth > 0 else "shrank"
        notes.append(f"{name} {verb} {abs(growth):.1%}/day over {fit.days_used:.0f} days")
    return notes


def project_month(frame, rates, settings: SizingSettings | None = None) -> Projection:
    """Project the hours after the frame's last hour. frame: hourly, columns storage_avg_bytes, ecpu_sum."""
    import pandas as pd

    settings = settings or SizingSettings()
    index = frame.index
    storage_gb = frame["storage_avg_bytes"].to_numpy(dtype=float) / rates.bytes_per_gb
    ecpus = frame["ecpu_sum"].to_numpy(dtype=float)
    storage_fit = fit_series(storage_gb, index, settings)
    ecpu_fit = fit_series(ecpus, index, settings)

    horizon = settings.horizon_hours
    as_of = index[-1] + pd.Timedelta(hours=1)
    future = pd.date_range(as_of, periods=horizon, freq="h", tz="UTC")
    x = (np.arange(horizon) + 0.5) / HOURS_PER_DAY
    storage_proj = storage_fit.project(x, _slots(future, storage_fit.weekly))
    ecpu_proj = ecpu_fit.project(x, _slots(future, ecpu_fit.weekly))

    z = NormalDist().inv_cdf((1 + settings.interval) / 2)

    def band(fit: SeriesFit, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        half = max(z * fit.rel_sigma, settings.min_interval_halfwidth)
        return series * np.exp(-half), series * np.exp(half)

    s_low, s_high = band(storage_fit, storage_proj)
    e_low, e_high = band(ecpu_fit, ecpu_proj)
    s_cost, e_cost = hourly_bill(storage_proj, ecpu_proj, rates)
    cost = Cost(float(s_cost.sum()), float(e_cost.sum()))
    low = sum(float(part.sum()) for part in hourly_bill(s_low, e_low, rates))
    high = sum(float(part.sum()) for part in hourly_bill(s_high, e_high, rates))

    finite_hours = frame[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1)
    history_days = float(finite_hours.sum()) / HOURS_PER_DAY
    regime_days = min(storage_fit.days_used if not storage_fit.zero else history_days, ecpu_fit.days_used if not ecpu_fit.zero else history_days)
    if regime_days >= 21:
        confidence = "high"
    elif regime_days >= settings.min_history_days:
        confidence = "medium"
    else:
        confidence = "low"
    notes = _describe("storage", storage_fit) + _describe("ECPU", ecpu_fit)
    if confidence == "low":
        notes.append(f"only {regime_days:.1f} days of history in the current pattern: confidence is low, the interval is wide")
    return Projection(
        index=future,
        storage_gb=storage_proj,
        ecpu_per_hour=ecpu_proj,
        cost=cost,
        low=low,
        high=high,
        storage_band=(s_low, s_high),
        ecpu_band=(e_low, e_high),
        storage=storage_fit,
        ecpu=ecpu_fit,
        confidence=confidence,
        history_days=history_days,
        notes=notes,
    )
