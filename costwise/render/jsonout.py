"""JSON: every result's own `to_dict()`, nothing dropped (the format for machines and fleets)."""

from __future__ import annotations

from typing import Any

from costwise.render import to_json


def _dump(result: Any) -> str:
    return to_json(result.to_dict())


estimate = report = whatif = migrate = pricing = suggest = _dump
reconcile = watch = _dump
