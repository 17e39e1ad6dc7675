"""Fleet scale, offline half (issue 13): analysis time per cache, peak memory, and report sizes and
render times for 1,000 and 10,000 caches x 30 days.

Each cache gets its own level, daily cycle, weekly dip, noise and (one in ten) a storage limit its
peaks exceed, so that the advice, the detail selection and the tables see a realistic mix. The
history is built in memory (no AWS, no file); `build_report` then runs exactly as `costwise report`
does, and every format renders.

Targets (issue 13): analysis under 10 ms per cache; Markdown under 60,000 characters at any fleet
size; the 1,000-cache HTML under 5 MB, rendered by headless Chromium in under 3 s. Not measured here (the fetch half is not built yet): calls
vs bound, fetch RSS, CPU per datapoint vs botocore's parse floor.

    python bench/bench_fleet.py            # 1,000 and 10,000 caches
    python bench/bench_fleet.py 1000       # one size
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from costwise.analysis.estimate import build_report  # noqa: E402
from costwise.model.settings import SizingSettings  # noqa: E402
from costwise.pricing import load_pricing  # noqa: E402
from costwise.render import render  # noqa: E402
from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame  # noqa: E402

END = datetime(2026, 11, 23, tzinfo=timezone.utc)  # a Monday
DAYS = 30
GIB = 2**30
MS_PER_CACHE = 10.0
MARKDOWN_CHARS = 60_000
HTML_BYTES_1000 = 5_000_000
CHROMIUM_SECONDS = 3.0
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,2000"]


def fleet(caches: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    window = Window(END - timedelta(days=DAYS), END)
    hours = np.arange(window.hours)
    hour_of_day = hours % 24
    weekday = (hours // 24) % 7
    envs = []
    for i in range(caches):
        level = GIB * 10 ** rng.uniform(-1, 1.5)  # 0.1 .. 32 GB
        rate = 10 ** rng.uniform(1.5, 4.5)  # mean ECPU/s, 30 .. 30,000
        daily = 1 + rng.uniform(0, 0.6) * np.sin(2 * np.pi * (hour_of_day - rng.integers(24)) / 24)
        weekly = np.where(weekday >= 5, rng.uniform(0.6, 1.0), 1.0)
        noise = rng.lognormal(0, 0.08, window.hours)
        frame = empty_frame(window)
        storage = level * (1 + rng.uniform(-0.001, 0.003) * hours / 24) * (0.9 + 0.1 * daily)
        frame["storage_avg_bytes"] = storage
        frame["storage_max_bytes"] = storage * rng.uniform(1.02, 1.15, window.hours)
        ecpu_per_second = rate * daily * weekly * noise
        frame["ecpu_sum"] = ecpu_per_second * 3600
        frame["ecpu_max_minute"] = ecpu_per_second * rng.uniform(1.1, 1.8, window.hours) * 60
        frame["throttled_sum"] = 0.0
        tight = i % 10 == 0
        limits = CurrentLimits(max_storage_gb=max(1, round(level / GIB * 0.9)) if tight else 1000,
                               max_ecpu_per_second=max(1000, round(rate * 4)), source="file")
        envs.append(EnvHistory(env=f"team-{i:05d}", cache=f"cache-{i:05d}", engine="valkey" if i % 3 else "redis",
                               region="us-east-1", limits=limits, frame=frame))
    return History(window, envs, "cloudwatch")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def chromium_seconds(html: str) -> float | None:
    """Wall time for headless Chromium to load, lay out and screenshot the page, less the same for a
    blank page (browser start-up is not the report's cost). Median of three."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        page, blank = Path(tmp, "report.html"), Path(tmp, "blank.html")
        page.write_text(html)
        blank.write_text("<!doctype html><title>blank</title>")

        def shot(path: Path) -> float:
            start = time.perf_counter()
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--screenshot={tmp}/shot.png",
                            path.as_uri()], check=True, capture_output=True, timeout=300)
            return time.perf_counter() - start

        shot(blank)  # a first start warms the disk cache
        return sorted(shot(page) - shot(blank) for _ in range(3))[1]


def measure(caches: int) -> list[str]:
    prices = load_pricing(None)
    start = time.perf_counter()
    history = fleet(caches)
    built = time.perf_counter() - start
    start = time.process_time()
    report = build_report(history, prices, SizingSettings(), "us-east-1")
    analysis_ms = (time.process_time() - start) * 1000 / caches
    print(f"\n{caches:,} caches x {DAYS} days ({caches * DAYS * 24 * 5 / 1e6:.1f} M hourly values; built in {built:.1f} s)")
    print(f"  analysis (cost, projection, limits): {analysis_ms:.1f} ms per cache CPU   target < {MS_PER_CACHE}")
    missed = []
    if analysis_ms >= MS_PER_CACHE:
        missed.append(f"{caches}: analysis {analysis_ms:.1f} ms per cache")
    for fmt in ("markdown", "html", "json"):
        start = time.perf_counter()
        text = render("report", report, fmt)
        seconds = time.perf_counter() - start
        size = len(text.encode())
        line = f"  report --format {fmt:8}: {seconds:6.2f} s, {size / 1e6:7.2f} MB ({len(text):,} characters)"
        if fmt == "markdown":
            line += f"   target < {MARKDOWN_CHARS:,} characters"
            if len(text) >= MARKDOWN_CHARS:
                missed.append(f"{caches}: markdown {len(text):,} characters")
        if fmt == "html" and caches <= 1000:
            line += f"   target < {HTML_BYTES_1000 / 1e6:.0f} MB"
            if size >= HTML_BYTES_1000:
                missed.append(f"{caches}: html {size / 1e6:.2f} MB")
        print(line)
        if fmt == "html" and caches <= 1000:
            seconds = chromium_seconds(text)
            if seconds is None:
                print("  chromium: not installed, render time not measured")
            else:
                print(f"  chromium load, layout and paint: {seconds:.2f} s (over a blank page's)   target < {CHROMIUM_SECONDS:.0f} s")
                if seconds >= CHROMIUM_SECONDS:
                    missed.append(f"{caches}: chromium {seconds:.2f} s")
    print(f"  peak RSS so far: {peak_rss_mb():.0f} MB (history, report and renders in one process)")
    return missed


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [1000, 10000]
    missed = []
    for caches in sizes:
        missed += measure(caches)
    print("\nnot measured here: GetMetricData calls vs bound, fetch RSS, CPU per datapoint vs botocore")
    if missed:
        print("MISSED: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
