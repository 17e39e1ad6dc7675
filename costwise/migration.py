"""`costwise migrate`: what a cache that is not serverless yet would cost on serverless.

Wires the sources (redis_info, cluster) to the models (migrate, cost, forecast, sizing) and builds
plain result dicts; rendering is in costwise.render.migrate.
"""

from __future__ import annotations

from typing import Any

from costwise.model.cost import ceiling_cost, steady_month_cost
from costwise.model.migrate import estimate_from_sample, sample_from_info, serverless_frame_from_nodes
from costwise.model.settings import SizingSettings
from costwise.pricing import PriceBook, normalize_engine


def from_redis(url_shown: str, snapshots, prices: PriceBook, region: str, engine: str, peak_factor: float,
               settings: SizingSettings) -> dict[str, Any]:
    rates = prices.rates(region, engine)
    sample = sample_from_info(snapshots.first, snapshots.second, snapshots.seconds, snapshots.own_bytes)
    est = estimate_from_sample(sample, rates.bytes_per_gb, peak_factor, settings.headroom, settings.ecpu_burst_allowance)
    month = steady_month_cost(est.storage_gb, est.ecpu_per_second, rates)
    scaling = []
    for factor in sorted({1.0, 2.0, peak_factor, 5.0}):
        cost = steady_month_cost(est.storage_gb, est.ecpu_per_second * factor, rates)
        scaling.append({"traffic_factor": factor, "ecpu_per_second": est.ecpu_per_second * factor, "monthly": cost.total})
    ceiling = ceiling_cost(est.recommended_max_storage_gb, est.recommended_max_ecpu_per_second, rates)
    return {
        "from": "redis",
        "server": url_shown,
        "engine": rates.engine,
        "region": rates.region,
        "sample_seconds": sample.seconds,
        "keys": sample.keys,
        "storage_gb": est.storage_gb,
        "used_memory_gb": sample.used_memory / rates.bytes_per_gb,
        "ecpu_per_second": est.ecpu_per_second,
        "commands_per_second": est.commands_per_second,
        "kb_per_command": est.kb_per_command,
        "cost": month.to_dict(),
        "peak_factor": peak_factor,
        "scaling": scaling,
        "recommended": {"max_storage_gb": est.recommended_max_storage_gb, "max_ecpu_per_second": est.recommended_max_ecpu_per_second},
        "ceiling": ceiling.to_dict(),
        "notes": est.notes,
    }


def from_cluster(shape, frames, window, prices: PriceBook, region: str, engine: str | None, settings: SizingSettings) -> dict[str, Any]:
    from costwise.report import analyze_environment
    from costwise.sources.history import CurrentLimits, EnvHistory

    frame, weight = serverless_frame_from_nodes(frames, shape)
    cluster_engine = normalize_engine(shape.engine)
    target = normalize_engine(engine) if engine else cluster_engine
    env = EnvHistory(env=shape.replication_group, cache=shape.replication_group, engine=target, region=region,
                     limits=CurrentLimits(source="none"), frame=frame)
    result = analyze_environment(env, prices, settings, window.hours)
    node = next((n for n in prices.node_types(region, cluster_engine) if n.name == shape.node_type), None)
    hours = prices.hours_per_month
    notes = list(shape.notes)
    if weight > 1:
        notes.append(f"Lua scripts weighed as {weight:.1f} simple commands each (their latency over a GET's)")
    if node is None:
        notes.append(f"no price for {shape.node_type} ({cluster_engine}, {region}) in {prices.path}: today's cost unknown")
    count = len(shape.nodes)
    cluster = {
        "engine": cluster_engine,
        "node_type": shape.node_type,
        "nodes": count,
        "primaries": len(shape.primaries),
        "replicas": len(shape.replicas),
        "hourly": node.hourly * count if node else None,
        "monthly": node.hourly * count * hours if node else None,
        "price_confidence": node.confidence if node else None,
    }
    serverless = result.to_dict(window.start, window.end)
    if cluster["monthly"] is not None and result.projection is not None:
        cluster["serverless_minus_cluster"] = result.projection.cost.total - cluster["monthly"]
    return {
        "from": "cluster",
        "replication_group": shape.replication_group,
        "region": region,
        "cluster": cluster,
        "serverless": serverless,
        "notes": notes,
    }
