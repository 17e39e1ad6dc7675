"""Cost drivers read from CloudWatch (issue 21): one period for the window, packed with the fleet's
plan, at most a few more calls; served by tests/cwfake.FleetFake, which enforces GetMetricData's
limits (500 queries a call, 100,800 datapoints a page).

The known mix (hand-derived in tests/test_drivers.py's docstring), per hour:
10 M commands: GET-type 8 M at 3.4 ECPUs, SET-type 1.5 M at 1, EVAL 0.5 M at 14; 35.7 M ECPUs in all.
"""

from __future__ import annotations

import json

import pytest

from costwise.driver_metrics import ECPU_SUFFIX, metrics_for
from costwise.sources.cloudwatch import DriverChoice, DriverTotalsAccumulator
from costwise.sources.plan import build_driver_queries, build_queries, driver_period, driver_points, plan_batches, planned_calls
from costwise.errors import InputError
from tests.cwfake import FleetFake, shape_of
from tests.helpers import costwise

AS_OF = "2026-11-23T00:00:00Z"
MIX = {
    "ElastiCacheProcessingUnits": 35_700_000,
    "GetTypeCmds": 8_000_000, "GetTypeCmds" + ECPU_SUFFIX: 27_200_000,
    "SetTypeCmds": 1_500_000, "SetTypeCmds" + ECPU_SUFFIX: 1_500_000,
    "NonKeyTypeCmds": 500_000, "NonKeyTypeCmds" + ECPU_SUFFIX: 7_000_000,
    "StringBasedCmds": 9_500_000, "StringBasedCmds" + ECPU_SUFFIX: 28_700_000,
    "EvalBasedCmds": 500_000, "EvalBasedCmds" + ECPU_SUFFIX: 7_000_000,
    "TotalCmdsCount": 10_000_000, "CacheHits": 6_000_000, "CacheMisses": 2_000_000,
    "CurrItems": 1_000_000, "CurrVolatileItems": 200_000, "Evictions": 0,
}


def test_driver_queries_take_one_period_for_the_window():
    # 30 days = 2,592,000 s: one point per metric; 90 days: three 30-day periods
    assert (driver_period(720), driver_points(720)) == (2_592_000, 1)
    assert (driver_period(48), driver_points(48)) == (172_800, 1)
    assert driver_points(2160) == 3
    queries = build_driver_queries([("a", "valkey"), ("m", "memcached")], 720)
    assert len(queries) == len(metrics_for("valkey")) + len(metrics_for("memcached"))
    assert {q.payload()["MetricStat"]["Period"] for q in queries} == {2_592_000}
    # 20 valkey caches: 20 x 39 queries of one point each = 780 queries: 2 calls (500 queries a call)
    twenty = build_driver_queries([(f"c{i}", "valkey") for i in range(20)], 720)
    assert len(metrics_for("valkey")) == 39 and planned_calls(plan_batches(twenty, 1), 1) == 2


def test_drivers_option_is_checked():
    assert DriverChoice.parse(None) == DriverChoice("top", 20)
    assert DriverChoice.parse("top:5") == DriverChoice("top", 5) and DriverChoice.parse("all").mode == "all"
    for bad in ("top", "top:0", "top:x", "some"):
        with pytest.raises(InputError, match="--drivers"):
            DriverChoice.parse(bad)


def test_partial_and_missing_points_are_told_apart():
    queries = build_driver_queries([("a", "valkey")], 720)
    acc = DriverTotalsAccumulator(queries)
    ids = {q.column: q.id for q in queries}
    acc.add([{"Id": ids["GetTypeCmds"], "Values": [5.0, 7.0], "StatusCode": "Complete"},
             {"Id": ids["CurrItems"], "Values": [10.0, 20.0], "StatusCode": "Complete"},
             {"Id": ids["SetTypeCmds"], "Values": [3.0], "StatusCode": "PartialData"}])
    totals = acc.by_cache()["a"]
    # Sum metrics add their points (5 + 7), gauges average them ((10 + 20) / 2); no point: None
    assert totals.values["GetTypeCmds"] == 12.0 and totals.values["CurrItems"] == 15.0
    assert totals.values["HashBasedCmds"] is None and totals.partial == ("SetTypeCmds",)


