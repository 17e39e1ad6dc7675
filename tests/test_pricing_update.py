"""Price List refresh: realistic GetProducts pages through botocore's Stubber, then a round trip."""

from __future__ import annotations

import json
from datetime import date

import boto3
import botocore.client
import pytest
import yaml
from botocore.stub import Stubber

from costwise.pricing.pricelist import parse_price_list
from costwise.pricing import load_pricing
from costwise.pricing.update import fetch_price_list, merge_rates
from tests.helpers import PRICING_FIXTURE

PUBLISHED = "2026-11-20T00:00:00Z"


def product(sku, usagetype, region, family, usd, unit, *, engine=None, memory=None, vcpu=None, reserved_zero=False, reserved=()):
    attributes = {"servicecode": "AmazonElastiCache", "usagetype": usagetype, "regionCode": region, "locationType": "AWS Region"}
    if engine:
        attributes["cacheEngine"] = engine
    if memory:
        attributes.update(memory=memory, vcpu=str(vcpu), instanceType=usagetype.split(":")[-1])
    dims = {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {"rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7", "description": f"{usagetype} on demand",
                                             "unit": unit, "pricePerUnit": {"USD": usd}, "appliesTo": []}}
    if reserved_zero:
        dims[f"{sku}.JRTCKXETXF.2TG2D8R56U"] = {"rateCode": "x", "description": "Valkey, cache.t4g.micro reserved instance applied",
                                                "unit": "Hrs", "pricePerUnit": {"USD": "0.0000000000"}, "appliesTo": []}
    terms = {"OnDemand": {f"{sku}.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": PUBLISHED,
                                                 "priceDimensions": dims}}}
    # reserved terms as the Price List writes them: an upfront fee (Quantity) and an hourly rate (Hrs)
    for i, (length, option, upfront, hourly) in enumerate(reserved):
        code = f"{sku}.RES{i}"
        terms.setdefault("Reserved", {})[code] = {
            "offerTermCode": f"RES{i}", "sku": sku, "effectiveDate": PUBLISHED,
            "termAttributes": {"LeaseContractLength": length, "OfferingClass": "standard", "PurchaseOption": option},
            "priceDimensions": {f"{code}.UP": {"unit": "Quantity", "pricePerUnit": {"USD": upfront}, "description": "Upfront Fee"},
                                f"{code}.HR": {"unit": "Hrs", "pricePerUnit": {"USD": hourly}, "description": "hourly"}}}
    return json.dumps({
        "product": {"productFamily": family, "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonElastiCache",
        "terms": terms,
        "version": "20261120000000",
        "publicationDate": PUBLISHED,
    })


SL, NODE = "ElastiCache Serverless", "Cache Instance"
# (region, family) -> pages; us-east-1 SKUs carry no usage-type prefix, us-west-2 ones "USW2-"
PAGES = {
    ("us-east-1", SL): [
        [product("AAA1", "CachedData:Valkey", "us-east-1", SL, "0.0840000000", "GB-Hours"),
         product("AAA2", "ElastiCacheProcessingUnits:Valkey", "us-east-1", SL, "0.0000000023", "ECPU")],
        [product("AAA3", "CachedData:Redis", "us-east-1", SL, "0.1250000000", "GB-Hours"),
         product("AAA4", "ElastiCacheProcessingUnits:Redis", "us-east-1", SL, "0.0000000034", "ECPU"),
         product("AAA5", "USE1-DataTransfer-Regional-Bytes", "us-east-1", SL, "0.0100000000", "GB")],
    ],
    ("us-east-1", NODE): [
        [product("BBB1", "NodeUsage:cache.t4g.micro", "us-east-1", NODE, "0.0128000000", "Hrs", engine="Valkey", memory="0.5 GiB", vcpu=2, reserved_zero=True),
         product("BBB2", "ExtendedSupportYr1_Yr2-NodeUsage:cache.m5.large", "us-east-1", NODE, "0.1248000000", "Hrs", engine="Redis"),
         product("BBB5", "SyncDurability-NodeUsage:cache.r7g.large", "us-east-1", NODE, "0.0500000000", "Hrs", engine="Valkey",
                 memory="13.07 GiB", vcpu=2),
         product("BBB3", "NodeUsage:cache.t4g.micro", "us-east-1", NODE, "0.0160000000", "Hrs", engine="Redis", memory="0.5 GiB", vcpu=2),
         product("BBB4", "NodeUsage:cache.m5.large", "us-east-1", NODE, "0.1560000000", "Hrs", engine="Redis", memory="6.38 GiB", vcpu=2,
                 reserved=[("1yr", "No Upfront", "0", "0.1060000000"), ("3yr", "All Upfront", "1850", "0")])],
    ],
    ("us-west-2", SL): [
        [product("CCC1", "USW2-CachedData:Valkey", "us-west-2", SL, "0.0900000000", "GB-Hours"),
         product("CCC2", "USW2-ElastiCacheProcessingUnits:Valkey", "us-west-2", SL, "0.0000000025", "ECPU")],
    ],
    ("us-west-2", NODE): [[]],
}


def _responses():
    """GetProducts responses in the order fetch_price_list asks: region by region, family by family."""
    for (region, family), pages in PAGES.items():
        for i, page in enumerate(pages):
            response = {"FormatVersion": "aws_v1", "PriceList": page}
            if i + 1 < len(pages):
                response["NextToken"] = f"{region}-{family}-{i + 1}"
            expected = {"ServiceCode": "AmazonElastiCache", "FormatVersion": "aws_v1", "MaxResults": 100,
                        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                                    {"Type": "TERM_MATCH", "Field": "productFamily", "Value": family}]}
            if i:
                expected["NextToken"] = f"{region}-{family}-{i}"
            yield response, expected


