"""Estimate serverless usage from what a non-serverless cache shows. Pure functions.

ECPU rule (DOMAIN.md): a simple command costs 1 ECPU per KB transferred, at least 1. From
aggregates, assuming commands of similar size: ECPUs = max(commands, KB transferred). Commands
that need more vCPU time than bytes (Lua scripts) count as `weight` commands each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from costwise.limits import clamp_ecpu_limit, clamp_storage_limit, nice_ceil
from costwise.model.cost import KB, ecpus_from_traffic
from costwise.usage import ClusterShape

# Commands costwise itself sends (or the client library sends on connect): not the workload.
OWN_COMMANDS = {"info", "client", "hello", "auth", "ping", "command", "select"}


@dataclass(frozen=True)
class InfoSample:
    """What two INFO snapshots say: the parsed fields costwise uses."""

    seconds: float
    dataset_bytes: float
    used_memory: float
    used_memory_peak: float
    commands: dict[str, float]  # command -> calls during the window (costwise's own removed)
    net_in: float  # bytes during the window
    net_out: float
    own_bytes: float  # bytes of costwise's own replies inside that count
    keys: int


def sample_from_info(first: dict, second: dict, seconds: float, own_reply_bytes: float = 0.0) -> InfoSample:
    """Difference two `INFO all` dicts (as redis-py parses them)."""

    def calls(info: dict) -> dict[str, float]:
        out = {}
        for key, value in info.items():
            if key.startswith("cmdstat_") and isinstance(value, dict):
                out[key[len("cmdstat_"):].lower()] = float(value.get("calls", 0))
        return out

    before, after = calls(first), calls(second)
    commands = {}
    for name, total in after.items():
        base = name.split("|")[0]
        if base in OWN_COMMANDS:
            continue
        delta = total - before.get(name, 0.0)
        if delta > 0:
            commands[name] = delta
    keys = 0
    for key, value in second.items():
        if key.startswith("db") and isinstance(value, dict):
            keys += int(value.get("keys", 0))
    dataset = second.get("used_memory_dataset")
    used = float(second.get("used_memory", 0))
    return InfoSample(
        seconds=seconds,
        dataset_bytes=float(dataset if dataset is not None else used),
        used_memory=used,
        used_memory_peak=float(second.get("used_memory_peak", used)),
        commands=commands,
        net_in=float(second.get("total_net_input_bytes", 0)) - float(first.get("total_net_input_bytes", 0)),
        net_out=float(second.get("total_net_output_bytes", 0)) - float(first.get("total_net_output_bytes", 0)),
        own_bytes=own_reply_bytes,
        keys=keys,
    )


@dataclass
class ServerEstimate:
    storage_gb: float
    ecpu_per_second: float
    commands_per_second: float
    kb_per_command: float
    peak_factor: float
    recommended_max_storage_gb: int
    recommended_max_ecpu_per_second: int
    notes: list[str] = field(default_factory=list)


def estimate_from_sample(sample: InfoSample, bytes_per_gb: float, peak_factor: float, headroom: float, burst: float) -> ServerEstimate:
    """Serverless storage and ECPU/s from an INFO sample, and starting limits.

    Storage is the dataset (used_memory_dataset: data, not allocator or client overhead). Starting
    limits: storage = the dataset grown as far as its own peak memory suggests, plus headroom;
    ECPU/s = the sampled rate x peak factor x (1 + headroom) x (1 + burst).
    """
    commands = sum(sample.commands.values())
    transferred = max(sample.net_in + sample.net_out - sample.own_bytes, 0.0)
    seconds = max(sample.seconds, 1e-9)
    ecpu_rate = ecpus_from_traffic(commands, transferred) / seconds
    storage_gb = sample.dataset_bytes / bytes_per_gb
    peak_ratio = sample.used_memory_peak / sample.used_memory if sample.used_memory > 0 else 1.0
    storage_limit = math.ceil(storage_gb * max(peak_ratio, 1.0) * (1 + headroom))
    ecpu_limit = nice_ceil(ecpu_rate * peak_factor * (1 + headroom) * (1 + burst))
    notes = [
        f"sampled {sample.seconds:g} s: {commands:,.0f} commands, {transferred / KB:,.0f} KB in and out",
        "a short sample is not a month: traffic was scaled by the peak factor for the limits only; "
        "the bill follows whatever the month's real traffic is",
    ]
    if sample.seconds < 3600:
        notes.append("sample shorter than an hour: daily and weekly cycles are not in it")
    return ServerEstimate(
        storage_gb=storage_gb,
        ecpu_per_second=ecpu_rate,
        commands_per_second=commands / seconds,
        kb_per_command=(transferred / KB / commands) if commands else 0.0,
        peak_factor=peak_factor,
        recommended_max_storage_gb=clamp_storage_limit(storage_limit),
        recommended_max_ecpu_per_second=clamp_ecpu_limit(ecpu_limit),
        notes=notes,
    )


# ---- node-based clusters ----------------------------------------------------------------------


def serverless_frame_from_nodes(frames: dict, shape: ClusterShape):
    """Hourly serverless-equivalent usage from per-node frames (usage.NODE_COLUMNS).

    storage: the primaries' BytesUsedForCache (replicas hold copies, serverless bills one);
    ECPUs: max(weighted commands, KB moved) per hour over all nodes, replication traffic removed
    (it leaves the primary and enters each replica: counted twice in the raw bytes);
    busiest minute: the commands' busiest minutes summed, scaled like the hour's ECPUs.
    """
    import numpy as np
    import pandas as pd

    def total(ids, column):
        parts = [frames[i][column] for i in ids if i in frames]
        if not parts:
            return None
        return pd.concat(parts, axis=1).sum(axis=1, min_count=1)

    every = [n.cluster_id for n in shape.nodes if n.cluster_id in frames]
    index = frames[every[0]].index
    storage_avg = total(shape.primaries, "bytes_avg")
    storage_max = total(shape.primaries, "bytes_max")
    gets, sets, evals = (total(every, c) for c in ("get_cmds", "set_cmds", "eval_cmds"))
    # Lua scripts cost vCPU time: weigh each like (its latency / a GET's latency) simple commands
    eval_latency = total(every, "eval_latency")
    get_latency = total(every, "get_latency")
    weight = 1.0
    if eval_latency is not None and get_latency is not None and eval_latency.notna().any() and get_latency.notna().any():
        eval_mean, get_mean = float(eval_latency.mean()), float(get_latency.mean())
        if get_mean > 0:
            weight = max(1.0, eval_mean / get_mean)
    commands = gets.fillna(0) + sets.fillna(0) + (evals.fillna(0) * weight if evals is not None else 0)
    moved = total(every, "net_in").fillna(0) + total(every, "net_out").fillna(0)
    replication = total(shape.primaries, "replication")
    if replication is not None:
        moved = (moved - 2 * replication.fillna(0)).clip(lower=0)
    ecpu = np.maximum(commands, moved / KB)
    present = gets.notna() | sets.notna()
    ecpu = ecpu.where(present)
    busiest = total(every, "get_max").fillna(0) + total(every, "set_max").fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (ecpu / commands.where(commands > 0)).fillna(1.0)
    frame = pd.DataFrame({
        "storage_avg_bytes": storage_avg if storage_avg is not None else np.nan,
        "storage_max_bytes": storage_max if storage_max is not None else np.nan,
        "ecpu_sum": ecpu,
        "ecpu_max_minute": (busiest * scale).where(present),
        "throttled_sum": 0.0,
    }, index=index)
    return frame, weight


# ---- cost drivers from INFO commandstats (issue 21) -----------------------------------------------

USEC_PER_ECPU = 3.0  # AWS's assessment scripts: about 1 ECPU per 3 microseconds of vCPU (DOMAIN.md)
DRIVERS_ASSUMPTION = ("drivers from INFO commandstats: each command costs the higher of its bytes (the sample's bytes spread "
                      f"evenly over its commands: INFO has no bytes per command) and its vCPU time ({USEC_PER_ECPU:g} µs per ECPU)")


def drivers_from_info(first: dict, second: dict, own_reply_bytes: float = 0.0) -> "tuple[object, float]":
    """The drivers' window totals (usage.DriverTotals, under the CloudWatch metric names) from two
    `INFO all` snapshots, and the ECPUs they add up to. Families come from the command table
    (driver_metrics.command_families); every family the server could report is counted, so one
    nobody used is a measured 0."""
    from costwise.driver_metrics import REDIS_FAMILIES, ECPU_SUFFIX, command_families, metrics_for
    from costwise.usage import DriverTotals

    def stats(info: dict) -> dict[str, tuple[float, float]]:
        return {key[len("cmdstat_"):].lower(): (float(value.get("calls", 0)), float(value.get("usec", 0)))
                for key, value in info.items() if key.startswith("cmdstat_") and isinstance(value, dict)}

    def delta(field: str) -> float:
        return max(float(second.get(field, 0)) - float(first.get(field, 0)), 0.0)

    before, after = stats(first), stats(second)
    used = {}
    for name, (calls, usec) in after.items():
        if name.split("|")[0] in OWN_COMMANDS:
            continue
        calls_before, usec_before = before.get(name, (0.0, 0.0))
        if calls - calls_before > 0:
            used[name] = (calls - calls_before, max(usec - usec_before, 0.0))
    commands = sum(calls for calls, _ in used.values())
    net_in, net_out = delta("total_net_input_bytes"), delta("total_net_output_bytes")
    out_bytes = max(net_out - own_reply_bytes, 0.0)
    kb_each = (net_in + out_bytes) / KB / commands if commands else 0.0
    values: dict[str, float | None] = {m.name: None for m in metrics_for("valkey")}
    for stem, _, _ in REDIS_FAMILIES:
        values[stem] = values[stem + ECPU_SUFFIX] = 0.0
    total_ecpus = 0.0
    for name, (calls, usec) in used.items():
        ecpus = max(calls * max(1.0, kb_each), usec / USEC_PER_ECPU)
        total_ecpus += ecpus
        for stem in filter(None, command_families(name)):
            values[stem] += calls
            values[stem + ECPU_SUFFIX] += ecpus

    def dbs(field: str) -> float:
        return float(sum(int(v.get(field, 0)) for k, v in second.items() if k.startswith("db") and isinstance(v, dict)))

    values.update({
        "TotalCmdsCount": commands,
        "CacheHits": delta("keyspace_hits"),
        "CacheMisses": delta("keyspace_misses"),
        "CacheHitRate": None,  # the hits and misses themselves are there
        "CurrItems": dbs("keys"),
        "CurrVolatileItems": dbs("expires"),
        "NetworkBytesIn": net_in,
        "NetworkBytesOut": out_bytes,
        "Evictions": delta("evicted_keys"),
    })
    return DriverTotals(values), total_ecpus
