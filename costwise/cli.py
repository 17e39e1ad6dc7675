"""Command line: parse options, wire the stages, print. No model logic lives here.

Heavy modules (pandas, boto3, matplotlib) are imported inside the commands that need them, so
`costwise --help` and `costwise whatif` stay fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from costwise import __version__
from costwise.errors import CostwiseError
from costwise.render import OutputFormat

app = typer.Typer(
    name="costwise",
    help=(
        "Cost estimator and right-sizing advisor for AWS ElastiCache Serverless.\n\n"
        "Start with `costwise report --demo` (no AWS account needed), price a hypothetical cache with "
        "`costwise whatif`, or read real usage with `costwise estimate --env prod`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

PricingOption = typer.Option(None, "--pricing", help="pricing.yaml to use instead of the bundled one.", metavar="PATH")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"costwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
) -> None:
    pass


def _print_table(renderable) -> None:
    from rich.console import Console

    Console().print(renderable)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


@app.command()
def whatif(
    engine: str = typer.Option("valkey", "--engine", help="valkey, redis-oss (or redis) or memcached."),
    region: str = typer.Option("us-east-1", "--region", help="Region whose prices to use."),
    storage_gb: float = typer.Option(..., "--storage-gb", help="Average data stored, in GB (GiB)."),
    ecpu_per_second: Optional[float] = typer.Option(None, "--ecpu-per-second", help="Average ECPUs per second."),
    requests_per_day: Optional[float] = typer.Option(None, "--requests-per-day", help="Requests a day (instead of --ecpu-per-second)."),
    kb_per_request: float = typer.Option(1.0, "--kb-per-request", help="KB transferred per request: each KB (at least 1 per request) is 1 ECPU."),
    ecpu_per_request: Optional[float] = typer.Option(None, "--ecpu-per-request", help="ECPUs per request, for commands heavier than their bytes."),
    max_storage_gb: Optional[float] = typer.Option(None, "--max-storage-gb", help="Storage limit (1..5000 GB): adds the worst-case bill."),
    max_ecpu_per_second: Optional[float] = typer.Option(None, "--max-ecpu-per-second", help="ECPU/s limit (1,000..15,000,000): adds the worst-case bill."),
    compare_engine: Optional[str] = typer.Option(None, "--compare-engine", help="Price the same workload on another engine, side by side."),
    compare_nodes: bool = typer.Option(False, "--compare-nodes", help="Also price the cheapest node-based cluster that holds the workload, and the break-even."),
    replicas: int = typer.Option(1, "--replicas", min=0, max=5, help="With --compare-nodes: replicas per shard (availability)."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table, json or markdown."),
    pricing: Optional[Path] = PricingOption,
) -> None:
    """Price a steady workload: storage and traffic in, monthly bill out. No AWS account needed.

    Examples:

    * `costwise whatif --storage-gb 0.2 --requests-per-day 10000000 --kb-per-request 1`

    * `costwise whatif --engine redis-oss --storage-gb 5 --ecpu-per-second 2000 --compare-engine valkey`

    * `costwise whatif --storage-gb 5 --ecpu-per-second 2000 --max-storage-gb 10 --max-ecpu-per-second 5000 --format json`
    """
    from costwise.pricing import load_pricing, normalize_engine
    from costwise.whatif import build_workload, price_workload

    if output_format is OutputFormat.html:
        raise CostwiseError("whatif prints table, json or markdown; use `costwise report` for HTML", 2)
    prices = load_pricing(pricing)
    workload = build_workload(
        storage_gb=storage_gb,
        ecpu_per_second=ecpu_per_second,
        requests_per_day=requests_per_day,
        kb_per_request=kb_per_request,
        ecpu_per_request=ecpu_per_request,
        max_storage_gb=max_storage_gb,
        max_ecpu_per_second=max_ecpu_per_second,
    )
    results = [price_workload(workload, prices, region, normalize_engine(engine))]
    if compare_engine is not None:
        results.append(price_workload(workload, prices, region, normalize_engine(compare_engine)))
    if compare_nodes:
        from costwise.model.nodes import NodeAssumptions, compare_with_nodes

        for result in results:
            comparison = compare_with_nodes(workload.storage_gb, workload.ecpu_per_second, prices.rates(region, result.engine),
                                            prices.node_types(region, result.engine), NodeAssumptions(replicas=replicas))
            if comparison is None:
                result.warnings.append(f"no node prices for {result.engine} in {region} in {prices.path}")
            result.nodes = comparison

    if output_format is OutputFormat.json:
        from costwise.render import to_json

        data = results[0].to_dict()
        if len(results) > 1:
            data["comparison"] = results[1].to_dict()
        sys.stdout.write(to_json(data))
        return
    if output_format is OutputFormat.markdown:
        from costwise.render.whatif import whatif_markdown

        sys.stdout.write(whatif_markdown(results))
        return
    from costwise.render.whatif import whatif_table

    _print_table(whatif_table(results))
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        _warn(warning)



# ---------------------------------------------------------------------------------------------
# Reading usage: the options estimate, fetch and report share.

ConfigOpt = typer.Option(None, "--config", help="costwise.yaml to read (default: ./costwise.yaml).", metavar="PATH")
EnvOpt = typer.Option(None, "--env", help="Environment from the config; repeat for several.", metavar="ENV")
AllOpt = typer.Option(False, "--all", help="Every environment in the config (the default when no --env is given).")
CacheOpt = typer.Option(None, "--cache", help="One serverless cache by name, without a config file.", metavar="NAME")
RegionOpt = typer.Option(None, "--region", help="AWS region (default: the config's, else us-east-1).")
EngineOpt = typer.Option(None, "--engine", help="With --cache: the engine, when DescribeServerlessCaches is not allowed.")
AsOfOpt = typer.Option(None, "--as-of", help="End of the window, ISO 8601 UTC (e.g. 2026-11-20T00:00:00Z); default now, floored to the hour.")
DaysOpt = typer.Option(30, "--days", min=1, max=455, help="Days of hourly history to read (1..455).")
EndpointOpt = typer.Option(None, "--endpoint-url", help="AWS endpoint (e.g. a local moto server). AWS_ENDPOINT_URL is honoured too.")
ProfileOpt = typer.Option(None, "--profile", help="AWS profile to use.")
MetricsFileOpt = typer.Option(None, "--metrics-file", help="Analyse a file saved by `costwise fetch` instead of reading AWS.", metavar="FILE")
DemoOpt = typer.Option(False, "--demo", help="Use the bundled 30-day demo history (dev, staging, prod); no AWS account needed.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar.")
RetryModeOpt = typer.Option("standard", "--retry-mode", help="botocore retry mode: standard or adaptive.")
MaxAttemptsOpt = typer.Option(8, "--max-attempts", min=1, max=30, help="botocore attempts per call, retries included.")


def _parse_as_of(text: str | None):
    if text is None:
        return None
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CostwiseError(f"--as-of: {text!r} is not an ISO 8601 time such as 2026-11-20T00:00:00Z", 2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


class _Progress:
    """A rich progress bar on stderr, only where a person is watching."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.task = None

    def plan(self, total_calls: int) -> None:
        if not self.enabled or total_calls <= 1:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("reading CloudWatch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("calls", total=total_calls)

    def page(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _load_sources(*, config, envs, all_envs, cache, region, engine, as_of, days, endpoint_url, profile,
                  metrics_file, demo, quiet, json_stdout, retry_mode, max_attempts):
    """Wire the chosen source: (History, Config or None, pricing region)."""
    from costwise.config import load_config, single_cache_config

    chosen = [name for name, on in (("--demo", demo), ("--metrics-file", metrics_file is not None), ("--cache", cache is not None)) if on]
    if len(chosen) > 1:
        raise CostwiseError(f"{' and '.join(chosen)} cannot be used together", 2)
    cfg = None
    if config is not None or (not demo and metrics_file is None and cache is None):
        cfg = load_config(config)
    elif Path("costwise.yaml").is_file() and not demo:
        cfg = load_config(None)  # budgets and sizing settings still apply to a saved file

    if demo:
        from costwise.resources import demo_history_path
        from costwise.sources.demo import DEMO_REGION
        from costwise.sources.history import load_history

        # the bundled file (made by scripts/make_demo_data.py), read like any saved history
        history = load_history(demo_history_path(), source_label="demo")
        return _select_saved(history, envs), None, DEMO_REGION
    if metrics_file is not None:
        from costwise.sources.history import load_history

        history = _select_saved(load_history(metrics_file), envs)
        if cfg is not None:
            for env in history.environments:
                if env.env in cfg.environments and cfg.environments[env.env].budget is not None:
                    env.budget = cfg.environments[env.env].budget
        pricing_region = region or (history.environments[0].region if history.environments else "us-east-1")
        return history, cfg, pricing_region

    from costwise.sources.aws import RETRY_MODES, AwsSession
    from costwise.sources.cloudwatch import collect_history
    from costwise.sources.plan import make_window

    if retry_mode not in RETRY_MODES:
        raise CostwiseError(f"--retry-mode: choose {' or '.join(RETRY_MODES)}", 2)
    if cache is not None:
        cfg = single_cache_config(cache, region or (cfg.region if cfg else "us-east-1"), engine)
    selected = cfg.select(envs, all_envs)
    default_region = region or cfg.region
    window = make_window(_parse_as_of(as_of), days)
    session = AwsSession(profile=profile, endpoint_url=endpoint_url, retry_mode=retry_mode, max_attempts=max_attempts)
    progress = _Progress(enabled=not quiet and not json_stdout and sys.stderr.isatty() and len(selected) > 3)
    try:
        history = collect_history(selected, default_region, window, session, on_page=progress.page, on_plan=progress.plan)
    finally:
        progress.close()
    return history, cfg, default_region


def _select_saved(history, envs):
    if not envs:
        return history
    known = {e.env: e for e in history.environments}
    missing = [n for n in envs if n not in known]
    if missing:
        raise CostwiseError(f"no environment {missing[0]!r} in {history.source} (has: {', '.join(known)})", 2)
    history.environments = [known[n] for n in dict.fromkeys(envs)]
    return history


def _settings(cfg):
    from costwise.config import dataclass_from_mapping
    from costwise.model.settings import SizingSettings

    if cfg is None or not cfg.sizing:
        return SizingSettings()
    return dataclass_from_mapping(SizingSettings, cfg.sizing, f"{cfg.path}: sizing")


def _pricing_path(pricing, cfg):
    if pricing is not None:
        return pricing
    return cfg.pricing if cfg is not None else None


def _build(history, cfg, pricing_region, pricing, budget=None):
    from costwise.pricing import load_pricing
    from costwise.report import build_report

    prices = load_pricing(_pricing_path(pricing, cfg))
    return build_report(history, prices, _settings(cfg), pricing_region, budget=budget)


@app.command()
def estimate(
    config: Optional[Path] = ConfigOpt,
    env: Optional[List[str]] = EnvOpt,
    all_envs: bool = AllOpt,
    cache: Optional[str] = CacheOpt,
    region: Optional[str] = RegionOpt,
    engine: Optional[str] = EngineOpt,
    as_of: Optional[str] = AsOfOpt,
    days: int = DaysOpt,
    endpoint_url: Optional[str] = EndpointOpt,
    profile: Optional[str] = ProfileOpt,
    metrics_file: Optional[Path] = MetricsFileOpt,
    demo: bool = DemoOpt,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table, json or markdown."),
    pricing: Optional[Path] = PricingOption,
    quiet: bool = QuietOpt,
    retry_mode: str = RetryModeOpt,
    max_attempts: int = MaxAttemptsOpt,
) -> None:
    """What each cache cost over the window, what the next 730 hours will cost, and whether its limits are right.

    Reads BytesUsedForCache, ElastiCacheProcessingUnits and ThrottledCmds from CloudWatch (hourly) and the
    current limits from DescribeServerlessCaches. Exit code 1 when an environment could not be read (the
    others are still reported), 2 for bad input.

    Examples:

    * `costwise estimate --env prod`

    * `costwise estimate --cache storefront-prod-valkey --region eu-west-1 --days 14 --format json`

    * `costwise estimate --metrics-file history.csv` (offline, from `costwise fetch`)
    """
    if output_format is OutputFormat.html:
        raise CostwiseError("estimate prints table, json or markdown; use `costwise report --format html`", 2)
    history, cfg, pricing_region = _load_sources(
        config=config, envs=env, all_envs=all_envs, cache=cache, region=region, engine=engine, as_of=as_of, days=days,
        endpoint_url=endpoint_url, profile=profile, metrics_file=metrics_file, demo=demo, quiet=quiet,
        json_stdout=output_format is OutputFormat.json, retry_mode=retry_mode, max_attempts=max_attempts)
    report = _build(history, cfg, pricing_region, pricing)
    if output_format is OutputFormat.json:
        from costwise.render import to_json

        sys.stdout.write(to_json(report.to_dict()))
    elif output_format is OutputFormat.markdown:
        from costwise.render.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from costwise.render.estimate import estimate_renderables

        for item in estimate_renderables(report):
            _print_table(item)
    for failed in report.failed:
        typer.echo(f"costwise: {failed.env}: {failed.error}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def fetch(
    output: Path = typer.Option(..., "--output", "-o", help="File to write: .csv, or .parquet (needs pyarrow).", metavar="FILE"),
    config: Optional[Path] = ConfigOpt,
    env: Optional[List[str]] = EnvOpt,
    all_envs: bool = AllOpt,
    cache: Optional[str] = CacheOpt,
    region: Optional[str] = RegionOpt,
    engine: Optional[str] = EngineOpt,
    as_of: Optional[str] = AsOfOpt,
    days: int = DaysOpt,
    endpoint_url: Optional[str] = EndpointOpt,
    profile: Optional[str] = ProfileOpt,
    quiet: bool = QuietOpt,
    retry_mode: str = RetryModeOpt,
    max_attempts: int = MaxAttemptsOpt,
) -> None:
    """Save hourly history and current limits to a file, so analysis can run offline (`--metrics-file`).

    Fetching needs AWS credentials; analysing the file does not. The file is written atomically.
    """
    from costwise.sources.history import save_history

    if output.suffix.lower() not in (".csv", ".parquet"):
        raise CostwiseError(f"{output}: use a .csv or .parquet file name", 2)
    if output.suffix.lower() == ".parquet":
        from costwise.sources.history import require_parquet

        require_parquet(output)  # say so before reading AWS, not after
    if not (output.parent if str(output.parent) else Path(".")).is_dir():
        raise CostwiseError(f"{output}: folder {output.parent} does not exist", 2)
    history, _, _ = _load_sources(
        config=config, envs=env, all_envs=all_envs, cache=cache, region=region, engine=engine, as_of=as_of, days=days,
        endpoint_url=endpoint_url, profile=profile, metrics_file=None, demo=False, quiet=quiet, json_stdout=False,
        retry_mode=retry_mode, max_attempts=max_attempts)
    save_history(history, output)
    good = [e for e in history.environments if e.error is None]
    typer.echo(f"wrote {output}: {len(good)} of {len(history.environments)} environments, "
               f"{history.window.hours} hours each, {history.api_calls} GetMetricData calls", err=True)
    for failed in history.environments:
        if failed.error:
            typer.echo(f"costwise: {failed.env}: {failed.error}", err=True)
    if len(good) < len(history.environments):
        raise typer.Exit(1)


FORMAT_BY_SUFFIX = {".html": OutputFormat.html, ".htm": OutputFormat.html, ".md": OutputFormat.markdown, ".json": OutputFormat.json}


@app.command()
def report(
    config: Optional[Path] = ConfigOpt,
    env: Optional[List[str]] = EnvOpt,
    all_envs: bool = AllOpt,
    cache: Optional[str] = CacheOpt,
    region: Optional[str] = RegionOpt,
    engine: Optional[str] = EngineOpt,
    as_of: Optional[str] = AsOfOpt,
    days: int = DaysOpt,
    endpoint_url: Optional[str] = EndpointOpt,
    profile: Optional[str] = ProfileOpt,
    metrics_file: Optional[Path] = MetricsFileOpt,
    demo: bool = DemoOpt,
    output_format: Optional[OutputFormat] = typer.Option(None, "--format", help="markdown, html or json (default: from --output's suffix, else markdown)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (atomically) instead of stdout.", metavar="FILE"),
    budget: Optional[float] = typer.Option(None, "--budget", min=0, help="Budget in USD for the total of the next 730 hours."),
    fail_on_budget: bool = typer.Option(False, "--fail-on-budget", help="Exit with code 3 when a projection exceeds its budget (per-environment `budget:` or --budget)."),
    pricing: Optional[Path] = PricingOption,
    quiet: bool = QuietOpt,
    retry_mode: str = RetryModeOpt,
    max_attempts: int = MaxAttemptsOpt,
) -> None:
    """The monthly cost report for people and CI: Markdown (job summary, PR comment), HTML with charts, or JSON.

    Exit codes: 0 fine; 3 over budget (with --fail-on-budget); 1 an environment could not be read
    (the others are still in the report); 2 bad input.

    Examples:

    * `costwise report --demo --output report.html` (no AWS account needed)

    * `costwise report --all --format markdown >> "$GITHUB_STEP_SUMMARY"`

    * `costwise report --env prod --budget 500 --fail-on-budget --output report.md`
    """
    fmt = output_format or (FORMAT_BY_SUFFIX.get(output.suffix.lower()) if output else None) or OutputFormat.markdown
    if fmt is OutputFormat.table:
        raise CostwiseError("report writes markdown, html or json; use `costwise estimate` for a terminal table", 2)
    history, cfg, pricing_region = _load_sources(
        config=config, envs=env, all_envs=all_envs, cache=cache, region=region, engine=engine, as_of=as_of, days=days,
        endpoint_url=endpoint_url, profile=profile, metrics_file=metrics_file, demo=demo, quiet=quiet,
        json_stdout=fmt is OutputFormat.json and output is None, retry_mode=retry_mode, max_attempts=max_attempts)
    result = _build(history, cfg, pricing_region, pricing, budget=budget)
    if fmt is OutputFormat.json:
        from costwise.render import to_json

        text = to_json(result.to_dict())
    elif fmt is OutputFormat.html:
        from costwise.render.templating import render_html

        text = render_html(result)
    else:
        from costwise.render.templating import render_markdown

        text = render_markdown(result)
    if output is not None:
        from costwise.atomic import atomic_write_text

        atomic_write_text(output, text)
        typer.echo(f"wrote {fmt.value} report to {output}", err=True)
    else:
        sys.stdout.write(text)
    for failed in result.failed:
        typer.echo(f"costwise: {failed.env}: {failed.error}", err=True)
    over = result.over_budget
    if over:
        typer.echo(f"costwise: over budget: {', '.join(over)}", err=True)
        if fail_on_budget:
            raise typer.Exit(3)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def migrate(
    from_redis: Optional[str] = typer.Option(None, "--from-redis", help="A running Redis or Valkey: redis://[:PASSWORD@]HOST:PORT (rediss:// for TLS).", metavar="URL"),
    from_cluster: Optional[str] = typer.Option(None, "--from-cluster", help="A node-based ElastiCache replication group id.", metavar="ID"),
    tls: bool = typer.Option(False, "--tls", help="With --from-redis: connect with TLS."),
    sample: str = typer.Option("60s", "--sample", help="With --from-redis: how long to sample (60s, 5m, 1h)."),
    peak_factor: float = typer.Option(2.0, "--peak-factor", min=1.0, help="With --from-redis: busiest traffic over the sampled rate, for the starting ECPU limit."),
    engine: Optional[str] = typer.Option(None, "--engine", help="Serverless engine to price (default: valkey for --from-redis, the cluster's engine for --from-cluster)."),
    region: str = typer.Option("us-east-1", "--region", help="Region: prices, and where the cluster is."),
    as_of: Optional[str] = AsOfOpt,
    days: int = DaysOpt,
    endpoint_url: Optional[str] = EndpointOpt,
    profile: Optional[str] = ProfileOpt,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table or json."),
    pricing: Optional[Path] = PricingOption,
) -> None:
    """What a cache that is not serverless yet would cost on ElastiCache Serverless.

    `--from-redis` samples a running server with INFO only (read-only) at the start and end of the
    sample; `--from-cluster` reads a node-based cluster's per-node CloudWatch metrics for the window
    (needs elasticache:DescribeReplicationGroups and cloudwatch:GetMetricData).

    Examples:

    * `costwise migrate --from-redis redis://localhost:6379 --sample 5m --peak-factor 3`

    * `costwise migrate --from-cluster shop-cache --region eu-west-1 --days 14 --format json`
    """
    from costwise.pricing import load_pricing, normalize_engine

    if (from_redis is None) == (from_cluster is None):
        raise CostwiseError("give one of --from-redis URL or --from-cluster ID", 2)
    if output_format not in (OutputFormat.table, OutputFormat.json):
        raise CostwiseError("migrate prints table or json", 2)
    prices = load_pricing(pricing)
    settings = _settings(None)
    if from_redis is not None:
        from costwise.migration import from_redis as estimate_redis
        from costwise.sources.redis_info import parse_duration, redact, sample_info

        seconds = parse_duration(sample)
        target = normalize_engine(engine or "valkey")
        prices.rates(region, target)  # a bad region or engine fails before sampling
        if output_format is not OutputFormat.json:
            typer.echo(f"sampling {redact(from_redis)} for {seconds:g} s (INFO only)...", err=True)
        snapshots = sample_info(from_redis, seconds, tls=tls)
        data = estimate_redis(redact(from_redis), snapshots, prices, region, target, peak_factor, settings)
    else:
        from costwise.migration import from_cluster as estimate_cluster
        from costwise.sources.aws import AwsSession
        from costwise.sources.cluster import read_cluster
        from costwise.sources.plan import make_window

        window = make_window(_parse_as_of(as_of), days)
        session = AwsSession(profile=profile, endpoint_url=endpoint_url)
        shape, frames, _ = read_cluster(session, region, from_cluster, window)
        data = estimate_cluster(shape, frames, window, prices, region, engine, settings)
    if output_format is OutputFormat.json:
        from costwise.render import to_json

        sys.stdout.write(to_json(data))
        return
    from costwise.render.migrate import migrate_renderables

    for item in migrate_renderables(data):
        _print_table(item)


pricing_app = typer.Typer(help="Show the prices in use, or refresh them from the AWS Price List API.", no_args_is_help=True)
app.add_typer(pricing_app, name="pricing")


@pricing_app.command("show")
def pricing_show(
    region: Optional[List[str]] = typer.Option(None, "--region", help="Only this region; repeat for several."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Only this engine; repeat for several."),
    nodes: bool = typer.Option(False, "--nodes", help="Also list node-based prices."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="table or json."),
    pricing: Optional[Path] = PricingOption,
) -> None:
    """The rates costwise uses, and where and when each came from."""
    from costwise.pricing import ENGINES, load_pricing, normalize_engine

    book = load_pricing(pricing)
    regions = region or book.regions
    engines = [normalize_engine(e) for e in engine] if engine else list(ENGINES)
    rows = []
    for r in regions:
        for e in engines:
            rates = book.rates(r, e)
            row = {
                "region": r,
                "engine": e,
                "storage_per_gb_hour": rates.storage_per_gb_hour,
                "ecpu_per_million": rates.ecpu_per_million,
                "min_storage_gb": rates.min_storage_gb,
                "sources": {k: vars(v) for k, v in rates.sources.items()},
            }
            if nodes:
                row["nodes"] = [vars(n) for n in book.node_types(r, e)]
            rows.append(row)
    if output_format is OutputFormat.json:
        from costwise.render import to_json

        sys.stdout.write(to_json({"file": str(book.path), "bytes_per_gb": book.bytes_per_gb, "hours_per_month": book.hours_per_month, "rates": rows}))
        return
    from rich.table import Table

    table = Table(title=f"Prices from {book.path}", title_justify="left")
    for column in ("region", "engine", "$/GB-hour", "$/M ECPU", "min GB", "as of", "confidence"):
        table.add_column(column, justify="right" if column.startswith(("$", "min")) else "left", no_wrap=True)
    for row in rows:
        srcs = row["sources"].values()
        confidence = min((s["confidence"] for s in srcs), key=["low", "medium", "high", "unknown"].index)
        table.add_row(row["region"], row["engine"], f"{row['storage_per_gb_hour']:g}", f"{row['ecpu_per_million']:g}",
                      f"{row['min_storage_gb']:g}", max(s["as_of"] for s in srcs), confidence)
    _print_table(table)
    if nodes:
        node_table = Table(title="Node-based, on-demand", title_justify="left")
        for column in ("region", "engine", "node type", "$/hour", "GiB", "vCPU", "confidence"):
            node_table.add_column(column, justify="right" if column in ("$/hour", "GiB", "vCPU") else "left", no_wrap=True)
        for row in rows:
            for node in row["nodes"]:
                node_table.add_row(row["region"], row["engine"], node["name"], f"{node['hourly']:g}", f"{node['memory_gib']:g}",
                                   str(node["vcpu"]), node["confidence"])
        _print_table(node_table)


@pricing_app.command("update")
def pricing_update(
    region: Optional[List[str]] = typer.Option(None, "--region", help="Region to refresh; repeat for several (default: those in the file)."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Engine to refresh; repeat (default: all three)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="pricing.yaml to update (default: --pricing, else ./pricing.yaml).", metavar="PATH"),
    write: bool = typer.Option(False, "--write", help="Write the file. Without it this is a dry run that shows the diff."),
    pricing: Optional[Path] = PricingOption,
    api_region: str = typer.Option("us-east-1", "--api-region", help="Where to call the Price List API: us-east-1, eu-central-1 or ap-south-1."),
    endpoint_url: Optional[str] = EndpointOpt,
    profile: Optional[str] = ProfileOpt,
) -> None:
    """Refresh rates from the AWS Price List API (read-only; needs pricing:GetProducts).

    Keeps entries it did not touch, records the SKU and date for each rate it sets, reports any SKU
    it cannot interpret instead of guessing, and shows what changed. Dry run unless --write.
    """
    from costwise.atomic import atomic_write_text
    from costwise.pricing import ENGINES, load_pricing, normalize_engine, validate_pricing
    from costwise.pricing_update import PRICE_LIST_REGIONS, dump_pricing, fetch_price_list, merge_rates
    from costwise.sources.aws import AwsSession

    if api_region not in PRICE_LIST_REGIONS:
        raise CostwiseError(f"--api-region: the Price List API is only in {', '.join(PRICE_LIST_REGIONS)}", 2)
    target = output or pricing or Path("pricing.yaml")
    base = load_pricing(target if target.exists() else pricing)
    regions = list(dict.fromkeys(region or base.regions))
    engines = [normalize_engine(e) for e in engine] if engine else list(ENGINES)
    parsed = fetch_price_list(AwsSession(profile=profile, endpoint_url=endpoint_url), regions, api_region)
    data, changes, notes = merge_rates(base.raw, parsed, regions, engines)
    validate_pricing(data, target)  # never write a file costwise itself would refuse

    for line in parsed.unreadable:
        typer.echo(f"not interpreted: {line}", err=True)
    for line in notes:
        typer.echo(f"note: {line}", err=True)
    if parsed.skipped:
        typer.echo(f"skipped {len(parsed.skipped)} SKUs (extended-support surcharges)", err=True)
    if changes:
        from rich.table import Table

        table = Table(title=f"{len(changes)} change(s) to {target}", title_justify="left")
        for column in ("field", "old", "new"):
            table.add_column(column)
        for change in changes:
            table.add_row(change.path, "—" if change.old is None else f"{change.old:g}", f"{change.new:g}")
        _print_table(table)
    else:
        typer.echo(f"no rate changes for {', '.join(regions)}", err=True)
    if write:
        atomic_write_text(target, dump_pricing(data))
        typer.echo(f"wrote {target}", err=True)
    elif changes:
        typer.echo(f"dry run: nothing written; add --write to save {target}", err=True)


def main() -> None:
    """Console entry point: user errors become one line on stderr and an exit code."""
    try:
        app()
    except CostwiseError as exc:
        typer.echo(f"costwise: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("costwise: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a user error: still one line unless asked for more
        if os.environ.get("COSTWISE_DEBUG"):
            raise
        typer.echo(f"costwise: internal error: {type(exc).__name__}: {exc} (set COSTWISE_DEBUG=1 for a traceback)", err=True)
        sys.exit(1)