def test_known_mix_from_a_fake_cloudwatch(aws_env):
    caches = {"us-east-1": ["shop", "bare"]}
    # "bare" publishes its bill's metrics but no command-level ones (an older engine)
    drivers = {"shop": MIX, "bare": {"ElastiCacheProcessingUnits": 1_000_000}}
    with FleetFake(caches, drivers=drivers, partial={("shop", "SetTypeCmds")}) as fake:
        out = costwise("estimate", "--cache", "shop", "--endpoint-url", fake.url, "--as-of", AS_OF, "--format", "json")
        assert out.code == 0, out.err
        shop = json.loads(out.out)["environments"][0]
        out = costwise("estimate", "--cache", "bare", "--endpoint-url", fake.url, "--as-of", AS_OF, "--format", "json")
        assert out.code == 0, out.err
        bare = json.loads(out.out)["environments"][0]
    d = shop["drivers"]
    fam = d["families"]
    # shares of all ECPUs (the window's ElastiCacheProcessingUnits): 27.2 / 35.7, 1.5 / 35.7, 7 / 35.7, 28.7 / 35.7
    assert fam["GetTypeCmds"]["ecpu_share"] == pytest.approx(0.761905, abs=1e-6)
    assert fam["SetTypeCmds"]["ecpu_share"] == pytest.approx(0.042017, abs=1e-6)
    assert fam["EvalBasedCmds"]["ecpu_share"] == pytest.approx(0.196078, abs=1e-6)
    assert fam["StringBasedCmds"]["ecpu_share"] == pytest.approx(0.803922, abs=1e-6)
    assert fam["EvalBasedCmds"]["ecpus_per_command"] == pytest.approx(14.0)
    # a family the cache published no metric for is null, not 0
    assert fam["HashBasedCmds"] == {"grouping": "data type", "commands": None, "ecpus": None, "ecpu_share": None,
                                    "ecpus_per_command": None, "cost_month": None, "status": "not published"}
    assert fam["SetTypeCmds"]["status"] == "partial" and d["partial"] == ["SetTypeCmds"]
    # compression 3:1 of GET-type: 8 M x (3.4 - 3.4 / 3) = 18.1333 M ECPUs an hour x 730 x $0.00227 / M = $30.0487
    [compression] = [f for f in d["findings"] if f["kind"] == "compression"]
    assert round(compression["saves_month"], 2) == 30.05
    assert d["hit_rate"] == pytest.approx(0.75) and d["ttl_share"] == pytest.approx(0.2)
    # NetworkBytesIn/Out not published by the fake here: null
    assert d["bytes_per_command"] == {"in": None, "out": None}
    b = bare["drivers"]
    assert all(f["status"] == "not published" and f["commands"] is None for f in b["families"].values())
    assert b["hit_rate"] is None and b["findings"] == []


def test_a_memcached_cache_reads_its_own_metrics(aws_env):
    # Memcached serverless publishes CmdGet / CmdSet and GetHits / GetMisses, and (per AWS's page) no
    # ECPUs per command: commands and hit rate are there, ECPUs per family "not published"
    served = {"ElastiCacheProcessingUnits": 2_000_000, "CmdGet": 900_000, "CmdSet": 100_000, "GetHits": 720_000,
              "GetMisses": 180_000, "TotalCmdsCount": 1_000_000, "CurrItems": 50_000}
    with FleetFake({"us-east-1": ["memo"]}, drivers={"memo": served}, engines={"memo": "memcached"}) as fake:
        out = costwise("estimate", "--cache", "memo", "--endpoint-url", fake.url, "--as-of", AS_OF, "--format", "json")
        assert out.code == 0, out.err
        queried = fake.queries_seen
    env = json.loads(out.out)["environments"][0]
    d = env["drivers"]
    assert env["engine"] == "memcached" and set(d["families"]) == {"CmdGet", "CmdSet", "CmdTouch", "CmdFlush"}
    # 5 hourly usage queries, then the memcached set's 15 (4 families x 2 + 7)
    assert queried == 5 + len(metrics_for("memcached")) == 20
    get = d["families"]["CmdGet"]
    assert get["commands"] == 900_000 * 720 and get["ecpus"] is None and get["ecpu_share"] is None
    assert d["families"]["CmdTouch"]["status"] == "not published"
    # hit rate 720,000 / (720,000 + 180,000) = 0.8; TTLs are not published for Memcached
    assert d["hit_rate"] == pytest.approx(0.8) and d["ttl_share"] is None


def test_a_thousand_caches_cost_at_most_five_more_calls_and_the_costliest_are_read(aws_env, tmp_path):
    names = [f"c{i:04d}" for i in range(1000)]
    with FleetFake({"us-east-1": names}) as fake:
        out = costwise("fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF, "--jobs", "1",
                       "--output", str(tmp_path / "fleet.csv"), timeout=300)
        assert out.code == 0, out.err
    # today's plan: 1,000 x 5 hourly queries x 720 points; drivers: the 20 costliest x 39 metrics x
    # one point = 780 queries = 2 calls (500 queries a call)
    today = planned_calls(plan_batches(build_queries(names), 720), 720)
    assert fake.metric_calls == today + 2
    from costwise.sources.history_file import load_history

    history = load_history(tmp_path / "fleet.csv")
    with_drivers = [e for e in history.environments if e.drivers is not None]
    assert len(with_drivers) == 20
    # the fake's costliest shape is 7 (level 8): about 1,000 / 8 caches have it, the 20 read are among them
    assert {shape_of(e.cache) for e in with_drivers} == {7}
    assert all(e.drivers.values["GetTypeCmds"] == 0.0 for e in with_drivers)  # the fake serves 0 for them


def test_drivers_none_reads_no_more(aws_env, tmp_path):
    with FleetFake({"us-east-1": ["a", "b"]}) as fake:
        out = costwise("estimate", "--cache", "a", "--endpoint-url", fake.url, "--as-of", AS_OF, "--drivers", "none", "--format", "json")
        assert out.code == 0, out.err
        assert fake.metric_calls == 1 and json.loads(out.out)["environments"][0]["drivers"] is None
        out = costwise("estimate", "--cache", "a", "--endpoint-url", fake.url, "--drivers", "top:x")
        assert out.code == 2 and "--drivers" in out.err
