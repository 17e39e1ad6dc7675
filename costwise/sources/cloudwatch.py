"""Read usage history and current limits from AWS for a set of environments.

Talks to AWS only through costwise.sources.aws. One environment's failure never stops the others:
it is recorded on that environment and the rest carry on.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from costwise.config import EnvConfig
from costwise.driver_metrics import driver_bound
from costwise.errors import AwsError, InputError
from costwise.fmt import shorten
from costwise.pricing import normalize_engine
from costwise.sources import aws
from costwise.sources.frames import HourlyGrid
from costwise.usage import CurrentLimits, DriverTotals, EnvHistory, History, Window
from costwise.sources.plan import MetricQuery, build_driver_queries, build_queries, driver_points, plan_batches, planned_calls


def cache_name_problem(name: str) -> str | None:
    """Why AWS would refuse `name` as a serverless cache name (1..40 letters, digits, hyphens, a
    letter first), or None."""
    if not name:
        return "empty name"
    if len(name) > 40 or not name[0].isascii() or not name[0].isalpha() or not all(c.isascii() and (c.isalnum() or c == "-") for c in name):
        return "not a serverless cache name (1 to 40 letters, digits and hyphens, starting with a letter)"
    return None


def limits_from_description(cache: dict) -> CurrentLimits:
    usage = cache.get("CacheUsageLimits") or {}
    storage = usage.get("DataStorage") or {}
    ecpu = usage.get("ECPUPerSecond") or {}

    def positive(value):
        # 0 means "no limit" in AWS's shape
        return value if value else None

    return CurrentLimits(
        max_storage_gb=positive(storage.get("Maximum")),
        max_ecpu_per_second=positive(ecpu.get("Maximum")),
        min_storage_gb=positive(storage.get("Minimum")),
        min_ecpu_per_second=positive(ecpu.get("Minimum")),
        source="aws",
    )


def limits_from_config(env: EnvConfig) -> CurrentLimits:
    if env.limits is None:
        return CurrentLimits(source="none")
    return CurrentLimits(env.limits.max_storage_gb, env.limits.max_ecpu_per_second, source="config")


def _describe_region(session: aws.AwsSession, region: str) -> tuple[dict | None, str | None]:
    """Serverless caches by name, or (None, why) when DescribeServerlessCaches can't be used."""
    try:
        return aws.describe_serverless_caches(session.client("elasticache", region)), None
    except AwsError as exc:
        return None, str(exc)
    except Exception as exc:  # botocore errors: classified, never raised past here
        return None, str(aws.describe_error(exc, "DescribeServerlessCaches"))


PARALLEL_MIN_CALLS = 16  # below this many calls, starting worker processes costs more than it saves


class FetchPool:
    """Worker processes that fetch and parse GetMetricData batches, shared by every region of a run.

    Parsing a page is CPU-bound Python (botocore's response parser), so threads would share one core;
    processes use them all. Started on first use (spawned: the parent runs threads), closed by
    `close`. `workers` 1 means everything runs in this process.
    """

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor = None
        self._stop = None  # set on Ctrl-C: batches not yet fetched return at once
        self._stopped = False
        self._lock = threading.Lock()

    def wanted(self, calls: int) -> bool:
        """Whether a plan of `calls` goes to the workers: large enough, and the workers can start
        (where they cannot, e.g. no /dev/shm for their semaphores as in AWS Lambda, everything
        runs in this process instead)."""
        if self.workers <= 1 or calls < PARALLEL_MIN_CALLS:
            return False
        with self._lock:
            if self._executor is None and not self._stopped:
                try:
                    import multiprocessing
                    from concurrent.futures import ProcessPoolExecutor

                    context = multiprocessing.get_context("spawn")
                    self._stop = context.Event()
                    self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                                         initializer=_worker_start, initargs=(self._stop,))
                except (OSError, ImportError, ValueError):
                    self.workers = 1
                    return False
        return True

    def submit(self, fn, *args):
        with self._lock:
            if self._stopped or self._executor is None:
                raise RuntimeError("interrupted")
            return self._executor.submit(fn, *args)

    def close(self, wait: bool = True) -> None:
        """Stop the workers; `wait` False (on Ctrl-C or SIGTERM): queued batches are cancelled and
        the workers ended at once; one waiting on a slow answer would otherwise keep the run (and
        itself) alive until that answer's deadline. They hold nothing to save: no file, no state."""
        with self._lock:
            self._stopped = self._stopped or not wait
            if self._executor is not None:
                workers = []
                if not wait:
                    self._stop.set()
                    # ProcessPoolExecutor.terminate_workers() from Python 3.14; before, its own record
                    workers = list((getattr(self._executor, "_processes", None) or {}).values())
                self._executor.shutdown(wait=wait, cancel_futures=True)
                for worker in workers:
                    if worker.is_alive():
                        worker.terminate()
                self._executor = None


