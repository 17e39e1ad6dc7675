"""A fleet's fetch (issue 13): pages streamed onto per-cache arrays, worker processes for large
plans, the fewest calls, CloudWatch's quota respected, and a dataset partitioned account=/region=.

The server is tests/cwfake.FleetFake: it speaks the protocol botocore picks for CloudWatch and
enforces GetMetricData's limits (500 queries, 100,800 datapoints a page, a per-region call rate).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from costwise.sources.frames import HourlyGrid
from costwise.sources.history_file import load_dataset, partition_name, save_dataset
from costwise.sources.plan import build_queries, minimum_calls
from costwise.usage import EnvHistory, History, Window, empty_frame
from tests.cwfake import FleetFake, expected
from tests.helpers import costwise

AS_OF = "2026-11-23T00:00:00Z"
END = datetime(2026, 11, 23, tzinfo=timezone.utc)


def _grid_window(hours: int) -> Window:
    return Window(END - timedelta(hours=hours), END)


def test_pages_land_on_the_hourly_grid_as_they_come():
    window = _grid_window(4)
    start = window.start.timestamp()
    queries = build_queries(["a", "b"])  # ids c0_j for a, c1_j for b; j = 0 is storage_avg_bytes
    grid = HourlyGrid(queries, window)
    # cache a's storage in two pages (hours 0-1, then 3): epoch numbers, as the metric client keeps them
    assert grid.add([{"Id": "c0_0", "Timestamps": [start, start + 3600], "Values": [1.0, 2.0]}]) == 2
    # the second page also carries a point an hour before the window and an id never asked for
    assert grid.add([{"Id": "c0_0", "Timestamps": [start - 3600, start + 3 * 3600], "Values": [9.0, 4.0]},
                     {"Id": "zz", "Timestamps": [start], "Values": [5.0]}]) == 1
    # cache b's ECPU sum (j = 2) with ISO strings, as the query protocol sends them; half past counts in its hour
    grid.add([{"Id": "c1_2", "Timestamps": ["2026-11-22T21:30:00Z"], "Values": [7.0]}])
    frames = grid.frames()
    assert frames["a"]["storage_avg_bytes"].tolist()[:2] == [1.0, 2.0] and math.isnan(frames["a"]["storage_avg_bytes"].iloc[2])
    assert frames["a"]["storage_avg_bytes"].iloc[3] == 4.0
    # 21:30 is the second hour of a window starting 20:00
    assert frames["b"]["ecpu_sum"].tolist()[1] == 7.0 and int(np.isfinite(frames["b"].to_numpy()).sum()) == 1
    assert grid.values.nbytes == 2 * 4 * 5 * 8  # what is kept: 8 bytes a value


def _fleet(regions: int, per_region: int) -> dict[str, list[str]]:
    names = [f"c{i:04d}" for i in range(regions * per_region)]
    return {region: names[k::regions] for k, region in enumerate(["us-east-1", "eu-west-1"][:regions])}


def test_a_fleet_is_fetched_by_worker_processes_in_the_fewest_calls_into_a_partitioned_dataset(aws_env, tmp_path):
    caches = _fleet(2, 450)  # 450 x 5 queries x 720 h = 1.62 M points a region: 17 calls, over the 16 that start workers
    with FleetFake(caches) as fake:
        # the usage plan alone (the drivers' few calls: tests/test_drivers_fetch.py)
        out = costwise("fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF, "--jobs", "2", "--drivers", "none",
                       "--output", f"{tmp_path / 'fleet'}/", cwd=tmp_path, timeout=240)
        assert out.code == 0, out.err
    # the lower bound per region: ceil(450 x 5 x 720 / 100,800) = ceil(16.07) = 17, so 34 in all
    assert fake.metric_calls == 2 * minimum_calls(450 * 5, 720) == 34
    assert "900 of 900 environments" in out.err and "34 GetMetricData calls" in out.err
    # each region's batches spread over two worker processes, each on its own connection (one process keeps one alive)
    assert all(len(ports) >= 2 for ports in fake.metric_connections.values()) and len(fake.metric_connections) == 2
    files = sorted(p.relative_to(tmp_path / "fleet").as_posix() for p in (tmp_path / "fleet").rglob("*.parquet"))
    assert files == ["account=self/region=eu-west-1/part.parquet", "account=self/region=us-east-1/part.parquet"]
    history = load_dataset(tmp_path / "fleet")
    by_name = {e.env: e for e in history.environments}
    assert len(by_name) == 900
    first_hour = int(history.window.start.timestamp()) // 3600
    for region, name in (("us-east-1", "c0000"), ("eu-west-1", "c0899")):
        frame = by_name[f"{region}/{name}"].frame
        assert frame["ecpu_sum"].tolist() == expected(name, "ElastiCacheProcessingUnits", "Sum", first_hour, 720)
        assert frame["storage_max_bytes"].tolist() == expected(name, "BytesUsedForCache", "Maximum", first_hour, 720)


def test_calls_over_the_quota_are_throttled_and_retried(aws_env, tmp_path):
    # 120 caches x 5 x 720 = 432,000 points: ceil(4.29) = 5 calls, at most 2 a second: some are refused
    with FleetFake(_fleet(1, 120), calls_per_second=2) as fake:
        out = costwise("fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF, "--retry-mode", "adaptive",
                       "--drivers", "none", "--output", str(tmp_path / "f.parquet"), cwd=tmp_path, timeout=120)
    assert out.code == 0, out.err
    assert fake.throttled >= 1 and fake.metric_calls == 5  # every refused call came back, none was lost


@pytest.mark.parametrize("name, folder", [("..", "%2E%2E"), ("../up", "..%2Fup"), ("ok-1.a_b", "ok-1.a_b"), ("a\x1bb c", "a%1Bb%20c")])
def test_partition_names_stay_inside_the_dataset(name, folder):
    assert partition_name(name) == folder


def test_a_hostile_account_name_is_written_inside_the_folder(tmp_path):
    window = _grid_window(2)
    frame = empty_frame(window).fillna(1.0)
    envs = [EnvHistory("../../etc/x", "x", "valkey", "us-east-1", frame=frame, account="../../etc"),
            EnvHistory("mine", "m", "valkey", "us-east-1", frame=frame.copy())]
    written = save_dataset(History(window, envs, "cloudwatch"), tmp_path / "ds")
    assert [p.relative_to(tmp_path / "ds").as_posix() for p in written] == [
        "account=..%2F..%2Fetc/region=us-east-1/part.parquet", "account=self/region=us-east-1/part.parquet"]
    back = load_dataset(tmp_path / "ds")
    assert {e.env: e.account for e in back.environments} == {"../../etc/x": "../../etc", "mine": None}


def test_shards_split_one_big_account_and_write_beside_each_other(aws_env, tmp_path):
    caches = _fleet(1, 40)
    with FleetFake(caches) as fake:
        for k in (1, 2):
            out = costwise("fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF, "--days", "2", "--shard", f"{k}/2",
                           "--output", f"{tmp_path / 'ds'}/", cwd=tmp_path, timeout=120)
            assert out.code == 0, out.err
    folder = tmp_path / "ds" / "account=self" / "region=us-east-1"
    assert sorted(p.name for p in folder.iterdir()) == ["part-1-of-2.parquet", "part-2-of-2.parquet"]
    from costwise.sources.history_file import load_history

    counts = [len(load_history(folder / f"part-{k}-of-2.parquet").environments) for k in (1, 2)]
    assert sum(counts) == 40 and min(counts) > 0  # every cache once, and the one account really split
    assert sorted(e.cache for e in load_dataset(tmp_path / "ds").environments) == caches["us-east-1"]


def test_ctrl_c_during_a_pooled_fetch_is_one_line(aws_env, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import REPO

    # 900 caches in one region: 34 calls, each answered after 2 s, so workers are mid-batch when Ctrl-C comes
    with FleetFake(_fleet(1, 900), delay=2.0) as fake:
        proc = subprocess.Popen([sys.executable, "-m", "costwise", "fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF,
                                 "--jobs", "2", "-q", "--output", str(tmp_path / "f.parquet")],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while not fake.metric_connections.get("us-east-1") or len(fake.metric_connections["us-east-1"]) < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: to every process of the group, workers included
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines() == ["costwise: interrupted"]  # no worker's traceback
    assert time.monotonic() - started < 10  # the 30-odd calls left are not awaited
    assert not (tmp_path / "f.parquet").exists()


def test_parquet_files_saved_before_row_groups_still_load(tmp_path):
    import json

    import pandas as pd

    from costwise.sources.history_file import _meta, load_history, table_parts

    window = _grid_window(3)
    frame = empty_frame(window)
    frame["storage_avg_bytes"] = [1.0, 2.0, 3.0]
    history = History(window, [EnvHistory("old", "c", "valkey", "us-east-1", frame=frame)], "cloudwatch")
    table = pd.concat(list(table_parts(history)), ignore_index=True)
    table.attrs["costwise"] = json.dumps(_meta(history, len(table)))  # exactly how earlier versions wrote .parquet
    table.to_parquet(tmp_path / "old.parquet", index=False)
    back = load_history(tmp_path / "old.parquet").environments[0]
    assert back.env == "old" and back.frame["storage_avg_bytes"].tolist() == [1.0, 2.0, 3.0]


def test_where_worker_processes_cannot_start_the_fetch_runs_in_process(aws_env, monkeypatch):
    import multiprocessing

    from costwise.config import EnvConfig
    from costwise.sources.aws import AwsSession
    from costwise.sources.cloudwatch import FetchPool, collect_history

    def no_semaphores(method=None):  # as in AWS Lambda: no /dev/shm, so no multiprocessing primitives
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(multiprocessing, "get_context", no_semaphores)
    names = _fleet(1, 450)["us-east-1"]  # 17 calls: over the 16 that would start workers
    window = Window(END - timedelta(days=30), END)
    pool = FetchPool(2)
    with FleetFake({"us-east-1": names}) as fake:
        history = collect_history([EnvConfig(n, n, region="us-east-1") for n in names], "us-east-1", window,
                                  AwsSession(endpoint_url=fake.url), pool=pool)
    pool.close()
    assert pool.workers == 1 and history.api_calls == fake.metric_calls == 17
    assert all(e.error is None for e in history.environments)
    assert len(fake.metric_connections["us-east-1"]) == 1  # one process, one kept-alive connection
