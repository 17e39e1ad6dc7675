"""Stand-ins for AWS: moto's server on 127.0.0.1, and what moto lacks (see DOMAIN.md)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import botocore.client
from botocore.exceptions import ClientError

from costwise.sources.plan import MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL

_original_make_api_call = botocore.client.BaseClient._make_api_call


def put_hourly(client, cache: str, start: datetime, rows: list[dict]) -> None:
    """Load hourly aggregates as CloudWatch would hold them (StatisticValues, not raw minutes).

    rows: one dict per hour with storage_avg, storage_max (bytes), ecpu_sum, ecpu_max_minute,
    throttled (optional); None for an hour skips it (a gap).
    """
    data = []
    dims = [{"Name": "clusterId", "Value": cache}]
    for hour, row in enumerate(rows):
        if row is None:
            continue
        ts = start + timedelta(hours=hour, minutes=30)
        data.append({"MetricName": "BytesUsedForCache", "Dimensions": dims, "Timestamp": ts, "Unit": "Bytes",
                     "StatisticValues": {"SampleCount": 60, "Sum": row["storage_avg"] * 60,
                                         "Minimum": min(row["storage_avg"], row["storage_max"]), "Maximum": row["storage_max"]}})
        data.append({"MetricName": "ElastiCacheProcessingUnits", "Dimensions": dims, "Timestamp": ts, "Unit": "Count",
                     "StatisticValues": {"SampleCount": 60, "Sum": row["ecpu_sum"], "Minimum": 0.0, "Maximum": row["ecpu_max_minute"]}})
        if row.get("throttled") is not None:
            data.append({"MetricName": "ThrottledCmds", "Dimensions": dims, "Timestamp": ts, "Unit": "Count",
                         "StatisticValues": {"SampleCount": 60, "Sum": row["throttled"], "Minimum": 0.0, "Maximum": row["throttled"]}})
    for i in range(0, len(data), 500):
        client.put_metric_data(Namespace="AWS/ElastiCache", MetricData=data[i : i + 500])


# About 2 GB stored (2.5 GB at the hour's peak) and 1,000 ECPU/s (a minute's peak at 1,000/s): a
# small steady cache whose recommended limits sit near AWS's floors
STEADY_HOUR = {"storage_avg": 2 * 2**30, "storage_max": 2.5 * 2**30, "ecpu_sum": 3.6e6, "ecpu_max_minute": 6e4, "throttled": 0.0}


def steady_cache_config(cloudwatch, folder, end: datetime, days: int = 3, cache: str = "prod-cache") -> "Path":
    """`days` of STEADY_HOUR for `cache` before `end`, and a costwise.yaml in `folder` naming it env prod."""
    put_hourly(cloudwatch, cache, end - timedelta(days=days), [STEADY_HOUR] * (24 * days))
    config = folder / "costwise.yaml"
    config.write_text(f"environments:\n  prod: {{cache: {cache}}}\n")
    return config


def put_node_hourly(client, node: str, start: datetime, hours: int, **per_hour) -> None:
    """Hourly aggregates for one node-based node (dimension CacheClusterId), the same every hour:
    bytes, get, set, net_in, net_out, repl (ReplicationBytes)."""
    metrics = {"BytesUsedForCache": ("bytes", "Bytes"), "GetTypeCmds": ("get", "Count"), "SetTypeCmds": ("set", "Count"),
               "NetworkBytesIn": ("net_in", "Bytes"), "NetworkBytesOut": ("net_out", "Bytes"), "ReplicationBytes": ("repl", "Bytes")}
    data = []
    for name, (key, unit) in metrics.items():
        if key not in per_hour:
            continue
        value = per_hour[key]
        for h in range(hours):
            stats = {"SampleCount": 60, "Sum": value * 60 if name == "BytesUsedForCache" else value,
                     "Minimum": 0.0, "Maximum": value if name == "BytesUsedForCache" else value / 60}
            data.append({"MetricName": name, "Dimensions": [{"Name": "CacheClusterId", "Value": node}],
                         "Timestamp": start + timedelta(hours=h, minutes=30), "Unit": unit, "StatisticValues": stats})
    for i in range(0, len(data), 500):
        client.put_metric_data(Namespace="AWS/ElastiCache", MetricData=data[i : i + 500])


def serverless_cache(name: str, engine: str = "valkey", max_storage=None, max_ecpu=None) -> dict:
    limits = {}
    if max_storage is not None:
        limits["DataStorage"] = {"Maximum": max_storage, "Unit": "GB"}
    if max_ecpu is not None:
        limits["ECPUPerSecond"] = {"Maximum": max_ecpu}
    cache = {"ServerlessCacheName": name, "Engine": engine, "Status": "available"}
    if limits:
        cache["CacheUsageLimits"] = limits
    return cache


def patch_describe(monkeypatch, caches: list[dict] | None = None, error_code: str | None = None, page_size: int = 2):
    """moto does not serve DescribeServerlessCaches: answer it here, in pages, or fail with error_code."""
    calls = []

    def fake(self, operation_name, api_params):
        if operation_name == "DescribeServerlessCaches":
            calls.append(dict(api_params))
            if error_code is not None:
                raise ClientError({"Error": {"Code": error_code, "Message": "stand-in"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, operation_name)
            start = int(api_params.get("NextToken") or 0)
            page = (caches or [])[start : start + page_size]
            response = {"ServerlessCaches": page}
            if start + page_size < len(caches or []):
                response["NextToken"] = str(start + page_size)
            return response
        return _original_make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fake)
    return calls


class FakeCloudWatch:
    """GetMetricData with CloudWatch's real limits, which moto does not enforce.

    At most 500 queries a call; at most 100,800 datapoints a page, the rest through NextToken (a
    query's points may be split across pages); each page is a call. Values are derived from the
    query so completeness can be checked.
    """

    def __init__(self, throttle_first: int = 0):
        self.calls = 0
        self.throttle_first = throttle_first

    def get_metric_data(self, MetricDataQueries, StartTime, EndTime, ScanBy="TimestampAscending", NextToken=None):
        self.calls += 1
        if len(MetricDataQueries) > MAX_QUERIES_PER_CALL:
            raise ValueError(f"{len(MetricDataQueries)} queries: more than {MAX_QUERIES_PER_CALL}")
        hours = int((EndTime - StartTime).total_seconds() // 3600)
        offset = int(NextToken or 0)  # index of the first datapoint of this page across all queries
        end = min(offset + MAX_DATAPOINTS_PER_CALL, hours * len(MetricDataQueries))
        results = {}
        for flat in range(offset, end):
            q, h = divmod(flat, hours)
            query = MetricDataQueries[q]
            item = results.setdefault(query["Id"], {"Id": query["Id"], "Timestamps": [], "Values": [], "StatusCode": "Complete"})
            item["Timestamps"].append(StartTime + timedelta(hours=h))
            item["Values"].append(float(q * 1000 + h))
        response = {"MetricDataResults": list(results.values()), "Messages": []}
        if end < hours * len(MetricDataQueries):
            response["NextToken"] = str(end)
            for item in results.values():
                item["StatusCode"] = "PartialData"
        return response


def expected_pages(n_queries: int, hours: int) -> int:
    return math.ceil(n_queries * hours / MAX_DATAPOINTS_PER_CALL)


UTC = timezone.utc