_STOP = None  # in a worker: the pool's stop event


class _Stopped(Exception):
    pass


def _worker_start(stop) -> None:
    # Ctrl-C reaches every process of the terminal's group: a worker must not print a traceback;
    # the parent handles it and sets `stop`, which the batches check between pages.
    import signal

    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def fetch_batch(session: aws.AwsSession, region: str, queries: list[MetricQuery], window: Window):
    """One batch's pages on a grid of its own: (caches, values or None, calls, error). Runs in a
    worker process; the grid (8 bytes a value) is all that travels back."""
    grid = HourlyGrid(queries, window)

    def place(results: list[dict]) -> None:
        if _STOP is not None and _STOP.is_set():
            raise _Stopped
        grid.add(results)

    try:
        if _STOP is not None and _STOP.is_set():
            raise _Stopped
        client = session.metrics_client(region)
        got = aws.get_metric_data(client, [[q.payload() for q in queries]], window.start, window.end, on_results=place)
    except _Stopped:
        return grid.caches, None, 0, "GetMetricData: interrupted"
    except Exception as exc:
        return grid.caches, None, 0, str(aws.describe_error(exc, "GetMetricData"))
    return grid.caches, grid.values, got.calls, None


def _read_batches(session: aws.AwsSession, region: str, batches: list[list[MetricQuery]], window: Window, grid: HourlyGrid,
                  on_page: Callable[[int], None] | None, pool: FetchPool | None) -> tuple[int, dict[str, str]]:
    """Every batch's points onto `grid`: (calls, cache -> error for the batches that failed)."""
    calls = 0
    failed: dict[str, str] = {}
    if pool is not None and pool.wanted(planned_calls(batches, window.hours)):
        futures = [pool.submit(fetch_batch, session, region, batch, window) for batch in batches]
        for batch, future in zip(batches, futures):
            try:
                caches, values, batch_calls, error = future.result()
            except Exception as exc:  # the worker died (killed, out of memory): its batch fails, the rest stand
                caches, values, batch_calls, error = [q.cache for q in batch], None, 0, f"GetMetricData: worker process failed ({type(exc).__name__})"
            if error is not None:
                failed.update(dict.fromkeys(caches, error))
                continue
            grid.put(caches, values)
            calls += batch_calls
            if on_page is not None:
                on_page(batch_calls)
        return calls, failed
    try:
        client = session.metrics_client(region)
    except AwsError as exc:
        return 0, {q.cache: str(exc) for batch in batches for q in batch}
    for batch in batches:
        try:
            got = aws.get_metric_data(client, [[q.payload() for q in batch]], window.start, window.end, on_page, on_results=grid.add)
        except Exception as exc:
            failed.update(dict.fromkeys((q.cache for q in batch), str(aws.describe_error(exc, "GetMetricData"))))
            continue
        calls += got.calls
    return calls, failed


