"""Formatting of numbers shared by model reasons and renderers."""

from __future__ import annotations

from datetime import datetime, timezone


def money(value: float | None, *, unbounded: str = "unbounded") -> str:
    if value is None:
        return unbounded
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def iso_utc(moment: datetime | None) -> str | None:
    """2026-11-20T00:00:00Z: how every file and JSON output writes a time."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_utc(text: str) -> datetime:
    """An ISO 8601 time (a trailing Z allowed) as an aware UTC datetime; naive times are UTC.

    Raises ValueError for text that is not such a time."""
    moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
