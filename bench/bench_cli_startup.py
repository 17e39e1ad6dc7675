"""Median wall time of `costwise --help` and of a whatif run (target: under 0.3 s each).

Runs the installed console script in fresh processes, as a user would.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
TARGET_S = 0.3


def median_seconds(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    exe = shutil.which("costwise", path=str(Path(sys.executable).parent)) or shutil.which("costwise")
    if exe is None:
        sys.exit("costwise is not installed in this environment (run `make install`)")
    cases = {
        "costwise --help": [exe, "--help"],
        "costwise whatif (json)": [exe, "whatif", "--storage-gb", "0.2", "--requests-per-day", "10000000", "--format", "json"],
        "costwise whatif (table)": [exe, "whatif", "--storage-gb", "0.2", "--requests-per-day", "10000000"],
    }
    print(f"{'command':28} {'median s':>9}  target {TARGET_S} s  ({RUNS} runs each)")
    missed = []
    for name, argv in cases.items():
        seconds = median_seconds(argv)
        print(f"{name:28} {seconds:9.3f}  {'ok' if seconds < TARGET_S else 'SLOW'}")
        if seconds >= TARGET_S:
            missed.append(name)
    if missed:
        sys.exit(f"missed the {TARGET_S} s target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
