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


def holiday_calendar(code: str) -> bool:
    """Whether `code` names a calendar (anything but `none`)."""
    return not _no_calendar(code)


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


# the calendars a history's one-off days are held against when none is set (the largest cloud markets;
# each more raises the chance that an outage falls on some country's holiday): a note suggests one, nothing is applied without the setting
SUGGESTED_CALENDARS = ("US", "GB", "DE", "FR", "JP", "IN", "AU", "CA", "BR")


def suggest_calendar(days: np.ndarray) -> tuple[str, int] | None:
    """The country whose public holidays the most of these one-off days (datetime64[D]) fall on, and
    how many: only when two or more do, at least half of them, and more than any other country's (else None)."""
    if days.size < 2:
        return None
    first, last = int(days.min().astype(object).year), int(days.max().astype(object).year)
    found = sorted(((int(np.isin(days, holiday_days(code, first, last)).sum()), code) for code in SUGGESTED_CALENDARS),
                   key=lambda pair: -pair[0])
    (matches, code), (runner_up, _) = found[0], found[1]
    # Christmas and New Year are many countries' holidays: only a calendar that explains more of the
    # days than any other is suggested
    return (code, matches) if matches >= 2 and 2 * matches >= days.size and matches > runner_up else None
