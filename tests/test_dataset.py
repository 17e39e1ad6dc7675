"""Beyond one machine (issue 13): `fetch --shard K/N` jobs write one folder of files, and
`--metrics-file FOLDER` reads the whole dataset as one history."""

from __future__ import annotations

import json
import shutil

import boto3

from tests.awsfakes import put_hourly
from tests.faultserver import FaultServer
from tests.helpers import AS_OF, GIB, START, costwise

CACHES = [f"cache-{i}" for i in range(6)]


def _config(tmp_path):
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n" + "".join(f"  env-{i}: {{cache: {c}}}\n" for i, c in enumerate(CACHES)))
    return config


def test_shards_cover_every_environment_once_and_the_folder_reads_whole(moto, tmp_path):
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    for i, cache in enumerate(CACHES):  # cache-i stores i+1 GB: every environment's cost differs
        put_hourly(cw, cache, START, [{"storage_avg": (i + 1) * GIB, "storage_max": (i + 1) * GIB, "ecpu_sum": 3.6e6,
                                       "ecpu_max_minute": 6e4, "throttled": 0.0}] * 48)
    config, dataset = _config(tmp_path), tmp_path / "dataset"
    dataset.mkdir()
    common = ("--config", str(config), "--as-of", AS_OF, "--days", "2")
    with FaultServer(moto, caches=[{"name": c} for c in CACHES]) as fault:
        for k in (1, 2, 3):
            fetched = costwise("fetch", *common, "--endpoint-url", fault.url, "--shard", f"{k}/3", "--output", str(dataset / f"part-{k}-of-3.csv"))
            assert fetched.code == 0, fetched.err
        whole = costwise("estimate", *common, "--endpoint-url", fault.url, "--format", "json")
    parts = [json.loads((dataset / f"part-{k}-of-3.csv").read_text().splitlines()[0][2:]) for k in (1, 2, 3)]
    names = [e["env"] for part in parts for e in part["environments"]]
    assert sorted(names) == [f"env-{i}" for i in range(6)]  # each exactly once across the shards
    assert all(len(part["environments"]) < 6 for part in parts)  # and really split
    merged = costwise("estimate", "--metrics-file", str(dataset), "--as-of", AS_OF, "--format", "json")
    assert merged.code == 0, merged.err
    by_name = {e["env"]: e["cost"]["window"]["total"] for e in json.loads(merged.out)["environments"]}
    direct = {e["env"]: e["cost"]["window"]["total"] for e in json.loads(whole.out)["environments"]}
    assert by_name == direct  # the dataset is the same history as one direct read


def test_a_dataset_with_overlapping_or_mismatched_files_is_refused(moto, tmp_path):
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    put_hourly(cw, "cache-0", START, [{"storage_avg": GIB, "storage_max": GIB, "ecpu_sum": 3.6e6, "ecpu_max_minute": 6e4}] * 48)
    config, dataset = _config(tmp_path), tmp_path / "dataset"
    dataset.mkdir()
    with FaultServer(moto, caches=[{"name": "cache-0"}]) as fault:
        one = costwise("fetch", "--config", str(config), "--env", "env-0", "--as-of", AS_OF, "--days", "2", "--endpoint-url", fault.url,
                       "--output", str(dataset / "a.csv"))
        assert one.code == 0, one.err
        shutil.copy(dataset / "a.csv", dataset / "b.csv")
        twice = costwise("report", "--metrics-file", str(dataset))
        assert twice.code == 2 and twice.lines() == [f"costwise: error: {dataset / 'b.csv'}: environment 'env-0' is also in {dataset / 'a.csv'}"]
        (dataset / "b.csv").unlink()
        other = costwise("fetch", "--config", str(config), "--env", "env-0", "--as-of", "2026-11-19T00:00:00Z", "--days", "1",
                         "--endpoint-url", fault.url, "--output", str(dataset / "b.csv"))
        assert other.code == 0, other.err
    mismatched = costwise("report", "--metrics-file", str(dataset))
    assert mismatched.code == 2 and "b.csv: window" in mismatched.err and "one --as-of" in mismatched.err
    bad = costwise("fetch", "--config", str(config), "--shard", "3/2", "--output", str(tmp_path / "x.csv"))
    assert bad.code == 2 and "--shard: expected K/N" in bad.err
