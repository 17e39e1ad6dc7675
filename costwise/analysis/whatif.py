"""`costwise whatif`: price a hypothetical steady workload, no AWS account needed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from costwise.errors import InputError
from costwise.fmt import number
from costwise.limits import (MAX_ECPU_LIMIT, MAX_ECPU_PER_SECOND, MAX_STORAGE_GB, MAX_STORAGE_LIMIT_GB, check_ecpu_limit,
                             check_storage_limit)
from costwise.model.cost import SECONDS_PER_HOUR, Ceiling, Cost, billed_storage_gb, ceiling_cost, ecpus_from_requests, steady_month_cost
from costwise.pricing import PriceBook, normalize_engine


MAX_KB_PER_REQUEST = 512 * 1024  # the largest value Redis, Valkey and Memcached store: 512 MiB
# What each option may be: what one serverless cache can hold or serve, with limits.py's margin. A
# request costs at least one ECPU, so no more requests a day than ECPUs a day. Bounding the options
# keeps every bill (and a node comparison's shard count) far inside a float.
OPTION_BOUNDS = {
    "--storage-gb": (MAX_STORAGE_GB, "GB"),
    "--ecpu-per-second": (MAX_ECPU_PER_SECOND, "ECPU/s"),
    "--requests-per-day": (MAX_ECPU_PER_SECOND * 24 * SECONDS_PER_HOUR, "requests a day"),
    "--kb-per-request": (MAX_KB_PER_REQUEST, "KB (the largest value a cache stores)"),
    "--ecpu-per-request": (MAX_ECPU_PER_SECOND, "ECPUs"),
}


@dataclass(frozen=True)
class Workload:
    """A steady workload: what a user types into whatif."""

    storage_gb: float
    ecpu_per_second: float
    max_storage_gb: int | None = None
    max_ecpu_per_second: int | None = None


@dataclass
class WhatIfResult:
    engine: str
    region: str
    hours_per_month: float
    storage_gb: float
    billed_storage_gb: float
    ecpu_per_second: float
    ecpu_per_month: float
    cost: Cost
    ceiling: Ceiling | None
    low_confidence_rates: bool
    warnings: list[str] = field(default_factory=list)
    nodes: object = None  # NodeComparison, with --compare-nodes
    savings_plan: Cost | None = None  # with --savings-plan: the bill at Database Savings Plan rates

    def to_dict(self) -> dict:
        data = {
            "engine": self.engine,
            "region": self.region,
            "hours_per_month": self.hours_per_month,
            "storage_gb": self.storage_gb,
            "billed_storage_gb": self.billed_storage_gb,
            "ecpu_per_second": self.ecpu_per_second,
            "ecpu_per_month": self.ecpu_per_month,
            "cost": self.cost.to_dict(),
            "ceiling": self.ceiling.to_dict() if self.ceiling is not None else None,
            "low_confidence_rates": self.low_confidence_rates,
            "warnings": list(self.warnings),
        }
        if self.nodes is not None:
            data["nodes"] = self.nodes.to_dict()
        if self.savings_plan is not None:
            data["savings_plan"] = {"cost": self.savings_plan.to_dict(), "discount": 1 - self.savings_plan.total / self.cost.total,
                                    "assumes": "a commitment this workload uses fully every hour"}
        return data


def build_workload(
    *,
    storage_gb: float,
    ecpu_per_second: float | None = None,
    requests_per_day: float | None = None,
    kb_per_request: float = 1.0,
    ecpu_per_request: float | None = None,
    max_storage_gb: float | None = None,
    max_ecpu_per_second: float | None = None,
) -> Workload:
    """Validate whatif's options and turn them into a steady workload."""
    for option, value in (("--storage-gb", storage_gb), ("--ecpu-per-second", ecpu_per_second), ("--requests-per-day", requests_per_day),
                          ("--kb-per-request", kb_per_request), ("--ecpu-per-request", ecpu_per_request),
                          ("--max-storage-gb", max_storage_gb), ("--max-ecpu-per-second", max_ecpu_per_second)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"{option}: {value} is not a finite number")
        high, unit = OPTION_BOUNDS.get(option, (math.inf, ""))
        if value is not None and value > high:
            raise InputError(f"{option}: {number(value)} is more than one serverless cache can use (at most {number(high)} {unit})")
    if storage_gb is None or storage_gb < 0:
        raise InputError("--storage-gb must be 0 or more")
    if ecpu_per_second is not None and requests_per_day is not None:
        raise InputError("give either --ecpu-per-second or --requests-per-day, not both")
    if ecpu_per_second is None and requests_per_day is None:
        raise InputError("give the traffic: --ecpu-per-second N, or --requests-per-day N (with --kb-per-request)")
    if ecpu_per_second is not None:
        if ecpu_per_second < 0:
            raise InputError("--ecpu-per-second must be 0 or more")
        rate = float(ecpu_per_second)
    else:
        if requests_per_day < 0:
            raise InputError("--requests-per-day must be 0 or more")
        if kb_per_request <= 0:
            raise InputError("--kb-per-request must be more than 0")
        if ecpu_per_request is not None and ecpu_per_request <= 0:
            raise InputError("--ecpu-per-request must be more than 0")
        rate = ecpus_from_requests(requests_per_day, kb_per_request, ecpu_per_request) / (24 * SECONDS_PER_HOUR)
        if rate > MAX_ECPU_PER_SECOND:
            raise InputError(f"--requests-per-day: {number(rate)} ECPU/s is more than one serverless cache can serve "
                             f"(at most {number(MAX_ECPU_PER_SECOND)} ECPU/s)")
    return Workload(
        storage_gb=float(storage_gb),
        ecpu_per_second=rate,
        max_storage_gb=check_storage_limit(max_storage_gb),
        max_ecpu_per_second=check_ecpu_limit(max_ecpu_per_second),
    )


