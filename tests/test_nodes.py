"""Serverless vs node-based, checked by hand (us-east-1 valkey: $0.0837/GB-h, $0.00227/M ECPU;
cache.t4g.micro valkey $0.0128/h, 0.5 GiB, 2 vCPU; 730 h)."""

from __future__ import annotations

import json

import pytest

from costwise.model.nodes import NodeAssumptions, compare_with_nodes


def test_small_cache_vs_a_t4g_micro_pair(prices, valkey):
    c = compare_with_nodes(0.2, 1000, valkey, prices.node_types("us-east-1", "valkey"))
    # serverless: 0.2 x 0.0837 x 730 = 12.2202 + 1,000 x 3,600 x 730 / 1e6 x 0.00227 = 5.96556 -> 18.18576
    assert c.serverless_monthly == pytest.approx(18.18576)
    # nodes: primary + replica of cache.t4g.micro (0.5 GiB x 75% = 0.375 GB >= 0.2): 2 x 0.0128 x 730 = 18.688
    assert (c.setup.node_type, c.setup.nodes, c.setup.shards) == ("cache.t4g.micro", 2, 1)
    assert c.setup.monthly == pytest.approx(18.688)
    assert c.cheaper == "serverless"
    # break-even storage at 1,000 ECPU/s: (18.688 - 5.96556) / (0.0837 x 730) = 12.72244 / 61.101 = 0.20822 GB
    assert c.break_even_storage_gb == pytest.approx(0.20822, abs=1e-5)
    # break-even ECPU/s at 0.2 GB: (18.688 - 12.2202) / (3,600 x 730 / 1e6 x 0.00227) = 6.4678 / 0.0059656 = 1,084.2
    assert c.break_even_ecpu_per_second == pytest.approx(1084.19, abs=0.01)


def test_memory_needs_shards_and_replicas_multiply(prices, valkey):
    # 20 GB with one replica per shard, $/hour for each type (usable GB = memory x 0.75):
    #   t4g.micro 0.375 -> 54 shards, 108 x 0.0128 = 1.3824   t4g.small 1.0275 -> 20 shards, 40 x 0.0256 = 1.024
    #   t4g.medium 2.3175 -> 9 shards, 18 x 0.052 = 0.936     m7g.large 4.785 -> 5 shards, 10 x 0.1264 = 1.264
    #   r7g.large 9.8025 -> 3 shards, 6 x 0.1752 = 1.0512     the larger types cost more
    c = compare_with_nodes(20, 1000, valkey, prices.node_types("us-east-1", "valkey"))
    assert (c.setup.node_type, c.setup.shards, c.setup.nodes) == ("cache.t4g.medium", 9, 18)
    assert c.setup.monthly == pytest.approx(0.936 * 730)
    # two replicas: t4g.medium 27 x 0.052 = 1.404 beats r7g.large 9 x 0.1752 = 1.5768 and t4g.small 60 x 0.0256 = 1.536
    three = compare_with_nodes(20, 1000, valkey, prices.node_types("us-east-1", "valkey"), NodeAssumptions(replicas=2))
    assert (three.setup.node_type, three.setup.nodes) == ("cache.t4g.medium", 27)


def test_memcached_has_no_replicas(prices):
    rates = prices.rates("us-east-1", "memcached")
    c = compare_with_nodes(0.2, 1000, rates, prices.node_types("us-east-1", "memcached"))
    assert (c.setup.node_type, c.setup.nodes) == ("cache.t4g.micro", 1)  # one node at $0.016/h
    assert c.setup.monthly == pytest.approx(0.016 * 730)
    assert any("memcached has none" in a for a in c.assumptions)


def test_whatif_compare_nodes(cli):
    result = cli("whatif", "--storage-gb", "0.2", "--ecpu-per-second", "1000", "--compare-nodes", "--format", "json")
    assert result.returncode == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert nodes["node_type"] == "cache.t4g.micro" and nodes["nodes"] == 2
    assert nodes["monthly"] == pytest.approx(18.688)
    assert nodes["break_even"]["storage_gb"] == pytest.approx(0.20822, abs=1e-5)
    assert "on-demand prices on both sides" in " ".join(nodes["assumptions"]) and nodes["break_even"]["prices"] == "on-demand"
    # committed: the best reserved offering in the fixture is 3 years all upfront at 0.45 x on demand:
    # upfront 0.0128 x 0.45 x 26,280 = 151.37 over 26,280 h = 0.00576/h; 2 nodes x 730 h = 8.41.
    # t4g is generation 4: no Database Savings Plan
    assert nodes["committed"]["reserved_monthly"] == pytest.approx(2 * 730 * round(0.0128 * 0.45 * 26280, 2) / 26280)
    assert nodes["committed"]["reserved"] == "reserved 3 years, all upfront"
    assert nodes["committed"]["savings_plan_monthly"] is None
    table = cli("whatif", "--storage-gb", "0.2", "--ecpu-per-second", "1000", "--compare-nodes")
    assert "2 x cache.t4g.micro: $18.69" in table.stdout


def test_generation_7_valkey_nodes_show_their_savings_plan_price(prices, valkey):
    r7g = [n for n in prices.node_types("us-east-1", "valkey") if n.name == "cache.r7g.large"]
    c = compare_with_nodes(5, 5000, valkey, r7g)
    # 5 GB fits one shard (13.07 GiB x 75% = 9.8): primary + replica, 2 x 0.1752 x 730 = 255.79 on demand;
    # with a Database Savings Plan (the fixture: 15% off, 0.14892/h): 2 x 0.14892 x 730 = 217.42
    assert (c.setup.nodes, c.setup.monthly) == (2, pytest.approx(255.792))
    assert c.savings_plan_monthly == pytest.approx(217.4232)
    # best reserved: 3 years all upfront, 0.1752 x 0.45 x 26,280 = 2,071.92 upfront = 0.07884/h: 2 x 730 x 0.07884 = 115.11
    assert c.reserved_monthly == pytest.approx(2 * 730 * 2071.92 / 26280)
    assert "$217.42 with a Database Savings Plan" in c.summary()
