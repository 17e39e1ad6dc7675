"""GetMetricData pages -> one hourly array per cache, filled page by page. Pure: no AWS here.

What is kept is the hourly table itself, 8 bytes per value: each page's points are placed on the
window's grid as the page arrives and the page is dropped, so memory follows caches x hours, not
the datapoints fetched (a 10,000-cache fleet's month is 288 MB however it was paged).
"""

from __future__ import annotations

from typing import Iterable

from costwise.sources.plan import PERIOD_SECONDS, MetricQuery
from costwise.usage import Window


def epoch_seconds(stamps: list) -> "object":
    """Timestamps as float seconds since the epoch. The metric client keeps CBOR's epoch numbers
    as they came (no datetime per point, see aws.metrics_client); other protocols and callers give
    ISO strings or datetimes, converted in one call."""
    import numpy as np

    first = stamps[0]
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return np.asarray(stamps, dtype=float)
    import pandas as pd

    # explicit units: pandas may pick microseconds for datetime objects
    return pd.to_datetime(stamps, utc=True).as_unit("s").asi8.astype(float)


class HourlyGrid:
    """Per cache, an hours x columns float64 array (NaN where no point came), filled with `add`."""

    def __init__(self, queries: list[MetricQuery], window: Window):
        import numpy as np

        self.window = window
        self.caches = list(dict.fromkeys(q.cache for q in queries))
        self.columns = list(dict.fromkeys(q.column for q in queries))
        cache_pos = {cache: i for i, cache in enumerate(self.caches)}
        col_pos = {column: j for j, column in enumerate(self.columns)}
        self._where = {q.id: (cache_pos[q.cache], col_pos[q.column]) for q in queries}
        self._start = window.start.timestamp()
        self.values = np.full((len(self.caches), window.hours, len(self.columns)), np.nan)

    def add(self, results: Iterable[dict]) -> int:
        """Place one page's MetricDataResults; returns the points placed. Ids it did not ask for
        and points outside the window are ignored."""
        import numpy as np

        placed = 0
        hours = self.window.hours
        for item in results:
            where = self._where.get(item.get("Id"))
            stamps, values = item.get("Timestamps") or [], item.get("Values") or []
            count = min(len(stamps), len(values))
            if where is None or not count:
                continue
            offsets = (epoch_seconds(stamps[:count]) - self._start) // PERIOD_SECONDS
            inside = (offsets >= 0) & (offsets < hours)
            row, column = where
            self.values[row, offsets[inside].astype(np.int64), column] = np.asarray(values[:count], dtype=float)[inside]
            placed += int(inside.sum())
        return placed

    def put(self, caches: list[str], block) -> None:
        """Rows for `caches` filled elsewhere (a worker process's grid of one batch)."""
        index = {cache: i for i, cache in enumerate(self.caches)}
        for k, cache in enumerate(caches):
            self.values[index[cache]] = block[k]

    def frames(self) -> dict[str, "object"]:
        """One DataFrame per cache over this grid's memory (no copy)."""
        import pandas as pd

        index = pd.date_range(self.window.start, periods=self.window.hours, freq="h", tz="UTC", name="timestamp")
        return {cache: pd.DataFrame(self.values[i], index=index, columns=self.columns, copy=False)
                for i, cache in enumerate(self.caches)}
