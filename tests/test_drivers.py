"""Cost drivers (issue 21): the model's numbers derived by hand, and the analysis in estimate.

The known mix, per hour over a 720-hour window (us-east-1 valkey: $0.00227 per million ECPUs, a
730-hour month, so a month of an hourly figure is x 730 and a million ECPUs a month costs
730 x 0.00227 = $1.6571 when it is an hourly figure):

    10,000,000 commands an hour: 80% GET-type at 3.4 KB, 15% SET-type at 1 KB, 5% EVAL at 14 ECPUs
    GET-type  8,000,000 commands, 3.4 ECPUs each = 27,200,000 ECPUs
    SET-type  1,500,000 commands, 1 ECPU each    =  1,500,000 ECPUs
    EVAL        500,000 commands, 14 ECPUs each  =  7,000,000 ECPUs
    all (ElastiCacheProcessingUnits)              = 35,700,000 ECPUs an hour

Data-type grouping: GET and SET are string commands (9,500,000 commands, 28,700,000 ECPUs).
"""

from __future__ import annotations

import json
import math

import pytest

from costwise.driver_metrics import ECPU_SUFFIX, metrics_for
from costwise.model.drivers import NOT_PUBLISHED, DriverSettings, analyse_drivers
from costwise.usage import DriverTotals

HOURS = 720
PER_HOUR = {
    "GetTypeCmds": 8_000_000, "GetTypeCmds" + ECPU_SUFFIX: 27_200_000,
    "SetTypeCmds": 1_500_000, "SetTypeCmds" + ECPU_SUFFIX: 1_500_000,
    "NonKeyTypeCmds": 500_000, "NonKeyTypeCmds" + ECPU_SUFFIX: 7_000_000,  # EVAL is a non-key access command
    "StringBasedCmds": 9_500_000, "StringBasedCmds" + ECPU_SUFFIX: 28_700_000,
    "EvalBasedCmds": 500_000, "EvalBasedCmds" + ECPU_SUFFIX: 7_000_000,
    "TotalCmdsCount": 10_000_000,
    "CacheHits": 6_000_000, "CacheMisses": 2_000_000,
    "NetworkBytesIn": 10_000_000 * 200, "NetworkBytesOut": 8_000_000 * 3.4 * 1024,
    "Evictions": 0,
}
GAUGES = {"CurrItems": 1_000_000, "CurrVolatileItems": 200_000, "CacheHitRate": 75.0}
WINDOW_ECPUS = 35_700_000 * HOURS


def mix_totals(**changes) -> DriverTotals:
    """Every redis-set metric: the mix's window totals (x 720 hours), gauges as their mean; other
    families published as 0 (AWS publishes a zero count for a type nobody used)."""
    values = {m.name: 0.0 for m in metrics_for("valkey")}
    values.update({k: v * HOURS for k, v in PER_HOUR.items()})
    values.update(GAUGES)
    values.update(changes)
    return DriverTotals(values)