def _offering(offering_id="sp-db-1yr", payment="No Upfront", seconds=31536000):
    return {"offeringId": offering_id, "paymentOption": payment, "planType": "Database", "durationSeconds": seconds,
            "currency": "USD", "planDescription": "1 year No Upfront Database Savings Plan"}


def _plan_rate(usage_type, rate, unit, region="us-east-1", **offering):
    return {"savingsPlanOffering": _offering(**offering), "rate": rate, "unit": unit, "productType": "ElastiCache",
            "serviceCode": "AmazonElastiCache", "usageType": usage_type, "operation": "", "properties": [{"name": "region", "value": region}]}


# DescribeSavingsPlansOfferingRates, two pages: Valkey serverless storage and ECPU, a Valkey node, a
# 3-year offer (not the launch offer: skipped) and one usage type costwise does not know (reported)
PLAN_PAGES = [
    [_plan_rate("CachedData:Valkey", "0.0588", "GB-Hours"),
     _plan_rate("USW2-CachedData:Valkey", "0.0630", "GB-Hours", region="us-west-2"),
     _plan_rate("CachedData:Valkey", "0.0500", "GB-Hours", offering_id="sp-3yr", seconds=94608000)],
    [_plan_rate("ElastiCacheProcessingUnits:Valkey", "0.0000000015890", "ElastiCacheProcessingUnit"),
     _plan_rate("NodeUsage:cache.r7g.large", "0.1489", "Hrs"),
     _plan_rate("DataTransfer-Out-Bytes", "0.01", "GB-Hours")],
]


def _plan_responses():
    for i, page in enumerate(PLAN_PAGES):
        response = {"searchResults": page}
        if i + 1 < len(PLAN_PAGES):
            response["nextToken"] = f"plans-{i + 1}"
        expected = {"savingsPlanTypes": ["Database"], "products": ["ElastiCache"], "maxResults": 1000,
                    "filters": [{"name": "region", "values": ["us-east-1", "us-west-2"]}]}
        if i:
            expected["nextToken"] = f"plans-{i}"
        yield response, expected


class StubSession:
    def __init__(self, clients):
        self._clients = clients

    def client(self, service, region):
        assert region == "us-east-1"  # the pricing and savingsplans APIs both answer from us-east-1
        return self._clients[service]


