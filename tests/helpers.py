"""Helpers shared by test modules (test modules never import each other)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
PRICING_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "pricing.yaml"
GIB = 2**30
INDEX = pd.date_range("2026-10-01", periods=720, freq="h", tz="UTC", name="timestamp")


def frame(storage_gb, ecpu_per_hour, index=INDEX):
    """An hourly usage frame (usage.COLUMNS): storage in GB, ECPUs per hour; busiest minute = the hour's mean."""
    storage = np.broadcast_to(np.asarray(storage_gb, dtype=float), (len(index),)) * GIB
    ecpu = np.broadcast_to(np.asarray(ecpu_per_hour, dtype=float), (len(index),))
    return pd.DataFrame({"storage_avg_bytes": storage, "storage_max_bytes": storage, "ecpu_sum": ecpu,
                         "ecpu_max_minute": ecpu / 60, "throttled_sum": 0.0}, index=index)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis_server(folder: Path, *extra: str) -> tuple[subprocess.Popen, str] | None:
    """A redis-server of this machine's on 127.0.0.1 (None when there is none), ready for clients."""
    server = shutil.which("redis-server")
    if server is None:
        return None
    port = free_port()
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(folder), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}"
