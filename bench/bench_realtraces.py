"""Backtest the advisor on real traffic (../shared/realdata), five families, against standard forecasters.

Data: five real series of human-driven demand, one family each (../shared/realdata/README.md):
road traffic (I-94, Minneapolis), bike rentals (Washington DC, two years of growth), Uber pickups
(NYC, a young service growing fast, weekend bursts), pedestrians by an events ground (Melbourne,
festival nights 39x the median hour, month-long sensor outages) and English Wikipedia requests
(years of growth and decline, a -32% level shift). Each case turns a stretch of one into a cache
workload (the README's recipe):

- ECPU: the series scaled so that its mean over the history is the case's level L (1,000..50,000
  ECPU/s). The busiest minute of each hour is the hour's mean rate x a burst factor drawn per hour:
  1 + Gamma(2, 0.05 x (1 + rate / p95 rate)) (heavier at busy hours), and in 0.3% of hours a flash
  burst x U(1.5, 2.5).
- Storage: a cache-aside working set that follows recent traffic:
  S0 x (0.35 + 0.65 x mean(rate over the previous 6 h) / mean(rate)), S0 from 0.05 to 50 GB; the
  hour's maximum is its average x (1 + U(0, 3%)).
- Missing hours (empty values, absent rows) stay gaps in the history (CloudWatch would have no
  datapoint); in the truth they are interpolated (the cache was still billed). A truth more than 5%
  interpolated (a month-long outage) measures nothing: that origin is skipped.
- Origins every 14 days wherever 30 days of history and 730 hours of truth fit, plus new caches
  with 3, 7 and 14 days of history at every fourth origin (moved by a few days, so that new
  caches start on every weekday).

Truth: the bill of the 730 hours after the origin, hour by hour, with the storage minimum per hour;
the peaks of those hours (hourly maximum storage, busiest-minute ECPU/s) for the limits.

costwise runs with the defaults a new user gets (no holiday calendar). The same model with the
family's own calendar is printed beside it ("with calendar"), not as a peer. Every family weighs
the same in "all" (a long series must not drown a short one).

Peers, on the same cases and prices: naive 30-day run rate (window cost / hours x 730), last-week
run rate, seasonal naive (the last week repeated hour by hour), statsforecast MSTL(24, 168) with an
AutoETS trend, and AutoETS(24). statsforecast is the `bench` extra (pip install 'costwise[bench]');
without it (or with --no-peers) those two columns are skipped and said so.

Leave one family out (--no-lofo skips it): every forecast setting chosen on this corpus (TUNED
below) is picked on four families and judged on the fifth; the per-fold picks and the held-out
figures are printed.

Targets (issue 20): on every family costwise's mean error at most the naive run rate's, and also
with the settings the other four families would have chosen; over the families, at least 10% below
the best peer's; on every family the 80% interval covers 75..90% and high < medium < low by mean
error; no recommended limit below a peak its history reached; next month's peak above the
recommendation in at most 5% of cases per dimension and recommended / next-month peak median
<= 2x, 90th percentile <= 4x (above AWS's floors), over the families weighted equally (per family
printed); the analysis of one cache under 10 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from costwise.limits import MIN_ECPU_LIMIT, MIN_STORAGE_LIMIT_GB  # noqa: E402
from costwise.model.cost import cost_of_hours, hourly_bill  # noqa: E402
from costwise.model.forecast import project_month  # noqa: E402
from costwise.model.settings import SizingSettings  # noqa: E402
from costwise.model.sizing import recommend_limits  # noqa: E402
from costwise.pricing import load_pricing  # noqa: E402
from costwise.usage import CurrentLimits  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "realdata"
HISTORY_DAYS = 30
HORIZON = 730
ORIGIN_STEP_DAYS = 14
SHORT_AGES = (3, 7, 14)
GIB = 2**30
METHODS = ("costwise", "naive30", "lastweek", "snaive", "mstl", "autoets")
MAX_TRUTH_GAP = 0.05  # a truth more than 5% interpolated (a month-long sensor outage) is no truth


@dataclass(frozen=True)
class Family:
    name: str
    file: str
    calendar: str  # the public holidays of the place the series was measured (the "with calendar" line)


FAMILIES = (
    Family("metro", "metro_traffic_hourly.csv.gz", "US"),
    Family("bikes", "capital_bikeshare_dc_hourly.csv.gz", "US"),
    Family("uber", "uber_nyc_pickups_2015_hourly.csv.gz", "US"),
    Family("pedestrians", "melbourne_birrarung_marr_pedestrians_hourly.csv.gz", "AU-VIC"),
    Family("wikipedia", "wikipedia_en_requests_hourly.csv.gz", "none"),
)


@dataclass
class Case:
    name: str
    family: str
    origin: pd.Timestamp
    history_days: int
    storage_gb: float
    level: float
    history: pd.DataFrame  # usage contract columns, gaps kept
    future: pd.DataFrame  # the truth, gaps interpolated


def load_series(path: Path) -> pd.Series:
    """One family's hourly series on a complete hourly index: absent rows and empty values are gaps."""
    table = pd.read_csv(path)
    # local time read as UTC labels (the daily and weekly cycles are what matter; a spring-forward
    # hour that does not exist becomes a one-hour gap), UTC read as UTC
    stamps = pd.to_datetime(table.iloc[:, 0].astype(str).str.replace("Z", "", regex=False))
    series = pd.Series(table.iloc[:, 1].to_numpy(float), index=pd.DatetimeIndex(stamps).tz_localize("UTC"))
    full = pd.date_range(series.index[0], series.index[-1], freq="h", tz="UTC", name="timestamp")
    return series.reindex(full)


