"""Extended Support for node-based Redis OSS (DOMAIN.md): which year band a cluster is in, and its
surcharge. Pure.

Redis OSS 4 and 5: from 2026-02-01 to 2029-01-31, 80% of the on-demand node price in years 1-2 and
160% in year 3. Redis OSS 6 follows from 2027-02-01. Valkey and Redis OSS 7+ pay none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

STARTS = {4: date(2026, 2, 1), 5: date(2026, 2, 1), 6: date(2027, 2, 1)}
SHARE = {"yr1_yr2": 0.80, "yr3": 1.60}  # of the on-demand node price, where pricing.yaml has no SKU


@dataclass(frozen=True)
class SupportBand:
    band: str  # yr1_yr2 | yr3
    starts: date
    major: int

    @property
    def label(self) -> str:
        years = "years 1-2" if self.band == "yr1_yr2" else "year 3"
        return f"Redis OSS {self.major} Extended Support, {years} (since {self.starts:%Y-%m-%d})"


def major_version(version: str | None) -> int | None:
    try:
        return int(str(version).split(".")[0])
    except (TypeError, ValueError):
        return None


def support_band(engine: str, version: str | None, as_of: datetime | date) -> SupportBand | None:
    """The year band a node-based cluster pays Extended Support in on `as_of`, or None (it pays none)."""
    if engine not in ("redis", "redis-oss"):
        return None
    major = major_version(version)
    if major not in STARTS:
        return None
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    start = STARTS[major]
    if day < start:
        return None
    years = (day.year - start.year) - ((day.month, day.day) < (start.month, start.day))
    return SupportBand("yr1_yr2" if years < 2 else "yr3", start, major)
