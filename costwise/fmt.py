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
