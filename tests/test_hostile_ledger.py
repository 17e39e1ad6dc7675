"""Hostile input to reconcile, watch and the cost drivers: the project's promises (README, "What
costwise promises") hold for them too. Every case runs the real CLI in a child process.

Bill fixtures: October 2026 CUR 2.0 Parquet written here (tests/test_reconcile.py's shape), the
history one constant cache "shop" (2 GB, 1e8 ECPUs an hour) over the month's 744 hours.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import assert_one_line, costwise, frame

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

OCT = datetime(2026, 10, 1, tzinfo=timezone.utc)
ARN = "arn:aws:elasticache:us-east-1:123456789012:serverlesscache:shop"


def bill_line(day: int, amount, cost, usage_type: str = "USE1-CachedData:Valkey", line_type: str = "Usage") -> dict:
    start = OCT + timedelta(days=day)
    return {"line_item_line_item_type": line_type, "line_item_product_code": "AmazonElastiCache",
            "line_item_usage_type": usage_type, "line_item_resource_id": ARN, "line_item_usage_amount": amount,
            "line_item_unblended_cost": cost, "line_item_usage_start_date": start,
            "line_item_usage_end_date": start + timedelta(days=1), "line_item_currency_code": "USD"}


def month_lines() -> list[dict]:
    """shop's 31 days: 48 GB-hours ($4.0176) and 2.4e9 ECPUs ($5.448) a day."""
    return [bill_line(day, *pair, usage_type=kind) for day in range(31)
            for kind, pair in (("USE1-CachedData:Valkey", (48.0, 48 * 0.0837)),
                               ("USE1-ElastiCacheProcessingUnits:Valkey", (2.4e9, 2400 * 0.00227)))]


def write_cur(folder: Path, lines: list[dict], name: str = "part-0.parquet") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(lines)
    path = folder / name
    pq.write_table(table, path, row_group_size=50)
    return path


@pytest.fixture
def history(tmp_path) -> Path:
    from costwise.sources.history_file import save_history
    from costwise.usage import EnvHistory, History, Window

    index = pd.date_range(OCT, periods=744, freq="h", tz="UTC", name="timestamp")
    window = Window(OCT, OCT + timedelta(hours=744))
    path = tmp_path / "history.csv"
    save_history(History(window, [EnvHistory("shop", "shop", "valkey", "us-east-1", frame=frame(2.0, 1e8, index))], "cloudwatch"), path)
    return path


def reconcile(history: Path, cur: Path | str, *extra: str, **kw):
    return costwise("reconcile", "--month", "2026-10", "--metrics-file", str(history), "--cur", str(cur), *extra, **kw)


# ---- --cur paths ---------------------------------------------------------------------------------------

def test_cur_fifo_is_refused_as_not_a_regular_file(tmp_path, history):
    fifo = tmp_path / "export.parquet"
    os.mkfifo(fifo)
    assert_one_line(reconcile(history, fifo, timeout=30), 2, str(fifo), "not a regular file")


def test_cur_empty_path_is_not_the_working_folder(tmp_path, history):
    # `--cur "$UNSET"` would read every Parquet file under the working folder
    write_cur(tmp_path, month_lines())
    assert_one_line(reconcile(history, "", cwd=tmp_path), 2, "--cur", "not found")


def test_output_never_replaces_a_cur_file(tmp_path, history):
    export = tmp_path / "export"
    part = write_cur(export, month_lines())
    before = hashlib.sha256(part.read_bytes()).hexdigest()
    for target in (part, tmp_path / "link.parquet"):
        if target != part:
            target.symlink_to(part)
        result = reconcile(history, export, "--format", "json", "--output", str(target))
        assert_one_line(result, 2, str(part.name), "is also an input")
        assert hashlib.sha256(part.read_bytes()).hexdigest() == before


def test_cur_with_tens_of_millions_of_rows_is_refused_from_its_metadata(tmp_path, history):
    # 25 row groups of 1,000,000 identical ElastiCache lines: ~1.5 MB on disk, 25,000,000 rows
    # (past the 20,000,000 costwise reads, as for history files); refused before a row is read
    table = pa.Table.from_pylist([bill_line(3, 1.0, 0.0837)] * 1000)
    group = pa.concat_tables([table] * 1000)
    export = tmp_path / "bomb"
    export.mkdir()
    with pq.ParquetWriter(export / "part-0.parquet", table.schema, compression="zstd") as writer:
        for _ in range(25):
            writer.write_table(group, row_group_size=1_000_000)
    assert (export / "part-0.parquet").stat().st_size < 20 * 2**20
    assert_one_line(reconcile(history, export, timeout=120), 2, "25,000,000 rows", "20,000,000", seconds=20)