def collect_history(
    envs: list[EnvConfig],
    default_region: str,
    window: Window,
    session: aws.AwsSession,
    on_page: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    described_by_region: dict[str, dict] | None = None,
    pool: FetchPool | None = None,
    drivers: "DriverReader | None" = None,
) -> History:
    """`described_by_region`: DescribeServerlessCaches already read (by region), not asked again.
    `pool`: worker processes for large plans (None: all in this process). `drivers`: offered every
    cache read, to read the drivers of the costliest once the whole run's caches are known."""
    by_region: dict[str, list[EnvConfig]] = defaultdict(list)
    for env in envs:
        by_region[env.region or default_region].append(env)

    results: dict[str, EnvHistory] = {}
    calls = 0
    planned: list[tuple[str, list[EnvHistory], list, list]] = []
    for region, region_envs in by_region.items():
        if described_by_region is not None and region in described_by_region:
            described, why = described_by_region[region], None
        else:
            described, why = _describe_region(session, region)
        readable: list[EnvHistory] = []
        for env in region_envs:
            hist = EnvHistory(env=env.name, cache=env.cache, engine=env.engine, region=region, budget=env.budget, account=env.account,
                              tags=dict(env.tags))
            results[env.name] = hist
            problem = cache_name_problem(env.cache)
            if problem:
                # one bad name would make AWS reject the whole batch: this environment fails alone
                hist.error = f"cache {shorten(env.cache)}: {problem}"
                continue
            if described is None:
                hist.limits = limits_from_config(env)
                what = "costwise.yaml" if hist.limits.source == "config" else "nowhere (no limits in costwise.yaml)"
                hist.warnings.append(f"current limits taken from {what}: {why}")
            elif env.cache not in described:
                hist.error = f"serverless cache {env.cache!r} not found in {region}"
                continue
            else:
                cache = described[env.cache]
                hist.limits = limits_from_description(cache)
                if cache.get("Engine"):
                    try:
                        hist.engine = normalize_engine(cache["Engine"])
                    except InputError:
                        hist.error = f"engine {shorten(cache['Engine'])} (from DescribeServerlessCaches) is not one costwise prices"
                        continue
            if hist.engine is None:
                hist.engine = "valkey"
                hist.warnings.append("engine unknown (set engine: in costwise.yaml); priced as valkey")
            readable.append(hist)
        if readable:
            queries = build_queries(list(dict.fromkeys(h.cache for h in readable)))
            batches = plan_batches(queries, window.hours)
            planned.append((region, readable, queries, batches))
    if on_plan is not None:
        on_plan(sum(planned_calls(b, window.hours) for _, _, _, b in planned))

    for region, readable, queries, batches in planned:
        grid = HourlyGrid(queries, window)
        region_calls, failed = _read_batches(session, region, batches, window, grid, on_page, pool)
        calls += region_calls
        frames = grid.frames()
        for hist in readable:
            if hist.cache in failed:
                hist.error = failed[hist.cache]
                continue
            frame = frames[hist.cache]
            if frame.notna().sum().sum() == 0:
                hist.error = f"no CloudWatch data for cache {hist.cache!r} in {region} during the window (is it a serverless cache in this region?)"
                continue
            hist.frame = frame
        if drivers is not None:
            drivers.offer(session, region, [hist for hist in readable if hist.frame is not None])
    return History(window=window, environments=[results[e.name] for e in envs], source="cloudwatch", api_calls=calls)


# ---- cost drivers (issue 21) ---------------------------------------------------------------------

DEFAULT_DRIVERS = "top:20"


@dataclass(frozen=True)
class DriverChoice:
    """`--drivers`: the caches whose drivers are read: the `count` costliest (top:N), all, or none."""

    mode: str  # top | all | none
    count: int = 0

    @classmethod
    def parse(cls, text: str | None) -> "DriverChoice":
        text = (text or DEFAULT_DRIVERS).strip().lower()
        if text in ("all", "none"):
            return cls(text)
        kind, _, count = text.partition(":")
        if kind == "top" and count.isdigit() and 0 < int(count) <= 100_000:
            return cls("top", int(count))
        raise InputError(f"--drivers: top:N (the N costliest caches; default {DEFAULT_DRIVERS}), all or none, not {shorten(text)}")


class DriverReader:
    """Collects every cache a run reads (configured, in other accounts, in other regions), then
    reads the drivers of those `--drivers` chooses: each metric of costwise.driver_metrics as one
    total for the whole window (one period), packed 500 queries a call, per account-region. The
    costliest are ranked by `cost` (a cache's window cost; the caller prices)."""

    def __init__(self, choice: DriverChoice, window: Window, cost: Callable[[EnvHistory], float]):
        self.choice = choice
        self.window = window
        self.cost = cost
        self._offered: list[tuple[aws.AwsSession, str, EnvHistory]] = []
        self._lock = threading.Lock()

    def offer(self, session: aws.AwsSession, region: str, hists: list[EnvHistory]) -> None:
        if self.choice.mode == "none":
            return
        with self._lock:  # account-regions are read by threads
            self._offered.extend((session, region, hist) for hist in hists)

    def chosen(self) -> list[tuple[aws.AwsSession, str, EnvHistory]]:
        if self.choice.mode != "top" or len(self._offered) <= self.choice.count:
            return list(self._offered)
        ranked = sorted(enumerate(self._offered), key=lambda item: (-self.cost(item[1][2]), item[0]))
        return [offered for _, offered in ranked[: self.choice.count]]

    def read(self) -> int:
        """Read the chosen caches' drivers onto their EnvHistory; returns the calls made. A failed
        call leaves its caches' drivers unread (None) with a warning; the usage already read stands."""
        calls = 0
        for session, region, hists in self._groups(self.chosen()):
            try:
                by_cache, got = _read_driver_totals(session, region, hists, self.window)
                calls += got
            except Exception as exc:
                why = str(aws.describe_error(exc, "GetMetricData"))
                for hist in hists:
                    hist.warnings.append(f"cost drivers not read: {why}")
                continue
            for hist in hists:
                hist.drivers = by_cache.get(hist.cache)
        return calls

    def read_split(self, caches: set[tuple[str, str]], recent_hours: int) -> tuple[dict[tuple[str, str], tuple], int]:
        """For `watch`: the drivers of the offered caches named by (region, cache), as two totals:
        the window's hours before its newest `recent_hours`, and those hours. Two GetMetricData reads
        an account-region, for these caches only. Returns {(region, cache): (before, recent, why)}
        (None for a side not read, and `why` the failed call's one line, else None) and the calls made."""
        before = Window(self.window.start, self.window.end - timedelta(hours=recent_hours))
        recent = Window(before.end, self.window.end)
        wanted = [offered for offered in self._offered if (offered[1], offered[2].cache) in caches]
        out: dict[tuple[str, str], tuple] = {}
        calls = 0
        for session, region, hists in self._groups(wanted):
            sides, why = [], None
            for window in (before, recent):
                try:
                    by_cache, got = _read_driver_totals(session, region, hists, window) if window.hours > 0 else ({}, 0)
                    calls += got
                except Exception as exc:  # noqa: BLE001 - drivers only explain an alarm; the alarm stands without them
                    by_cache, why = {}, str(aws.describe_error(exc, "GetMetricData"))
                sides.append(by_cache)
            for hist in hists:
                out[(region, hist.cache)] = (sides[0].get(hist.cache), sides[1].get(hist.cache), why)
        return out, calls

    @staticmethod
    def _groups(offered) -> list[tuple[aws.AwsSession, str, list[EnvHistory]]]:
        groups: dict[tuple[int, str], tuple[aws.AwsSession, str, list[EnvHistory]]] = {}
        for session, region, hist in offered:
            groups.setdefault((id(session), region), (session, region, []))[2].append(hist)
        return list(groups.values())


