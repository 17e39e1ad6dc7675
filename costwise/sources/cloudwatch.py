"""Read usage history and current limits from AWS for a set of environments.

Talks to AWS only through costwise.sources.aws. One environment's failure never stops the others:
it is recorded on that environment and the rest carry on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from costwise.config import EnvConfig
from costwise.errors import AwsError, InputError
from costwise.fmt import shorten
from costwise.pricing import normalize_engine
from costwise.sources import aws
from costwise.sources.frames import results_to_frames
from costwise.usage import CurrentLimits, EnvHistory, History, Window
from costwise.sources.plan import build_queries, plan_batches, planned_calls


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


def collect_history(
    envs: list[EnvConfig],
    default_region: str,
    window: Window,
    session: aws.AwsSession,
    on_page: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    described_by_region: dict[str, dict] | None = None,
) -> History:
    """`described_by_region`: DescribeServerlessCaches already read (by region), not asked again."""
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
            hist = EnvHistory(env=env.name, cache=env.cache, engine=env.engine, region=region, budget=env.budget)
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
        try:
            client = session.client("cloudwatch", region)
        except AwsError as exc:
            for hist in readable:
                hist.error = str(exc)
            continue
        series: dict = {}
        failed: dict[str, str] = {}
        for batch in batches:
            try:
                got = aws.get_metric_data(client, [[q.payload() for q in batch]], window.start, window.end, on_page)
            except Exception as exc:
                message = str(aws.describe_error(exc, "GetMetricData"))
                for q in batch:
                    failed[q.cache] = message
                continue
            calls += got.calls
            series.update(got.series)
        frames = results_to_frames(series, queries, window)
        for hist in readable:
            if hist.cache in failed:
                hist.error = failed[hist.cache]
                continue
            frame = frames[hist.cache]
            if frame.notna().sum().sum() == 0:
                hist.error = f"no CloudWatch data for cache {hist.cache!r} in {region} during the window (is it a serverless cache in this region?)"
                continue
            hist.frame = frame
    return History(window=window, environments=[results[e.name] for e in envs], source="cloudwatch", api_calls=calls)


@dataclass
class CloudWatchSource:
    """Environments from costwise.yaml (or one --cache), read live over a window."""

    envs: list[EnvConfig]
    default_region: str
    window: Window
    session: aws.AwsSession
    on_page: Callable[[int], None] | None = None
    on_plan: Callable[[int], None] | None = None
    label: str = "cloudwatch"

    def read(self) -> History:
        return collect_history(self.envs, self.default_region, self.window, self.session, self.on_page, self.on_plan)
