"""The bundled demo: 30 days of realistic hourly history for dev, staging and prod, no AWS needed.

`python scripts/make_demo_data.py` regenerates costwise/demo/history.csv from `demo_history()`;
a test checks the bundled file matches, so the demo stays deterministic and reproducible.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from costwise.demo.synthetic import Workload, hourly_frame
from costwise.sources.demo import DEMO_REGION
from costwise.usage import CurrentLimits, EnvHistory, History, Window

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


def demo_history() -> History:
    window = Window(DEMO_AS_OF - timedelta(days=DEMO_DAYS), DEMO_AS_OF)
    envs = []
    for env, cache, limits, budget, workload in DEMO_ENVIRONMENTS:
        frame = hourly_frame(workload, window.start, DEMO_DAYS)
        envs.append(EnvHistory(env=env, cache=cache, engine="valkey", region=DEMO_REGION, limits=limits, frame=frame, budget=budget))
    return History(window=window, environments=envs, source="demo")
