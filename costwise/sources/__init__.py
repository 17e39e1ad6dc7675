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


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`--shard K/N` -> (K, N), 1 <= K <= N <= 1000."""
    from costwise.errors import InputError

    if text is None:
        return None
    part, _, total = text.partition("/")
    if not (part.isdigit() and total.isdigit() and 1 <= int(part) <= int(total) <= 1000):
        raise InputError(f"--shard: expected K/N with 1 <= K <= N <= 1000 (e.g. 2/4), got {text[:40]!r}")
    return int(part), int(total)


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether shard K of N reads `name` (an environment, or a cache found in an account): a stable hash, the same on
    every machine and run, so N jobs cover every name exactly once."""
    import zlib

    return shard is None or zlib.crc32(name.encode("utf-8", "surrogatepass")) % shard[1] == shard[0] - 1