def workload(series: pd.Series, level: float, storage_gb: float, scale_on: slice, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The whole series as a cache's hourly statistics (usage contract columns), gaps kept as NaN."""
    rng = np.random.default_rng(seed)
    values = series.to_numpy(float)
    base = np.nanmean(values[scale_on])
    rate = level * values / base  # ECPU/s
    filled = pd.Series(rate).interpolate(limit_direction="both").to_numpy()
    recent = pd.Series(filled).shift(1).rolling(6, min_periods=1).mean().bfill().to_numpy()
    storage = storage_gb * (0.35 + 0.65 * recent / np.mean(filled[scale_on]))
    p95 = np.nanpercentile(filled, 95)
    burst = 1 + rng.gamma(2.0, 0.05 * (1 + filled / p95))
    flash = rng.random(values.size) < 0.003
    burst[flash] *= rng.uniform(1.5, 2.5, int(flash.sum()))
    frame = pd.DataFrame({
        "storage_avg_bytes": storage * GIB,
        "storage_max_bytes": storage * (1 + rng.uniform(0, 0.03, values.size)) * GIB,
        "ecpu_sum": filled * 3600,
        "ecpu_max_minute": filled * burst * 60,
        "throttled_sum": 0.0,
    }, index=series.index.rename("timestamp"))
    return frame, np.isnan(values)


def make_cases(series: pd.Series, family: str, seed0: int = 0) -> list[Case]:
    hours = series.size
    cases = []
    missing_all = np.isnan(series.to_numpy(float))
    origins = range(HISTORY_DAYS * 24, hours - HORIZON - 7 * 24 + 1, ORIGIN_STEP_DAYS * 24)
    for i in range(len(origins)):
        ages = [HISTORY_DAYS] + (list(SHORT_AGES) if i % 4 == 1 else [])
        for j, age in enumerate(ages):
            k = len(cases)
            # new caches start on any weekday: their origins are moved by 0..6 days (the 30-day
            # origins all fall on one weekday, which would give every 3-day cache the same weekdays)
            origin = origins[i] + ((i + 3 * j) % 7) * 24 * (age < HISTORY_DAYS)
            start = origin - age * 24
            # a truth mostly interpolated, or a history with no data at all, measures nothing
            if missing_all[origin : origin + HORIZON].mean() > MAX_TRUTH_GAP or missing_all[start:origin].all():
                continue
            # scales spread evenly in log space (golden-ratio steps): 0.05..50 GB, 1,000..50,000 ECPU/s
            storage_gb = 0.05 * 1000 ** (((k + seed0) * 0.618034) % 1)
            level = 1000 * 50 ** (((k + seed0) * 0.381966 + 0.2) % 1)
            frame, missing = workload(series, level, storage_gb, slice(start, origin), seed=seed0 + k)
            history = frame.iloc[start:origin].copy()
            history.loc[missing[start:origin]] = np.nan
            cases.append(Case(f"{family}:{series.index[origin]:%Y-%m-%d}/{age}d", family, series.index[origin], age,
                              storage_gb, level, history, frame.iloc[origin : origin + HORIZON]))
    return cases


def all_cases(families=FAMILIES, data: Path = DATA) -> list[Case]:
    cases = []
    for family in families:  # each family its own seeds and scales, whichever families run
        cases.extend(make_cases(load_series(data / family.file), family.name, seed0=1000 * FAMILIES.index(family)))
    return cases


def bill(storage_gb: np.ndarray, ecpus: np.ndarray, rates) -> float:
    storage, ecpu = hourly_bill(storage_gb, ecpus, rates)
    return float(np.nansum(storage) + np.nansum(ecpu))


def seasonal_naive(values: np.ndarray) -> np.ndarray:
    """The last week (or the last day, for shorter histories) repeated over the horizon."""
    season = 168 if values.size >= 168 else 24 if values.size >= 24 else values.size
    last = pd.Series(values[-season:]).interpolate(limit_direction="both").to_numpy()
    return np.resize(last, HORIZON)


PEERS_CACHE = REPO / "bench" / ".peers-cache.json"  # statsforecast's bills per case (minutes to refit; not in git)


def cached_peers(case: Case, rates, cache: dict) -> dict[str, float | None]:
    """statsforecast_peers, kept in `cache` by case, scale and price (the workload recipe is fixed)."""
    key = f"{case.name}|{case.storage_gb:.9g}|{case.level:.9g}|{rates.storage_per_gb_hour:g}|{rates.ecpu_per_million:g}"
    if key not in cache or None in cache[key].values():
        cache[key] = statsforecast_peers(case, rates)
    return cache[key]


def statsforecast_peers(case: Case, rates) -> dict[str, float | None]:
    """MSTL(24, 168) with an AutoETS trend, and AutoETS(24): each series fitted and priced hour by hour."""
    try:
        from statsforecast.models import MSTL, AutoETS
    except ImportError:
        return {"mstl": None, "autoets": None}
    out = {}
    n = len(case.history)
    seasons = [s for s in (24, 168) if n >= 2 * s]
    makers = {
        "mstl": lambda: MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN")) if seasons else AutoETS(model="ZZN"),
        "autoets": lambda: AutoETS(season_length=24, model="ZZZ") if n >= 48 else AutoETS(model="ZZN"),
    }
    for name, make in makers.items():
        forecasts = []
        for column, unit in (("storage_avg_bytes", GIB), ("ecpu_sum", 1.0)):
            y = case.history[column].interpolate(limit_direction="both").to_numpy(float) / unit
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    mean = make().fit(y).predict(h=HORIZON)["mean"]
                except Exception:  # a fit that fails falls back to the run rate, as a user would
                    mean = np.full(HORIZON, np.mean(y))
            forecasts.append(np.maximum(np.asarray(mean, float), 0.0))
        out[name] = bill(forecasts[0], forecasts[1], rates)
    return out


def run_case(case: Case, rates, settings: SizingSettings, calendar: SizingSettings | None, peers: dict | None = None) -> dict:
    """One case: the truth, every method's bill, the interval and the limits. peers: the statsforecast
    cache (None: skip MSTL and AutoETS)."""
    h, f = case.history, case.future
    truth = cost_of_hours(f["storage_avg_bytes"], f["ecpu_sum"], rates).total
    hours_with_data = int(h[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1).sum())
    window = cost_of_hours(h["storage_avg_bytes"], h["ecpu_sum"], rates).total
    last = h.iloc[-168:]
    last_hours = int(last[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1).sum())
    estimates = {
        "naive30": window / hours_with_data * HORIZON,
        "lastweek": cost_of_hours(last["storage_avg_bytes"], last["ecpu_sum"], rates).total / max(last_hours, 1) * HORIZON,
        "snaive": bill(seasonal_naive(h["storage_avg_bytes"].to_numpy(float) / GIB), seasonal_naive(h["ecpu_sum"].to_numpy(float)), rates),
    }
    if peers is not None:
        estimates.update(cached_peers(case, rates, peers))

    # CPU time, not wall time: the figure must not depend on what else the machine runs
    t0 = time.process_time()
    projection = project_month(h, rates, settings)
    advice = recommend_limits(h, projection, CurrentLimits(), rates, settings)
    elapsed = time.process_time() - t0
    estimates["costwise"] = projection.cost.total
    with_calendar = project_month(h, rates, calendar).cost.total if calendar is not None else None

    peak_gb = float(f["storage_max_bytes"].max()) / GIB
    peak_ecpu = float(f["ecpu_max_minute"].max()) / 60
    history_peak_gb = float(h["storage_max_bytes"].max()) / GIB
    history_peak_ecpu = float(h["ecpu_max_minute"].max()) / 60
    rec_gb, rec_ecpu = advice.storage.recommended, advice.ecpu.recommended
    minimum = advice.ecpu_minimum
    return {
        "case": case,
        "truth": truth,
        "estimates": estimates,
        "errors": {m: (abs(v - truth) / truth if v is not None else None) for m, v in estimates.items()},
        "calendar_error": abs(with_calendar - truth) / truth if with_calendar is not None else None,
        "low": projection.low,
        "high": projection.high,
        "covered": projection.low <= truth <= projection.high,
        "width": (projection.high - projection.low) / projection.cost.total,
        "confidence": projection.confidence,
        "breach_gb": peak_gb > rec_gb,
        "breach_ecpu": peak_ecpu > rec_ecpu,
        # the advice must never sit below a peak the cache already reached in its own history
        "below_history": rec_gb < history_peak_gb or rec_ecpu < history_peak_ecpu,
        # oversize counts only where the recommendation is above AWS's floor (the floor is not a choice)
        "over_gb": rec_gb / peak_gb if rec_gb > MIN_STORAGE_LIMIT_GB else None,
        "over_ecpu": rec_ecpu / peak_ecpu if rec_ecpu > MIN_ECPU_LIMIT else None,
        "minimum": (minimum["kind"], minimum["share_of_bill"]) if minimum else None,
        "seconds": elapsed,
    }


def pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.1%}"


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


