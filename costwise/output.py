"""Where rendered output goes: text to stdout or (atomically) to a file, renderables to the console."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional


def emit(rendered, output: Optional[Path] = None) -> None:
    """Text goes to stdout or (atomically) to --output; terminal renderables to the console."""
    if isinstance(rendered, str):
        if output is None:
            if sys.stdout.isatty():  # a person reads it: no control character from a file or name reaches the screen
                from costwise.fmt import printable

                rendered = "".join(printable(line) + "\n" for line in rendered.splitlines())
            sys.stdout.write(rendered)
        else:
            from costwise.atomic import atomic_write_text

            atomic_write_text(output, rendered)
        return
    from rich.console import Console

    console = Console()
    for item in rendered:
        console.print(item)
