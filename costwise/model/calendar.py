"""Public holidays and local days: which hours fall on a holiday where a cache's users live.

CloudWatch's hours are UTC; a holiday is a local date. costwise.yaml names the calendar
(`sizing.holidays: US`, `US-CA` for a subdivision, `none` by default) and the timezone whose dates
and weekdays count (`sizing.timezone`, UTC by default). The dates come from the `holidays` package
(maintained, offline, 150+ countries), imported only when a calendar is set.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

NO_HOLIDAYS = "none"
UTC = "UTC"


def _no_calendar(code: str) -> bool:
    return code.strip().lower() == NO_HOLIDAYS


def _country(code: str) -> tuple[str, str | None]:
    country, _, subdivision = code.strip().partition("-")
    return country.upper(), subdivision.upper() or None


def calendar_problem(code: str) -> str | None:
    """Why `code` is not a holiday calendar costwise can use (None: it is)."""
    if _no_calendar(code):
        return None
    import holidays

    country, subdivision = _country(code)
    supported = holidays.list_supported_countries()
    if country not in supported:
        return "must be 'none' or a country code the holidays package knows, such as US, GB or DE"
    if subdivision is not None and subdivision not in supported[country]:
        return f"{country} has no subdivision {subdivision}"
    return None


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a timezone (None: it is)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA timezone such as UTC or America/Chicago"
    return None


@lru_cache(maxsize=64)
def holiday_days(code: str, first_year: int, last_year: int) -> np.ndarray:
    """The calendar's holidays in those years, as sorted datetime64[D] (empty for `none`)."""
    if _no_calendar(code):
        return np.array([], dtype="datetime64[D]")
    import holidays

    country, subdivision = _country(code)
    found = holidays.country_holidays(country, subdiv=subdivision, years=range(first_year, last_year + 1))
    return np.array(sorted(found), dtype="datetime64[D]")


def local_hours(index, timezone: str):
    """The hours of a UTC index (tz-aware, or naive meaning UTC) as wall-clock time in `timezone`."""
    if timezone == UTC:
        return index
    return (index.tz_localize(UTC) if index.tz is None else index).tz_convert(timezone)


def on_holiday(local, code: str) -> np.ndarray:
    """For each local timestamp, whether its date is a public holiday of the calendar."""
    if _no_calendar(code) or len(local) == 0:
        return np.zeros(len(local), dtype=bool)
    days = local.tz_localize(None).to_numpy().astype("datetime64[D]")
    found = holiday_days(code, int(local[0].year), int(local[-1].year))
    return np.isin(days, found)
