"""Runaway detection for `costwise watch`: the newest hours against the band the forecast expected. Pure.

The frame's last `stretch_hours` are watched; the hours before them are the history the forecast
(model/forecast.py project_month) is fitted on, exactly as a monthly projection would be. Each
watched hour's band is the projection for that hour widened by

- the projection's own uncertainty (its month-ahead level error, times `level_weight`: the next
  few hours carry less of it than a month), and
- the hour-to-hour noise the same fit leaves on the history's last `noise_days` (a robust sigma of
  log(observed / fitted) over the hours that matter), or with `noise_by_hour` that of the same
  hours of the day when larger,

the two in quadrature at `band` (99%), and never narrower than `min_ratio` x the expected hour.
(Expected hours that followed the level of the history's last hours against the fit were no better
in the benchmark, and are gone.) An hour is out of band when it is above its band by more than `min_excess_share` of the history's mean hour too (so a quiet night tripling from
almost nothing is no alarm). An alarm: the newest `sustained_hours` in a row out of band, in ECPUs
or in storage, each of them at least `step_ratio` x the watched hour before the run (`stepped_up`).
Its cost: what the excess over the expected hours comes to per day if it continues.

The band is computed once per run (`expected_band`), the decision from it is cheap (`decide`): the
benchmark (bench/bench_watch.py) tunes the decision's numbers on cached bands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from costwise.model.forecast import HOURS_PER_DAY, _slots, project_month
from costwise.model.robust import mad_sigma
from costwise.model.settings import SizingSettings

if TYPE_CHECKING:  # pragma: no cover
    from costwise.pricing import Rates

DIMENSIONS = ("ecpu", "storage")


@dataclass(frozen=True)
class WatchSettings:
    """What `watch` calls a runaway. `--stretch-hours` and `--sustained-hours` set the first two;
    the defaults are bench/bench_watch.py's choice on the five real families."""

    stretch_hours: int = 6  # the newest hours watched; the forecast is fitted on the hours before them
    sustained_hours: int = 2  # this many newest hours in a row out of band before an alarm
    band: float = 0.99  # the band covers this share of the hours the forecast expected
    noise_days: int = 7  # the hour-to-hour noise is measured over the history's last days...
    noise_floor: float = 0.25  # ...on the hours expected at this share of the mean hour or more
    # each watched hour's noise is at least that of the same hours of the day (+-1 h, all of them,
    # quiet ones too) over those days: a night hour or a rush hour swings more than the day's typical
    # hour, and the benchmark's false alarms were mostly such hours (its choice held out on 4 of 5)
    noise_by_hour: bool = True
    level_weight: float = 1.0  # how much of the projection's month-ahead level uncertainty the next hours carry
    min_ratio: float = 2.0  # an hour is never out of band below this multiple of what was expected...
    min_excess_share: float = 0.10  # ...nor by less than this share of the history's mean hour
    min_history_days: float = 3.0  # below this, no forecast: a young cache's band is its largest hour...
    young_ratio: float = 2.0  # ...x this (and the step from the hour before), given...
    young_min_hours: int = 24  # ...this many hours with data (fewer: said, never alarmed)
    # the hours out of band must also be this multiple of the watched hour(s) just before them (the
    # fit's shape taken out): a runaway is a step, a high day climbs into the band (1: off). The
    # benchmark's choice in every held-out fold: false alarms 1.40 -> 1.16 a cache-month on the same
    # fits, 3x runaways found within 2 hours about as often or more (metro 84% -> 95%), 2x less often
    step_ratio: float = 2.0
    step_base_hours: int = 1  # how many watched hours before the run are its base level

    RANGES = {"stretch_hours": (1, 48), "sustained_hours": (1, 48), "band": (0.5, 0.9999), "noise_days": (1, 60), "noise_floor": (0.0, 1.0),
              "level_weight": (0.0, 1.0), "min_ratio": (1.0, 100.0), "min_excess_share": (0.0, 100.0), "min_history_days": (1.0, 60.0),
              "young_ratio": (1.0, 100.0), "young_min_hours": (1, 1440), "step_ratio": (1.0, 100.0), "step_base_hours": (1, 24)}