def test_known_mix_every_share_and_the_compression_saving(valkey):
    d = analyse_drivers(mix_totals(), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS, storage_bytes_mean=2 * 2**30)
    get, set_, evl, string = (d.families[n] for n in ("GetTypeCmds", "SetTypeCmds", "EvalBasedCmds", "StringBasedCmds"))
    # shares of all ECPUs: 27.2 / 35.7 = 0.761905, 1.5 / 35.7 = 0.042017, 7 / 35.7 = 0.196078, 28.7 / 35.7 = 0.803922
    assert get.ecpu_share == pytest.approx(0.761905, abs=1e-6)
    assert set_.ecpu_share == pytest.approx(0.042017, abs=1e-6)
    assert evl.ecpu_share == pytest.approx(0.196078, abs=1e-6)
    assert string.ecpu_share == pytest.approx(0.803922, abs=1e-6)
    assert (get.grouping, evl.grouping, string.grouping) == ("access", "data type", "data type")
    assert (get.ecpus_per_command, set_.ecpus_per_command, evl.ecpus_per_command) == pytest.approx((3.4, 1.0, 14.0))
    assert get.commands == 8_000_000 * HOURS
    # a month of GET-type: 27.2 M ECPUs an hour x 730 x $0.00227 / M = $45.07312
    assert get.cost_month == pytest.approx(45.07312, abs=1e-5)
    # EVAL: 7 x 730 x 0.00227 = $11.5997
    assert evl.cost_month == pytest.approx(11.5997, abs=1e-4)
    # compression 3:1: 3.4 -> 3.4 / 3 = 1.1333 ECPUs each, 2.26667 saved on each of 8 M GETs an hour =
    # 18.1333 M ECPUs an hour, x 1.6571 = $30.0487 a month. SET-type (1 KB) has nothing to gain.
    [compression] = [f for f in d.findings if f.kind == "compression"]
    assert round(compression.saves_month, 2) == 30.05
    assert "3.4 KB" in compression.text and "1.13 ECPUs each" in compression.text and "3:1" in compression.assumption
    # bytes per command: in 200 B, out 8 M x 3,481.6 B / 10 M = 2,785.28 B
    assert d.bytes_per_command == pytest.approx({"in": 200.0, "out": 2785.28})
    # hits 6 M, misses 2 M: 75% hit rate; 2 M misses an hour at 1 ECPU = 2 x 1.6571 = $3.3142 a month
    assert d.hit_rate == pytest.approx(0.75)
    [misses] = [f for f in d.findings if f.kind == "hit_rate"]
    assert misses.saves_month is None and "$3.31 a month" in misses.text
    assert d.ttl_share == pytest.approx(0.2)
    assert d.bytes_per_item == pytest.approx(2 * 2**30 / 1_000_000)
    # a family nobody used is a published 0, not "not published"
    assert d.families["JsonBasedCmds"].status == "published" and d.families["JsonBasedCmds"].commands == 0


def test_compression_ratio_is_a_setting_and_the_floor_holds(valkey):
    # at 10:1, 3.4 / 10 = 0.34 is below the floor: each GET still costs 1 ECPU, saving 2.4 on each:
    # 8 M x 2.4 = 19.2 M ECPUs an hour x 1.6571 = $31.81632 a month (not 8 M x 3.06 = $40.57)
    d = analyse_drivers(mix_totals(), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS,
                        settings=DriverSettings(compression_ratio=10))
    [compression] = [f for f in d.findings if f.kind == "compression"]
    assert compression.saves_month == pytest.approx(31.81632, abs=1e-5)
    assert "1.00 ECPUs each" in compression.text