# ---- numbers in the bill -------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, cost, column, shown", [
    (48.0, float("nan"), "line_item_unblended_cost", "nan"),
    (48.0, float("inf"), "line_item_unblended_cost", "inf"),
    (48.0, 1e308, "line_item_unblended_cost", "1e+308"),
    (float("nan"), 4.0, "line_item_usage_amount", "nan"),
    (1e308, 4.0, "line_item_usage_amount", "1e+308"),
    (-48.0, 4.0, "line_item_usage_amount", "-48"),
    (48.0, "4,02 USD", "line_item_unblended_cost", "4,02 USD"),
])
def test_hostile_number_in_the_cur_is_one_line(tmp_path, history, amount, cost, column, shown):
    lines = month_lines()
    lines[7] = bill_line(3, amount, cost)  # the file's 8th row
    if isinstance(cost, str):  # a text column where a number belongs: every value text
        lines = [dict(line, line_item_unblended_cost=str(line["line_item_unblended_cost"])) for line in lines]
        lines[7]["line_item_unblended_cost"] = cost
    part = write_cur(tmp_path / "export", lines)
    for fmt in ("json", "table"):
        assert_one_line(reconcile(history, tmp_path / "export", "--format", fmt), 2, str(part), "row 8", column, shown)


def test_a_credit_stays_negative_and_a_null_net_is_none(tmp_path, history):
    """Negative costs are how a bill writes credits and negations; they are not refused."""
    lines = month_lines() + [bill_line(5, 0.0, -10.0, line_type="Credit")]
    write_cur(tmp_path / "export", lines)
    result = reconcile(history, tmp_path / "export", "--format", "json")
    assert result.code == 0, result.err
    shop = json.loads(result.out)["environments"][0]
    # 31 x (4.0176 + 5.448) = $293.4336 billed, $283.4336 net after the $10 credit
    assert shop["billed"]["unblended_cost"] == pytest.approx(293.4336)
    assert shop["billed"]["net_cost"] == pytest.approx(283.4336)


# ---- options ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "1e308", "nan"])
def test_fail_over_must_be_a_finite_percentage(tmp_path, history, value):
    write_cur(tmp_path / "export", month_lines())
    assert_one_line(reconcile(history, tmp_path / "export", "--fail-over", value), 2, "--fail-over")


def test_month_is_ascii_digits(tmp_path, history):
    write_cur(tmp_path / "export", month_lines())
    result = costwise("reconcile", "--month", "\uff12\uff10\uff12\uff16-\uff11\uff10", "--metrics-file", str(history),
                      "--cur", str(tmp_path / "export"))
    assert_one_line(result, 2, "--month")


# ---- the drivers block of a history file ------------------------------------------------------------------

def _drivers_history(tmp_path: Path, **changes) -> Path:
    from costwise.driver_metrics import metrics_for
    from costwise.sources.history_file import save_history
    from costwise.usage import DriverTotals, EnvHistory, History, Window

    end = datetime(2026, 10, 31, tzinfo=timezone.utc)
    window = Window(end - timedelta(days=30), end)
    values = {m.name: 1e6 for m in metrics_for("valkey")}
    values.update({"CacheHitRate": 80.0, **changes})
    env = EnvHistory("shop", "shop", "valkey", "us-east-1", frame=frame(2.0, 35_700_000), drivers=DriverTotals(values))
    path = tmp_path / "drivers.csv"
    save_history(History(window, [env], "test"), path)
    return path


@pytest.mark.parametrize("changes, field", [
    ({"GetTypeCmdsECPUs": 1e308}, "values.GetTypeCmdsECPUs"),
    ({"CacheHits": 1e308, "CacheMisses": 1e308}, "values.CacheHits"),
    ({"NetworkBytesIn": 1e300}, "values.NetworkBytesIn"),
    ({"CacheHitRate": 150.0}, "values.CacheHitRate"),
])
def test_huge_driver_totals_are_one_line(tmp_path, changes, field):
    path = _drivers_history(tmp_path, **changes)
    for fmt in ("json", "markdown"):
        assert_one_line(costwise("report", "--metrics-file", str(path), "--format", fmt), 2, str(path), f"drivers.{field}")


def test_a_tiny_denominator_is_no_overflow(tmp_path):
    # 1e-300 commands in a window and 1e12 ECPUs: 1e12 / 1e-300 = 1e312 ECPUs per command is past a float (inf)
    path = _drivers_history(tmp_path, TotalCmdsCount=1e-300, GetTypeCmds=1e-300, GetTypeCmdsECPUs=1e12)
    result = costwise("report", "--metrics-file", str(path), "--format", "json")
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    if result.code == 0:
        json.loads(result.out)
    else:
        assert_one_line(result, 2, str(path), "drivers.values")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e308", "-5"])