@dataclass
class DimensionBand:
    """One dimension's expected hours over the stretch, and how wide its band is."""

    expected: np.ndarray  # per watched hour (ECPUs, or GB)
    noise_sigma: float  # hour-to-hour log sigma the fit leaves on the history
    fit_sigma: float  # the projection's own log sigma (SeriesFit.rel_sigma)
    mean_hour: float  # the history's mean hour (for the absolute floor)
    hour_sigma: np.ndarray | float = 0.0  # per watched hour: the noise of the same hours of the day (NaN: too few)
    floor_ratio: np.ndarray | float = np.nan  # the band's floor x expected where not min_ratio (young_band's young_ratio)

    def upper(self, settings: WatchSettings) -> np.ndarray:
        z = NormalDist().inv_cdf((1 + settings.band) / 2)
        noise = self.noise_sigma
        if settings.noise_by_hour:
            noise = np.fmax(noise, self.hour_sigma)  # NaN (too few of that hour): the whole day's
        # the level's error and the hour's own noise are independent: they add in quadrature
        width = np.exp(z * np.sqrt(np.square(noise) + np.square(settings.level_weight * self.fit_sigma)))
        floor = np.where(np.isnan(self.floor_ratio), settings.min_ratio, self.floor_ratio)
        return self.expected * np.maximum(width, floor)


@dataclass
class Band:
    ecpu: DimensionBand
    storage: DimensionBand
    history_days: float
    basis: str = "forecast"  # forecast | largest hour (a cache too young for a forecast: young_band)