def test_no_command_level_metrics_is_not_published_never_zero(valkey):
    totals = DriverTotals({m.name: None for m in metrics_for("valkey")})
    d = analyse_drivers(totals, "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS)
    out = d.to_dict()
    assert all(f["status"] == NOT_PUBLISHED and f["commands"] is None and f["ecpu_share"] is None and f["cost_month"] is None
               for f in out["families"].values())
    assert out["hit_rate"] is None and out["ttl_share"] is None and out["evictions"] is None
    assert out["bytes_per_command"] == {"in": None, "out": None} and out["findings"] == []
    assert d.lines() == ["command-level metrics: not published for this cache"]


def test_memcached_has_its_own_families(redis):
    # memcached prices like redis-oss here ($0.0034 / M ECPU): 1 M gets an hour at 2.5 KB = 2.5 M ECPUs;
    # compressed 3:1 -> 1 ECPU each (2.5 / 3 = 0.833 is under the floor): 1.5 M ECPUs an hour saved,
    # x 730 x 0.0034 = $3.723 a month
    names = {m.name for m in metrics_for("memcached")}
    assert {"CmdGet", "GetHits", "GetMisses"} <= names and not {"GetTypeCmds", "CurrVolatileItems", "CacheHits"} & names
    values = {name: None for name in names}
    values.update({"CmdGet": 1_000_000 * HOURS, "CmdGet" + ECPU_SUFFIX: 2_500_000 * HOURS})
    d = analyse_drivers(DriverTotals(values), "memcached", redis, hours=HOURS, window_ecpus=2_500_000 * HOURS)
    assert set(d.families) >= {"CmdGet", "CmdSet"} and d.families["CmdGet"].ecpu_share == pytest.approx(1.0)
    assert d.families["CmdSet"].status == NOT_PUBLISHED and d.ttl_share is None
    [compression] = [f for f in d.findings if f.kind == "compression"]
    assert compression.saves_month == pytest.approx(3.723, abs=1e-6)


def test_misses_from_the_hit_rate_where_cache_misses_is_not_published(valkey):
    # AWS documents CacheHits and CacheHitRate for serverless Valkey, not CacheMisses: 6 M hits an hour
    # at 75% are 6 M x 25 / 75 = 2 M misses, the same $3.31 a month as when misses are published
    d = analyse_drivers(mix_totals(CacheMisses=None), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS)
    [misses] = [f for f in d.findings if f.kind == "hit_rate"]
    assert d.hit_rate == pytest.approx(0.75) and "$3.31 a month" in misses.text and "CacheHitRate" in misses.assumption
    # neither: no hit rate, no finding
    d = analyse_drivers(mix_totals(CacheMisses=None, CacheHitRate=None), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS)
    assert d.hit_rate is None and not [f for f in d.findings if f.kind == "hit_rate"]


def test_partial_metric_marks_its_family(valkey):
    totals = mix_totals()
    totals = DriverTotals(totals.values, ("EvalBasedCmds" + ECPU_SUFFIX,))
    d = analyse_drivers(totals, "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS)
    assert d.families["EvalBasedCmds"].status == "partial" and d.families["GetTypeCmds"].status == "published"
    assert d.to_dict()["partial"] == ["EvalBasedCmds" + ECPU_SUFFIX]


def test_storage_growth_with_keys_that_never_expire_and_evictions_at_the_limit(valkey):
    # 4 GB growing 1% a day: 4 x 0.01 x 730 / 24 = 1.21667 GB more each month, x 0.0837 x 730 =
    # $74.3395 on every following month's bill; 80% of keys have no TTL (ttl_share 0.2)
    d = analyse_drivers(mix_totals(Evictions=5000.0), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS,
                        storage_daily_growth=0.01, storage_level_gb=4.0, storage_peak_gb=4.8, max_storage_gb=5)
    [growth] = [f for f in d.findings if f.kind == "storage_growth"]
    assert growth.saves_month == pytest.approx(74.3395, abs=1e-4)
    [evicted] = [f for f in d.findings if f.kind == "evictions_at_limit"]
    assert "5,000 keys" in evicted.text and "5 GB" in evicted.text
    # findings are ranked by money: the growth ($74.34) before the compression ($30.05)
    assert [f.kind for f in d.findings][:2] == ["storage_growth", "compression"]
    # with most keys expiring there is no growth finding
    d = analyse_drivers(mix_totals(CurrVolatileItems=900_000), "valkey", valkey, hours=HOURS, window_ecpus=WINDOW_ECPUS,
                        storage_daily_growth=0.01, storage_level_gb=4.0)
    assert not [f for f in d.findings if f.kind == "storage_growth"]


def test_no_number_is_nan_in_json(valkey):
    d = analyse_drivers(mix_totals(TotalCmdsCount=0.0, CacheHits=0.0, CacheMisses=0.0), "valkey", valkey, hours=HOURS, window_ecpus=0.0)
    out = d.to_dict()
    assert out["hit_rate"] is None and out["bytes_per_command"] == {"in": None, "out": None}
    assert all(f["ecpu_share"] is None for f in out["families"].values())
    assert not any(isinstance(v, float) and math.isnan(v) for f in out["families"].values() for v in f.values())


# ---- in estimate and report, in every format -------------------------------------------------------

def _mix_history(drivers: DriverTotals | None, max_storage_gb=5):
    from datetime import datetime, timedelta, timezone

    from costwise.usage import CurrentLimits, EnvHistory, History, Window
    from tests.helpers import frame

    end = datetime(2026, 10, 31, tzinfo=timezone.utc)
    window = Window(end - timedelta(days=30), end)
    env = EnvHistory(env="shop", cache="shop-cache", engine="valkey", region="us-east-1",
                     limits=CurrentLimits(max_storage_gb, 50_000, source="aws"), frame=frame(2.0, 35_700_000), drivers=drivers)
    return History(window=window, environments=[env], source="test")


def test_report_carries_drivers_in_json_markdown_html_and_table(prices):
    from costwise.analysis.estimate import build_report
    from costwise.model.settings import SizingSettings
    from costwise.render import render, to_json

    report = build_report(_mix_history(mix_totals()), prices, SizingSettings(), "us-east-1")
    data = json.loads(to_json(report.to_dict()))
    drivers = data["environments"][0]["drivers"]
    assert set(drivers) >= {"families", "bytes_per_command", "hit_rate", "ttl_share", "bytes_per_item", "evictions", "findings"}
    assert drivers["families"]["GetTypeCmds"]["ecpu_share"] == pytest.approx(0.761905, abs=1e-6)
    [compression] = [f for f in drivers["findings"] if f["kind"] == "compression"]
    assert round(compression["saves_month"], 2) == 30.05 and set(compression) == {"kind", "text", "saves_month", "assumption"}
    # the top actions rank by money: the compression's $30.05 is there with its figure
    tops = data["totals"]["top_actions"]
    assert any(t["kind"] == "compression" and round(t["saves_month"], 2) == 30.05 for t in tops)
    moneys = [t["saves_month"] for t in tops if t["saves_month"] is not None]
    assert moneys == sorted(moneys, reverse=True)
    md, html = render("report", report, "markdown"), render("report", report, "html")
    # Markdown escapes $ (GitHub would read $...$ as math): its source has \$30.05, shown as $30.05
    for text, money in ((md, "\\$30.05"), (html, "$30.05")):
        assert "Where the money goes" in text and f"about {money} a month less" in text and "Top actions, by money a month" in text
    from rich.console import Console

    console = Console(record=True, width=200)
    for item in render("estimate", report, "table"):
        console.print(item)
    text = console.export_text()
    assert "where the money goes" in text and "$30.05 a month less" in text


def test_a_cache_without_drivers_read_has_null_drivers(prices):
    from costwise.analysis.estimate import build_report
    from costwise.model.settings import SizingSettings

    report = build_report(_mix_history(None), prices, SizingSettings(), "us-east-1")
    assert report.to_dict()["environments"][0]["drivers"] is None


def test_demo_shows_drivers(cli):
    result = cli("report", "--demo", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    prod = {e["env"]: e for e in data["environments"]}["prod"]["drivers"]
    # the demo's prod: 80% GET-type at 3.4 ECPUs each, 5% EVAL at 14 (costwise/demo/generate.py DEMO_MIXES)
    assert prod["families"]["GetTypeCmds"]["ecpus_per_command"] == pytest.approx(3.4, rel=1e-6)
    assert prod["families"]["EvalBasedCmds"]["ecpus_per_command"] == pytest.approx(14.0, rel=1e-6)
    assert {f["kind"] for f in prod["findings"]} >= {"compression", "storage_growth"}


# ---- history files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_history_file_keeps_drivers_and_old_files_load(tmp_path, suffix):
    from costwise.sources.history_file import load_history, save_history

    path = tmp_path / f"h{suffix}"
    history = _mix_history(DriverTotals({**mix_totals().values, "CacheMisses": None}, ("EvalBasedCmds",)))
    save_history(history, path)
    back = load_history(path).environments[0].drivers
    assert back.values == {**mix_totals().values, "CacheMisses": None} and back.partial == ("EvalBasedCmds",)
    # a file written before drivers existed: no block, drivers not read (None), not zeros.
    # A new file: this process has read `path`, and costwise never writes over one of its inputs.
    path = tmp_path / f"old{suffix}"
    save_history(_mix_history(None), path)
    assert "drivers" not in path.read_bytes().decode("latin-1")[:4000] or suffix == ".parquet"
    assert load_history(path).environments[0].drivers is None


@pytest.mark.parametrize("value, field", [(-1, "values.GetTypeCmds"), ("NaN", "values.GetTypeCmds"), ("12", "values.GetTypeCmds"),
                                          (None, "format")])
def test_bad_drivers_block_is_one_line_exit_2(tmp_path, cli, value, field):
    from costwise.sources.history_file import save_history

    path = tmp_path / "h.csv"
    save_history(_mix_history(mix_totals()), path)
    header, rest = path.read_text().split("\n", 1)
    meta = json.loads(header[2:])
    block = meta["environments"][0]["drivers"]
    if field == "format":
        block["format"] = "costwise-drivers/99"
    else:
        block["values"]["GetTypeCmds"] = float("nan") if value == "NaN" else value
    path.write_text("# " + json.dumps(meta) + "\n" + rest)
    result = cli("estimate", "--metrics-file", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr and f"drivers.{field}" in result.stderr, result.stderr


def test_compression_ratio_from_costwise_yaml_and_its_validation(tmp_path, cli):
    from costwise.sources.history_file import save_history

    path = tmp_path / "h.csv"
    save_history(_mix_history(mix_totals()), path)
    (tmp_path / "costwise.yaml").write_text("drivers:\n  compression_ratio: 10\n")
    result = cli("estimate", "--metrics-file", str(path), "--config", str(tmp_path / "costwise.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    [compression] = [f for f in json.loads(result.stdout)["environments"][0]["drivers"]["findings"] if f["kind"] == "compression"]
    assert compression["saves_month"] == pytest.approx(31.81632, abs=1e-5)  # as in the 10:1 test above
    (tmp_path / "costwise.yaml").write_text("drivers:\n  compression_ratio: 0.5\n")
    result = cli("estimate", "--metrics-file", str(path), "--config", str(tmp_path / "costwise.yaml"))
    assert result.returncode == 2 and "drivers.compression_ratio" in result.stderr and result.stderr.count("\n") == 1


# ---- migrate --from-redis: the same section from INFO commandstats ---------------------------------

def test_migrate_from_redis_drivers_from_commandstats(prices):
    from costwise.analysis.migrate import from_redis
    from costwise.model.settings import SizingSettings
    from costwise.usage import ServerSample

    first = {"used_memory": 2e6, "used_memory_dataset": 1e6, "total_net_input_bytes": 0, "total_net_output_bytes": 0,
             "keyspace_hits": 0, "keyspace_misses": 0, "evicted_keys": 0,
             "cmdstat_get": {"calls": 0, "usec": 0}, "cmdstat_info": {"calls": 5, "usec": 500}}
    # 10 s: 8,000 GETs (1 µs each), 1,500 SETs (2 µs), 500 EVALSHA (42 µs each: 14 ECPUs at 3 µs per ECPU),
    # 7 INFO (costwise's own: not counted); 2,048,000 B in, 32,768,000 B out past costwise's own 1,000 B:
    # 34,000 KB over 10,000 commands = 3.4 KB each
    second = {"used_memory": 2e6, "used_memory_dataset": 1e6, "total_net_input_bytes": 2_048_000,
              "total_net_output_bytes": 32_769_000, "keyspace_hits": 6000, "keyspace_misses": 2000, "evicted_keys": 0,
              "db0": {"keys": 1000, "expires": 250},
              "cmdstat_get": {"calls": 8000, "usec": 8000}, "cmdstat_set": {"calls": 1500, "usec": 3000},
              "cmdstat_evalsha": {"calls": 500, "usec": 21000}, "cmdstat_info": {"calls": 12, "usec": 900}}
    result = from_redis(ServerSample(first, second, 10.0, 1000.0), "redis://x", prices, "us-east-1", "valkey", 2.0, SizingSettings())
    d = result.to_dict()["drivers"]
    fam = d["families"]
    # ECPUs: GET max(8,000 x 3.4, 8,000 / 3) = 27,200; SET max(1,500 x 3.4, 1,000) = 5,100; EVALSHA
    # max(500 x 3.4, 21,000 / 3) = 7,000: 39,300 in all
    assert (fam["GetTypeCmds"]["ecpus"], fam["SetTypeCmds"]["ecpus"], fam["NonKeyTypeCmds"]["ecpus"]) == pytest.approx((27_200, 5_100, 7_000))
    assert fam["StringBasedCmds"]["commands"] == 9_500 and fam["EvalBasedCmds"]["ecpus_per_command"] == pytest.approx(14.0)
    assert fam["EvalBasedCmds"]["ecpu_share"] == pytest.approx(7_000 / 39_300) and fam["HashBasedCmds"]["commands"] == 0
    # a month is 730 h / (10 s / 3,600) = 262,800 samples: GET-type 27,200 x 262,800 x $0.00227 / M = $16.2263
    assert fam["GetTypeCmds"]["cost_month"] == pytest.approx(16.2263232)
    # compression 3:1 of GET-type: 8,000 x (3.4 - 1.1333) x 262,800 x 0.00227 / M = $10.8175; SET-type: 1,500 x ... = $2.0283
    saves = sorted(round(f["saves_month"], 2) for f in d["findings"] if f["kind"] == "compression")
    assert saves == [2.03, 10.82]
    assert d["hit_rate"] == pytest.approx(0.75) and d["ttl_share"] == pytest.approx(0.25) and d["evictions"] == 0
    assert d["bytes_per_command"] == pytest.approx({"in": 204.8, "out": 3276.8}) and d["source"] == "INFO commandstats"
    from rich.console import Console

    from costwise.render import render

    console = Console(record=True, width=200)
    for item in render("migrate", result, "table"):
        console.print(item)
    assert "where the money goes" in console.export_text()


@pytest.mark.parametrize("command, families", [
    ("get", ("GetTypeCmds", "StringBasedCmds")), ("hset", ("SetTypeCmds", "HashBasedCmds")), ("lrange", ("GetTypeCmds", "ListBasedCmds")),
    ("evalsha", ("NonKeyTypeCmds", "EvalBasedCmds")), ("publish", ("NonKeyTypeCmds", "PubSubBasedCmds")),
    ("json.get", ("GetTypeCmds", "JsonBasedCmds")), ("client|list", ("NonKeyTypeCmds", None)),
    ("hello", ("NonKeyTypeCmds", None)), ("latency", ("NonKeyTypeCmds", None)), ("del", ("SetTypeCmds", "KeyBasedCmds"))])
def test_command_table(command, families):
    from costwise.driver_metrics import command_families

    assert command_families(command) == families


def test_dataset_layout_keeps_drivers(tmp_path):
    from costwise.sources.history_file import load_dataset, save_dataset

    save_dataset(_mix_history(mix_totals()), tmp_path / "ds")
    [env] = load_dataset(tmp_path / "ds").environments
    assert env.drivers.values["GetTypeCmds"] == 8_000_000 * HOURS and env.drivers.values["CurrItems"] == 1_000_000


def test_what_grew_compares_rates_an_hour_and_never_guesses():
    from costwise.model.drivers import what_grew

    # 100 hours before, 4 watched. GET-type 1,000 ECPUs an hour before (100,000 / 100), 5,000 after
    # (20,000 / 4): 5.0x. SET-type 1,000 -> 1,200 (1.2x): not grown. Hash commands publish no ECPUs:
    # their commands, 10 -> 40 an hour (1,000 / 100, 160 / 4): 4.0x, the data type's largest.
    before = DriverTotals({"GetTypeCmdsECPUs": 100_000, "SetTypeCmdsECPUs": 100_000, "HashBasedCmds": 1_000,
                           "HashBasedCmdsECPUs": None})
    recent = DriverTotals({"GetTypeCmdsECPUs": 20_000, "SetTypeCmdsECPUs": 4_800, "HashBasedCmds": 160,
                           "HashBasedCmdsECPUs": None})
    assert what_grew(before, 100, recent, 4) == ("GET-type commands (GetTypeCmds): 5.0x their ECPUs an hour (1,000 -> 5,000); "
                                                 "by data type: hash commands (HashBasedCmds): 4.0x their commands an hour (10 -> 40)")
    # nothing 1.5x or more: none; a side not read: none
    assert what_grew(before, 100, DriverTotals({"GetTypeCmdsECPUs": 4_000}), 4) is None
    assert what_grew(None, 100, recent, 4) is None and what_grew(before, 100, None, 4) is None
    # Memcached: its own families, by commands (no ECPUs published): get 50 -> 300 an hour, 6.0x
    assert what_grew(DriverTotals({"CmdGet": 5_000}), 100, DriverTotals({"CmdGet": 1_200}), 4, "memcached") == \
        "get commands (CmdGet): 6.0x their commands an hour (50 -> 300)"
