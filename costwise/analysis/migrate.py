"""`costwise migrate`: what a cache that is not serverless yet would cost on serverless.

Takes what the migrate sources read (usage.ServerSample, usage.ClusterUsage) through the models
(migrate, cost, forecast, sizing) into one typed result per kind; rendering is costwise.render.migrate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from costwise.analysis.estimate import EnvironmentResult, analyze_environment
from costwise.model.cost import Ceiling, Cost, ceiling_cost, steady_month_cost
from costwise.model.extended_support import SHARE, support_band
from costwise.model.drivers import Drivers, DriverSettings, analyse_drivers
from costwise.model.migrate import DRIVERS_ASSUMPTION, drivers_from_info, estimate_from_sample, sample_from_info, serverless_frame_from_nodes
from costwise.model.settings import SizingSettings
from costwise.pricing import PriceBook, normalize_engine
from costwise.usage import ClusterUsage, CurrentLimits, EnvHistory, ServerSample


@dataclass
class ScalingRow:
    traffic_factor: float
    ecpu_per_second: float
    monthly: float


@dataclass
class RedisMigration:
    """A running server's sample priced on serverless."""

    kind: ClassVar[str] = "redis"
    server: str  # the URL without its password
    engine: str
    region: str
    sample_seconds: float
    keys: int
    storage_gb: float
    used_memory_gb: float
    ecpu_per_second: float
    commands_per_second: float
    kb_per_command: float
    cost: Cost
    peak_factor: float
    scaling: list[ScalingRow]
    recommended_max_storage_gb: int
    recommended_max_ecpu_per_second: int
    ceiling: Ceiling
    notes: list[str] = field(default_factory=list)
    drivers: Drivers | None = None  # from INFO commandstats, at the sampled rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.kind,
            "server": self.server,
            "engine": self.engine,
            "region": self.region,
            "sample_seconds": self.sample_seconds,
            "keys": self.keys,
            "storage_gb": self.storage_gb,
            "used_memory_gb": self.used_memory_gb,
            "ecpu_per_second": self.ecpu_per_second,
            "commands_per_second": self.commands_per_second,
            "kb_per_command": self.kb_per_command,
            "cost": self.cost.to_dict(),
            "peak_factor": self.peak_factor,
            "scaling": [asdict(row) for row in self.scaling],
            "recommended": {"max_storage_gb": self.recommended_max_storage_gb, "max_ecpu_per_second": self.recommended_max_ecpu_per_second},
            "ceiling": self.ceiling.to_dict(),
            "drivers": self.drivers.to_dict() if self.drivers is not None else None,
            "notes": list(self.notes),
        }


@dataclass
class ClusterToday:
    """What the node-based cluster costs now, on demand."""

    engine: str
    node_type: str
    nodes: int
    primaries: int
    replicas: int
    hourly: float | None  # on demand, Extended Support included
    monthly: float | None
    price_confidence: str | None
    engine_version: str | None = None
    extended_support: str | None = None  # the year band's label, when it pays one
    extended_support_monthly: float | None = None  # the surcharge's part of `monthly`


@dataclass
class ClusterMigration:
    """A node-based cluster's usage, projected and sized on serverless, next to its own cost."""

    kind: ClassVar[str] = "cluster"
    replication_group: str
    region: str
    cluster: ClusterToday
    serverless: EnvironmentResult
    notes: list[str] = field(default_factory=list)

    @property
    def serverless_minus_cluster(self) -> float | None:
        if self.cluster.monthly is None or self.serverless.projection is None:
            return None
        return self.serverless.projected_month["total"] - self.cluster.monthly

    @property
    def saving_from_extended_support(self) -> float | None:
        """How much of moving's monthly saving is the Extended Support surcharge left behind."""
        diff = self.serverless_minus_cluster
        if diff is None or not self.cluster.extended_support_monthly or diff >= 0:
            return None
        return min(self.cluster.extended_support_monthly, -diff)

    def to_dict(self) -> dict[str, Any]:
        cluster = asdict(self.cluster)
        if self.serverless_minus_cluster is not None:
            cluster["serverless_minus_cluster"] = self.serverless_minus_cluster
            cluster["saving_from_extended_support"] = self.saving_from_extended_support
        return {
            "from": self.kind,
            "replication_group": self.replication_group,
            "region": self.region,
            "cluster": cluster,
            "serverless": self.serverless.to_dict(),
            "notes": list(self.notes),
        }


