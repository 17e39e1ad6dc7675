"""The ElastiCache Serverless bill as pure functions (rules in ../shared/DOMAIN.md).

- Storage is billed per hour on the hour's average bytes, never below the engine's minimum.
- ECPUs are billed per million consumed.
- Maximum limits are caps, not charges: a "ceiling" is the bill if usage sat at the caps all month.

Plain-float functions serve `whatif` without importing numpy; `cost_of_hours` prices an hourly
series and takes anything numpy can turn into an array.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from costwise.pricing import Rates

SECONDS_PER_HOUR = 3600
KB = 1024


@dataclass(frozen=True)
class Cost:
    """Dollars split by billing dimension."""

    storage: float
    ecpu: float

    @property
    def total(self) -> float:
        return self.storage + self.ecpu

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "total": self.total}

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.storage + other.storage, self.ecpu + other.ecpu)


ZERO = Cost(0.0, 0.0)


def billed_storage_gb(storage_gb: float, rates: "Rates") -> float:
    """GB billed for one hour that averaged `storage_gb`: never below the metered minimum."""
    return max(float(storage_gb), rates.min_storage_gb)


def ecpus_from_traffic(commands: float, bytes_transferred: float) -> float:
    """ECPUs for simple commands moving `bytes_transferred` in all: 1 per command up to 1 KB, then
    1 per KB transferred (DOMAIN.md). From aggregates this assumes commands of similar size."""
    return max(commands, bytes_transferred / KB)


def ecpus_from_requests(requests: float, kb_per_request: float = 1.0, ecpu_per_request: float | None = None) -> float:
    """ECPUs for `requests` simple GET/SETs of `kb_per_request` each (the rule above).

    `ecpu_per_request` overrides the rule for commands that cost more vCPU time than bytes.
    """
    if ecpu_per_request is not None:
        return requests * ecpu_per_request
    return ecpus_from_traffic(requests, requests * kb_per_request * KB)


def steady_month_cost(storage_gb: float, ecpu_per_second: float, rates: "Rates", hours: float | None = None) -> Cost:
    """The bill for holding `storage_gb` and serving `ecpu_per_second` steadily for `hours`."""
    hours = rates.hours_per_month if hours is None else hours
    storage = billed_storage_gb(storage_gb, rates) * rates.storage_per_gb_hour * hours
    ecpu = ecpu_per_second * SECONDS_PER_HOUR * hours / 1e6 * rates.ecpu_per_million
    return Cost(storage, ecpu)


@dataclass(frozen=True)
class Ceiling:
    """Worst-case monthly bill at the maximum limits; None where there is no limit (unbounded)."""

    storage: float | None
    ecpu: float | None

    @property
    def total(self) -> float | None:
        if self.storage is None or self.ecpu is None:
            return None
        return self.storage + self.ecpu

    def to_dict(self) -> dict[str, float | None]:
        return {"storage": self.storage, "ecpu": self.ecpu, "total": self.total}


def ceiling_cost(max_storage_gb: float | None, max_ecpu_per_second: float | None, rates: "Rates") -> Ceiling:
    """The most a month can cost with these maximums: usage pinned at both caps for 730 hours."""
    storage = None
    ecpu = None
    if max_storage_gb is not None:
        storage = steady_month_cost(max_storage_gb, 0.0, rates).storage
    if max_ecpu_per_second is not None:
        ecpu = steady_month_cost(0.0, max_ecpu_per_second, rates).ecpu
    return Ceiling(storage, ecpu)


def cost_of_hours(storage_bytes: Iterable[float], ecpus: Iterable[float], rates: "Rates") -> Cost:
    """Exact bill of a run of hours.

    storage_bytes: each hour's average bytes stored (NaN = no data: that hour is not billed, since
    we cannot know it; callers report the gap). ecpus: each hour's ECPUs consumed (NaN counts 0).
    """
    import numpy as np

    storage_gb = np.asarray(storage_bytes, dtype=float) / rates.bytes_per_gb
    storage, ecpu = hourly_bill(storage_gb, ecpus, rates)
    return Cost(float(np.nansum(storage)), float(np.nansum(ecpu)))


def ecpu_cost(ecpus, rates: "Rates"):
    """Dollars for ECPUs consumed (a number or an array)."""
    import numpy as np

    return np.asarray(ecpus, dtype=float) / 1e6 * rates.ecpu_per_million


def hourly_bill(storage_gb, ecpus, rates: "Rates"):
    """Per-hour dollars for arrays of storage GB and ECPUs: each hour at no less than the minimum.

    A NaN hour stays NaN (unknown), so summing with nansum leaves it unbilled.
    """
    import numpy as np

    gb = np.asarray(storage_gb, dtype=float)
    return np.maximum(gb, rates.min_storage_gb) * rates.storage_per_gb_hour, ecpu_cost(ecpus, rates)
