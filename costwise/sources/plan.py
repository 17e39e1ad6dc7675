"""Plan GetMetricData calls: which queries go together so that the fewest calls fetch everything.

Pure: no AWS here. CloudWatch allows 500 queries and returns 100,800 datapoints per call; more
comes back through NextToken, each page one more call. With hourly periods every query asks for
the same number of points, so the plan is a choice of batch size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costwise.usage import COLUMNS, SECONDS_PER_HOUR

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
PERIOD_SECONDS = SECONDS_PER_HOUR
NAMESPACE = "AWS/ElastiCache"
DIMENSION = "clusterId"  # serverless caches: the cache name (not CacheClusterId)

# (column in the usage frame, CloudWatch metric, statistic)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("storage_avg_bytes", "BytesUsedForCache", "Average"),
    ("storage_max_bytes", "BytesUsedForCache", "Maximum"),
    ("ecpu_sum", "ElastiCacheProcessingUnits", "Sum"),
    ("ecpu_max_minute", "ElastiCacheProcessingUnits", "Maximum"),
    ("throttled_sum", "ThrottledCmds", "Sum"),
)
assert tuple(column for column, _, _ in METRICS) == COLUMNS  # the usage contract


@dataclass(frozen=True)
class MetricQuery:
    id: str
    cache: str  # the dimension's value: a serverless cache name, or a node's CacheClusterId
    column: str
    metric: str
    stat: str
    dimension: str = DIMENSION
    period: int = PERIOD_SECONDS

    def payload(self) -> dict:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": self.dimension, "Value": self.cache}],
                },
                "Period": self.period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


def build_queries(caches: list[str], metrics: tuple[tuple[str, str, str], ...] = METRICS, dimension: str = DIMENSION) -> list[MetricQuery]:
    # Ids must start with a lower-case letter; the index keeps them unique and short.
    return [
        MetricQuery(f"c{i}_{j}", cache, column, metric, stat, dimension)
        for i, cache in enumerate(caches)
        for j, (column, metric, stat) in enumerate(metrics)
    ]


def pages_for(n_queries: int, points_per_query: int) -> int:
    return math.ceil(n_queries * points_per_query / MAX_DATAPOINTS_PER_CALL) if n_queries else 0


def minimum_calls(n_queries: int, points_per_query: int) -> int:
    """The floor no plan can beat: total datapoints / 100,800 and queries / 500."""
    return max(pages_for(n_queries, points_per_query), math.ceil(n_queries / MAX_QUERIES_PER_CALL))


def calls_with_batch_size(n_queries: int, batch: int, points_per_query: int) -> int:
    full, rest = divmod(n_queries, batch)
    return full * max(1, pages_for(batch, points_per_query)) + (max(1, pages_for(rest, points_per_query)) if rest else 0)


def choose_batch_size(n_queries: int, points_per_query: int) -> int:
    """The batch size (<= 500 queries) that needs the fewest calls, pages included.

    A page holds 100,800 points, so a batch whose points are just over a multiple of that wastes
    most of a page; trying every size up to 500 is cheap and finds the best fit.
    """
    if n_queries <= 0:
        return 0
    upper = min(MAX_QUERIES_PER_CALL, n_queries)
    return min(range(upper, 0, -1), key=lambda b: calls_with_batch_size(n_queries, b, points_per_query))


def plan_batches(queries: list[MetricQuery], points_per_query: int) -> list[list[MetricQuery]]:
    size = choose_batch_size(len(queries), points_per_query)
    return [queries[i : i + size] for i in range(0, len(queries), size)] if size else []


def planned_calls(batches: list[list[MetricQuery]], points_per_query: int) -> int:
    return sum(max(1, pages_for(len(b), points_per_query)) for b in batches)


# ---- cost drivers (issue 21): one total per metric for the whole window -------------------------

MAX_DRIVER_PERIOD = 30 * 86_400  # the longest period the CloudWatch console offers; longer windows take a few


def driver_period(window_hours: int) -> int:
    """The period that reads a driver metric's window in one datapoint (a few, past 30 days): whole
    hours, so any retention (1-minute, 5-minute, hourly) can serve it."""
    return min(window_hours * SECONDS_PER_HOUR, MAX_DRIVER_PERIOD)


def driver_points(window_hours: int) -> int:
    return math.ceil(window_hours * SECONDS_PER_HOUR / driver_period(window_hours))


def build_driver_queries(caches: list[tuple[str, str | None]], window_hours: int) -> list[MetricQuery]:
    """Per (cache, engine), every driver metric of its engine's set (costwise.driver_metrics) at
    one period for the window; `column` carries the metric's name."""
    from costwise.driver_metrics import metrics_for

    period = driver_period(window_hours)
    return [
        MetricQuery(f"d{i}_{j}", cache, metric.name, metric.name, metric.stat, DIMENSION, period)
        for i, (cache, engine) in enumerate(caches)
        for j, metric in enumerate(metrics_for(engine))
    ]
