"""Renderers: typed results in, text (or terminal renderables) out. No AWS, no model code here.

A registry keyed by format: each format is one module (`FORMAT_MODULES`) with one function per
command it can render, named after the command (`estimate`, `report`, `whatif`, `migrate`,
`pricing`). A command offers exactly the formats whose module has its function, so `--help` never
lists a format that does not work, and a command never branches on format. A new format is one
module and one line here.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from functools import lru_cache
from importlib import import_module
from typing import Any

from costwise.fmt import money  # noqa: F401  (renderers import it from here)

FORMAT_MODULES = {
    "table": "costwise.render.table",
    "json": "costwise.render.jsonout",
    "markdown": "costwise.render.markdown",
    "html": "costwise.render.html",
    "diff": "costwise.render.diff",
}


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"
    diff = "diff"


@lru_cache(maxsize=None)
def formats_for(command: str) -> tuple[str, ...]:
    """The formats that can render `command`'s result, in registry order."""
    return tuple(name for name, module in FORMAT_MODULES.items() if callable(getattr(import_module(module), command, None)))


def format_enum(command: str) -> type[Enum]:
    """An Enum of the formats `command` offers: typer turns it into --format's choices."""
    return Enum(f"{command.title()}Format", {name: name for name in formats_for(command)}, type=str)


def render(command: str, result: Any, fmt: str) -> "str | list":
    """Text for a file or stdout, or a list of rich renderables for the terminal (format table)."""
    fmt = getattr(fmt, "value", fmt)
    if fmt not in formats_for(command):
        from costwise.errors import InputError

        raise InputError(f"--format: {command} offers {', '.join(formats_for(command))}, not {fmt}")
    return getattr(import_module(FORMAT_MODULES[fmt]), command)(result)


def to_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def horizon_label(hours: int, short: bool = False) -> str:
    """'Next 730 hours' for the horizon the projection really covers."""
    return f"{hours:,} h" if short else f"next {hours:,} hours"


def interval_label(interval: float) -> str:
    """'80% range' for the interval the projection really used."""
    return f"{interval:.0%} range"


# An empty HTML comment renders as nothing, but splits the text GitHub scans after rendering: a
# mention (`@<!-- -->user` pings no one), an issue reference (`#<!-- -->1`), a bare link
# (`https:<!-- -->//x`, `www<!-- -->.x`) stay plain text. An HTML entity (`&#64;`) would not do:
# GitHub decodes it before it looks for mentions.
MD_BREAK = "<!-- -->"
_MD_LINKS = re.compile(r"(?<=[@#])|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
# where text starts a line: `-`, `+` or `=` (a list item, a rule) and `1.` or `1)` (a numbered item)
_MD_LINE_START = re.compile(r"^[-+=]|^\d+(?=[.)])")
# `$` opens and closes math on GitHub. The backslash escapes it for parsers that honour escapes;
# GitHub looks for math in the rendered text, where escapes are gone, so a `$` that could close
# math (one not followed by a digit, unlike costwise's own "$1,234") is also given a <span> of its
# own, as GitHub's documentation advises for a dollar sign outside math.
_MD_DOLLAR = re.compile(r"\\\$(?!\d)")


def md_escape(text: object) -> str:
    """Escape text for GitHub Markdown (a table cell, a heading, a list item): pipes, HTML,
    newlines, control and invisible characters, emphasis, code, links, strikethrough and math
    (`$` as `\\$`, in a <span> where it could close math) shown as typed; mentions, issue
    references and bare URLs made inert."""
    from costwise.fmt import printable

    out = printable(" ".join(str(text).splitlines()))
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
        ("~", "\\~"),
        ("$", "\\$"),
    ):
        out = out.replace(char, repl)
    out = _MD_DOLLAR.sub(r"<span>\\$</span>", _MD_LINKS.sub(MD_BREAK, out))
    out = _MD_LINE_START.sub(lambda m: "\\" + m[0] if not m[0].isdigit() else m[0] + "\\", out, count=1)
    return " ".join(out.splitlines())