@dataclass
class Summary:
    """One family's figures (or all families weighted equally)."""

    cases: int
    means: dict  # method -> mean error
    medians: dict
    coverage: float
    by_level: dict  # confidence -> (cases, mean error, coverage)
    breach_gb: float
    breach_ecpu: float
    below_history: int
    oversize: list
    calendar: float | None


def summarise(rows: list[dict]) -> Summary:
    means, medians = {}, {}
    for method in METHODS:
        e = [r["errors"].get(method) for r in rows]
        e = [x for x in e if x is not None]
        if e:
            means[method], medians[method] = statistics.mean(e), statistics.median(e)
    by_level = {}
    for level in ("high", "medium", "low"):
        subset = [r for r in rows if r["confidence"] == level]
        if subset:
            by_level[level] = (len(subset), statistics.mean(r["errors"]["costwise"] for r in subset),
                               sum(r["covered"] for r in subset) / len(subset))
    return Summary(
        cases=len(rows), means=means, medians=medians,
        coverage=sum(r["covered"] for r in rows) / len(rows), by_level=by_level,
        breach_gb=sum(r["breach_gb"] for r in rows) / len(rows), breach_ecpu=sum(r["breach_ecpu"] for r in rows) / len(rows),
        below_history=sum(r["below_history"] for r in rows),
        oversize=[x for r in rows for x in (r["over_gb"], r["over_ecpu"]) if x is not None],
        calendar=mean(r["calendar_error"] for r in rows),
    )


