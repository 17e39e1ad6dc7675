"""Formatting of numbers shared by model reasons and renderers."""

from __future__ import annotations


def money(value: float | None, *, unbounded: str = "unbounded") -> str:
    if value is None:
        return unbounded
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.2f}"
