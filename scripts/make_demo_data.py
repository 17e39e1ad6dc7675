"""Regenerate the bundled demo history (costwise/demo/history.csv). Deterministic: same seeds,
same file. Run after changing costwise/demo/generate.py; tests check the file matches."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costwise.resources import demo_history_path  # noqa: E402
from costwise.demo.generate import demo_history  # noqa: E402
from costwise.sources.history_file import save_history  # noqa: E402


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else demo_history_path()
    save_history(demo_history(), target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
