"""GetMetricData results -> one hourly frame per cache. Pure: plain lists in, pandas out."""

from __future__ import annotations

from datetime import datetime

from costwise.sources.plan import PERIOD_SECONDS, MetricQuery
from costwise.usage import Window


def results_to_frames(
    series: dict[str, tuple[list[datetime], list[float]]],
    queries: list[MetricQuery],
    window: Window,
) -> dict[str, "object"]:
    """Place every returned point on the window's hourly grid; hours without a point stay NaN."""
    import numpy as np
    import pandas as pd

    hours = window.hours
    caches = list(dict.fromkeys(q.cache for q in queries))
    columns = list(dict.fromkeys(q.column for q in queries))
    cache_pos = {cache: i for i, cache in enumerate(caches)}
    col_pos = {column: j for j, column in enumerate(columns)}
    grid = np.full((len(caches), hours, len(columns)), np.nan)

    # Convert all timestamps in one call: per-series conversion costs more than the data.
    rows, cols, stamps, values = [], [], [], []
    for query in queries:
        found = series.get(query.id)
        if not found or not found[0]:
            continue
        ts, vals = found
        rows.append(np.full(len(ts), cache_pos[query.cache]))
        cols.append(np.full(len(ts), col_pos[query.column]))
        stamps.extend(ts)
        values.append(np.asarray(vals, dtype=float))
    if stamps:
        # explicit units: pandas 3 may pick microseconds for datetime objects
        start_s = int(pd.Timestamp(window.start).timestamp())
        seconds = pd.to_datetime(stamps, utc=True).as_unit("s").asi8
        offsets = (seconds - start_s) // PERIOD_SECONDS
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        v = np.concatenate(values)
        inside = (offsets >= 0) & (offsets < hours)
        grid[r[inside], offsets[inside], c[inside]] = v[inside]

    index = pd.date_range(window.start, periods=hours, freq="h", tz="UTC", name="timestamp")
    return {cache: pd.DataFrame(grid[i], index=index, columns=columns) for cache, i in cache_pos.items()}