def _log_ratios(values: np.ndarray, index, fit, last, settings: "WatchSettings") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log(observed / fitted) of the history's last `noise_days` against the fit's own hours
    (in-sample), NaN where either is missing or not positive; with the fitted hours and each hour's
    hour of the day."""
    keep = slice(max(0, values.size - settings.noise_days * HOURS_PER_DAY), values.size)
    hours_before = np.asarray((index[keep] - last) / np.timedelta64(1, "h"), dtype=float)
    fitted = fit.project((hours_before - 0.5) / HOURS_PER_DAY, _slots(index[keep], fit.weekly))
    observed = values[keep]
    ok = np.isfinite(observed) & (observed > 0) & (fitted > 0)
    logs = np.full(observed.size, np.nan)
    logs[ok] = np.log(observed[ok] / fitted[ok])
    return logs, fitted, np.asarray(index[keep].hour)


def _residuals(logs: np.ndarray, fitted: np.ndarray, settings: "WatchSettings") -> np.ndarray:
    """The log ratios, NaN but on the hours that matter: those the fit expects at `noise_floor` of
    the mean hour or more (a quiet night's few requests swing wildly in ratio and cost next to
    nothing); all NaN with less than a day of them."""
    ok = np.isfinite(logs)
    if ok.sum() < HOURS_PER_DAY:
        return np.full(logs.size, np.nan)
    return np.where(fitted >= settings.noise_floor * np.mean(fitted[ok]), logs, np.nan)


def _hour_sigma(logs: np.ndarray, hour_of_day: np.ndarray, last, hours: int) -> np.ndarray:
    """Per watched hour (the `hours` after `last`): the robust sigma of the log ratios at the same
    hour of the day +-1 (every hour with a positive value and fit, quiet or not); NaN with fewer
    than 8 such hours."""
    ok = np.isfinite(logs)
    logs, of_day = logs[ok], hour_of_day[ok]
    out = np.full(hours, np.nan)
    for k in range(hours):
        hour = (last.hour + 1 + k) % HOURS_PER_DAY
        apart = np.abs(of_day - hour)
        near = np.minimum(apart, HOURS_PER_DAY - apart) <= 1
        if near.sum() >= 8:
            out[k] = mad_sigma(logs[near])
    return out


def expected_band(history, rates: "Rates", settings: WatchSettings, hours: int, sizing: SizingSettings | None = None) -> Band | None:
    """The forecast for the `hours` after `history` (an hourly usage frame): None if too short."""
    finite = history[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1).to_numpy()
    days = float(finite.sum()) / HOURS_PER_DAY
    if days < settings.min_history_days:
        return None
    sizing = replace(sizing or SizingSettings(), horizon_hours=hours, interval=min(settings.band, 0.99))
    projection = project_month(history, rates, sizing)
    last = history.index[-1]
    storage_gb = history["storage_avg_bytes"].to_numpy(float) / rates.bytes_per_gb
    ecpus = history["ecpu_sum"].to_numpy(float)
    tail = slice(max(0, len(history) - settings.noise_days * HOURS_PER_DAY), len(history))

    def band(values, expected, fit) -> DimensionBand:
        mean = float(np.nanmean(values[tail])) if np.isfinite(values[tail]).any() else 0.0
        if fit.zero:
            return DimensionBand(np.asarray(expected, float), 0.0, float(fit.rel_sigma), mean)
        logs, fitted, hour_of_day = _log_ratios(values, history.index, fit, last, settings)
        residuals = _residuals(logs, fitted, settings)
        noise = mad_sigma(residuals) if np.isfinite(residuals).sum() >= HOURS_PER_DAY // 2 else 0.0
        return DimensionBand(np.asarray(expected, float), noise, float(fit.rel_sigma), mean,
                             _hour_sigma(logs, hour_of_day, last, hours))

    return Band(band(ecpus, projection.ecpu_per_hour, projection.ecpu),
                band(storage_gb, projection.storage_gb, projection.storage), days)


def out_of_band(observed: np.ndarray, band: DimensionBand, settings: WatchSettings) -> np.ndarray:
    """Which watched hours are above their band (and above the absolute floor). NaN is never out."""
    observed = np.asarray(observed, float)
    upper = band.upper(settings)
    excess = observed - band.expected
    # a history without traffic in this dimension (an empty cache being loaded) has nothing to go
    # by: its first requests are no runaway, and no floor of a share of nothing would hold them
    with np.errstate(invalid="ignore"):
        return (np.nan_to_num(observed > upper, nan=False) & (excess > settings.min_excess_share * band.mean_hour)
                & (np.asarray(band.mean_hour) > 0))


def streak(out: np.ndarray):
    """How many of the newest hours in a row are True (along the last axis: an int for one row)."""
    out = np.asarray(out, bool)
    run = np.cumprod(out[..., ::-1], axis=-1).sum(axis=-1)
    return int(run) if np.ndim(run) == 0 else run


def stepped_up(observed: np.ndarray, band: DimensionBand, run, settings: WatchSettings):
    """Whether each of the `run` newest hours is at least `step_ratio` x the level of the
    `step_base_hours` watched hours just before the run began (both against the expected hours, so
    the day's usual shape is taken out). Along the last axis, like `streak`.

    A runaway starts: the hours before it ran at their usual level relative to the forecast, and
    it multiplies them. A day that runs high (a sunny Saturday for bike rentals, a busy Monday)
    climbs into the band with the hour before already high: not a step. Those were the steadier
    families' false alarms (every alarm the step removes in the benchmark had a raised hour before
    it). The hours climbing back after a dip (rain stopping) are a step, but inside the band.
    A run without watched hours before it (as long as the stretch) or before it without data is not
    tested: the band alone decides."""
    observed = np.asarray(observed, float)
    run = np.asarray(run)
    if settings.step_ratio <= 1.0:
        return np.ones(run.shape, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(observed / band.expected)
    position = np.arange(observed.shape[-1])
    start = observed.shape[-1] - run[..., None]
    before = (position >= start - settings.step_base_hours) & (position < start) & np.isfinite(logs)
    known = before.any(axis=-1)
    with np.errstate(invalid="ignore"):
        base = np.sum(np.where(before, logs, 0.0), axis=-1) / np.maximum(before.sum(axis=-1), 1)
        lowest = np.min(np.where(position >= start, logs, np.inf), axis=-1)
        step = np.nan_to_num(lowest - base, nan=-np.inf) >= np.log(settings.step_ratio)
    return np.where(known, step, True)


def runaway_run(observed: np.ndarray, band: DimensionBand, settings: WatchSettings):
    """The newest hours in a row out of band when they make an alarm (at least `sustained_hours`,
    stepped up from the hours before them), else 0. Along the last axis, like `streak`."""
    run = np.asarray(streak(out_of_band(observed, band, settings)))
    alarm = (run >= settings.sustained_hours) & stepped_up(observed, band, run, settings)
    counted = np.where(alarm, run, 0)
    return int(counted) if np.ndim(counted) == 0 else counted


def young_band(history, rates: "Rates", settings: WatchSettings, hours: int) -> Band | None:
    """A cache too young for a forecast (under `min_history_days`) with `young_min_hours` hours of
    data or more: every watched hour is expected at the history's largest hour, and the band is
    `young_ratio` x that (never `min_ratio`: with no noise model this is a bound on what it ever
    did, not a band around what it should do). A runaway in a cache's first days costs as much as in
    an old one's; it misses what stays under twice the busiest hour so far. None when younger."""
    storage_gb = history["storage_avg_bytes"].to_numpy(float) / rates.bytes_per_gb
    ecpus = history["ecpu_sum"].to_numpy(float)
    known = np.isfinite(storage_gb) | np.isfinite(ecpus)
    if known.sum() < settings.young_min_hours:
        return None

    def band(values) -> DimensionBand:
        if not np.isfinite(values).any():
            return DimensionBand(np.full(hours, np.nan), 0.0, 0.0, 0.0)
        return DimensionBand(np.full(hours, float(np.nanmax(values))), 0.0, 0.0, float(np.nanmean(values)),
                             floor_ratio=settings.young_ratio)

    return Band(band(ecpus), band(storage_gb), float(known.sum()) / HOURS_PER_DAY, basis="largest hour")


