"""AWS's ranges for CacheUsageLimits (DOMAIN.md: CDK constants and AWS quotas)."""

from __future__ import annotations

from costwise.errors import InputError

MIN_STORAGE_LIMIT_GB = 1
MAX_STORAGE_LIMIT_GB = 5000
MIN_ECPU_LIMIT = 1_000
MAX_ECPU_LIMIT = 15_000_000


def check_storage_limit(value: float | None, what: str = "--max-storage-gb") -> int | None:
    if value is None:
        return None
    if value != int(value):
        raise InputError(f"{what}: {value:g} GB is not a whole number; AWS takes whole GB ({MIN_STORAGE_LIMIT_GB}..{MAX_STORAGE_LIMIT_GB})")
    if not MIN_STORAGE_LIMIT_GB <= value <= MAX_STORAGE_LIMIT_GB:
        raise InputError(f"{what}: {value:g} GB is outside AWS's range {MIN_STORAGE_LIMIT_GB}..{MAX_STORAGE_LIMIT_GB} GB")
    return int(value)


def check_ecpu_limit(value: float | None, what: str = "--max-ecpu-per-second") -> int | None:
    if value is None:
        return None
    if value != int(value):
        raise InputError(f"{what}: {value:g} is not a whole number of ECPU/s")
    if not MIN_ECPU_LIMIT <= value <= MAX_ECPU_LIMIT:
        raise InputError(f"{what}: {value:,.0f} ECPU/s is outside AWS's range {MIN_ECPU_LIMIT:,}..{MAX_ECPU_LIMIT:,}")
    return int(value)