def test_stubbed_pages_are_parsed(aws_env):
    client = boto3.client("pricing", region_name="us-east-1")
    plans = boto3.client("savingsplans", region_name="us-east-1")
    stub, plan_stub = Stubber(client), Stubber(plans)
    for response, expected in _responses():
        stub.add_response("get_products", response, expected)
    for response, expected in _plan_responses():
        plan_stub.add_response("describe_savings_plans_offering_rates", response, expected)
    with stub, plan_stub:
        parsed = fetch_price_list(StubSession({"pricing": client, "savingsplans": plans}), ["us-east-1", "us-west-2"])
    stub.assert_no_pending_responses()  # every page, NextToken included, was asked for
    plan_stub.assert_no_pending_responses()
    plan = {(r.region, r.field, r.node_type): r.value for r in parsed.rates if r.field.startswith("savings_plan")}
    # per single ECPU in the API too: 0.000000001589 x 1e6 = $0.001589 per million (30% off 0.00227)
    assert plan == {("us-east-1", "savings_plan_storage_per_gb_hour", None): 0.0588,
                    ("us-west-2", "savings_plan_storage_per_gb_hour", None): 0.063,
                    ("us-east-1", "savings_plan_ecpu_per_million", None): pytest.approx(0.001589),
                    ("us-east-1", "savings_plan_node", "cache.r7g.large"): 0.1489}
    assert any("3" not in s and "not the 1-year, no-upfront offer" in s for s in parsed.skipped)
    assert any("DataTransfer-Out-Bytes" in u for u in parsed.unreadable)
    got = {(r.region, r.engine, r.field, r.node_type): r.value for r in parsed.rates}
    assert got[("us-east-1", "valkey", "storage_per_gb_hour", None)] == 0.084
    # per single ECPU in the Price List: 0.0000000023 x 1e6 = $0.0023 per million
    assert got[("us-east-1", "valkey", "ecpu_per_million", None)] == pytest.approx(0.0023)
    assert got[("us-west-2", "valkey", "storage_per_gb_hour", None)] == 0.09  # USW2- prefix understood
    assert got[("us-east-1", "valkey", "node", "cache.t4g.micro")] == 0.0128  # the $0 reserved rate ignored
    assert any("AAA5" in u for u in parsed.unreadable)  # reported, not guessed
    assert any("BBB5" in s and "SyncDurability" in s for s in parsed.skipped)
    # the Extended Support SKU is the m5's surcharge, not skipped and not a node price
    support = [r for r in parsed.rates if r.field == "extended_support"]
    assert [(r.node_type, r.band) for r in support] == [("cache.m5.large", "yr1_yr2")]


def test_merge_keeps_untouched_entries_and_records_sources():
    raw = yaml.safe_load(PRICING_FIXTURE.read_text())
    parsed = parse_price_list([p for pages in PAGES.values() for page in pages for p in page])
    data, changes, notes = merge_rates(raw, parsed, ["us-east-1", "us-west-2"], ["valkey", "redis-oss"], today=date(2026, 11, 26))
    paths = {c.path: (c.old, c.new) for c in changes}
    assert paths["regions.us-east-1.valkey.storage_per_gb_hour"] == (0.0837, 0.084)
    assert paths["regions.us-west-2.valkey.ecpu_per_million"] == (0.00227, pytest.approx(0.0025))
    assert "regions.us-east-1.redis-oss.storage_per_gb_hour" not in paths  # same value: no change
    assert "regions.us-east-1.valkey.nodes.cache.t4g.micro.hourly" not in paths  # same price
    entry = data["regions"]["us-east-1"]["valkey"]["storage_per_gb_hour"]
    assert entry == {"value": 0.084, "source": "AWS Price List API, SKU AAA1", "as_of": "2026-11-26", "confidence": "high"}
    assert data["regions"]["eu-west-1"] == raw["regions"]["eu-west-1"]  # not asked for: untouched
    assert data["regions"]["us-east-1"]["memcached"] == raw["regions"]["us-east-1"]["memcached"]  # engine not asked for
    # m5 (what Redis OSS 5 clusters run on) is refreshed: the Price List's price and reserved terms,
    # the years 1-2 surcharge from its Extended Support SKU, the file's year-3 surcharge kept
    m5 = data["regions"]["us-east-1"]["redis-oss"]["nodes"]["cache.m5.large"]
    assert m5["hourly"] == 0.156 and m5["extended_support"]["yr1_yr2"] == 0.1248
    assert m5["extended_support"]["yr3"] == raw["regions"]["us-east-1"]["redis-oss"]["nodes"]["cache.m5.large"]["extended_support"]["yr3"]
    assert m5["reserved"] == [{"term_years": 1, "payment": "no-upfront", "upfront": 0.0, "hourly": 0.106},
                              {"term_years": 3, "payment": "all-upfront", "upfront": 1850.0, "hourly": 0.0}]
    # the SyncDurability add-on never becomes the r7g's price
    assert data["regions"]["us-east-1"]["valkey"]["nodes"]["cache.r7g.large"]["hourly"] == 0.1752


