"""The bundled demo: 30 days of realistic hourly history for dev, staging and prod, no AWS needed.

`python scripts/make_demo_data.py` regenerates costwise/demo/history.csv from `demo_history()`;
a test checks the bundled file matches, so the demo stays deterministic and reproducible.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costwise.demo.synthetic import Workload, hourly_frame
from costwise.sources.demo import DEMO_REGION
from costwise.driver_metrics import ECPU_SUFFIX, metrics_for
from costwise.usage import CurrentLimits, DriverTotals, EnvHistory, History, Window

DEMO_AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
DEMO_DAYS = 30

# (env, cache, limits, budget, workload)
DEMO_ENVIRONMENTS = (
    (
        "dev",
        "storefront-dev-valkey",
        CurrentLimits(max_storage_gb=1, max_ecpu_per_second=3000, source="demo"),
        5.0,  # below valkey's minimum bill ($6.11): the demo shows a budget overrun
        # tiny: below valkey's 100 MB minimum most of the time; office-hours traffic
        Workload(storage_gb=0.06, storage_daily_amp=0.3, ecpu_per_second=40, daily_amp=0.9, weekend_factor=0.2, noise=0.15, seed=11),
    ),
    (
        "staging",
        "storefront-staging-valkey",
        CurrentLimits(max_storage_gb=2, max_ecpu_per_second=5000, source="demo"),
        40.0,
        # a TTL fix on day 20 halved what is stored
        Workload(storage_gb=0.9, storage_daily_amp=0.05, ecpu_per_second=300, daily_amp=0.6, weekend_factor=0.5,
                 noise=0.08, shift_day=20, shift_storage=0.5, seed=12),
    ),
    (
        "prod",
        "storefront-prod-valkey",
        CurrentLimits(max_storage_gb=5, max_ecpu_per_second=10000, source="demo"),
        400.0,
        # growing 1.5%/day, weekly flash sales at 18:00 that hit the ECPU limit
        Workload(storage_gb=1.6, storage_growth=0.015, storage_daily_amp=0.08, ecpu_per_second=2400, ecpu_growth=0.01,
                 daily_amp=0.5, weekend_factor=0.8, noise=0.06, spike_every_days=7, spike_factor=3.5, spike_minutes=40,
                 max_storage_gb=5, max_ecpu_per_second=10000, seed=13),
    ),
)


# Each demo cache's command mix (issue 21): per family, (share of commands, ECPUs per command) by
# access, with EVAL as the non-key share; then hit rate, bytes per item, share of keys with a TTL and
# evictions. dev: small values; staging: misses; prod: 3.4 KB values, costly scripts, keys without
# TTLs while storage grows.
DEMO_MIXES = {
    "dev": {"get": (0.7, 1.0), "set": (0.3, 1.0), "eval": (0.0, 0.0), "hit_rate": 0.92, "item_bytes": 600, "ttl_share": 0.9, "evictions": 0},
    "staging": {"get": (0.75, 1.2), "set": (0.23, 1.1), "eval": (0.02, 8.0), "hit_rate": 0.55, "item_bytes": 1400, "ttl_share": 0.8,
                "evictions": 0},
    "prod": {"get": (0.8, 3.4), "set": (0.15, 1.0), "eval": (0.05, 14.0), "hit_rate": 0.9, "item_bytes": 3600, "ttl_share": 0.3,
             "evictions": 0},
}


def demo_drivers(frame, mix: dict) -> DriverTotals:
    """Window totals consistent with the frame: the families' ECPUs add up to the window's."""
    import numpy as np

    ecpus = float(np.nansum(frame["ecpu_sum"].to_numpy(float)))
    families = {"GetTypeCmds": mix["get"], "SetTypeCmds": mix["set"], "NonKeyTypeCmds": mix["eval"]}
    commands = ecpus / sum(share * each for share, each in families.values())
    values: dict[str, float | None] = {m.name: 0.0 for m in metrics_for("valkey")}
    for stem, (share, each) in families.items():
        values[stem] = round(commands * share)
        values[stem + ECPU_SUFFIX] = round(commands * share * each)
    # by data type: GETs and SETs here are string commands, the non-key ones scripts
    values["StringBasedCmds"] = values["GetTypeCmds"] + values["SetTypeCmds"]
    values["StringBasedCmds" + ECPU_SUFFIX] = values["GetTypeCmds" + ECPU_SUFFIX] + values["SetTypeCmds" + ECPU_SUFFIX]
    values["EvalBasedCmds"], values["EvalBasedCmds" + ECPU_SUFFIX] = values["NonKeyTypeCmds"], values["NonKeyTypeCmds" + ECPU_SUFFIX]
    values["TotalCmdsCount"] = round(commands)
    values["CacheHits"] = round(values["GetTypeCmds"] * mix["hit_rate"])
    values["CacheMisses"] = values["GetTypeCmds"] - values["CacheHits"]
    values["CacheHitRate"] = 100 * mix["hit_rate"]
    values["NetworkBytesIn"] = round(commands * 120 + values["SetTypeCmds" + ECPU_SUFFIX] * 1024)
    values["NetworkBytesOut"] = round(values["CacheHits"] * mix["get"][1] * 1024 + commands * 20)
    items = round(float(np.nanmean(frame["storage_avg_bytes"].to_numpy(float))) / mix["item_bytes"])
    values["CurrItems"], values["CurrVolatileItems"] = items, round(items * mix["ttl_share"])
    values["Evictions"] = mix["evictions"]
    return DriverTotals({k: float(v) for k, v in values.items()})


def demo_history() -> History:
    window = Window(DEMO_AS_OF - timedelta(days=DEMO_DAYS), DEMO_AS_OF)
    envs = []
    for env, cache, limits, budget, workload in DEMO_ENVIRONMENTS:
        frame = hourly_frame(workload, window.start, DEMO_DAYS)
        envs.append(EnvHistory(env=env, cache=cache, engine="valkey", region=DEMO_REGION, limits=limits, frame=frame, budget=budget,
                               drivers=demo_drivers(frame, DEMO_MIXES[env])))
    return History(window=window, environments=envs, source="demo")
