"""`costwise reconcile`: CUR 2.0 Parquet exports written here, Cost Explorer from moto, S3 from moto.

The month is October 2026 (744 hours). Prices: tests/fixtures/pricing.yaml, us-east-1 valkey
0.0837 $/GB-hour and 0.00227 $/million ECPUs. Bill lines are daily (24 hours each), as a CUR with
daily granularity writes them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import frame

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

OCT = datetime(2026, 10, 1, tzinfo=timezone.utc)
DAYS = 31
HOURS = 744
STORAGE_RATE = 0.0837
ECPU_RATE = 0.00227
ACCOUNT = "123456789012"


def arn(name: str) -> str:
    return f"arn:aws:elasticache:us-east-1:{ACCOUNT}:serverlesscache:{name}"


def line(kind: str, resource: str | None, day: int, amount: float, cost: float, *, line_type: str = "Usage",
         net: float | None = None, effective: float | None = None, currency: str = "USD",
         product: str = "AmazonElastiCache") -> dict:
    usage_type = {"storage": "USE1-CachedData:Valkey", "ecpu": "USE1-ElastiCacheProcessingUnits:Valkey"}.get(kind, kind)
    start = OCT + timedelta(days=day)
    return {"line_item_line_item_type": line_type, "line_item_product_code": product, "line_item_usage_type": usage_type,
            "line_item_resource_id": resource or "", "line_item_usage_amount": amount, "line_item_unblended_cost": cost,
            "line_item_net_unblended_cost": cost if net is None else net,
            "savings_plan_savings_plan_effective_cost": effective or 0.0,
            "line_item_usage_start_date": start, "line_item_usage_end_date": start + timedelta(days=1),
            "line_item_currency_code": currency, "bill_payer_account_id": ACCOUNT}


def usage_lines(name: str, storage_gb: float, ecpu_per_hour: float, covered_days: int = 0, plan_share: float = 0.7) -> list[dict]:
    """A cache's daily lines: the first `covered_days` covered by a Savings Plan (covered usage at the
    on-demand cost, the plan's effective cost beside, and a negation line cancelling the on-demand)."""
    lines = []
    for day in range(DAYS):
        for kind, amount, rate in (("storage", storage_gb * 24, STORAGE_RATE), ("ecpu", ecpu_per_hour * 24, ECPU_RATE / 1e6)):
            cost = amount * rate
            if day < covered_days:
                lines.append(line(kind, arn(name), day, amount, cost, line_type="SavingsPlanCoveredUsage", effective=cost * plan_share))
                lines.append(line(kind, arn(name), day, 0.0, -cost, line_type="SavingsPlanNegation"))
            else:
                lines.append(line(kind, arn(name), day, amount, cost))
    return lines


def write_cur(folder: Path, lines: list[dict], name: str = "part-00000.snappy.parquet", row_group: int = 50) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(lines)
    table = table.set_column(table.schema.get_field_index("line_item_usage_start_date"), "line_item_usage_start_date",
                             table.column("line_item_usage_start_date").cast(pa.timestamp("ms", tz="UTC")))
    path = folder / name
    pq.write_table(table, path, row_group_size=row_group)
    return path


def write_history(path: Path, caches: dict[str, tuple[float, float]]) -> Path:
    from costwise.sources.history_file import save_history
    from costwise.usage import EnvHistory, History, Window

    index = pd.date_range(OCT, periods=HOURS, freq="h", tz="UTC", name="timestamp")
    window = Window(index[0].to_pydatetime(), index[-1].to_pydatetime() + timedelta(hours=1))
    envs = [EnvHistory(name, name, "valkey", "us-east-1", frame=frame(gb, ecpu, index)) for name, (gb, ecpu) in caches.items()]
    save_history(History(window, envs, "cloudwatch"), path)
    return path


# costwise's side: every cache at constant usage over all 744 hours
CACHES = {"shop": (2.0, 1e8), "search": (1.0, 1e7), "api": (1.0, 1e7), "quiet": (0.05, 1e5)}


