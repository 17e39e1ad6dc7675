"""The usage contract: what every source produces and every model consumes.

A source (CloudWatch, a saved file, the bundled demo) produces a `History`: a window of whole UTC
hours and, per environment, an `EnvHistory` with an hourly frame over the whole window and the
cache's current limits. The frame's columns are `COLUMNS`:

    storage_avg_bytes   BytesUsedForCache, Average per hour (the billed GB-hours)
    storage_max_bytes   BytesUsedForCache, Maximum per hour (the hour's peak)
    ecpu_sum            ElastiCacheProcessingUnits, Sum per hour (ECPUs consumed)
    ecpu_max_minute     ElastiCacheProcessingUnits, Maximum of the 1-minute datapoints (busiest minute)
    throttled_sum       ThrottledCmds, Sum per hour

NaN is a gap (no datapoint): gaps stay gaps, nothing is filled in. An environment that could not be
read carries `error` instead of a frame; the others are unaffected. The models take these frames and
never see where they came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

SECONDS_PER_HOUR = 3600
COLUMNS = ("storage_avg_bytes", "storage_max_bytes", "ecpu_sum", "ecpu_max_minute", "throttled_sum")


@dataclass(frozen=True)
class Window:
    """Whole hours [start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // SECONDS_PER_HOUR)


def floor_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.replace(minute=0, second=0, microsecond=0)


def make_window(as_of: datetime | None, days: int) -> Window:
    end = floor_hour(as_of or datetime.now(timezone.utc))
    return Window(end - timedelta(days=days), end)


@dataclass
class CurrentLimits:
    max_storage_gb: float | None = None
    max_ecpu_per_second: float | None = None
    min_storage_gb: float | None = None
    min_ecpu_per_second: float | None = None
    source: str = "none"  # aws | config | file | demo | none


@dataclass
class DriverTotals:
    """The cost drivers' window totals (issue 21): one value per metric of costwise.driver_metrics
    (its Sum over the window, or the mean for gauges), `None` where CloudWatch published nothing
    (never a zero standing in for it); `partial` names the metrics CloudWatch answered only in part."""

    values: dict[str, float | None]
    partial: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"format": DRIVERS_FORMAT, "values": dict(self.values), "partial": list(self.partial)}


DRIVERS_FORMAT = "costwise-drivers/1"  # the history files' drivers block (versioned on its own)


@dataclass
class EnvHistory:
    """One environment's usage: an hourly frame (COLUMNS) or an error, and its current limits."""

    env: str
    cache: str
    engine: str | None
    region: str
    limits: CurrentLimits = field(default_factory=CurrentLimits)
    frame: "pd.DataFrame | None" = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    budget: float | None = None
    account: str | None = None  # the account's name in costwise.yaml (accounts:, organization:); None: this account
    tags: dict[str, str] = field(default_factory=dict)  # from costwise.yaml (`tags:`), for grouping reports
    drivers: DriverTotals | None = None  # None: not read (--drivers, or a file from before issue 21)

    def meta(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "cache": self.cache,
            "engine": self.engine,
            "region": self.region,
            "limits": asdict(self.limits),
            "error": self.error,
            "warnings": list(self.warnings),
            "budget": self.budget,
            "account": self.account,
            "tags": dict(self.tags),
            **({"drivers": self.drivers.to_dict()} if self.drivers is not None else {}),
        }


@dataclass
class History:
    window: Window
    environments: list[EnvHistory]
    source: str  # cloudwatch | file:PATH | demo
    api_calls: int = 0

    def select(self, names: list[str] | None) -> "History":
        """Only the named environments, in the order given; an unknown name is bad input."""
        from costwise.errors import InputError

        if not names:
            return self
        known = {e.env: e for e in self.environments}
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"no environment {missing[0]!r} in {self.source} (has: {', '.join(known)})")
        self.environments = [known[n] for n in dict.fromkeys(names)]
        return self


def empty_frame(window: Window):
    import pandas as pd

    index = pd.date_range(window.start, periods=window.hours, freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame({c: float("nan") for c in COLUMNS}, index=index)


def busiest_ecpu_per_second(frame) -> "np.ndarray":
    """Each hour's busiest-minute ECPU/s (Maximum of 1-minute sums / 60); the hour's mean rate
    where the Maximum statistic is missing altogether (older saved files)."""
    import numpy as np

    busiest = frame["ecpu_max_minute"].to_numpy(dtype=float) / 60
    if not np.isfinite(busiest).any():
        busiest = mean_ecpu_per_second(frame)
    return busiest


def mean_ecpu_per_second(frame) -> "np.ndarray":
    """Each hour's mean ECPU/s (Sum / 3600)."""
    return frame["ecpu_sum"].to_numpy(dtype=float) / SECONDS_PER_HOUR


# ---- node-based clusters (migrate --from-cluster) -----------------------------------------------


@dataclass(frozen=True)
class ClusterNode:
    cluster_id: str
    role: str  # primary | replica


@dataclass(frozen=True)
class ClusterShape:
    replication_group: str
    engine: str
    node_type: str
    nodes: list[ClusterNode]
    notes: tuple[str, ...] = ()
    engine_version: str | None = None  # from DescribeCacheClusters (the group does not report it)

    @property
    def primaries(self) -> list[str]:
        return [n.cluster_id for n in self.nodes if n.role == "primary"]

    @property
    def replicas(self) -> list[str]:
        return [n.cluster_id for n in self.nodes if n.role == "replica"]


@dataclass
class ClusterUsage:
    """What the cluster source reads: the group's shape and one hourly frame per node (NODE_COLUMNS)."""

    shape: ClusterShape
    node_frames: dict[str, Any]
    window: Window
    api_calls: int = 0


# Per-node columns of ClusterUsage.node_frames (metric and statistic in sources/cluster.py)
NODE_COLUMNS = ("bytes_avg", "bytes_max", "get_cmds", "set_cmds", "get_max", "set_max", "eval_cmds",
                "eval_latency", "get_latency", "net_in", "net_out", "replication")


@dataclass(frozen=True)
class ServerSample:
    """Two INFO snapshots of a running Redis/Valkey (migrate --from-redis), and costwise's own bytes."""

    first: dict
    second: dict
    seconds: float
    own_bytes: float
