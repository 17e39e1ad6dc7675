"""Read AWS Price List products (GetProducts' PriceList JSON strings) into costwise's rates. Pure.

Serverless SKUs: productFamily "ElastiCache Serverless", usagetype `<PREFIX>-CachedData:<Engine>`
(storage, $/GB-hour) and `<PREFIX>-ElastiCacheProcessingUnits:<Engine>` (ECPU, priced per single
ECPU: x 1e6 for $/million). us-east-1 has no prefix on some SKUs.
Node SKUs: usagetype `NodeUsage:cache.<type>`, on-demand $/hour, with their reserved terms (1 or 3
years; no, partial or all upfront: an upfront fee and an hourly rate). Extended Support SKUs
(`ExtendedSupportYr1_Yr2-NodeUsage:...`, `ExtendedSupportYr3-...`): the hourly surcharge. The
Valkey SyncDurability add-on is never a node price: skipped.
A SKU that does not fit these shapes is reported, never guessed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from costwise.fmt import printable
from costwise.pricing.book import ENGINE_ALIASES

_SERVERLESS = re.compile(r"^(?:[A-Z0-9]+-)?(CachedData|ElastiCacheProcessingUnits):([A-Za-z-]+)$")
_NODE = re.compile(r"^(?:[A-Z0-9]+-)?NodeUsage:(cache\.[a-z0-9]+\.[a-z0-9]+)$")
_SUPPORT = re.compile(r"^(?:[A-Z0-9]+-)?ExtendedSupport(Yr1_Yr2|Yr3)-NodeUsage:(cache\.[a-z0-9]+\.[a-z0-9]+)$")
_TERMS = {"1yr": 1, "3yr": 3}
_PAYMENTS = {"no upfront": "no-upfront", "partial upfront": "partial-upfront", "all upfront": "all-upfront"}


@dataclass(frozen=True)
class ParsedRate:
    region: str
    engine: str
    field: str  # storage_per_gb_hour | ecpu_per_million | node
    value: float
    sku: str
    node_type: str | None = None
    memory_gib: float | None = None
    vcpu: int | None = None
    reserved: tuple = ()  # ({term_years, payment, upfront, hourly}, ...) for nodes
    band: str | None = None  # yr1_yr2 | yr3, for extended_support


@dataclass
class ParseResult:
    rates: list[ParsedRate] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # understood and deliberately ignored
    unreadable: list[str] = field(default_factory=list)  # not understood: reported


def _on_demand_price(item: dict) -> tuple[float, str] | None:
    """The single on-demand USD price of a product, ignoring $0 'reserved instance applied' rates."""
    candidates = []
    for term in (item.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            if usd is None:
                continue
            try:
                price = float(usd)
            except (TypeError, ValueError):
                return None  # "abc": not a price, and not guessed at
            if not math.isfinite(price) or price < 0:
                return None
            description = dim.get("description", "").lower()
            if price == 0 and "reserved" in description:
                continue
            candidates.append((price, dim.get("unit", "")))
    if len(candidates) != 1:
        return None
    return candidates[0]


def _engine(name: str) -> str | None:
    return ENGINE_ALIASES.get(name.strip().lower().replace(" ", ""))


def _memory(text: str | None) -> float | None:
    if not text:
        return None
    found = re.match(r"^\s*([0-9.]+)\s*GiB\s*$", text)
    return float(found.group(1)) if found else None


def serverless_usage_type(usagetype: str) -> tuple[str, str] | None:
    """("storage" | "ecpu", engine) for a serverless usage type (`USE1-CachedData:Valkey`), as the
    Price List and the bill (CUR, Cost Explorer) both write it; None for any other."""
    found = _SERVERLESS.match(str(usagetype).strip())
    engine = _engine(found.group(2)) if found else None
    if engine is None:
        return None
    return ("storage" if found.group(1) == "CachedData" else "ecpu"), engine


def parse_price_list(items: list[str]) -> ParseResult:
    result = ParseResult()
    for raw in items:
        try:
            item = json.loads(raw) if isinstance(raw, str) else raw
            product = item["product"]
            attributes = product.get("attributes", {})
            sku = printable(str(product.get("sku", "?")))[:40]
            usagetype = str(attributes.get("usagetype", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            result.unreadable.append("a PriceList entry that is not product JSON")
            continue
        region = attributes.get("regionCode")
        label = f"{sku} ({printable(usagetype)[:80] or 'no usagetype'})"
        if "durability" in usagetype.lower() or any("durability" in str(v).lower() for v in attributes.values()):
            result.skipped.append(f"{label}: SyncDurability add-on, not a node price")
            continue
        support = _SUPPORT.match(usagetype)
        if support and region:
            price = _on_demand_price(item) if isinstance(item.get("terms"), dict) else None
            engine = _engine(attributes.get("cacheEngine", "")) or "redis-oss"
            if price is None:
                result.unreadable.append(f"{label}: no single Extended Support USD price")
            else:
                band = {"Yr1_Yr2": "yr1_yr2", "Yr3": "yr3"}[support.group(1)]
                result.rates.append(ParsedRate(region, engine, "extended_support", price[0], sku, support.group(2), band=band))
            continue
        serverless = _SERVERLESS.match(usagetype)
        node = _NODE.match(usagetype)
        if not region or not (serverless or node):
            result.unreadable.append(f"{label}: not a serverless or node usage type costwise knows")
            continue
        try:
            price = _on_demand_price(item)
        except (AttributeError, TypeError):
            price = None
        if price is None:
            result.unreadable.append(f"{label}: no single on-demand USD price")
            continue
        value, unit = price
        if serverless:
            kind, engine_name = serverless.groups()
            engine = _engine(engine_name)
            if engine is None:
                result.unreadable.append(f"{label}: unknown engine {engine_name!r}")
                continue
            if kind == "CachedData":
                result.rates.append(ParsedRate(region, engine, "storage_per_gb_hour", value, sku))
            else:
                # the Price List gives dollars per single ECPU
                result.rates.append(ParsedRate(region, engine, "ecpu_per_million", round(value * 1e6, 10), sku))
            continue
        engine = _engine(attributes.get("cacheEngine", ""))
        if engine is None:
            result.unreadable.append(f"{label}: unknown cacheEngine {attributes.get('cacheEngine')!r}")
            continue
        if unit and unit.lower() not in ("hrs", "hours", "hour"):
            result.unreadable.append(f"{label}: unit {unit!r} is not hours")
            continue
        vcpu = attributes.get("vcpu")
        result.rates.append(ParsedRate(region, engine, "node", value, sku, node.group(1), _memory(attributes.get("memory")),
                                       int(vcpu) if vcpu and str(vcpu).isdigit() else None, reserved=_reserved_terms(item)))
    return result


def _reserved_terms(item: dict) -> tuple:
    """A node SKU's reserved offerings: term, payment option, upfront fee and hourly rate each."""
    offerings = []
    for term in ((item.get("terms") or {}).get("Reserved") or {}).values():
        try:
            attributes = term.get("termAttributes") or {}
            years = _TERMS.get(str(attributes.get("LeaseContractLength", "")).lower())
            payment = _PAYMENTS.get(str(attributes.get("PurchaseOption", "")).lower())
            if years is None or payment is None:
                continue
            upfront = hourly = 0.0
            for dim in (term.get("priceDimensions") or {}).values():
                price = float(dim.get("pricePerUnit", {}).get("USD"))
                if not math.isfinite(price) or price < 0:
                    raise ValueError(price)
                if str(dim.get("unit", "")).lower() == "quantity":
                    upfront += price
                else:
                    hourly += price
        except (TypeError, ValueError, AttributeError):
            continue  # an offering costwise cannot read is left out, never guessed
        offerings.append({"term_years": years, "payment": payment, "upfront": round(upfront, 4), "hourly": round(hourly, 10)})
    return tuple(sorted(offerings, key=lambda o: (o["term_years"], o["payment"])))


