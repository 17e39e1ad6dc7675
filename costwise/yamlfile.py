"""Read a YAML file into plain data, with one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from costwise.errors import InputError


def read_yaml(path: Path, what: str, missing_hint: str = "") -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found{missing_hint}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})") from None
    # libyaml's safe loader when PyYAML was built with it: 10x faster, and whatif reads pricing.yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from None
