"""Load and validate pricing.yaml into plain rate objects.

The file is the only place prices live: code never carries a rate. Validation names the file, the
field path and what is wrong, so a typo in a hand-edited file is a one-line fix.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costwise.errors import InputError
from costwise.fmt import shorten
from costwise.resources import bundled_pricing_path

ENGINES = ("valkey", "redis-oss", "memcached")
# AWS region codes: us-east-1, eu-central-2, ap-southeast-5, us-gov-west-1, cn-north-1, ...
REGION_CODE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
RATE_FIELDS = ("storage_per_gb_hour", "ecpu_per_million", "min_storage_gb")
PLAN_FIELDS = ("storage_per_gb_hour", "ecpu_per_million")  # what a Database Savings Plan discounts
EXTENDED_SUPPORT_BANDS = ("yr1_yr2", "yr3")

# DescribeServerlessCaches and people say "redis"; pricing says "redis-oss".
# (The Price List writes "Redis OSS" too, which pricelist squeezes to "redisoss".)
ENGINE_ALIASES = {"redis": "redis-oss", "redis-oss": "redis-oss", "redisoss": "redis-oss", "valkey": "valkey", "memcached": "memcached"}


@dataclass(frozen=True)
class RateSource:
    source: str
    as_of: str
    confidence: str


@dataclass(frozen=True)
class Rates:
    """Serverless rates for one engine in one region, plus the units they are expressed in."""

    region: str
    engine: str
    storage_per_gb_hour: float
    ecpu_per_million: float
    min_storage_gb: float
    bytes_per_gb: float
    hours_per_month: float
    sources: dict[str, RateSource]

    @property
    def low_confidence(self) -> bool:
        return any(s.confidence == "low" for s in self.sources.values())


HOURS_PER_YEAR = 8760
PAYMENT_OPTIONS = ("no-upfront", "partial-upfront", "all-upfront")


@dataclass(frozen=True)
class ReservedOffering:
    """A reserved node: a term, a payment option, an upfront and an hourly price."""

    term_years: int
    payment: str
    upfront: float
    hourly: float

    @property
    def effective_hourly(self) -> float:
        """upfront / term hours + hourly (DOMAIN.md)."""
        return self.upfront / (self.term_years * HOURS_PER_YEAR) + self.hourly

    @property
    def label(self) -> str:
        return f"reserved {self.term_years} year{'s' if self.term_years > 1 else ''}, {self.payment.replace('-', ' ')}"


@dataclass(frozen=True)
class NodeType:
    """A node-based cache node: on-demand $/hour, memory and vCPUs; where known, its reserved
    offerings, its Database Savings Plan rate and its Extended Support surcharges."""

    name: str
    hourly: float
    memory_gib: float
    vcpu: int
    confidence: str = "unknown"
    savings_plan_hourly: float | None = None
    reserved: tuple[ReservedOffering, ...] = ()
    extended_support: tuple[tuple[str, float], ...] = ()  # (year band, surcharge $/hour)

    @property
    def best_reserved(self) -> ReservedOffering | None:
        return min(self.reserved, key=lambda r: r.effective_hourly) if self.reserved else None

    def surcharge(self, band: str) -> float:
        return dict(self.extended_support).get(band, 0.0)


@dataclass(frozen=True)
class PriceBook:
    path: Path
    bytes_per_gb: float
    hours_per_month: float
    raw: dict[str, Any]

    @property
    def regions(self) -> list[str]:
        return sorted(self.raw["regions"])

    def rates(self, region: str, engine: str) -> Rates:
        engine_key = normalize_engine(engine)
        regions = self.raw["regions"]
        if region not in regions:
            raise InputError(
                f"{self.path}: no prices for region {region!r} (known: {', '.join(sorted(regions))})"
            )
        engines = regions[region]
        if engine_key not in engines:
            raise InputError(
                f"{self.path}: regions.{region} has no prices for engine {engine_key!r} "
                f"(known: {', '.join(sorted(engines))})"
            )
        entry = engines[engine_key]
        return Rates(
            region=region,
            engine=engine_key,
            storage_per_gb_hour=float(entry["storage_per_gb_hour"]["value"]),
            ecpu_per_million=float(entry["ecpu_per_million"]["value"]),
            min_storage_gb=float(entry["min_storage_gb"]["value"]),
            bytes_per_gb=self.bytes_per_gb,
            hours_per_month=self.hours_per_month,
            sources={
                name: RateSource(
                    source=str(entry[name].get("source", "")),
                    as_of=str(entry[name].get("as_of", "")),
                    confidence=str(entry[name].get("confidence", "unknown")),
                )
                for name in RATE_FIELDS
            },
        )


    def node_types(self, region: str, engine: str) -> list[NodeType]:
        """Node-based prices for this region and engine (empty when none are known)."""
        entry = self.raw["regions"].get(region, {}).get(normalize_engine(engine), {})
        return [
            NodeType(name, float(n["hourly"]), float(n["memory_gib"]), int(n["vcpu"]), str(n.get("confidence", "unknown")),
                     float(n["savings_plan_hourly"]) if n.get("savings_plan_hourly") is not None else None,
                     tuple(ReservedOffering(int(r["term_years"]), str(r["payment"]), float(r["upfront"]), float(r["hourly"]))
                           for r in n.get("reserved") or ()),
                     tuple((band, float(v)) for band, v in (n.get("extended_support") or {}).items()))
            for name, n in sorted((entry.get("nodes") or {}).items())
        ]

    def savings_plan_rates(self, region: str, engine: str) -> "Rates | None":
        """Serverless rates under a Database Savings Plan (Valkey only), or None where none are known."""
        entry = self.raw["regions"].get(region, {}).get(normalize_engine(engine), {})
        plan = entry.get("savings_plan")
        if not plan:
            return None
        on_demand = self.rates(region, engine)
        return Rates(region=on_demand.region, engine=on_demand.engine,
                     storage_per_gb_hour=float(plan["storage_per_gb_hour"]["value"]),
                     ecpu_per_million=float(plan["ecpu_per_million"]["value"]),
                     min_storage_gb=on_demand.min_storage_gb, bytes_per_gb=self.bytes_per_gb, hours_per_month=self.hours_per_month,
                     sources={name: RateSource(str(plan[name].get("source", "")), str(plan[name].get("as_of", "")),
                                               str(plan[name].get("confidence", "unknown"))) for name in PLAN_FIELDS})


def normalize_engine(engine: str) -> str:
    key = ENGINE_ALIASES.get(str(engine).strip().lower())
    if key is None:
        raise InputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    return key


# The largest value any pricing field may hold: a million US dollars (an hour, a GB-hour, a million
# ECPUs, a reservation's upfront), GiB or vCPUs is beyond every real price and node, and keeps every
# bill costwise computes from them far inside a float (a rate of 1e308 would overflow).
MAX_PRICING_VALUE = 1e6


def _number(path: Path, field: str, value: Any, *, positive: bool, allow_zero: bool = True, high: float = MAX_PRICING_VALUE) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{path}: {field}: expected a number, got {shorten(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{path}: {field}: expected a finite number, got {value!r}")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        what = "a positive number" if not allow_zero else "a number >= 0"
        raise InputError(f"{path}: {field}: expected {what}, got {shorten(value)}")
    if abs(value) > high:  # compared before float(): a 400-digit integer is refused, not converted
        raise InputError(f"{path}: {field}: at most {high:,.0f}, got {shorten(value)}")
    return float(value)


def _mapping(path: Path, field: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"{path}: {field}: expected a mapping, got {type(value).__name__}")
    return value


def _rate(path: Path, where: str, entry: dict, field: str) -> None:
    """A rate: `field: {value, source, as_of, confidence}` (or the short `field: 0.0837`, normalised)."""
    if field not in entry:
        raise InputError(f"{path}: {where}.{field}: missing field")
    rate = entry[field]
    if not isinstance(rate, dict):
        rate = entry[field] = {"value": rate}
    if "value" not in rate:
        raise InputError(f"{path}: {where}.{field}.value: missing field")
    _number(path, f"{where}.{field}.value", rate["value"], positive=True)


def _node_extras(path: Path, where: str, engine: str, node: dict) -> None:
    """A node's optional Savings Plan rate, reserved offerings and Extended Support surcharges."""
    if node.get("savings_plan_hourly") is not None:
        if engine != "valkey":
            raise InputError(f"{path}: {where}.savings_plan_hourly: Database Savings Plans cover Valkey nodes only")
        _number(path, f"{where}.savings_plan_hourly", node["savings_plan_hourly"], positive=True)
    reserved = node.get("reserved") or []
    if not isinstance(reserved, list):
        raise InputError(f"{path}: {where}.reserved: expected a list of offerings")
    for i, offering in enumerate(reserved):
        at = f"{where}.reserved[{i}]"
        offering = _mapping(path, at, offering)
        for key in ("term_years", "payment", "upfront", "hourly"):
            if key not in offering:
                raise InputError(f"{path}: {at}.{key}: missing field")
        if offering["term_years"] not in (1, 3):
            raise InputError(f"{path}: {at}.term_years: 1 or 3, got {offering['term_years']!r}")
        if offering["payment"] not in PAYMENT_OPTIONS:
            raise InputError(f"{path}: {at}.payment: one of {', '.join(PAYMENT_OPTIONS)}")
        _number(path, f"{at}.upfront", offering["upfront"], positive=True)
        _number(path, f"{at}.hourly", offering["hourly"], positive=True)
    support = node.get("extended_support")
    if support is not None:
        support = _mapping(path, f"{where}.extended_support", support)
        for band, value in support.items():
            if band not in EXTENDED_SUPPORT_BANDS:
                raise InputError(f"{path}: {where}.extended_support.{band}: unknown year band ({', '.join(EXTENDED_SUPPORT_BANDS)})")
            _number(path, f"{where}.extended_support.{band}", value, positive=True)