def test_a_cost_explorer_reply_that_is_no_number_is_one_line(moto, history, amount):
    # float() takes all four; Cost Explorer's UsageQuantity is never below 0 and no cost reaches 1e12
    import requests

    column = "UsageQuantity" if amount == "-5" else "UnblendedCost"
    metrics = {"UnblendedCost": {"Amount": "10.0", "Unit": "USD"}, "NetUnblendedCost": {"Amount": "10.0", "Unit": "USD"},
               "UsageQuantity": {"Amount": "100", "Unit": "N/A"}}
    metrics[column] = {"Amount": amount, "Unit": "USD"}
    seeded = {"results": [{"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Total": {}, "Groups": [
        {"Keys": ["us-east-1", "USE1-CachedData:Valkey"], "Metrics": metrics}], "Estimated": False}], "DimensionValueAttributes": []}]}
    assert requests.post(f"{moto}/moto-api/static/ce/cost-and-usage-results", json=seeded, timeout=10).status_code == 201
    result = costwise("reconcile", "--month", "2026-10", "--cost-explorer", "--metrics-file", str(history), "--endpoint-url", moto,
                      "--format", "json", env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert_one_line(result, 1, f"Cost Explorer: {column} {amount} is not a")
    assert result.out == ""


def test_a_cloudwatch_driver_total_past_what_a_cache_can_do_is_not_used(aws_env):
    # GET-type commands answered at 1e300 an hour (7.2e302 over the 720 hours): past the window's bound (driver_metrics.driver_bound),
    # so not used (null, partial), never $1e299 advice, an overflow or "inf" in JSON
    from tests.cwfake import FleetFake

    mix = {"ElastiCacheProcessingUnits": 3.6e6, "GetTypeCmds": 1e300, "GetTypeCmdsECPUs": 3.6e6, "TotalCmdsCount": 3.6e6}
    with FleetFake({"us-east-1": ["shop"]}, drivers={"shop": mix}) as fake:
        result = costwise("estimate", "--cache", "shop", "--endpoint-url", fake.url, "--as-of", "2026-11-23T00:00:00Z",
                          "--format", "json")
    assert result.code == 0, result.err
    drivers = json.loads(result.out)["environments"][0]["drivers"]
    assert drivers["families"]["GetTypeCmds"]["commands"] is None and "GetTypeCmds" in drivers["partial"]
    assert drivers["families"]["GetTypeCmds"]["status"] == "partial"
    assert "inf" not in result.out.lower().replace("info", "")


def _dictionary_encoded(lines: list[dict]):
    # every column, numbers and times too (pandas categoricals of any type come back so)
    table = pa.Table.from_pylist(lines)
    for i, field in enumerate(table.schema):
        table = table.set_column(i, field.name, table.column(i).dictionary_encode())
    return table


def test_a_cur_with_dictionary_encoded_text_reads_like_a_plain_one(tmp_path, history):
    # a CUR rewritten by pyarrow or pandas (categoricals) keeps its text as dictionaries: it was an
    # internal error ("Cannot setitem on a Categorical"); the bill must be the same as the plain file's
    plain = write_cur(tmp_path / "plain", month_lines())
    encoded = tmp_path / "encoded"
    encoded.mkdir()
    pq.write_table(_dictionary_encoded(month_lines()), encoded / "part-0.parquet")
    results = []
    for folder in (plain.parent, encoded):
        result = reconcile(history, folder, "--format", "json")
        assert result.code == 0, result.err
        results.append(json.loads(result.out)["totals"])
    # shop's month: 31 x ($4.0176 + $5.448) = $293.4216 billed, the same read either way
    assert results[0] == results[1] and results[0]["billed_unblended"] == pytest.approx(31 * (48 * 0.0837 + 2400 * 0.00227))


def test_a_dictionary_of_one_huge_value_is_refused_before_it_is_decoded(tmp_path, history):
    # one 5 MB "resource id" on 200,000 lines: a file of a few hundred KB that decodes to a terabyte
    lines = month_lines()[:1] * 200_000
    table = _dictionary_encoded(lines)
    index = table.schema.get_field_index("line_item_resource_id")
    huge = pa.DictionaryArray.from_arrays(pa.array([0] * len(lines), pa.int32()), pa.array([ARN + "x" * (5 << 20)]))
    table = table.set_column(index, "line_item_resource_id", huge)
    folder = tmp_path / "bomb"
    folder.mkdir()
    pq.write_table(table, folder / "part-0.parquet", row_group_size=len(lines))
    assert (folder / "part-0.parquet").stat().st_size < 4 << 20
    result = costwise("reconcile", "--cur", str(folder), "--metrics-file", str(history), "--month", "2026-10", rss_bound_mb=600)
    # the ARN (63 characters) and 5 MiB of x: 63 + 5,242,880 = 5,242,943
    assert_one_line(result, 2, "line_item_resource_id: a value 5,242,943 characters long (a CUR's are at most 2,048)")
    assert result.max_rss_mb < 600


def test_a_row_group_that_expands_past_its_rows_is_refused_from_the_metadata(tmp_path, history):
    # 1,000 lines of an 80 KB usage type, plain and compressed: 80 MB uncompressed, more than
    # 1,000 x 4 KiB + 64 MiB (68 MiB) the columns reconcile reads may take
    lines = [dict(month_lines()[0], line_item_usage_type="USE1-CachedData:Valkey" + "y" * 80_000)] * 1_000
    folder = tmp_path / "wide"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(lines), folder / "part-0.parquet", use_dictionary=False, compression="zstd")
    result = reconcile(history, folder)
    assert_one_line(result, 2, "row group 1 expands to", "MiB for 1,000 rows")
