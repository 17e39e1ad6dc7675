"""migrate --from-cluster against moto (no Redis needed), and the pure pieces it rests on.

Rates: the tests' pricing fixture (us-east-1 valkey $0.0837/GB-h, $0.00227/M ECPU, min 0.1 GB).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from costwise.model.cost import ecpus_from_traffic
from costwise.sources.cluster import cluster_shape
from tests.awsfakes import put_node_hourly


def test_ecpu_rule():
    assert ecpus_from_traffic(100, 50 * 1024) == 100  # small commands: 1 each
    assert ecpus_from_traffic(100, 320 * 1024) == 320  # 3.2 KB each: 3.2 each


# ---- node-based clusters ----------------------------------------------------------------------

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=2)


def _two_node_group(moto: str, group: str, node_type: str) -> None:
    """A Redis group of a primary and a replica in moto, with 48 hours of metrics per node: 2 GB each;
    the primary 1.8 M GETs and 0.9 M SETs an hour, the replica 1.8 M GETs; 0.5 GB an hour replicated."""
    ec = boto3.client("elasticache", region_name="us-east-1", endpoint_url=moto)
    ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription=f"{group} cache", Engine="redis",
                                CacheNodeType=node_type, NumNodeGroups=1, ReplicasPerNodeGroup=1)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    gib = 2**30
    put_node_hourly(cw, f"{group}-001", START, 48, bytes=2 * gib, get=1.8e6, set=0.9e6, net_in=0.8e9, net_out=1.2e9, repl=0.5e9)
    put_node_hourly(cw, f"{group}-002", START, 48, bytes=2 * gib, get=1.8e6, set=0.0, net_in=0.7e9, net_out=0.5e9)


def test_from_cluster_against_moto(run, moto):
    _two_node_group(moto, "shop", "cache.r7g.large")
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


def test_extended_support_is_part_of_todays_cost(run, moto):
    from tests.faultserver import FaultServer, cache_cluster_xml

    _two_node_group(moto, "old", "cache.m5.large")
    # moto does not list a group's members in DescribeCacheClusters: the fault server answers it (Redis OSS 5.0.6)
    with FaultServer(moto, canned={"DescribeCacheClusters": cache_cluster_xml("old-001", "redis", "5.0.6", "cache.m5.large")}) as server:
        code, out, err = run("migrate", "--from-cluster", "old", "--engine", "valkey", "--as-of", "2026-11-20T00:00:00Z",
                             "--days", "2", "--endpoint-url", server.url, "--format", "json")
    assert code == 0, err
    cluster = json.loads(out)["cluster"]
    # 2026-11-20 is in years 1-2 of Redis OSS 5's Extended Support (since 2026-02-01): 80% of on demand,
    # the fixture's 0.1248 $/h on cache.m5.large (0.156 $/h). Today: 2 x (0.156 + 0.1248) x 730 = 409.968,
    # of which 2 x 0.1248 x 730 = 182.208 is the surcharge
    assert cluster["engine_version"] == "5.0.6"
    assert cluster["extended_support"].startswith("Redis OSS 5 Extended Support, years 1-2")
    assert cluster["monthly"] == pytest.approx(409.968)
    assert cluster["extended_support_monthly"] == pytest.approx(182.208)
    # serverless (122.202 + 7.45695 = 129.659, as in the r7g test above) saves 280.31 a month, 182.21 of it the surcharge
    assert cluster["serverless_minus_cluster"] == pytest.approx(129.659 - 409.968, rel=1e-3)
    assert cluster["saving_from_extended_support"] == pytest.approx(182.208)


def test_extended_support_year_bands():
    from datetime import date

    from costwise.model.extended_support import support_band

    assert support_band("redis-oss", "5.0.6", date(2026, 1, 31)) is None  # before it started
    assert support_band("redis-oss", "4.0.10", date(2026, 2, 1)).band == "yr1_yr2"
    assert support_band("redis-oss", "5.0.6", date(2028, 1, 31)).band == "yr1_yr2"
    assert support_band("redis-oss", "5.0.6", date(2028, 2, 1)).band == "yr3"
    assert support_band("redis-oss", "6.2.6", date(2026, 11, 20)) is None  # Redis OSS 6 from 2027-02-01
    assert support_band("redis-oss", "6.2.6", date(2027, 2, 1)).band == "yr1_yr2"
    assert support_band("redis-oss", "7.1", date(2028, 1, 1)) is None
    assert support_band("valkey", "5.0", date(2027, 1, 1)) is None
