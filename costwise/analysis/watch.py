"""`costwise watch`: each cache's newest hours against the band its forecast expected (model/watch.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from costwise.errors import CostwiseError
from costwise.fmt import iso_utc
from costwise.model.watch import Finding, WatchSettings, watch_frame

if TYPE_CHECKING:  # pragma: no cover
    from costwise.model.settings import SizingSettings
    from costwise.pricing import PriceBook
    from costwise.usage import History

DIMENSION_NAMES = {"ecpu": "ECPUs", "storage": "storage"}


@dataclass
class CacheWatch:
    env: str
    cache: str
    region: str
    finding: Finding | None = None
    error: str | None = None
    drivers_error: str | None = None  # the drivers read for `grew` failed: why (the alarm stands)

    @property
    def alarm(self) -> bool:
        return self.finding is not None and self.finding.alarm

    def line(self) -> str:
        """The one line a person (or a chat channel) reads about an alarm."""
        f = self.finding
        what = " and ".join(DIMENSION_NAMES[d] for d in f.dimensions)
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None and f.ratio != float("inf") else "far above"
        if f.basis == "forecast":
            text = (f"{self.env} ({self.cache}): {what} {ratio} what the forecast expected for the last {f.hours_out} hours: "
                    f"+${f.excess_per_day:,.2f}/day if it continues (expected ${f.expected_per_day:,.2f}/day)")
        else:  # too young for a forecast: against the most it ever did (model.watch.young_band)
            text = (f"{self.env} ({self.cache}): {what} {ratio} its largest hour so far for the last {f.hours_out} hours "
                    f"(too young for a forecast): +${f.excess_per_day:,.2f}/day above that if it continues")
        limits = [f"{share:.0%} of its max {'ECPU/s' if dim == 'ecpu' else 'storage'}" for dim, share in f.limit_share.items()
                  if share is not None]
        if limits:
            text += "; at " + " and ".join(limits)
        if f.grew:
            text += f"; grew: {f.grew}"
        elif self.drivers_error:
            text += f"; command families not read ({self.drivers_error})"
        return text

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "env": self.env,
            "cache": self.cache,
            "region": self.region,
            "status": "error" if self.error else f.status,
            "alarm": self.alarm,
            "dimensions": list(f.dimensions) if f else [],
            "hours_out": f.hours_out if f else 0,
            "ratio": None if f is None or f.ratio in (None, float("inf")) else f.ratio,
            "excess_per_day": f.excess_per_day if f else None,
            "expected_per_day": f.expected_per_day if f else None,
            "observed_per_day": f.observed_per_day if f else None,
            "limit_share": dict(f.limit_share) if f else {"ecpu": None, "storage": None},
            "basis": f.basis if f else None,
            "grew": f.grew if f else None,  # the command family that grew: set when cost drivers are read (issue 21)
            "error": self.error,
        }


@dataclass
class WatchResult:
    as_of: datetime  # the end of the newest hour watched
    settings: WatchSettings
    caches: list[CacheWatch] = field(default_factory=list)

    @property
    def alarms(self) -> list[CacheWatch]:
        return [c for c in self.caches if c.alarm]

    @property
    def failed(self) -> list[CacheWatch]:
        return [c for c in self.caches if c.error]

    @property
    def excess_per_day(self) -> float:
        return sum(c.finding.excess_per_day for c in self.alarms)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": iso_utc(self.as_of), "settings": asdict(self.settings), "alarms": len(self.alarms),
                "excess_per_day": self.excess_per_day, "caches": [c.to_dict() for c in self.caches]}


def build_watch(history: "History", prices: "PriceBook", settings: WatchSettings, sizing: "SizingSettings | None" = None) -> WatchResult:
    result = WatchResult(history.window.end, settings)
    for env in history.environments:
        watched = CacheWatch(env.env, env.cache, env.region)
        result.caches.append(watched)
        if env.error is not None or env.frame is None:
            watched.error = env.error or "no history"
            continue
        try:
            rates = prices.rates(env.region, env.engine or "valkey")
        except CostwiseError as exc:
            watched.error = str(exc)
            continue
        watched.finding = watch_frame(env.frame, rates, settings, env.limits, sizing)
    return result
