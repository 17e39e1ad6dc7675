"""Read AWS Price List products (GetProducts' PriceList JSON strings) into costwise's rates. Pure.

Serverless SKUs: productFamily "ElastiCache Serverless", usagetype `<PREFIX>-CachedData:<Engine>`
(storage, $/GB-hour) and `<PREFIX>-ElastiCacheProcessingUnits:<Engine>` (ECPU, priced per single
ECPU: x 1e6 for $/million). us-east-1 has no prefix on some SKUs.
Node SKUs: usagetype `NodeUsage:cache.<type>`, on-demand $/hour; ExtendedSupport surcharges skipped.
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
        if "ExtendedSupport" in usagetype:
            result.skipped.append(f"{label}: extended-support surcharge")
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
                                       int(vcpu) if vcpu and str(vcpu).isdigit() else None))
    return result