def month_bill() -> list[dict]:
    lines = usage_lines("shop", 2.0, 1e8, covered_days=10)  # a Savings Plan covers its first 10 days
    lines += usage_lines("search", 1.0, 1e7)
    lines.append(line("Credit", arn("search"), 5, 0.0, -10.0, line_type="Credit"))  # a credit on that cache
    lines += usage_lines("api", 1.0, 1.1e7)  # 10% more ECPUs billed than CloudWatch shows
    lines += usage_lines("old-cache", 0.5, 1e6)[:20]  # deleted on day 10: not in the history
    # "quiet" has no line items at all
    lines.append(line("Credit", None, 0, 0.0, -5.0, line_type="Credit"))  # account-level credit
    lines.append(line("Tax", None, 0, 0.0, 3.0, line_type="Tax"))
    lines.append(line("SavingsPlanRecurringFee", None, 0, 0.0, 40.0, line_type="SavingsPlanRecurringFee"))
    lines.append(line("NodeUsage:cache.t3.micro", "arn:aws:elasticache:us-east-1:1:cluster:n1", 0, 24, 0.4))
    lines.append(line("BoxUsage:m5.large", "i-123", 0, 24, 2.3, product="AmazonEC2"))
    return lines


@pytest.fixture
def month(tmp_path):
    history = write_history(tmp_path / "history.csv", CACHES)
    cur = tmp_path / "export" / "data" / "BILLING_PERIOD=2026-10"
    write_cur(cur, month_bill())
    # another month's partition is never opened: a broken file there proves it
    (tmp_path / "export" / "data" / "BILLING_PERIOD=2026-09").mkdir(parents=True)
    (tmp_path / "export" / "data" / "BILLING_PERIOD=2026-09" / "part-0.parquet").write_bytes(b"not parquet")
    (tmp_path / "export" / "metadata.json").write_text("{}")
    return history, tmp_path / "export"


def by_cache(data: dict) -> dict:
    return {row["cache"]: row for row in data["environments"]}


