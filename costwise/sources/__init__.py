"""Sources: where usage comes from. Each is a small object with one method, `read()`.

Usage sources (`UsageSource`) produce the usage contract, `costwise.usage.History`:
- `cloudwatch.CloudWatchSource`: GetMetricData and DescribeServerlessCaches, live;
- `history_file.HistoryFileSource`: a file saved by `costwise fetch` (CSV or Parquet);
- `demo.DemoSource`: the bundled 30-day demo history (a saved file, read like any other).

`migrate` reads caches that are not serverless yet, through two more sources of the same shape:
- `cluster.ClusterSource` -> `usage.ClusterUsage` (a node-based group's per-node metrics);
- `redis_info.RedisSource` -> `usage.ServerSample` (two INFO snapshots of a running server).

Only `aws` touches boto3; everything after `read()` is offline and deterministic.
"""

from __future__ import annotations

from typing import Protocol

from costwise.usage import History


class UsageSource(Protocol):
    """Anything that can produce a History. `label` says where it came from, for reports."""

    label: str

    def read(self) -> History: ...
