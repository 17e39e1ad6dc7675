"""Where the bundled pricing.yaml and templates/ are, in a wheel and in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def bundled_pricing_path() -> Path:
    # A wheel carries the file under costwise/_data; a checkout (or editable install) has it at
    # the top of the repository, where people edit it.
    return _first_existing(_PACKAGE / "_data" / "pricing.yaml", _PACKAGE.parent / "pricing.yaml")


def templates_dir() -> Path:
    return _first_existing(_PACKAGE / "_data" / "templates", _PACKAGE.parent / "templates")


def demo_history_path() -> Path:
    return _PACKAGE / "demo" / "history.csv"