def equal_weights(summaries: dict[str, Summary]) -> dict[str, float]:
    """Each method's mean error over the families, every family weighing the same."""
    methods = set.intersection(*(set(s.means) for s in summaries.values()))
    return {m: statistics.mean(s.means[m] for s in summaries.values()) for m in METHODS if m in methods}


# Every setting of the forecast chosen on this corpus, with the candidates it was chosen from and
# what it was chosen for. --lofo (leave one family out) picks each on four families and reports the
# fifth: a default that only one family needs is not a default.
TUNED = {
    "level strategies (mean error)": ("error", [
        {"level_strategies": ("structured",)},
        {"level_strategies": ("structured", "run_rate"), "strategy_weight_power": 0.0},
        {"level_strategies": ("structured", "run_rate"), "strategy_weight_power": 0.5},
        {"level_strategies": ("structured", "run_rate"), "strategy_weight_power": 2.0},
        {"level_strategies": ("structured", "run_rate", "last_week"), "strategy_weight_power": 0.5},
    ]),
    "backtest_scale (coverage)": ("coverage", [{"backtest_scale": v} for v in (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.4)]),
    # histories too short to backtest: their sigma at least this x the spread of their daily levels
    "day_spread_scale (coverage)": ("coverage", [{"day_spread_scale": v} for v in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)]),
    # limits of new caches: the smallest allowance with which the most families keep the breaches of
    # their caches under a week old at 5% or less (each dimension); more only buys oversize
    "unseen_week_allowance (new caches' breaches)": ("new caches", [{"unseen_week_allowance": v} for v in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)]),
}

