"""Benchmark `costwise reconcile --cur` on a large CUR 2.0 export: memory stays bounded.

Writes synthetic CUR 2.0 Parquet exports (the columns reconcile reads plus EXTRA_COLUMNS wide
string columns it must never load, like a real export's product and resource-tag columns; 1% of
the lines ElastiCache serverless usage of 50 caches, the rest other services) of two sizes, runs
`costwise reconcile` on each in a child process, and prints rows, bytes on disk, seconds and peak
RSS (VmHWM). Target: the larger export (4x the rows) costs at most 64 MB more peak memory than the
smaller one (memory follows a row group, not the export); the rate in rows a second is printed so a
5 GB export's time can be extrapolated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import costwise  # noqa: E402  (the CLI in a child process, with its peak RSS)

ROWS_PER_FILE = 1_000_000
ROW_GROUP = 131_072
EXTRA_COLUMNS = 20
CACHES = 50
OCT = datetime(2026, 10, 1, tzinfo=timezone.utc)
MAX_GROWTH_MB = 64.0


def write_file(path: Path, rows: int, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    elasticache = rng.random(rows) < 0.01
    cache = rng.integers(0, CACHES, rows)
    storage = rng.random(rows) < 0.5
    hour = rng.integers(0, 744, rows)
    usage_type = np.where(elasticache, np.where(storage, "USE1-CachedData:Valkey", "USE1-ElastiCacheProcessingUnits:Valkey"),
                          "BoxUsage:m5.large")
    amount = np.where(elasticache, np.where(storage, 1.0, 3.6e7), 1.0)
    rate = np.where(elasticache, np.where(storage, 0.0837, 0.00227 / 1e6), 0.096)
    resource = np.where(elasticache, np.char.add("arn:aws:elasticache:us-east-1:123456789012:serverlesscache:cache-",
                                                 cache.astype(str)), np.char.add("i-0", hour.astype(str)))
    columns = {
        "line_item_line_item_type": pa.array(["Usage"] * rows),
        "line_item_product_code": pa.array(np.where(elasticache, "AmazonElastiCache", "AmazonEC2")),
        "line_item_usage_type": pa.array(usage_type),
        "line_item_resource_id": pa.array(resource),
        "line_item_usage_amount": pa.array(amount),
        "line_item_unblended_cost": pa.array(amount * rate),
        "line_item_net_unblended_cost": pa.array(amount * rate),
        "line_item_usage_start_date": pa.array([OCT + timedelta(hours=int(h)) for h in hour], pa.timestamp("ms", tz="UTC")),
        "line_item_currency_code": pa.array(["USD"] * rows),
    }
    for i in range(EXTRA_COLUMNS):  # wide columns reconcile never reads
        columns[f"resource_tags_user_tag_{i}"] = pa.array(np.char.add(f"value-{i}-", rng.integers(0, 10**6, rows).astype(str)))
    pq.write_table(pa.table(columns), path, row_group_size=ROW_GROUP)


def run(folder: Path, files: int, history: Path) -> tuple[int, float, float, float]:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        write_file(folder / f"part-{i:05d}.snappy.parquet", ROWS_PER_FILE, seed=i)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    result = costwise("reconcile", "--month", "2026-10", "--cur", str(folder), "--metrics-file", str(history),
                      "--format", "json", timeout=1800)
    if result.code not in (0, 3):
        raise SystemExit(f"reconcile failed ({result.code}): {result.err.strip()}")
    return files * ROWS_PER_FILE, size, result.seconds, result.max_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4, help="files of 1,000,000 rows in the larger export")
    args = parser.parse_args()
    from costwise.sources.history_file import save_history
    from costwise.usage import EnvHistory, History, Window

    import pandas as pd

    from tests.helpers import frame

    index = pd.date_range(OCT, periods=744, freq="h", tz="UTC", name="timestamp")
    with tempfile.TemporaryDirectory(prefix="costwise-bench-cur-") as tmp:
        tmp = Path(tmp)
        history = tmp / "history.csv"
        envs = [EnvHistory(f"cache-{i}", f"cache-{i}", "valkey", "us-east-1", frame=frame(1.0, 3.6e7, index)) for i in range(CACHES)]
        save_history(History(Window(OCT, OCT + timedelta(hours=744)), envs, "cloudwatch"), history)
        figures = [run(tmp / "small", 1, history), run(tmp / "large", args.files, history)]
    for rows, size, seconds, rss in figures:
        print(f"{rows:>12,} rows  {size:8.1f} MB on disk  {seconds:6.1f} s  ({rows / seconds / 1e6:.2f} M rows/s, "
              f"{size / seconds:.0f} MB/s)  peak RSS {rss:6.0f} MB")
    growth = figures[1][3] - figures[0][3]
    rate = figures[1][1] / figures[1][2]
    print(f"peak RSS growth for {figures[1][0] / figures[0][0]:.0f}x the rows: {growth:+.0f} MB (target <= {MAX_GROWTH_MB:.0f} MB); "
          f"a 5 GB export at this rate: about {5000 / rate / 60:.0f} min")
    return 0 if growth <= MAX_GROWTH_MB else 1


if __name__ == "__main__":
    sys.exit(main())
