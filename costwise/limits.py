"""AWS's ranges for CacheUsageLimits (DOMAIN.md: CDK constants and AWS quotas)."""

from __future__ import annotations

import math

from costwise.errors import InputError
from costwise.fmt import number

MIN_STORAGE_LIMIT_GB = 1
MAX_STORAGE_LIMIT_GB = 5000
MIN_ECPU_LIMIT = 1_000
MAX_ECPU_LIMIT = 15_000_000

# What a serverless cache can physically hold or do, with a margin of 2x over the largest limits
# (CloudWatch reports what the cache did, and a cache cannot exceed its maximum by much). Every
# measured figure (a history file's values) and every workload a user types (whatif) is checked
# against these, so no nonsense like 1e308 bytes reaches the models, and no arithmetic on user
# numbers can overflow a float.
PHYSICAL_MARGIN = 2
MAX_STORAGE_GB = PHYSICAL_MARGIN * MAX_STORAGE_LIMIT_GB  # 10,000 GB
MAX_STORAGE_BYTES = MAX_STORAGE_GB * 2**30  # BytesUsedForCache, Average or Maximum of an hour
MAX_ECPU_PER_SECOND = PHYSICAL_MARGIN * MAX_ECPU_LIMIT  # 30,000,000 ECPU/s
MAX_ECPU_PER_HOUR = MAX_ECPU_PER_SECOND * 3600  # ElastiCacheProcessingUnits, Sum of an hour
MAX_ECPU_PER_MINUTE = MAX_ECPU_PER_SECOND * 60  # the busiest minute's Sum
MAX_THROTTLED_PER_HOUR = MAX_ECPU_PER_HOUR  # a throttled command would have cost at least one ECPU
MAX_DOLLARS = 1e12  # any sum of money costwise reads (a budget, a commitment): beyond every fleet's bill


def check_storage_limit(value: float | None, what: str = "--max-storage-gb") -> int | None:
    if value is None:
        return None
    if not MIN_STORAGE_LIMIT_GB <= value <= MAX_STORAGE_LIMIT_GB:  # NaN fails this too
        raise InputError(f"{what}: {number(value)} GB is outside AWS's range {MIN_STORAGE_LIMIT_GB}..{MAX_STORAGE_LIMIT_GB} GB")
    if value != int(value):
        raise InputError(f"{what}: {number(value)} GB is not a whole number; AWS takes whole GB ({MIN_STORAGE_LIMIT_GB}..{MAX_STORAGE_LIMIT_GB})")
    return int(value)


def check_ecpu_limit(value: float | None, what: str = "--max-ecpu-per-second") -> int | None:
    if value is None:
        return None
    if not MIN_ECPU_LIMIT <= value <= MAX_ECPU_LIMIT:  # NaN fails this too
        raise InputError(f"{what}: {number(value)} ECPU/s is outside AWS's range {MIN_ECPU_LIMIT:,}..{MAX_ECPU_LIMIT:,}")
    if value != int(value):
        raise InputError(f"{what}: {number(value)} is not a whole number of ECPU/s")
    return int(value)


def _ceil(value: float) -> int:
    """Round up, ignoring float noise: 3.0000000000004 is 3, not 4."""
    return math.ceil(round(value, 9))


def nice_ceil(value: float) -> int:
    """Round up to two significant figures (12,345 -> 13,000): limits people can read."""
    if value <= 0:
        return 0
    step = 10 ** max(0, int(math.floor(math.log10(value))) - 1)
    return int(_ceil(value / step) * step)


def clamp_storage_limit(gb: float) -> int:
    """A storage maximum AWS accepts: whole GB, rounded up, inside 1..5000."""
    return int(min(max(_ceil(gb), MIN_STORAGE_LIMIT_GB), MAX_STORAGE_LIMIT_GB))


def clamp_ecpu_limit(ecpu_per_second: float) -> int:
    """An ECPU/s maximum AWS accepts, rounded up to two significant figures, inside 1,000..15,000,000."""
    return int(min(max(nice_ceil(ecpu_per_second), MIN_ECPU_LIMIT), MAX_ECPU_LIMIT))


# CacheUsageLimits dimension -> (its unit in messages, AWS's range for Minimum and Maximum)
_DIMENSIONS = {"DataStorage": ("GB", MIN_STORAGE_LIMIT_GB, MAX_STORAGE_LIMIT_GB),
               "ECPUPerSecond": ("ECPU/s", MIN_ECPU_LIMIT, MAX_ECPU_LIMIT)}


def usage_limits_problems(limits: dict) -> list[str]:
    """What AWS would refuse in a whole CacheUsageLimits (as ModifyServerlessCache takes it), each
    saying what must change first: a Minimum or Maximum outside AWS's range, or a Minimum above its
    Maximum (a live minimum of 10 GB under a new maximum of 4 GB). Empty when it can be sent."""
    problems = []
    for name, (unit, low, high) in _DIMENSIONS.items():
        dimension = limits.get(name) or {}
        for bound in ("Minimum", "Maximum"):
            value = dimension.get(bound)
            if value is not None and not low <= value <= high:  # NaN fails this too
                problems.append(f"{name}.{bound} {number(value)} {unit} is outside AWS's range {low:,}..{high:,} {unit}")
        minimum, maximum = dimension.get("Minimum"), dimension.get("Maximum")
        if minimum is not None and maximum is not None and minimum > maximum:
            problems.append(f"{name}: the cache's Minimum {number(minimum)} {unit} is above the new Maximum {number(maximum)} {unit}; "
                            f"lower the Minimum to {number(maximum)} {unit} or less first (ModifyServerlessCache), "
                            f"or keep a Maximum of at least {number(minimum)} {unit}")
    return problems