NEW_CACHE_DAYS = 7  # "new caches" in the limits objective: less than a week of history
NEW_CACHE_BREACHES = 0.05


def label(overrides: dict) -> str:
    return ", ".join(f"{k}={'+'.join(v) if isinstance(v, tuple) else v}" for k, v in overrides.items())


def leave_one_family_out(cases: list[Case], rates, settings: SizingSettings, truths: list[float]) -> list[str]:
    """For each tuned setting: on each fold, the candidate best on the other families, and how the
    held-out family fares with it. Returns the held-out misses (a family worse than its run rate)."""
    names = sorted({c.family for c in cases}, key=[f.name for f in FAMILIES].index)
    naive = {}
    for c, truth in zip(cases, truths):
        h = c.history
        hours = int(h[["storage_avg_bytes", "ecpu_sum"]].notna().any(axis=1).sum())
        naive.setdefault(c.family, []).append(abs(cost_of_hours(h["storage_avg_bytes"], h["ecpu_sum"], rates).total / hours * HORIZON - truth) / truth)
    misses = []
    for knob, (objective, candidates) in TUNED.items():
        # per candidate: family -> (mean error, coverage) or, for the limits, (new caches' breaches: the
        # larger of the two dimensions, over-size median)
        scores = []
        for overrides in candidates:
            variant = replace(settings, **overrides)
            per = {}
            for c, truth in zip(cases, truths):
                if objective == "new caches":
                    if c.history_days >= NEW_CACHE_DAYS:
                        continue
                    p = project_month(c.history, rates, variant)
                    advice = recommend_limits(c.history, p, CurrentLimits(), rates, variant)
                    peak_gb = float(c.future["storage_max_bytes"].max()) / GIB
                    peak_ecpu = float(c.future["ecpu_max_minute"].max()) / 60
                    per.setdefault(c.family, []).append((max(peak_gb > advice.storage.recommended, peak_ecpu > advice.ecpu.recommended),
                                                         advice.ecpu.recommended / peak_ecpu))
                    continue
                p = project_month(c.history, rates, variant)
                per.setdefault(c.family, []).append((abs(p.cost.total - truth) / truth, p.low <= truth <= p.high))
            scores.append({f: (statistics.mean(e for e, _ in v), statistics.median(k for _, k in v)) if objective == "new caches"
                           else (statistics.mean(e for e, _ in v), statistics.mean(k for _, k in v)) for f, v in per.items()})

        def loss(score, families):
            if objective == "error":
                return statistics.mean(score[f][0] for f in families)
            if objective == "new caches":  # families over the target; min() keeps the smallest on a tie
                return sum(score[f][0] > NEW_CACHE_BREACHES for f in families if f in score)
            return statistics.mean(abs(score[f][1] - 0.825) for f in families)

        print(f"leave one family out: {knob}")
        for held in names:
            others = [f for f in names if f != held]
            pick = min(range(len(candidates)), key=lambda i: loss(scores[i], others))
            if objective == "new caches":
                breaches, over = scores[pick].get(held, (float("nan"), float("nan")))
                print(f"  held out {held:12} picked on the others: {label(candidates[pick]):58} "
                      f"held-out new caches: breaches {breaches:6.1%} (either dimension), ECPU oversize median {over:.2f}x")
                continue
            error, coverage = scores[pick][held]
            run_rate = statistics.mean(naive[held])
            print(f"  held out {held:12} picked on the others: {label(candidates[pick]):58} "
                  f"held-out mean error {error:6.2%} (run rate {run_rate:6.2%}), coverage {coverage:4.0%}")
            if objective == "error" and error > run_rate:
                misses.append(f"{held} held out: {error:.2%} > run rate {run_rate:.2%}")
    return misses