def test_month_against_cur(run, month):
    history, export = month
    code, out, err = run("reconcile", "--month", "2026-10", "--cur", str(export), "--metrics-file", str(history), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    assert data["source"] == "cur"
    rows = by_cache(data)

    # shop: 2 GB x 744 h = 1,488 GB-hours x 0.0837 = $124.5456; 1e8 x 744 = 7.44e10 ECPUs = 74,400 M x 0.00227
    # = $168.888; costwise $293.4336. The bill has the same usage: difference 0%. 10 of 31 days covered by
    # the plan at 70%: net = 293.4336 x (21/31 + 10/31 x 0.7) = 293.4336 x 28/31 = $265.0368
    shop = rows["shop"]
    assert shop["costwise"]["cost"] == pytest.approx(293.4336)
    assert shop["billed"]["storage_gb_hours"] == pytest.approx(1488)
    assert shop["billed"]["ecpus"] == pytest.approx(7.44e10)
    assert shop["billed"]["unblended_cost"] == pytest.approx(293.4336)
    assert shop["billed"]["net_cost"] == pytest.approx(293.4336 * 28 / 31)
    assert shop["difference_pct"] == pytest.approx(0, abs=1e-6)
    assert any("Savings Plan covered 32%" in why for why in shop["explained_by"])  # 10/31
    assert shop["flagged"] is False and shop["arn"] == arn("shop")

    # search: 744 GB-h x 0.0837 = $62.2728 + 7,440 M ECPUs x 0.00227 = $16.8888: $79.1616, billed the same; a $10 credit
    search = rows["search"]
    assert search["billed"]["unblended_cost"] == pytest.approx(79.1616)
    assert search["billed"]["net_cost"] == pytest.approx(69.1616)
    assert any("credits and refunds: $-10.00" in why for why in search["explained_by"])
    assert search["flagged"] is False

    # api: costwise $79.1616; billed 8,184 M ECPUs x 0.00227 = $18.57768 + $62.2728 = $80.85048:
    # +1.68888 / 79.1616 = +2.1335%, and nothing in the bill explains it
    api = rows["api"]
    assert api["difference_pct"] == pytest.approx(1.68888 / 79.1616 * 100, abs=1e-4)  # JSON keeps 4 decimals
    assert api["flagged"] is True and api["explained_by"] == []

    # old-cache: billed for 10 days (20 daily lines: storage and ECPU), not in the history
    old = rows["old-cache"]
    assert old["env"] is None and old["costwise"] is None
    assert old["billed"]["storage_gb_hours"] == pytest.approx(0.5 * 24 * 10)
    assert "not in the config" in old["explained_by"][0]

    # quiet: no line items; billed null and why
    quiet = rows["quiet"]
    assert quiet["billed"] is None and quiet["difference_pct"] is None and quiet["flagged"] is False
    assert "no line items" in quiet["explained_by"][0]

    # totals: costwise 293.4336 + 79.1616 + 79.1616 + quiet (0.1 GB minimum x 744 x 0.0837 = 6.227 + 74.4 M x
    # 0.00227 = 0.1689: $6.3961); billed old-cache 0.5 x 240 x 0.0837 = 10.044 + 240e6 ECPUs = 0.5448
    quiet_cost = 0.1 * 744 * 0.0837 + 74.4 * 0.00227
    assert data["totals"]["costwise"] == pytest.approx(293.4336 + 2 * 79.1616 + quiet_cost)
    old_cost = 0.5 * 240 * 0.0837 + 240 * 0.00227
    assert data["totals"]["billed_unblended"] == pytest.approx(293.4336 + 79.1616 + 80.85048 + old_cost)
    # net: the plan's saving, the cache's credit and the account's: the tax and the plan's fee stay out
    assert data["totals"]["billed_net"] == pytest.approx(293.4336 * 28 / 31 + 69.1616 + 80.85048 + old_cost - 5.0)
    notes = " ".join(data["notes"])
    assert "tax: $3.00" in notes and "recurring fees: $40.00" in notes and "1 ElastiCache line items that are not serverless" in notes


def test_fail_over_exit_code(run, month):
    history, export = month
    args = ("reconcile", "--month", "2026-10", "--cur", str(export), "--metrics-file", str(history))
    code, out, err = run(*args, "--fail-over", "2")
    assert code == 3, err  # api's 2.13% is above 2
    assert "api" in err.splitlines()[-1]
    code, out, err = run(*args, "--fail-over", "5", "--format", "markdown")
    assert code == 0, err
    assert "| api |" in out.replace("\\_", "_") or "api" in out
    assert "flagged" in out


def test_formats_escape_names(run, month, tmp_path):
    history, export = month
    for fmt in ("table", "markdown", "html"):
        code, out, err = run("reconcile", "--month", "2026-10", "--cur", str(export), "--metrics-file", str(history), "--format", fmt)
        assert code == 0, err
        assert "old-cache" in out


def test_rate_change_and_gaps_explain(prices):
    """A rate that changed mid-month and hours costwise has no data for are explanations; what is left is not."""
    from costwise.model.reconcile import BillLedger, CostwiseUsage, compare

    ledger = BillLedger()
    # storage: 15 days at 0.0837, 16 days at 0.09 (1 GB, 24 GB-hours a day)
    for day in range(31):
        rate = STORAGE_RATE if day < 15 else 0.09
        ledger.add(line_type="Usage", usage_type="CachedData:Valkey", resource_id=arn("a"), amount=24, unblended=24 * rate,
                   start=OCT + timedelta(days=day))
    billed = ledger.by_resource[arn("a")]
    ours = CostwiseUsage(744, 0, 744 * STORAGE_RATE, 744, 744, STORAGE_RATE, ECPU_RATE)
    # billed 360 x 0.0837 + 384 x 0.09 = 30.132 + 34.56 = 64.692 against 62.2728: +3.885%, all of it the rate
    result = compare(ours, billed)
    assert result.difference_pct == pytest.approx((64.692 - 62.2728) / 62.2728 * 100)
    assert "rate changed mid-period" in result.explained_by[0] and "2026-10-16" in result.explained_by[0]
    assert not result.flagged

    # costwise missed 48 of 744 hours: it billed 696 GB-hours ($58.2552); the bill (at one rate) has 744
    ledger = BillLedger()
    ledger.add(line_type="Usage", usage_type="CachedData:Valkey", resource_id=arn("b"), amount=744, unblended=744 * STORAGE_RATE)
    gappy = CostwiseUsage(696, 0, 696 * STORAGE_RATE, 696, 744, STORAGE_RATE, ECPU_RATE)
    result = compare(gappy, ledger.by_resource[arn("b")])
    assert result.difference_pct == pytest.approx(48 / 696 * 100)
    assert "no data for 48" in result.explained_by[0] and not result.flagged
    # the same gap cannot explain a bill three times its size
    ledger.add(line_type="Usage", usage_type="CachedData:Valkey", resource_id=arn("b"), amount=1488, unblended=1488 * STORAGE_RATE)
    assert compare(gappy, ledger.by_resource[arn("b")]).flagged


def test_bad_exports(run, month, tmp_path):
    history, export = month
    base = ("reconcile", "--month", "2026-10", "--metrics-file", str(history), "--cur")

    unrelated = tmp_path / "unrelated"
    pq.write_table(pa.table({"a": [1, 2]}), unrelated.mkdir() or unrelated / "x.parquet")
    code, out, err = run(*base, str(unrelated))
    assert code == 2 and "no CUR 2.0 Parquet file" in err and len(err.strip().splitlines()) == 1

    missing = tmp_path / "missing"
    rows = [{k: v for k, v in line("storage", arn("shop"), 0, 24, 2.0).items() if k != "line_item_resource_id"}]
    write_cur(missing, rows)
    code, out, err = run(*base, str(missing))
    assert code == 2 and "no column line_item_resource_id" in err and len(err.strip().splitlines()) == 1

    mixed = tmp_path / "mixed"
    write_cur(mixed, [line("storage", arn("shop"), 0, 24, 2.0), line("storage", arn("shop"), 1, 24, 2.0, currency="EUR")])
    code, out, err = run(*base, str(mixed))
    assert code == 2 and "several currencies (EUR, USD)" in err and len(err.strip().splitlines()) == 1

    other_month = tmp_path / "september"
    write_cur(other_month, [dict(line("storage", arn("shop"), 0, 24, 2.0), line_item_usage_start_date=OCT - timedelta(days=3))])
    code, out, err = run(*base, str(other_month))
    assert code == 1 and "no ElastiCache line items from 2026-10-01" in err and len(err.strip().splitlines()) == 1

    code, out, err = run("reconcile", "--month", "2026-13", "--cur", str(export), "--metrics-file", str(history))
    assert code == 2 and "--month" in err
    code, out, err = run("reconcile", "--month", "2026-10", "--metrics-file", str(history))
    assert code == 2 and "--cost-explorer" in err


def test_s3_export_and_denied_prefix(run, moto, month, monkeypatch):
    import boto3

    history, export = month
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto)
    s3.create_bucket(Bucket="billing")
    for path in export.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "billing", "exports/" + str(path.relative_to(export)))
    code, out, err = run("reconcile", "--month", "2026-10", "--cur", "s3://billing/exports/", "--metrics-file", str(history),
                         "--endpoint-url", moto, "--format", "json")
    assert code == 0, err
    assert by_cache(json.loads(out))["shop"]["billed"]["unblended_cost"] == pytest.approx(293.4336)


