"""`costwise pricing update`: refresh pricing.yaml from the AWS Price List API.

Fetching goes through costwise.sources.aws; merging and the diff are pure. Entries the refresh did
not touch are kept as they are; every rate it sets records its SKU and date.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from costwise.pricing.book import RATE_FIELDS
from costwise.pricing.pricelist import ParseResult, parse_price_list, parse_savings_plan_rates

SERVICE_CODE = "AmazonElastiCache"
PRODUCT_FAMILIES = ("ElastiCache Serverless", "Cache Instance")
# the node families costwise compares against (m8g, r8g, c8gn: Valkey only), and those Redis OSS 4/5
# clusters still run on (for their Extended Support surcharge)
NODE_FAMILIES = ("t4g", "m7g", "r7g", "m8g", "r8g", "c8gn", "m5", "r5", "m6g", "r6g")
PRICE_LIST_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")  # where the pricing API lives


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


def fetch_price_list(session, regions: list[str], api_region: str = "us-east-1") -> ParseResult:
    """GetProducts for each region and product family; parsed, with what could not be read."""
    from costwise.sources import aws

    client = session.client("pricing", api_region)
    items: list[str] = []
    for region in regions:
        for family in PRODUCT_FAMILIES:
            filters = [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "productFamily", "Value": family},
            ]
            try:
                items.extend(aws.get_products(client, SERVICE_CODE, filters))
            except Exception as exc:
                raise aws.describe_error(exc, f"GetProducts ({region}, {family})") from None
    parsed = parse_price_list(items)
    fetch_savings_plan_rates(session, regions, parsed)
    return parsed


def fetch_savings_plan_rates(session, regions: list[str], parsed: ParseResult) -> None:
    """Database Savings Plan rates for ElastiCache (savingsplans:DescribeSavingsPlansOfferingRates),
    every page, added to `parsed`."""
    from costwise.sources import aws

    client = session.client("savingsplans", "us-east-1")  # a global API, served from us-east-1
    token = None
    results: list[dict] = []
    while True:
        kwargs: dict[str, Any] = {"savingsPlanTypes": ["Database"], "products": ["ElastiCache"], "maxResults": 1000,
                                  "filters": [{"name": "region", "values": list(regions)}]}
        if token:
            kwargs["nextToken"] = token
        try:
            response = client.describe_savings_plans_offering_rates(**kwargs)
            results.extend(aws.field_of(response, "searchResults", "DescribeSavingsPlansOfferingRates"))
        except Exception as exc:
            raise aws.describe_error(exc, "DescribeSavingsPlansOfferingRates") from None
        token = response.get("nextToken")
        if not token:
            break
    parse_savings_plan_rates(results, parsed)


def _family(node_type: str) -> str:
    return node_type.split(".")[1] if node_type.count(".") >= 2 else ""


def merge_rates(raw: dict, parsed: ParseResult, regions: list[str], engines: list[str], today: date | None = None) -> tuple[dict, list[Change], list[str]]:
    """A new pricing dict with the parsed rates applied; the changes; notes on what was left out."""
    today = today or date.today()
    data = copy.deepcopy(raw)
    changes: list[Change] = []
    notes: list[str] = []
    stamp = today.isoformat()
    # nodes first: their surcharges and plan rates attach to them
    for rate in sorted(parsed.rates, key=lambda r: r.field != "node"):
        if rate.region not in regions or rate.engine not in engines:
            continue
        engine_entry = data.setdefault("regions", {}).setdefault(rate.region, {}).setdefault(rate.engine, {})
        where = f"regions.{rate.region}.{rate.engine}"
        source = f"AWS Price List API, SKU {rate.sku}"
        if rate.field in ("extended_support", "savings_plan_node"):
            node = engine_entry.get("nodes", {}).get(rate.node_type)
            if node is None:
                if _family(rate.node_type) in NODE_FAMILIES:
                    notes.append(f"{rate.sku} {rate.node_type}: a {rate.field.replace('_', ' ')} price but no on-demand price; not used")
                continue
            if rate.field == "extended_support":
                old = (node.get("extended_support") or {}).get(rate.band)
                node.setdefault("extended_support", {})[rate.band] = rate.value
                path = f"{where}.nodes.{rate.node_type}.extended_support.{rate.band}"
            else:
                old = node.get("savings_plan_hourly")
                node["savings_plan_hourly"] = rate.value
                path = f"{where}.nodes.{rate.node_type}.savings_plan_hourly"
            if old != rate.value:
                changes.append(Change(path, old, rate.value))
            continue
        if rate.field.startswith("savings_plan_"):
            field = rate.field[len("savings_plan_"):]
            plan = engine_entry.setdefault("savings_plan", {})
            entry = plan.get(field)
            old = entry.get("value") if isinstance(entry, dict) else entry
            plan[field] = {"value": rate.value, "source": f"AWS Savings Plans API, offering {rate.sku}", "as_of": stamp, "confidence": "high"}
            if old != rate.value:
                changes.append(Change(f"{where}.savings_plan.{field}", old, rate.value))
            continue
        if rate.field == "node":
            if _family(rate.node_type) not in NODE_FAMILIES:
                continue
            if rate.memory_gib is None or rate.vcpu is None:
                notes.append(f"{rate.sku} {rate.node_type}: no memory or vCPU in the Price List; not used")
                continue
            nodes = engine_entry.setdefault("nodes", {})
            previous = nodes.get(rate.node_type, {})
            old = previous.get("hourly")
            node = {"hourly": rate.value, "memory_gib": rate.memory_gib, "vcpu": rate.vcpu,
                    "source": source, "as_of": stamp, "confidence": "high"}
            # what this SKU does not carry (a plan rate, surcharges) is kept; its reserved terms replace the old
            for kept in ("savings_plan_hourly", "extended_support", "reserved", "reserved_source"):
                if kept in previous:
                    node[kept] = previous[kept]
            if rate.reserved:
                node["reserved"] = [dict(o) for o in rate.reserved]
                node["reserved_source"] = source
            nodes[rate.node_type] = node
            if old != rate.value:
                changes.append(Change(f"{where}.nodes.{rate.node_type}.hourly", old, rate.value))
            continue
        entry = engine_entry.get(rate.field)
        old = entry.get("value") if isinstance(entry, dict) else entry
        engine_entry[rate.field] = {"value": rate.value, "source": source, "as_of": stamp, "confidence": "high"}
        if old != rate.value:
            changes.append(Change(f"{where}.{rate.field}", old, rate.value))
    for region in regions:
        for engine in engines:
            entry = data.get("regions", {}).get(region, {}).get(engine)
            if entry is None:
                notes.append(f"no serverless prices for {engine} in {region} in the Price List")
                continue
            missing = [f for f in RATE_FIELDS if f not in entry]
            if missing:
                notes.append(f"regions.{region}.{engine}: {', '.join(missing)} not in the Price List and not in the file; add by hand")
    return data, changes, notes


HEADER = """# ElastiCache Serverless prices used by costwise.
# Every rate records where it came from (source), when (as_of) and how sure we are (confidence).
# Money is US dollars. Edit by hand or refresh with `costwise pricing update`; pass another file with --pricing.
"""


def dump_pricing(data: dict) -> str:
    import yaml

    class NoAliases(yaml.SafeDumper):
        # costwise refuses anchors and aliases on reading: never write any
        def ignore_aliases(self, data):
            return True

    return HEADER + yaml.dump(data, Dumper=NoAliases, sort_keys=False, allow_unicode=True, width=200)
