"""Helpers shared by test modules (test modules never import each other)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
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


def redis_server(folder: Path, *extra: str):
    """For a fixture to `yield from`: a redis-server's URL, stopped afterwards. Without one the test
    is skipped here, and fails in CI, where .ci/run installs it."""
    import pytest

    started = start_redis_server(folder, *extra)
    if started is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (.ci/run installs it)")
        pytest.skip("redis-server not installed")
    proc, url = started
    yield url
    proc.terminate()
    proc.wait(timeout=10)


# ---- the CLI in a child process, with its peak memory (test_hostile*, test_accounts, test_dataset) ----

AS_OF = "2026-11-20T00:00:00Z"
END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=2)


class Result:
    def __init__(self, code: int, out: bytes, err: bytes, seconds: float, max_rss_mb: float):
        self.code, self.out_bytes, self.err_bytes, self.seconds, self.max_rss_mb = code, out, err, seconds, max_rss_mb
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def costwise(*args: str, cwd: Path | None = None, timeout: float = 60, env: dict | None = None, stdin=None,
             rss_bound_mb: float | None = None) -> Result:
    """Run `python -m costwise` in a child, with its peak RSS: VmHWM polled from /proc (wait4's
    ru_maxrss would count the forking pytest process too). The child is killed past `timeout`, or
    as soon as its memory passes `rss_bound_mb`, so a case that fails costs seconds, not the machine."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("COSTWISE_DEBUG", None)
    # the checkout under test, whatever the cwd (else a worktree's tests would run the editable install)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), full_env.get("PYTHONPATH", "")) if p)
    with open(os.devnull, "rb") if stdin is None else stdin as source:
        proc = subprocess.Popen([sys.executable, "-m", "costwise", *args], cwd=cwd or REPO, env=full_env,
                                stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        chunks: dict[str, bytes] = {}
        readers = [threading.Thread(target=lambda n, s: chunks.__setitem__(n, s.read()), args=(name, stream), daemon=True)
                   for name, stream in (("out", proc.stdout), ("err", proc.stderr))]
        for reader in readers:
            reader.start()
        start = time.monotonic()
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, _high_water_kb(proc.pid))
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout or (rss_bound_mb is not None and peak_kb > rss_bound_mb * 1024):
                proc.kill()
                pid, status, _ = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        for reader in readers:
            reader.join(5)
    return Result(proc.returncode, chunks.get("out", b""), chunks.get("err", b""), seconds, peak_kb / 1024)


def assert_no_escape(result: Result) -> None:
    assert b"\x1b" not in result.out_bytes and b"\x1b" not in result.err_bytes
    assert b"\x07" not in result.out_bytes and b"\x07" not in result.err_bytes


def assert_one_line(result: Result, code: int, *needles: str, seconds: float = 30) -> None:
    """The command failed as bad input must: exit `code`, one line on stderr holding every needle,
    no traceback, no "internal error", no terminal escape; within `seconds` (a refusal is quick)."""
    assert result.code == code, (result.code, result.err)
    lines = result.lines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert_no_escape(result)
    assert result.seconds < seconds, result.seconds


def signal_when(args, tmp_path: Path, ready, send: int, env: dict | None = None, wait: float = 60):
    """Start costwise with its temporary folder in tmp_path/tmp; once `ready(temp)` holds (it is
    inside the call or write that waits), send the signal `send`; (process, stderr, what is left in
    the temporary folder, as paths relative to it). matplotlib, finding no config folder it can
    create, would make one in the temporary folder: it is pointed at one it cannot create instead."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    full_env = {**os.environ, **(env or {}), "TMPDIR": str(temp), "MPLCONFIGDIR": str(blocker / "matplotlib"),
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    full_env.pop("COSTWISE_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "costwise", *args], cwd=REPO, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + wait
    while not ready(temp) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)  # inside the call that waits
    proc.send_signal(send)
    _, err = proc.communicate(timeout=60)
    return proc, err, sorted(str(p.relative_to(temp)) for p in temp.rglob("*"))


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