# ---- Database Savings Plans rates (savingsplans:DescribeSavingsPlansOfferingRates) ---------------


def parse_savings_plan_rates(results: list[dict], parsed: ParseResult) -> None:
    """Plan rates for Valkey serverless (storage, ECPU) and nodes, from the Savings Plans API's
    searchResults, added to `parsed` as savings_plan_* rates. 1 year, no upfront: the launch offer."""
    for result in results:
        try:
            usage = str(result.get("usageType", ""))
            rate = float(result["rate"])
            properties = {p.get("name"): p.get("value") for p in result.get("properties") or []}
            region = properties.get("region")
            offering = result.get("savingsPlanOffering") or {}
            label = f"plan rate {printable(usage)[:80]}"
        except (KeyError, TypeError, ValueError, AttributeError):
            parsed.unreadable.append("a Savings Plans rate that is not one")
            continue
        if not math.isfinite(rate) or rate < 0 or not region:
            parsed.unreadable.append(f"{label}: no usable rate or region")
            continue
        if str(offering.get("paymentOption", "No Upfront")).lower() != "no upfront" or int(offering.get("durationSeconds") or 31536000) != 31536000:
            parsed.skipped.append(f"{label}: not the 1-year, no-upfront offer")
            continue
        serverless = _SERVERLESS.match(usage)
        node = _NODE.match(usage)
        if serverless and _engine(serverless.group(2)) == "valkey":
            if serverless.group(1) == "CachedData":
                parsed.rates.append(ParsedRate(region, "valkey", "savings_plan_storage_per_gb_hour", rate, str(offering.get("offeringId", "?"))))
            else:
                parsed.rates.append(ParsedRate(region, "valkey", "savings_plan_ecpu_per_million", round(rate * 1e6, 10), str(offering.get("offeringId", "?"))))
        elif node:
            parsed.rates.append(ParsedRate(region, "valkey", "savings_plan_node", rate, str(offering.get("offeringId", "?")), node.group(1)))
        else:
            parsed.unreadable.append(f"{label}: not a Valkey serverless or node usage type")