def validate_pricing(data: Any, path: Path) -> PriceBook:
    """Check every field of a parsed pricing file; raise InputError naming the first bad one."""
    data = _mapping(path, "(top level)", data)
    for key in ("units", "regions"):
        if key not in data:
            raise InputError(f"{path}: {key}: missing field")
    units = _mapping(path, "units", data["units"])
    for key in ("bytes_per_gb", "hours_per_month"):
        if key not in units:
            raise InputError(f"{path}: units.{key}: missing field")
    bytes_per_gb = _number(path, "units.bytes_per_gb", units["bytes_per_gb"], positive=True, allow_zero=False, high=2**30)
    hours = _number(path, "units.hours_per_month", units["hours_per_month"], positive=True, allow_zero=False, high=31 * 24)
    regions = _mapping(path, "regions", data["regions"])
    if not regions:
        raise InputError(f"{path}: regions: no region defined")
    for region, engines in regions.items():
        if not isinstance(region, str) or not REGION_CODE.match(region):
            raise InputError(f"{path}: regions.{region}: unknown region (expected an AWS region code such as us-east-1)")
        engines = _mapping(path, f"regions.{region}", engines)
        for engine, entry in engines.items():
            if engine not in ENGINES:
                raise InputError(
                    f"{path}: regions.{region}.{engine}: unknown engine (choose from {', '.join(ENGINES)})"
                )
            entry = _mapping(path, f"regions.{region}.{engine}", entry)
            for field in RATE_FIELDS:
                _rate(path, f"regions.{region}.{engine}", entry, field)
            plan = entry.get("savings_plan")
            if plan is not None:
                where = f"regions.{region}.{engine}.savings_plan"
                if engine != "valkey":
                    raise InputError(f"{path}: {where}: Database Savings Plans cover Valkey only")
                plan = _mapping(path, where, plan)
                for field in PLAN_FIELDS:
                    _rate(path, where, plan, field)
            nodes = entry.get("nodes") or {}
            _mapping(path, f"regions.{region}.{engine}.nodes", nodes)
            for node_name, node in nodes.items():
                where = f"regions.{region}.{engine}.nodes.{node_name}"
                node = _mapping(path, where, node)
                for key in ("hourly", "memory_gib", "vcpu"):
                    if key not in node:
                        raise InputError(f"{path}: {where}.{key}: missing field")
                _number(path, f"{where}.hourly", node["hourly"], positive=True)
                _number(path, f"{where}.memory_gib", node["memory_gib"], positive=True, allow_zero=False)
                _number(path, f"{where}.vcpu", node["vcpu"], positive=True, allow_zero=False)
                _node_extras(path, where, engine, node)
            unknown = set(entry) - set(RATE_FIELDS) - {"nodes", "savings_plan"}
            if unknown:
                raise InputError(f"{path}: regions.{region}.{engine}.{sorted(unknown)[0]}: unknown field")
    return PriceBook(path=path, bytes_per_gb=bytes_per_gb, hours_per_month=hours, raw=data)


PRICING_ENV = "COSTWISE_PRICING"


def load_pricing(path: str | Path | None = None) -> PriceBook:
    """Read pricing.yaml and validate it: the given path, else $COSTWISE_PRICING, else the bundled one."""
    from costwise.yamlfile import read_yaml

    if path is None and os.environ.get(PRICING_ENV):
        path = os.environ[PRICING_ENV]
    resolved = Path(path) if path is not None else bundled_pricing_path()
    data = read_yaml(resolved, "pricing file")
    return validate_pricing(data, resolved)