def test_denied_prefix_is_one_line(run, aws_env, month):
    from tests.faultserver import LocalServer, QuietHandler, reply

    history, _ = month

    class Denied(QuietHandler):
        def do_GET(self):
            body = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            reply(self, 403, {"Content-Type": "application/xml"}, body)

    class DeniedS3(LocalServer):
        def __init__(self):
            self._listen(Denied)

    with DeniedS3() as server:
        code, out, err = run("reconcile", "--month", "2026-10", "--cur", "s3://billing/exports/", "--metrics-file", str(history),
                             "--endpoint-url", server.url, "--max-attempts", "1")
    assert code == 1
    assert "access denied" in err and "s3://billing/exports/" in err and len(err.strip().splitlines()) == 1


def test_cost_explorer_per_region(run, moto, month):
    """moto answers GetCostAndUsage with results seeded through its API: one group per usage type."""
    import requests

    history, _ = month

    def group(usage_type: str, quantity: float, cost: float, net: float) -> dict:
        return {"Keys": ["us-east-1", usage_type], "Metrics": {
            "UnblendedCost": {"Amount": str(cost), "Unit": "USD"}, "NetUnblendedCost": {"Amount": str(net), "Unit": "USD"},
            "UsageQuantity": {"Amount": str(quantity), "Unit": "N/A"}}}

    # the four caches' usage as the bill has it, in one region: storage 1,488 + 744 + 744 + 74.4 GB-h (quiet at the
    # 0.1 GB minimum) = 3,050.4 GB-h x 0.0837 = $255.31848; ECPUs 7.44e10 + 2 x 7.44e9 + 7.44e7 = 8.93544e10 = 89,354.4 M
    # x 0.00227 = $202.834488; total $458.152968 = costwise's four caches (all usage agrees: 0%)
    seeded = {"results": [{"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"}, "Total": {}, "Groups": [
        group("USE1-CachedData:Valkey", 3050.4, 255.31848, 250.0),
        group("USE1-ElastiCacheProcessingUnits:Valkey", 8.93544e10, 202.834488, 190.0),
        group("USE1-NodeUsage:cache.t3.micro", 744, 12.0, 12.0),
    ], "Estimated": False}], "DimensionValueAttributes": []}]}
    assert requests.post(f"{moto}/moto-api/static/ce/cost-and-usage-results", json=seeded, timeout=10).status_code == 201
    code, out, err = run("reconcile", "--month", "2026-10", "--cost-explorer", "--metrics-file", str(history),
                         "--endpoint-url", moto, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "cost-explorer"
    rows = by_cache(data)
    assert rows["shop"]["billed"] is None
    assert "compared in the total of valkey caches in us-east-1" in rows["shop"]["explained_by"][-1]
    total = rows["all valkey caches in us-east-1"]
    assert total["costwise"]["cost"] == pytest.approx(458.152968)
    assert total["billed"]["unblended_cost"] == pytest.approx(458.152968)
    assert total["billed"]["net_cost"] == pytest.approx(440.0)
    assert total["difference_pct"] == pytest.approx(0, abs=1e-6) and total["flagged"] is False
    assert data["totals"]["billed_unblended"] == pytest.approx(458.152968)
    assert any("no resource-level data" in note for note in data["notes"])


def test_export_without_resource_ids_compares_per_region(run, month, tmp_path):
    """No resource ids in the export: the region's valkey total against the sum of its caches."""
    history, _ = month
    lines = []
    for name, (gb, ecpu) in CACHES.items():
        for row in usage_lines(name, max(gb, 0.1), ecpu):  # billed at the 0.1 GB minimum, as costwise counts
            lines.append(dict(row, line_item_resource_id="", product_region_code="us-east-1"))
    write_cur(tmp_path / "plain", lines)
    code, out, err = run("reconcile", "--month", "2026-10", "--cur", str(tmp_path / "plain"), "--metrics-file", str(history),
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    total = by_cache(data)["all valkey caches in us-east-1"]
    # 293.4336 (shop) + 2 x 79.1616 (search, api) + quiet's 0.1 x 744 x 0.0837 + 74.4 x 0.00227 = 458.152968, billed alike
    assert total["billed"]["unblended_cost"] == pytest.approx(458.152968)
    assert total["difference_pct"] == pytest.approx(0, abs=1e-6)
    assert by_cache(data)["shop"]["billed"] is None
    assert any("no resource ids" in note for note in data["notes"])


def test_month_read_from_cloudwatch(run, moto, monkeypatch, tmp_path):
    """The costwise side from CloudWatch (moto): the month's 744 hours are read, no more, no fewer;
    the first 48 hours have no datapoints, and the bill's 48 extra hours are explained by them."""
    import boto3

    from tests.awsfakes import patch_describe, put_hourly, serverless_cache

    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    row = {"storage_avg": 1.0 * 2**30, "storage_max": 1.0 * 2**30, "ecpu_sum": 1e7, "ecpu_max_minute": 1e7 / 60}
    put_hourly(cw, "shop-valkey", OCT, [None] * 48 + [row] * (HOURS - 48) + [dict(row, ecpu_sum=1e12)] * 24)  # + November
    patch_describe(monkeypatch, [serverless_cache("shop-valkey")])
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n  shop:\n    cache: shop-valkey\n")
    write_cur(tmp_path / "cur", usage_lines("shop-valkey", 1.0, 1e7))
    code, out, err = run("reconcile", "--month", "2026-10", "--cur", str(tmp_path / "cur"), "--config", str(config),
                         "--endpoint-url", moto, "--format", "json")
    assert code == 0, err
    shop = by_cache(json.loads(out))["shop-valkey"]
    # 696 hours: 696 GB-h x 0.0837 = $58.2552 + 6,960 M ECPUs x 0.00227 = $15.7992: $74.0544 (November's hours left out)
    assert shop["costwise"]["storage_gb_hours"] == pytest.approx(696)
    assert shop["costwise"]["cost"] == pytest.approx(74.0544)
    # billed 744 hours: $79.1616, +6.897%, all of it the 48 hours costwise has no data for
    assert shop["difference_pct"] == pytest.approx((79.1616 - 74.0544) / 74.0544 * 100, abs=1e-4)
    assert "no data for 48 of the period's 744 hours" in " ".join(shop["explained_by"]) and shop["flagged"] is False


def test_unrelated_parquet_beside_the_export_is_skipped_and_said(run, month):
    history, export = month
    pq.write_table(pa.table({"sku": ["a"], "price": [1.0]}), export / "data" / "BILLING_PERIOD=2026-10" / "pricing.parquet")
    code, out, err = run("reconcile", "--month", "2026-10", "--cur", str(export), "--metrics-file", str(history), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert any("skipped 1 files that are not CUR 2.0" in note and "pricing.parquet" in note for note in data["notes"])
    assert by_cache(data)["shop"]["billed"]["unblended_cost"] == pytest.approx(293.4336)  # the export itself still read
