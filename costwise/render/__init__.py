"""Renderers: turn plain result objects into text. No AWS, no model code here."""

from __future__ import annotations

import json
from enum import Enum

from costwise.fmt import money  # noqa: F401  (renderers import it from here)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def to_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def md_escape(text: object) -> str:
    """Escape text for a GitHub Markdown table cell: pipes, HTML and newlines."""
    out = str(text)
    for char, repl in (
        ("\\", "\\\\"),
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
        ("`", "\\`"),
        ("*", "\\*"),
        ("_", "\\_"),
        ("[", "\\["),
        ("]", "\\]"),
    ):
        out = out.replace(char, repl)
    return " ".join(out.splitlines())
