"""1,000 caches x 30 days, hourly: GetMetricData calls made vs the minimum, and the time to turn
the responses into frames and costs (target: under 5 s on this 2-core machine).

The fake enforces CloudWatch's limits (500 queries, 100,800 datapoints a page, NextToken).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costwise.model.cost import cost_of_hours  # noqa: E402
from costwise.model.settings import SizingSettings  # noqa: E402
from costwise.pricing import load_pricing  # noqa: E402
from costwise.analysis.estimate import analyze_environment  # noqa: E402
from costwise.sources import aws  # noqa: E402
from costwise.sources.frames import HourlyGrid  # noqa: E402
from costwise.usage import CurrentLimits, EnvHistory, Window  # noqa: E402
from costwise.sources.plan import build_queries, minimum_calls, plan_batches  # noqa: E402
from tests.awsfakes import FakeCloudWatch  # noqa: E402

CACHES = 1000
DAYS = 30
TARGET_S = 5.0


def main() -> None:
    end = datetime(2026, 11, 1, tzinfo=timezone.utc)
    window = Window(end - timedelta(days=DAYS), end)
    caches = [f"cache-{i:04d}" for i in range(CACHES)]
    queries = build_queries(caches)
    batches = plan_batches(queries, window.hours)
    fake = FakeCloudWatch()
    grid = HourlyGrid(queries, window)
    placed = []
    t0 = time.perf_counter()
    aws.get_metric_data(fake, [[q.payload() for q in b] for b in batches], window.start, window.end,
                        on_results=lambda results: placed.append(grid.add(results)))
    t_fetch = time.perf_counter() - t0
    points = sum(placed)

    t1 = time.perf_counter()
    frames = grid.frames()
    rates = load_pricing().rates("us-east-1", "valkey")
    total = 0.0
    for frame in frames.values():
        total += cost_of_hours(frame["storage_avg_bytes"], frame["ecpu_sum"], rates).total
    t_frames = time.perf_counter() - t1

    # the full analysis (forecast + limits) of the first 100, to size the rest of the pipeline
    prices = load_pricing()
    sample = list(frames.items())[:100]
    t2 = time.perf_counter()
    for cache, frame in sample:
        env = EnvHistory(env=cache, cache=cache, engine="valkey", region="us-east-1", limits=CurrentLimits(), frame=frame)
        analyze_environment(env, prices, SizingSettings(), window)
    t_analysis = (time.perf_counter() - t2) / len(sample)

    print(f"caches {CACHES}, days {DAYS}, queries {len(queries):,}, datapoints {points:,}")
    print(f"GetMetricData calls made      {fake.calls}")
    print(f"minimum possible calls        {minimum_calls(len(queries), window.hours)}")
    print(f"fake answering, pages placed  {t_fetch:.2f} s (mostly the fake building datetimes)")
    print(f"responses -> frames + costs   {t_frames:.2f} s  target {TARGET_S} s  {'ok' if t_frames < TARGET_S else 'SLOW'}")
    print(f"forecast + limits per cache   {t_analysis * 1000:.0f} ms  ({t_analysis * CACHES:.1f} s for all {CACHES})")
    missed = []
    if fake.calls > minimum_calls(len(queries), window.hours):
        missed.append(f"{fake.calls} calls, more than the minimum {minimum_calls(len(queries), window.hours)}")
    if t_frames >= TARGET_S:
        missed.append(f"frames + costs took {t_frames:.2f} s (target {TARGET_S} s)")
    if missed:
        sys.exit("missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