def from_redis(sample_read: ServerSample, server: str, prices: PriceBook, region: str, engine: str, peak_factor: float,
               settings: SizingSettings, driver_settings: DriverSettings | None = None) -> RedisMigration:
    rates = prices.rates(region, engine)
    sample = sample_from_info(sample_read.first, sample_read.second, sample_read.seconds, sample_read.own_bytes)
    est = estimate_from_sample(sample, rates.bytes_per_gb, peak_factor, settings.headroom, settings.ecpu_burst_allowance)
    scaling = []
    for factor in sorted({1.0, 2.0, peak_factor, 5.0}):
        cost = steady_month_cost(est.storage_gb, est.ecpu_per_second * factor, rates)
        scaling.append(ScalingRow(factor, est.ecpu_per_second * factor, cost.total))
    return RedisMigration(
        server=server,
        engine=rates.engine,
        region=rates.region,
        sample_seconds=sample.seconds,
        keys=sample.keys,
        storage_gb=est.storage_gb,
        used_memory_gb=sample.used_memory / rates.bytes_per_gb,
        ecpu_per_second=est.ecpu_per_second,
        commands_per_second=est.commands_per_second,
        kb_per_command=est.kb_per_command,
        cost=steady_month_cost(est.storage_gb, est.ecpu_per_second, rates),
        peak_factor=peak_factor,
        scaling=scaling,
        recommended_max_storage_gb=est.recommended_max_storage_gb,
        recommended_max_ecpu_per_second=est.recommended_max_ecpu_per_second,
        ceiling=ceiling_cost(est.recommended_max_storage_gb, est.recommended_max_ecpu_per_second, rates),
        notes=list(est.notes) + [DRIVERS_ASSUMPTION],
        drivers=redis_drivers(sample_read, sample.dataset_bytes, rates, driver_settings),
    )


def redis_drivers(sample_read: ServerSample, dataset_bytes: float, rates, settings: DriverSettings | None) -> Drivers:
    """The same drivers section as a serverless cache's, from the sample's INFO commandstats, at the
    sampled rate (a month is hours_per_month / the sample's hours of it)."""
    totals, ecpus = drivers_from_info(sample_read.first, sample_read.second, sample_read.own_bytes)
    return analyse_drivers(totals, rates.engine, rates, hours=max(sample_read.seconds, 1e-9) / 3600, window_ecpus=ecpus,
                           storage_bytes_mean=dataset_bytes, settings=settings, source="INFO commandstats")


def from_cluster(usage: ClusterUsage, prices: PriceBook, region: str, engine: str | None, settings: SizingSettings,
                 as_of=None) -> ClusterMigration:
    shape, window = usage.shape, usage.window
    frame, weight = serverless_frame_from_nodes(usage.node_frames, shape)
    cluster_engine = normalize_engine(shape.engine)
    target = normalize_engine(engine) if engine else cluster_engine
    env = EnvHistory(env=shape.replication_group, cache=shape.replication_group, engine=target, region=region,
                     limits=CurrentLimits(source="none"), frame=frame)
    result = analyze_environment(env, prices, settings, window)
    node = next((n for n in prices.node_types(region, cluster_engine) if n.name == shape.node_type), None)
    notes = list(shape.notes)
    if weight > 1:
        notes.append(f"Lua scripts weighed as {weight:.1f} simple commands each (their latency over a GET's)")
    if node is None:
        notes.append(f"no price for {shape.node_type} ({cluster_engine}, {region}) in {prices.path}: today's cost unknown")
    count = len(shape.nodes)
    band = support_band(cluster_engine, shape.engine_version, as_of or usage.window.end)
    if shape.engine_version is None and cluster_engine == "redis-oss":
        notes.append("engine version not readable (elasticache:DescribeCacheClusters): Extended Support not counted")
    surcharge = 0.0
    if band is not None and node is not None:
        surcharge = node.surcharge(band.band)
        if not surcharge:
            surcharge = node.hourly * SHARE[band.band]
            notes.append(f"no Extended Support price for {shape.node_type} in {prices.path}: {SHARE[band.band]:.0%} of on demand assumed")
    hours = prices.hours_per_month
    today = ClusterToday(
        engine=cluster_engine,
        node_type=shape.node_type,
        nodes=count,
        primaries=len(shape.primaries),
        replicas=len(shape.replicas),
        hourly=(node.hourly + surcharge) * count if node else None,
        monthly=(node.hourly + surcharge) * count * hours if node else None,
        price_confidence=node.confidence if node else None,
        engine_version=shape.engine_version,
        extended_support=band.label if band is not None else None,
        extended_support_monthly=surcharge * count * hours if band is not None and node else None,
    )
    return ClusterMigration(shape.replication_group, region, today, result, notes)
