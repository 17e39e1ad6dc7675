"""Fleet scale (issue 13), for 1,000 and 10,000 caches x 30 days, in two halves.

Fetch and end to end: `costwise fetch --all-regions` against tests/cwfake.FleetFake (two regions;
GetMetricData's limits and call quota enforced, answered in the protocol botocore picks), then
`costwise report` in HTML and Markdown from the dataset it wrote, each a real process. Printed:
GetMetricData calls vs the lower bound, peak RSS of the fetch's whole process tree (workers
included), client CPU per datapoint (everything the fetch's processes spent: start-up, listing,
parsing, placing, writing) vs botocore's own parse of the same responses, and the wall time of
fetch + both reports.

Offline: analysis time per cache, peak memory, and report sizes and render times.

Each cache gets its own level, daily cycle, weekly dip, noise and (one in ten) a storage limit its
peaks exceed, so that the advice, the detail selection and the tables see a realistic mix. The
history is built in memory (no AWS, no file); `build_report` then runs exactly as `costwise report`
does, and every format renders.

Targets (issue 13): analysis under 10 ms per cache; Markdown under 60,000 characters at any fleet
size; the 1,000-cache HTML under 5 MB, rendered by headless Chromium in under 3 s; calls equal to
the bound; fetch RSS under 1 GB at 10,000 caches; client CPU per datapoint within 1.5x botocore's
parse floor; 10,000 caches fetched, analysed and reported in under 6 minutes.

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


FETCH_RSS_MB = 1024
FLOOR_FACTOR = 1.5
END_TO_END_S = 360
AS_OF = "2026-11-23T00:00:00Z"
REGIONS = ("us-east-1", "eu-west-1")


def parse_floor() -> dict[str, float]:
    """botocore's own parse of one full GetMetricData page (140 queries x 720 points = 100,800),
    us per datapoint: as a default client parses it (a datetime per timestamp), and as costwise's
    metric client does (timestamps kept as numbers). JSON is what botocore 1.44 speaks to
    CloudWatch; CBOR is printed beside it."""
    import json

    import botocore.session
    from botocore.parsers import JSONParser, RpcV2CBORParser

    from costwise.sources.plan import build_queries
    from tests.cwfake import FleetFake, encode

    caches = [f"c{i:04d}" for i in range(28)]
    fake = FleetFake({"us-east-1": caches})
    fake.httpd.server_close()
    queries = [q.payload() for q in build_queries(caches)]
    start = datetime.fromisoformat(AS_OF.replace("Z", "+00:00")) - timedelta(days=DAYS)
    request = {"MetricDataQueries": queries, "StartTime": start.timestamp(), "EndTime": start.timestamp() + DAYS * 86400}
    shape = botocore.session.get_session().get_service_model("cloudwatch").operation_model("GetMetricData").output_shape
    out = {}
    for protocol, parser_class in (("json", JSONParser), ("cbor", RpcV2CBORParser)):
        cbor = protocol == "cbor"
        fake.calls_per_second = 1e9
        _, body = fake.get_metric_data("us-east-1", encode(request) if cbor else json.dumps(request).encode(), cbor=cbor)
        response = {"body": body, "headers": {"smithy-protocol": "rpc-v2-cbor"} if cbor else {}, "status_code": 200}
        for label, parser in (("default", parser_class()), ("raw", parser_class(timestamp_parser=lambda v: v))):
            best = float("inf")
            for _ in range(3):
                begin = time.process_time()
                parsed = parser.parse(response, shape)
                best = min(best, time.process_time() - begin)
            points = sum(len(r["Values"]) for r in parsed["MetricDataResults"])
            out[f"{protocol} {label}"] = best / points * 1e6
    return out


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants now (workers included), KiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_measured(args: list[str], cwd: Path, env: dict) -> tuple[float, float, float, str]:
    """(wall s, CPU s of the process tree, peak tree RSS MB, stderr) of one costwise command."""
    import os

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("costwise")), *args], cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.05)
    err = proc.stderr.read()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"costwise {' '.join(args)} failed ({proc.returncode}): {err[-500:]}")
    return wall, cpu, peak / 1024, err


DRIVER_CALLS = 5  # issue 21: reading the drivers (default --drivers top:20) costs a fleet at most 5 more calls


def measure_fetch(caches: int, floor: dict[str, float]) -> list[str]:
    from costwise.sources.plan import minimum_calls
    from tests.cwfake import FleetFake

    names = [f"cache-{i:05d}" for i in range(caches)]
    per_region = {region: names[k :: len(REGIONS)] for k, region in enumerate(REGIONS)}
    points = caches * 5 * DAYS * 24
    bound = sum(minimum_calls(len(v) * 5, DAYS * 24) for v in per_region.values())
    env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    missed = []
    print(f"\n{caches:,} caches x {DAYS} days through the CLI ({points / 1e6:.1f} M datapoints, {len(REGIONS)} regions)")
    with tempfile.TemporaryDirectory() as tmp, FleetFake(per_region) as fake:
        folder = Path(tmp)
        fetch_wall, fetch_cpu, fetch_rss, _ = run_measured(
            ["fetch", "--all-regions", "--endpoint-url", fake.url, "--as-of", AS_OF, "--days", str(DAYS), "-q", "--timeout", "3600",
             "--output", "fleet/"], folder, env)
        per_point = fetch_cpu / points * 1e6
        print(f"  GetMetricData calls: {fake.metric_calls} (lower bound {bound} for the usage, plus at most {DRIVER_CALLS} for the "
              f"20 costliest caches' drivers; {fake.throttled} throttled and retried)")
        print(f"  fetch: {fetch_wall:.1f} s wall, {fetch_cpu:.1f} s CPU, peak RSS {fetch_rss:.0f} MB (all processes)"
              + (f"   target < {FETCH_RSS_MB} MB" if caches >= 10_000 else ""))
        print(f"  client CPU per datapoint: {per_point:.2f} us, everything included; botocore's parse alone: "
              f"{floor['json default']:.2f} us (JSON) / {floor['cbor default']:.2f} us (CBOR) as clients parse by default, "
              f"{floor['json raw']:.2f} us (JSON) with timestamps kept as numbers   target < {FLOOR_FACTOR} x {floor['json default']:.2f} us")
        if not bound < fake.metric_calls <= bound + DRIVER_CALLS:
            missed.append(f"{caches}: {fake.metric_calls} calls, bound {bound} + {DRIVER_CALLS} for the drivers")
        if caches >= 10_000 and fetch_rss >= FETCH_RSS_MB:
            missed.append(f"{caches}: fetch RSS {fetch_rss:.0f} MB")
        if per_point >= FLOOR_FACTOR * floor["json default"]:
            missed.append(f"{caches}: {per_point:.2f} us per datapoint")
        total = fetch_wall
        for fmt, out in (("html", "report.html"), ("markdown", "report.md")):
            wall, cpu, rss, _ = run_measured(["report", "--metrics-file", "fleet", "-q", "--format", fmt, "--output", out], folder, env)
            total += wall
            print(f"  report --format {fmt:8} from the dataset: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB, "
                  f"{(folder / out).stat().st_size / 1e6:.2f} MB")
        print(f"  end to end (fetch, analyse, report in HTML and Markdown): {total:.0f} s" + (f"   target < {END_TO_END_S} s" if caches >= 10_000 else ""))
        if caches >= 10_000 and total >= END_TO_END_S:
            missed.append(f"{caches}: end to end {total:.0f} s")
    return missed


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:] if not arg.startswith("-")] or [1000, 10000]
    missed = []
    floor = parse_floor()
    print("botocore's parse of a 100,800-point GetMetricData page, per datapoint: "
          + ", ".join(f"{name} {value:.2f} us" for name, value in floor.items()))
    for caches in sizes:
        missed += measure_fetch(caches, floor)
    for caches in sizes:
        missed += measure(caches)
    if missed:
        print("MISSED: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