def price_workload(workload: Workload, prices: PriceBook, region: str, engine: str) -> WhatIfResult:
    rates = prices.rates(region, engine)
    hours = rates.hours_per_month
    warnings: list[str] = []
    if workload.storage_gb > MAX_STORAGE_LIMIT_GB:
        warnings.append(f"{workload.storage_gb:g} GB is above the largest storage limit AWS allows ({MAX_STORAGE_LIMIT_GB} GB)")
    if workload.ecpu_per_second > MAX_ECPU_LIMIT:
        warnings.append(f"{workload.ecpu_per_second:,.0f} ECPU/s is above the largest ECPU limit AWS allows ({MAX_ECPU_LIMIT:,})")
    if workload.max_storage_gb is not None and workload.storage_gb > workload.max_storage_gb:
        warnings.append(
            f"storage {workload.storage_gb:g} GB is above --max-storage-gb {workload.max_storage_gb}: "
            "keys with a TTL would be evicted and writes could fail"
        )
    if workload.max_ecpu_per_second is not None and workload.ecpu_per_second > workload.max_ecpu_per_second:
        warnings.append(
            f"traffic {workload.ecpu_per_second:,.0f} ECPU/s is above --max-ecpu-per-second "
            f"{workload.max_ecpu_per_second:,}: requests would be throttled"
        )
    if workload.storage_gb < rates.min_storage_gb:
        warnings.append(f"{workload.storage_gb:g} GB is below {rates.engine}'s metered minimum: billed as {rates.min_storage_gb:g} GB")
    if rates.low_confidence:
        warnings.append(f"{rates.region} {rates.engine} rates are low confidence (see `pricing.yaml`)")
    has_ceiling = workload.max_storage_gb is not None or workload.max_ecpu_per_second is not None
    return WhatIfResult(
        engine=rates.engine,
        region=rates.region,
        hours_per_month=hours,
        storage_gb=workload.storage_gb,
        billed_storage_gb=billed_storage_gb(workload.storage_gb, rates),
        ecpu_per_second=workload.ecpu_per_second,
        ecpu_per_month=workload.ecpu_per_second * SECONDS_PER_HOUR * hours,
        cost=steady_month_cost(workload.storage_gb, workload.ecpu_per_second, rates),
        ceiling=ceiling_cost(workload.max_storage_gb, workload.max_ecpu_per_second, rates) if has_ceiling else None,
        low_confidence_rates=rates.low_confidence,
        warnings=warnings,
    )


@dataclass
class WhatIf:
    """whatif's result: the workload priced on one engine, or side by side on two."""

    results: list[WhatIfResult]

    def to_dict(self) -> dict:
        data = self.results[0].to_dict()
        if len(self.results) > 1:
            data["comparison"] = self.results[1].to_dict()
        return data


def what_if(workload: Workload, prices: PriceBook, region: str, engine: str, compare_engine: str | None = None,
            compare_nodes: bool = False, replicas: int = 1, savings_plan: bool = False) -> WhatIf:
    engines = [normalize_engine(engine)] + ([normalize_engine(compare_engine)] if compare_engine is not None else [])
    results = [price_workload(workload, prices, region, e) for e in engines]
    if savings_plan:
        for result in results:
            plan_rates = prices.savings_plan_rates(region, result.engine)
            if plan_rates is None:
                why = "cover Valkey only" if result.engine != "valkey" else f"have no rates for {region} in {prices.path}"
                result.warnings.append(f"--savings-plan: Database Savings Plans {why}")
            elif result.cost.total > 0:
                result.savings_plan = steady_month_cost(workload.storage_gb, workload.ecpu_per_second, plan_rates)
    if compare_nodes:
        from costwise.model.nodes import NodeAssumptions, compare_with_nodes

        for result in results:
            comparison = compare_with_nodes(workload.storage_gb, workload.ecpu_per_second, prices.rates(region, result.engine),
                                            prices.node_types(region, result.engine), NodeAssumptions(replicas=replicas))
            if comparison is None:
                result.warnings.append(f"no node prices for {result.engine} in {region} in {prices.path}")
            result.nodes = comparison
    return WhatIf(results)