def test_update_round_trip_through_the_cli(run, aws_env, monkeypatch, tmp_path):
    target = tmp_path / "pricing.yaml"
    target.write_text(PRICING_FIXTURE.read_text())
    responses = list(_responses())
    served = []

    plan_pages = [response for response, _ in _plan_responses()]

    def fake(self, operation_name, params):
        if operation_name == "GetProducts":
            served.append(params)
            return responses[len(served) - 1][0]
        if operation_name == "DescribeSavingsPlansOfferingRates":
            return plan_pages[1 if params.get("nextToken") else 0]
        raise AssertionError(f"unexpected call {operation_name}")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fake)
    before = target.read_text()
    code, out, err = run("pricing", "update", "--region", "us-east-1", "--region", "us-west-2", "--output", str(target))
    assert code == 0, err
    assert target.read_text() == before  # a dry run writes nothing
    assert "regions.us-east-1.valkey.storage_per_gb_hour" in out and "dry run" in err
    assert "not interpreted: AAA5" in err

    served.clear()
    code, out, err = run("pricing", "update", "--region", "us-east-1", "--region", "us-west-2", "--output", str(target), "--write")
    assert code == 0, err
    book = load_pricing(target)
    assert book.rates("us-east-1", "valkey").storage_per_gb_hour == 0.084
    assert book.savings_plan_rates("us-east-1", "valkey").storage_per_gb_hour == 0.0588

    code, out, err = run("whatif", "--storage-gb", "1", "--ecpu-per-second", "1000", "--pricing", str(target), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    # 1 GB x 0.084 x 730 = 61.32; 1,000 x 3,600 x 730 / 1e6 x 0.0023 = 6.0444
    assert data["cost"]["storage"] == pytest.approx(61.32)
    assert data["cost"]["ecpu"] == pytest.approx(6.0444)


def test_show(cli):
    result = cli("pricing", "show", "--region", "us-east-1", "--engine", "valkey", "--nodes", "--format", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    (row,) = data["rates"]
    assert (row["storage_per_gb_hour"], row["ecpu_per_million"], row["min_storage_gb"]) == (0.0837, 0.00227, 0.1)
    nodes = {n["name"]: n for n in row["nodes"]}
    micro = nodes["cache.t4g.micro"]
    assert (micro["hourly"], micro["memory_gib"], micro["vcpu"], micro["confidence"]) == (0.0128, 0.5, 2, "high")
    # generation 4: no Savings Plan; its reserved offerings are listed (1 year no upfront: 0.0128 x 0.68)
    assert micro["savings_plan_hourly"] is None
    assert {"term_years": 1, "payment": "no-upfront", "upfront": 0.0, "hourly": pytest.approx(0.008704)} in micro["reserved"]
    assert nodes["cache.r7g.large"]["savings_plan_hourly"] == pytest.approx(0.1752 * 0.85)


def test_a_price_that_is_not_a_number_is_reported_not_guessed():
    from costwise.pricing.pricelist import parse_price_list

    parsed = parse_price_list([
        product("ABC1", "CachedData:Valkey", "us-east-1", SL, "abc", "GB-Hours"),
        product("ABC2", "CachedData:Valkey", "us-east-1", SL, "NaN", "GB-Hours"),
        product("ABC3\x1b[2J", "CachedData:Valkey", "us-east-1", SL, "-1", "GB-Hours"),
        "{not json",
    ])
    assert parsed.rates == []
    assert [line.split(" ")[0] for line in parsed.unreadable[:3]] == ["ABC1", "ABC2", "ABC3\\x1b[2J"]
    assert all("no single on-demand USD price" in line for line in parsed.unreadable[:3])
    assert parsed.unreadable[3] == "a PriceList entry that is not product JSON"
