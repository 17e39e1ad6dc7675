"""costwise migrate: against a real redis-server, and a node-based cluster served by moto."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from costwise.model.cost import ecpus_from_traffic
from costwise.sources.cluster import cluster_shape
from tests.conftest import REPO

redis = pytest.importorskip("redis")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("COSTWISE_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (.ci/run installs and starts it)")
        pytest.skip("redis-server not installed")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def server(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.flushall()
    client.close()


def _migrate_while(redis_url, traffic, sample="4s"):
    """Run `costwise migrate --from-redis` and send `traffic` inside its sampling window."""
    watcher = redis.Redis.from_url(redis_url)
    before = watcher.info("clients")["connected_clients"]
    proc = subprocess.Popen([sys.executable, "-m", "costwise", "migrate", "--from-redis", redis_url, "--sample", sample, "--format", "json"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while watcher.info("clients")["connected_clients"] <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # its first INFO has been answered
    traffic()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_big_values_are_billed_by_the_kilobyte(redis_url, server):
    value = b"v" * 3072
    for i in range(2000):
        server.set(f"item:{i:05d}", value)

    def traffic():
        client = redis.Redis.from_url(redis_url)
        for i in range(1500):
            client.get(f"item:{i:05d}")
        client.close()

    data = _migrate_while(redis_url, traffic)
    # stored: 2,000 x 3,072 = 6,144,000 bytes of values, plus keys and per-key overhead
    stored = data["storage_gb"] * 2**30
    assert 6_144_000 <= stored <= 1.3 * 6_144_000
    # sent: 1,500 GETs, each 3,072 bytes back (+ a few bytes of protocol): 3 KB = 3 ECPUs each,
    # so 1,500 x 3,072 / 1,024 = 4,500 ECPUs, a little more for the protocol bytes
    ecpus = data["ecpu_per_second"] * data["sample_seconds"]
    assert 4_500 <= ecpus <= 4_500 * 1.05
    assert data["commands_per_second"] * data["sample_seconds"] == pytest.approx(1500)


def test_small_commands_cost_one_ecpu_each(redis_url, server):
    server.set("counter", 0)

    def traffic():
        client = redis.Redis.from_url(redis_url)
        for _ in range(2000):
            client.incr("counter")
        client.close()

    data = _migrate_while(redis_url, traffic)
    # 2,000 INCRs of a few bytes each: 1 ECPU per command = 2,000 ECPUs
    assert data["ecpu_per_second"] * data["sample_seconds"] == pytest.approx(2000)
    # the bill: valkey minimum 0.1 GB x 0.0837 x 730 = 6.1101 plus the sampled rate's ECPUs
    rate = data["ecpu_per_second"]
    assert data["cost"]["total"] == pytest.approx(6.1101 + rate * 3600 * 730 / 1e6 * 0.00227)
    # peak factor 2 (default): limits cover twice the sampled rate, scaling shows 5x too
    assert [row["traffic_factor"] for row in data["scaling"]] == [1.0, 2.0, 5.0]
    # starting ECPU limit: sampled rate x peak factor 2 x 1.2 headroom x 1.25 burst, two significant figures
    from costwise.limits import nice_ceil

    assert data["recommended"]["max_ecpu_per_second"] == max(1000, nice_ceil(rate * 2 * 1.2 * 1.25))
    assert any("not a month" in n for n in data["notes"])


def test_unreachable_server_is_one_line(cli):
    result = cli("migrate", "--from-redis", f"redis://127.0.0.1:{_free_port()}", "--sample", "1s")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("costwise: error: cannot connect to redis://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_wrong_password_is_one_line(cli, redis_url, server):
    server.execute_command("ACL", "SETUSER", "costwise-test", "on", ">right", "+info")
    try:
        bad = redis_url.replace("redis://", "redis://costwise-test:Hunter2-secret@")
        result = cli("migrate", "--from-redis", bad, "--sample", "1s")
        assert result.returncode == 1
        assert "authentication failed" in result.stderr.strip().splitlines()[-1]
        assert "Hunter2-secret" not in result.stderr  # the password is never printed
    finally:
        server.execute_command("ACL", "DELUSER", "costwise-test")


def test_ecpu_rule():
    assert ecpus_from_traffic(100, 50 * 1024) == 100  # small commands: 1 each
    assert ecpus_from_traffic(100, 320 * 1024) == 320  # 3.2 KB each: 3.2 each


# ---- node-based clusters ----------------------------------------------------------------------

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=2)


def _put_node(cw, node, hours, **per_hour):
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
                         "Timestamp": START + timedelta(hours=h, minutes=30), "Unit": unit, "StatisticValues": stats})
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/ElastiCache", MetricData=data[i : i + 500])


def test_from_cluster_against_moto(run, moto):
    ec = boto3.client("elasticache", region_name="us-east-1", endpoint_url=moto)
    ec.create_replication_group(ReplicationGroupId="shop", ReplicationGroupDescription="shop cache", Engine="redis",
                                CacheNodeType="cache.r7g.large", NumNodeGroups=1, ReplicasPerNodeGroup=1)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    gib = 2**30
    _put_node(cw, "shop-001", 48, bytes=2 * gib, get=1.8e6, set=0.9e6, net_in=0.8e9, net_out=1.2e9, repl=0.5e9)
    _put_node(cw, "shop-002", 48, bytes=2 * gib, get=1.8e6, set=0.0, net_in=0.7e9, net_out=0.5e9)
    code, out, err = run("migrate", "--from-cluster", "shop", "--engine", "valkey", "--as-of", "2026-11-20T00:00:00Z", "--days", "2",
                         "--endpoint-url", moto, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    cluster, sl = data["cluster"], data["serverless"]
    # today: 2 x cache.r7g.large (redis-oss, $0.219/h) x 730 = 319.74
    assert (cluster["nodes"], cluster["primaries"], cluster["replicas"]) == (2, 1, 1)
    assert cluster["monthly"] == pytest.approx(2 * 0.219 * 730)
    # storage: the primary's 2 GB only. ECPUs an hour: commands 1.8e6 + 0.9e6 + 1.8e6 = 4.5e6;
    # bytes 0.8e9 + 1.2e9 + 0.7e9 + 0.5e9 - 2 x 0.5e9 replication = 2.2e9 = 2,148,437.5 KB < 4.5e6: 4.5e6 ECPUs
    # 48 hours on valkey: 48 x 2 x 0.0837 = 8.0352 and 216e6 x 0.00227 / 1e6 = 0.49032 -> 8.52552
    assert sl["engine"] == "valkey"
    assert sl["cost"]["window"]["storage"] == pytest.approx(8.0352)
    assert sl["cost"]["window"]["ecpu"] == pytest.approx(0.49032)
    # a flat month: 2 x 0.0837 x 730 + 4.5e6 x 730 x 0.00227 / 1e6 = 122.202 + 7.45695
    assert sl["cost"]["projected_month"]["total"] == pytest.approx(122.202 + 7.45695, rel=1e-3)
    assert cluster["serverless_minus_cluster"] == pytest.approx(122.202 + 7.45695 - 319.74, rel=1e-3)
    assert sl["limits"]["action"] == "set" and sl["limits"]["recommended"]["max_storage_gb"] >= 3


def test_cluster_without_metrics_or_missing(run, moto):
    ec = boto3.client("elasticache", region_name="us-east-1", endpoint_url=moto)
    ec.create_replication_group(ReplicationGroupId="quiet", ReplicationGroupDescription="d", Engine="valkey",
                                CacheNodeType="cache.t4g.small", NumNodeGroups=1, ReplicasPerNodeGroup=1)
    code, out, err = run("migrate", "--from-cluster", "quiet", "--endpoint-url", moto, "--days", "1")
    assert code == 1 and "no CloudWatch metrics for its nodes" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run("migrate", "--from-cluster", "nope", "--endpoint-url", moto, "--days", "1")
    assert code == 1 and "replication group 'nope' not found in us-east-1" in err


def test_cluster_shape_without_current_role():
    # cluster mode enabled: AWS reports no CurrentRole; the first member of each shard is its primary
    group = {"ReplicationGroupId": "big", "CacheNodeType": "cache.r7g.large", "Engine": "valkey", "NodeGroups": [
        {"NodeGroupId": "0001", "NodeGroupMembers": [{"CacheClusterId": "big-0001-001", "CacheNodeId": "0001"},
                                                     {"CacheClusterId": "big-0001-002", "CacheNodeId": "0001"}]},
        {"NodeGroupId": "0002", "NodeGroupMembers": [{"CacheClusterId": "big-0002-001", "CacheNodeId": "0001"},
                                                     {"CacheClusterId": "big-0002-002", "CacheNodeId": "0001"}]}]}
    shape = cluster_shape(group)
    assert shape.primaries == ["big-0001-001", "big-0002-001"]
    assert shape.replicas == ["big-0001-002", "big-0002-002"]
    assert shape.engine == "valkey" and len(shape.notes) == 2