def weighted_percentile(values: list[float], weights: list[float], q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(np.asarray(weights)[order]) / np.sum(weights)
    return float(np.asarray(values)[order][np.searchsorted(cumulative, q / 100)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the folder of hourly series (../shared/realdata)")
    parser.add_argument("--quiet", action="store_true", help="summary only")
    parser.add_argument("--no-peers", action="store_true", help="skip statsforecast's MSTL and AutoETS (minutes)")
    parser.add_argument("--family", action="append", help="only these families (default: all five)")
    parser.add_argument("--no-lofo", action="store_true", help="skip the leave-one-family-out choice of the tuned settings")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: not found (../shared/realdata beside the repository)", file=sys.stderr)
        return 2
    rates = load_pricing().rates("us-east-1", "valkey")
    settings = SizingSettings()  # what a new user gets: no calendar
    families = [f for f in FAMILIES if not args.family or f.name in args.family]
    t0 = time.perf_counter()
    rows = []
    peers = None
    if not args.no_peers:
        peers = json.loads(PEERS_CACHE.read_text()) if PEERS_CACHE.is_file() else {}
    cases = all_cases(families, args.data)
    for case in cases:
        family = next(f for f in families if f.name == case.family)
        calendar = replace(settings, holidays=family.calendar) if family.calendar != "none" else None
        rows.append(run_case(case, rates, settings, calendar, peers=peers))
        if peers is not None and len(rows) % 25 == 0:  # a run stopped half-way keeps what it fitted
            PEERS_CACHE.write_text(json.dumps(peers))
    elapsed = time.perf_counter() - t0
    if peers is not None:
        PEERS_CACHE.write_text(json.dumps(peers))

    if not args.quiet:
        print(f"{'case':28} {'S0 GB':>6} {'ECPU/s':>7} {'truth $':>9} " + " ".join(f"{m:>8}" for m in METHODS)
              + f" {'80% in':>6} {'width':>6} {'conf':>6} {'GB x':>5} {'ECPU x':>6} {'breach':>7}")
        for r in rows:
            c = r["case"]
            gx = f"{r['over_gb']:.2f}" if r["over_gb"] else "floor"
            ex = f"{r['over_ecpu']:.2f}" if r["over_ecpu"] else "floor"
            breach = ",".join(w for w, b in (("GB", r["breach_gb"]), ("ECPU", r["breach_ecpu"])) if b) or "no"
            print(f"{c.name:28} {c.storage_gb:6.2f} {c.level:7,.0f} {r['truth']:9,.2f} "
                  + " ".join(f"{pct(r['errors'].get(m)):>8}" for m in METHODS)
                  + f" {'yes' if r['covered'] else 'NO':>6} {r['width']:6.1%} {r['confidence']:>6} {gx:>5} {ex:>6} {breach:>7}")
        print()

    summaries = {f.name: summarise([r for r in rows if r["case"].family == f.name]) for f in families}
    shown = [m for m in METHODS if all(m in s.means for s in summaries.values())]
    print(f"cases {len(rows)} ({sum(r['case'].history_days == HISTORY_DAYS for r in rows)} with 30 days of history, "
          f"{sum(r['case'].history_days < HISTORY_DAYS for r in rows)} new caches)   time {elapsed:.1f} s")
    if len(shown) < len(METHODS):
        print("(MSTL and AutoETS skipped: --no-peers, or pip install 'costwise[bench]' for statsforecast)")
    print()
    print("mean error of the 730-hour bill (median in brackets); families weighted equally in 'all'")
    print(f"{'family':12} {'cases':>5} " + " ".join(f"{m:>16}" for m in shown) + f" {'(with calendar)':>16}")
    for name, s in summaries.items():
        print(f"{name:12} {s.cases:5} " + " ".join(f"{s.means[m]:7.2%} ({s.medians[m]:5.2%})" for m in shown)
              + (f" {s.calendar:16.2%}" if s.calendar is not None else f" {'-':>16}"))
    overall = equal_weights(summaries)
    print(f"{'all':12} {len(rows):5} " + " ".join(f"{overall[m]:16.2%}" for m in shown))
    peers = {m: v for m, v in overall.items() if m != "costwise"}
    best_peer = min(peers, key=peers.get)
    gain = 1 - overall["costwise"] / peers[best_peer]
    print(f"costwise vs best peer ({best_peer}): {gain:+.1%} lower mean error (target >= 10%)")
    print()
    print(f"{'family':12} {'80% in':>7} {'high':>22} {'medium':>22} {'low':>22} {'breach GB':>9} {'ECPU':>5} "
          f"{'below hist':>10} {'over med':>8} {'p90':>5}")
    for name, s in summaries.items():
        levels = " ".join(f"{s.by_level[k][0]:4} {s.by_level[k][1]:6.2%} {s.by_level[k][2]:4.0%} in" if k in s.by_level
                          else f"{'-':>22}" for k in ("high", "medium", "low"))
        print(f"{name:12} {s.coverage:7.0%} {levels} {s.breach_gb:9.1%} {s.breach_ecpu:5.1%} {s.below_history:10} "
              f"{statistics.median(s.oversize) if s.oversize else float('nan'):7.2f}x {np.percentile(s.oversize, 90) if s.oversize else float('nan'):4.2f}x")
    # limits over the families, each weighing the same (a family of 234 cases must not drown one of 15)
    weights = [1 / summaries[r["case"].family].cases / len(summaries) for r in rows]
    breach_gb = sum(w * r["breach_gb"] for w, r in zip(weights, rows))
    breach_ecpu = sum(w * r["breach_ecpu"] for w, r in zip(weights, rows))
    over, over_w = [], []
    for name, s in summaries.items():
        over += s.oversize
        over_w += [1 / len(s.oversize) / len(summaries)] * len(s.oversize)
    over_median, over_p90 = weighted_percentile(over, over_w, 50), weighted_percentile(over, over_w, 90)
    print(f"{'all':12} limits, families weighted equally: breaches storage {breach_gb:.1%}, ECPU {breach_ecpu:.1%} "
          f"(target <= 5% each); recommended / next-month peak median {over_median:.2f}x, p90 {over_p90:.2f}x (<= 2x, <= 4x)")
    minimums = [r["minimum"] for r in rows if r["minimum"] is not None]
    recommended_minimums = [share for kind, share in minimums if kind == "recommended"]
    optional_shares = [share for kind, share in minimums if kind == "optional"]
    print(f"ECPU minimum: recommended in {len(recommended_minimums)} cases (nothing is throttled in this corpus), "
          f"an optional note in {len(optional_shares)}" + (f", costing at most {max(optional_shares):.0%} of the bill" if optional_shares else ""))
    per_case_ms = 1000 * statistics.mean(r["seconds"] for r in rows)
    print(f"analysis per cache (forecast + limits): {per_case_ms:.1f} ms of CPU (target < 10 ms)")

    lofo_misses = []
    if not args.no_lofo and len(families) > 2:
        print()
        lofo_misses = leave_one_family_out(cases, rates, settings, [r["truth"] for r in rows])

    checks = [
        (f"mean error 10% below the best peer over the families ({gain:+.1%})", gain >= 0.10),
        ("no held-out family worse than its run rate with the settings the others chose", not lofo_misses),
        (f"storage breaches <= 5% over the families ({breach_gb:.1%})", breach_gb <= 0.05),
        (f"ECPU breaches <= 5% over the families ({breach_ecpu:.1%})", breach_ecpu <= 0.05),
        (f"oversize median <= 2x over the families ({over_median:.2f}x)", over_median <= 2.0),
        (f"oversize p90 <= 4x over the families ({over_p90:.2f}x)", over_p90 <= 4.0),
        ("no recommended limit below the history's own peak", all(s.below_history == 0 for s in summaries.values())),
        ("no ECPU minimum recommended without throttling", not recommended_minimums),
        ("optional ECPU minimums under 25% of the bill", all(share < 0.25 for share in optional_shares)),
        ("analysis under 10 ms", per_case_ms < 10),
    ]
    for name, s in summaries.items():
        ordered = [s.by_level[k][1] for k in ("high", "medium", "low") if k in s.by_level]
        checks += [
            (f"{name}: mean error at most the run rate's", s.means["costwise"] <= s.means["naive30"]),
            (f"{name}: interval coverage 75..90% ({s.coverage:.0%})", 0.75 <= s.coverage <= 0.90),
            (f"{name}: confidence levels ordered by error", all(a < b for a, b in zip(ordered, ordered[1:]))),
        ]
    missed = [what for what, ok in checks if not ok]
    if missed:
        print("missed: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