@dataclass
class Finding:
    """One cache's watch: out of band or not, and what it costs if it continues."""

    status: str  # runaway | ok | short-history | no-data
    dimensions: list[str]  # the dimensions out of band (ecpu, storage)
    hours_out: int  # the newest hours in a row out of band
    ratio: float | None  # observed over expected in those hours (the worst dimension)
    excess_per_day: float  # dollars a day above the expected, if it continues
    expected_per_day: float  # dollars a day the forecast expected over the stretch
    observed_per_day: float  # dollars a day over the stretch, as billed
    limit_share: dict[str, float | None]  # busiest minute / hour over the max limit, per dimension
    grew: str | None = None  # the command family that grew, when cost drivers are available (issue 21)
    basis: str | None = "forecast"  # what was expected: the forecast, a young cache's largest hour (young_band), None: no band

    @property
    def alarm(self) -> bool:
        return self.status == "runaway"


def decide(stretch, band: Band | None, rates: "Rates", settings: WatchSettings, limits=None) -> Finding:
    """The finding for the watched hours `stretch` (an hourly usage frame) against `band`."""
    shares = limit_shares(stretch, rates, limits)
    storage_gb = stretch["storage_avg_bytes"].to_numpy(float) / rates.bytes_per_gb
    ecpus = stretch["ecpu_sum"].to_numpy(float)
    present = np.isfinite(storage_gb) | np.isfinite(ecpus)
    if not present.any():
        return Finding("no-data", [], 0, None, 0.0, 0.0, 0.0, shares, basis=None)
    last = int(np.flatnonzero(present)[-1]) + 1  # CloudWatch's newest hour may not be in yet
    storage_gb, ecpus = storage_gb[:last], ecpus[:last]
    observed_day = _per_day(storage_gb, ecpus, rates)
    if band is None:
        return Finding("short-history", [], 0, None, 0.0, 0.0, observed_day, shares, basis=None)
    expected = {"ecpu": band.ecpu.expected[:last], "storage": band.storage.expected[:last]}
    expected_day = _per_day(expected["storage"], expected["ecpu"], rates)
    observed = {"ecpu": ecpus, "storage": storage_gb}
    hours_out, out_dims, ratio, excess = 0, [], None, 0.0
    for name in DIMENSIONS:
        dim = getattr(band, name)
        trimmed = replace(dim, expected=dim.expected[:last],
                          hour_sigma=dim.hour_sigma[:last] if np.ndim(dim.hour_sigma) else dim.hour_sigma)
        run = runaway_run(observed[name], trimmed, settings)
        if not run:
            continue
        out_dims.append(name)
        hours_out = max(hours_out, run)
        seen, thought = observed[name][-run:], expected[name][-run:]
        ratio = max(ratio or 0.0, float(np.sum(seen) / np.sum(thought)) if np.sum(thought) > 0 else float("inf"))
        over = float(np.mean(seen - thought))
        excess += (over * rates.storage_per_gb_hour if name == "storage" else over / 1e6 * rates.ecpu_per_million) * HOURS_PER_DAY
    return Finding("runaway" if out_dims else "ok", out_dims, hours_out, ratio, excess, expected_day, observed_day, shares,
                   basis=band.basis)


def _per_day(storage_gb: np.ndarray, ecpus: np.ndarray, rates: "Rates") -> float:
    from costwise.model.cost import hourly_bill

    storage, ecpu = hourly_bill(storage_gb, ecpus, rates)
    hourly = np.nan_to_num(storage) + np.nan_to_num(ecpu)
    return float(np.mean(hourly) * HOURS_PER_DAY) if hourly.size else 0.0


def limit_shares(stretch, rates: "Rates", limits) -> dict[str, float | None]:
    """The stretch's busiest minute over the max ECPU/s limit, and its largest hour over the max storage."""
    from costwise.usage import busiest_ecpu_per_second

    shares: dict[str, float | None] = {"ecpu": None, "storage": None}
    if limits is None:
        return shares
    busiest = busiest_ecpu_per_second(stretch)
    largest = stretch["storage_max_bytes"].to_numpy(float) / rates.bytes_per_gb
    if limits.max_ecpu_per_second and np.isfinite(busiest).any():
        shares["ecpu"] = float(np.nanmax(busiest) / limits.max_ecpu_per_second)
    if limits.max_storage_gb and np.isfinite(largest).any():
        shares["storage"] = float(np.nanmax(largest) / limits.max_storage_gb)
    return shares


def watch_frame(frame, rates: "Rates", settings: WatchSettings, limits=None, sizing: SizingSettings | None = None) -> Finding:
    """The whole check on one cache's frame: its last `stretch_hours` against the hours before."""
    stretch_hours = min(settings.stretch_hours, len(frame))
    history, stretch = frame.iloc[:-stretch_hours], frame.iloc[-stretch_hours:]
    band = expected_band(history, rates, settings, stretch_hours, sizing) if len(history) else None
    if band is None and len(history):
        band = young_band(history, rates, settings, stretch_hours)
    return decide(stretch, band, rates, settings, limits)
