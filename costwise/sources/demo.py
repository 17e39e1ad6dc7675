"""The bundled demo: 30 days of dev, staging and prod, read like any saved history file.

The file is made by `scripts/make_demo_data.py` from costwise.demo.generate (a test checks they
match); reading it needs no AWS account.
"""

from __future__ import annotations

from dataclasses import dataclass

from costwise.resources import demo_history_path
from costwise.usage import History

DEMO_REGION = "us-east-1"


@dataclass
class DemoSource:
    label: str = "demo"

    def read(self) -> History:
        from costwise.sources.history_file import load_history

        return load_history(demo_history_path(), source_label=self.label)