def _read_driver_totals(session: aws.AwsSession, region: str, hists: list[EnvHistory], window: Window) -> tuple[dict[str, DriverTotals], int]:
    """Every driver metric of `hists`' caches as one total over `window`: (per cache, calls made)."""
    engines = dict.fromkeys((h.cache, h.engine) for h in hists)
    queries = build_driver_queries(list(engines), window.hours)
    totals = DriverTotalsAccumulator(queries, window.hours)
    client = session.metrics_client(region)
    got = aws.get_metric_data(client, [[q.payload() for q in batch] for batch in plan_batches(queries, driver_points(window.hours))],
                              window.start, window.end, on_results=totals.add)
    return totals.by_cache(), got.calls


class DriverTotalsAccumulator:
    """GetMetricData results -> per cache, DriverTotals: Sum metrics summed over their points,
    Average ones averaged; a metric with no point is None (not published), and one whose final
    status is not Complete is listed as partial. With `hours` (the window's), a total past what one
    cache can do in them (driver_metrics.driver_bound), or below 0, is an answer not used: None, and
    listed as partial (a reply of 1e308 must not become advice)."""

    def __init__(self, queries: list[MetricQuery], hours: int | None = None):
        self.hours = hours
        self.queries = {q.id: q for q in queries}
        self.points: dict[str, list[float]] = {q.id: [] for q in queries}
        self.status: dict[str, str] = {}

    def add(self, results: list[dict]) -> None:
        for item in results:
            query_id = item.get("Id")
            if query_id not in self.points:
                continue
            self.points[query_id].extend(float(v) for v in item.get("Values") or [])
            status = item.get("StatusCode") or "Complete"
            if self.status.get(query_id) in (None, "Complete", "PartialData"):  # an error status sticks
                self.status[query_id] = status

    def by_cache(self) -> dict[str, DriverTotals]:
        import math

        values: dict[str, dict[str, float | None]] = {}
        partial: dict[str, list[str]] = {}
        for query_id, query in self.queries.items():
            got = [v for v in self.points[query_id] if math.isfinite(v)]
            if not got:
                total = None
            elif query.stat == "Average":
                total = sum(got) / len(got)
            else:
                total = sum(got)
            unusable = total is not None and self.hours is not None and not 0 <= total <= driver_bound(query.column, self.hours)
            values.setdefault(query.cache, {})[query.column] = None if unusable else total
            if unusable or self.status.get(query_id, "Complete") != "Complete":
                partial.setdefault(query.cache, []).append(query.column)
        return {cache: DriverTotals(found, tuple(partial.get(cache, ()))) for cache, found in values.items()}


@dataclass
class CloudWatchSource:
    """Environments from costwise.yaml (or one --cache), read live over a window."""

    envs: list[EnvConfig]
    default_region: str
    window: Window
    session: aws.AwsSession
    on_page: Callable[[int], None] | None = None
    on_plan: Callable[[int], None] | None = None
    pool: FetchPool | None = None
    label: str = "cloudwatch"
    drivers: DriverReader | None = None

    def read(self) -> History:
        return collect_history(self.envs, self.default_region, self.window, self.session, self.on_page, self.on_plan, pool=self.pool,
                               drivers=self.drivers)
