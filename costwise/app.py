"""One call per command: options in, one typed result out. The CLI parses, calls one of these,
renders and picks the exit code; tests and other programs can call them directly.

Each call wires the stages: choose a source -> read the usage contract -> analyse (pure) -> result.
Heavy modules (pandas, boto3) are imported inside, so `costwise --help` and `whatif` stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from costwise.errors import CostwiseError, InputError
from costwise.options import SourceOptions

if TYPE_CHECKING:  # pragma: no cover
    from costwise.analysis.estimate import Report
    from costwise.analysis.migrate import ClusterMigration, RedisMigration
    from costwise.analysis.pricing import PriceListing
    from costwise.analysis.whatif import WhatIf
    from costwise.config import Config
    from costwise.model.settings import SizingSettings
    from costwise.pricing.update import Change
    from costwise.usage import History


def parse_as_of(text: str | None):
    if text is None:
        return None
    from costwise.fmt import parse_iso_utc, shorten

    try:
        moment = parse_iso_utc(text)
    except (ValueError, OverflowError):
        raise InputError(f"--as-of: {shorten(text)} is not an ISO 8601 time such as 2026-11-20T00:00:00Z") from None
    if not 2010 <= moment.year <= 2999:  # CloudWatch keeps 455 days; year 1 would overflow the window
        raise InputError(f"--as-of: {shorten(text)} is not a time CloudWatch can have data for")
    return moment


def sizing_settings(cfg: "Config | None") -> "SizingSettings":
    from costwise.config import dataclass_from_mapping
    from costwise.model.settings import SizingSettings

    if cfg is None or not cfg.sizing:
        return SizingSettings()
    return dataclass_from_mapping(SizingSettings, cfg.sizing, f"{cfg.path}: sizing")


def driver_settings(cfg: "Config | None"):
    """`drivers:` in costwise.yaml (compression ratio...), checked like `sizing:`."""
    from costwise.config import dataclass_from_mapping
    from costwise.model.drivers import DriverSettings

    if cfg is None or not cfg.drivers:
        return DriverSettings()
    return dataclass_from_mapping(DriverSettings, cfg.drivers, f"{cfg.path}: drivers")


def costliest_first(cfg: "Config | None"):
    """A cache's window cost at costwise.yaml's (or the bundled) prices: how `--drivers top:N` ranks.
    The prices are loaded only when a ranking is needed (`fetch` never needs them otherwise)."""
    from functools import lru_cache

    @lru_cache(maxsize=1)
    def ranker():
        from costwise.analysis.estimate import window_cost_ranker
        from costwise.pricing import load_pricing

        return window_cost_ranker(load_pricing(cfg.pricing if cfg is not None else None))

    return lambda env: ranker()(env)


@dataclass
class Usage:
    """What the source options chose and read: the history, the config (if any) and the pricing region."""

    history: "History"
    config: "Config | None"
    pricing_region: str
    session: object = None  # the AWS session, when AWS was read
    drivers: object = None  # the DriverReader holding every cache read from AWS (`read_drivers=False`: not read yet)

    def prices(self, pricing: Path | None):
        """The rates: the --pricing file, else costwise.yaml's `pricing`, else the bundled ones."""
        from costwise.pricing import load_pricing

        return load_pricing(pricing if pricing is not None else (self.config.pricing if self.config is not None else None))


def read_usage(opts: SourceOptions, progress=None, shard: tuple[int, int] | None = None, read_drivers: bool = True) -> Usage:
    """Choose the source the options name (demo, a saved file, or CloudWatch) and read it.
    `shard` (K, N): only the environments and accounts of shard K of N (`fetch --shard`).
    `read_drivers` False: the cost drivers are left for the caller to read (Usage.drivers), for
    the caches it picks once the usage is analysed (watch: the alarmed ones)."""
    from costwise.config import load_config, single_cache_config
    from costwise.sources.cloudwatch import DriverChoice

    driver_choice = DriverChoice.parse(opts.drivers)  # bad input, whatever the source
    chosen = [name for name, on in (("--demo", opts.demo), ("--metrics-file", opts.metrics_file is not None),
                                    ("--cache", opts.cache is not None)) if on]
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)} cannot be used together")
    cfg = None
    if opts.all_regions and (opts.demo or opts.metrics_file is not None or opts.cache is not None):
        raise InputError("--all-regions reads AWS: not with --demo, --metrics-file or --cache")
    if opts.all_regions and opts.config is None and not Path("costwise.yaml").is_file():
        from costwise.config import Config

        cfg = Config(path=None, region=opts.region or "us-east-1", environments={})  # every cache is discovered
    elif opts.config is not None or not chosen:
        cfg = load_config(opts.config)
    elif Path("costwise.yaml").is_file() and not opts.demo:
        cfg = load_config(None)  # budgets and sizing settings still apply to a saved file

    if opts.demo or opts.metrics_file is not None:
        from costwise.sources.demo import DEMO_REGION, DemoSource
        from costwise.sources.history_file import HistoryFileSource

        source = DemoSource() if opts.demo else HistoryFileSource(opts.metrics_file)
        history = source.read().select(opts.env)
        if cfg is not None:
            for env in history.environments:  # budgets and tags as costwise.yaml says now
                configured = cfg.environments.get(env.env)
                if configured is not None and configured.budget is not None:
                    env.budget = configured.budget
                if configured is not None and configured.tags:
                    env.tags = dict(configured.tags)
        region = DEMO_REGION if opts.demo else opts.region or (history.environments[0].region if history.environments else "us-east-1")
        return Usage(history, cfg, region)

    from costwise.sources import in_shard
    from costwise.sources.aws import RETRY_MODES, AwsSession
    from costwise.sources.cloudwatch import CloudWatchSource, DriverReader, FetchPool
    from costwise.usage import History, make_window

    if opts.retry_mode not in RETRY_MODES:
        raise InputError(f"--retry-mode: choose {' or '.join(RETRY_MODES)}")
    if opts.cache is not None:
        cfg = single_cache_config(opts.cache, opts.region or (cfg.region if cfg else "us-east-1"), opts.engine)
    # accounts:, organization: and --all-regions add every cache they find, unless --env or --cache picked some
    fleet = opts.cache is None and not opts.env and bool(cfg.accounts or cfg.organization or opts.all_regions)
    configured = cfg.select(opts.env, opts.all_envs) if cfg.environments or not fleet else []
    selected = [env for env in configured if in_shard(env.name, shard)]
    region = opts.region or cfg.region
    session = AwsSession(profile=opts.profile, endpoint_url=opts.endpoint_url, retry_mode=opts.retry_mode,
                         max_attempts=opts.max_attempts, timeout=opts.timeout)
    window = make_window(parse_as_of(opts.as_of), opts.days)
    drivers = DriverReader(driver_choice, window, costliest_first(cfg))
    pool = FetchPool(opts.jobs)
    source = CloudWatchSource(selected, region, window, session, on_page=progress.page if progress else None,
                              on_plan=progress.plan if progress else None, pool=pool, drivers=drivers)
    try:
        history = source.read() if selected else History(window, [], "cloudwatch")
        if fleet:
            from costwise.config import AccountConfig
            from costwise.sources.accounts import AccountsSource

            # --all-regions: this account too, its configured environments not repeated
            accounts = ((AccountConfig("", None, (region,)),) if opts.all_regions else ()) + cfg.accounts
            known = frozenset((env.region or region, env.cache) for env in cfg.environments.values())
            more = AccountsSource(accounts, window, session, cfg.organization, on_page=progress.page if progress else None,
                                  shard=shard, all_regions=opts.all_regions, known=known, pool=pool, drivers=drivers).read()
            history.environments.extend(more.environments)
            history.api_calls += more.api_calls
        if read_drivers:
            history.api_calls += drivers.read()
    except BaseException:  # Ctrl-C above all: queued batches are dropped, not awaited
        pool.close(wait=False)
        raise
    finally:
        pool.close()
        if progress is not None:
            progress.close()
    return Usage(history, cfg, region, session, drivers)


def existing_commitment(usage: Usage, read_from_aws: bool) -> tuple[float | None, str | None, list[str]]:
    """Database Savings Plans already bought: costwise.yaml's savings_plan.commitment_per_hour, else
    (with --read-savings-plans) the account's active plans. (commitment, where from, notes)."""
    cfg = usage.config
    if cfg is not None and cfg.savings_plan_commitment is not None:
        return cfg.savings_plan_commitment, "costwise.yaml", []
    if not read_from_aws:
        return None, None, []
    if usage.session is None:
        return None, None, ["--read-savings-plans reads AWS: it does nothing with --demo or --metrics-file"]
    from costwise.errors import AwsError
    from costwise.sources import aws

    try:
        client = usage.session.client("savingsplans", "us-east-1")  # a global API, served from us-east-1
        commitment = aws.database_savings_plan_commitment(client)
    except AwsError as exc:
        return None, None, [f"existing Savings Plans not read ({exc}); set savings_plan.commitment_per_hour in costwise.yaml"]
    except Exception as exc:  # botocore's errors, classified
        return None, None, [f"existing Savings Plans not read ({aws.describe_error(exc, 'DescribeSavingsPlans')}); "
                            "set savings_plan.commitment_per_hour in costwise.yaml"]
    return (commitment, "AWS (DescribeSavingsPlans)", []) if commitment > 0 else (None, None, [])


def estimate(opts: SourceOptions, pricing: Path | None = None, budget: float | None = None, progress=None,
             iac: Path | None = None) -> "Report":
    """estimate and report: cost over the window, the projection, limit advice, per environment;
    with `iac`, the advice as changes to that infrastructure code (report.suggestion)."""
    from costwise.analysis.estimate import build_report

    if budget is not None and not 0 <= budget < 1e12:  # NaN fails this too
        raise InputError("--budget: a number of US dollars a month, 0 or more")
    usage = read_usage(opts, progress)
    cfg = usage.config
    prices = usage.prices(pricing)
    commitment, source, notes = existing_commitment(usage, opts.read_savings_plans)
    files = None
    if iac is not None:  # read before the analysis: a bad file is bad input, found early
        from costwise.iac import read_iac

        files = read_iac(iac, cfg.cdk_keys if cfg is not None else None)
    report = build_report(usage.history, prices, sizing_settings(cfg), usage.pricing_region, budget=budget,
                          existing_commitment=commitment, commitment_source=source, notes=notes,
                          detail_limit=cfg.report_detail if cfg is not None else 25,
                          group_by=cfg.report_group_by if cfg is not None else "auto", driver_settings=driver_settings(cfg))
    if files is not None:
        from costwise.analysis.suggest import suggest

        report.suggestion = suggest(report, files)
    return report


def suggest(opts: SourceOptions, iac: Path, pricing: Path | None = None, progress=None):
    """`costwise suggest`: the recommended limits as changes to the infrastructure code at `iac`."""
    report = estimate(opts, pricing, progress=progress, iac=iac)
    report.suggestion.failed = [(e.env, e.error) for e in report.failed]
    return report.suggestion


def is_dataset_output(shown: str) -> bool:
    """`fetch --output FOLDER/`, the slash written out: a partitioned Parquet dataset (a folder
    named by mistake, without it, stays an error rather than a surprise)."""
    return shown.endswith("/")


def check_history_output(output: Path, shown: str | None = None) -> None:
    """What `fetch --output` needs, checked before AWS is read rather than after."""
    if str(output) == "-":
        return  # CSV on standard output
    suffix = output.suffix.lower()
    if is_dataset_output(shown or str(output)):
        from costwise.sources.history_file import require_parquet

        require_parquet(output)
        if output.exists() and not output.is_dir():
            raise InputError(f"{shown}: not a folder")
        if not (output.parent if str(output.parent) else Path(".")).is_dir():
            raise InputError(f"{output}: folder {output.parent} does not exist")
        return
    if output.is_dir():
        raise InputError(f"{output}: is a folder; give a file name, or {output}/ for a Parquet dataset partitioned by account and region")
    if suffix not in (".csv", ".parquet") and output.exists() and not output.is_file():
        suffix = ".csv"  # a device or FIFO (/dev/stdout): CSV written into it
    elif suffix not in (".csv", ".parquet"):
        raise InputError(f"{output}: use a .csv or .parquet file name (or - for standard output)")
    if suffix == ".parquet":
        from costwise.sources.history_file import require_parquet

        require_parquet(output)
    if not (output.parent if str(output.parent) else Path(".")).is_dir():
        raise InputError(f"{output}: folder {output.parent} does not exist")


def fetch(opts: SourceOptions, output: Path, progress=None, shard: str | None = None, shown: str | None = None) -> "History":
    """Read CloudWatch and save the history to `output` (atomically) for offline analysis; with
    `shard` "K/N", only shard K's environments and discovered caches (N jobs, one folder of files).
    An output named FOLDER/ (`shown`, as typed) gets a partitioned dataset, account=/region=."""
    from costwise.sources import parse_shard
    from costwise.sources.history_file import save_dataset, save_history

    parts = parse_shard(shard)
    check_history_output(output, shown)
    history = read_usage(opts, progress, parts).history
    if str(output) != "-" and is_dataset_output(shown or str(output)):
        save_dataset(history, output, parts)
    else:
        save_history(history, output)
    return history


def whatif(*, engine: str, region: str, storage_gb: float, ecpu_per_second: float | None, requests_per_day: float | None,
           kb_per_request: float, ecpu_per_request: float | None, max_storage_gb: float | None,
           max_ecpu_per_second: float | None, compare_engine: str | None, compare_nodes: bool, replicas: int,
           pricing: Path | None, savings_plan: bool = False) -> "WhatIf":
    from costwise.analysis.whatif import build_workload, what_if
    from costwise.pricing import load_pricing

    prices = load_pricing(pricing)
    workload = build_workload(storage_gb=storage_gb, ecpu_per_second=ecpu_per_second, requests_per_day=requests_per_day,
                              kb_per_request=kb_per_request, ecpu_per_request=ecpu_per_request,
                              max_storage_gb=max_storage_gb, max_ecpu_per_second=max_ecpu_per_second)
    return what_if(workload, prices, region, engine, compare_engine, compare_nodes, replicas, savings_plan)


def migrate_from_redis(url: str, sample: str, *, tls: bool, peak_factor: float, engine: str | None, region: str,
                       pricing: Path | None, announce=None, timeout: float = 300.0) -> "RedisMigration":
    """Sample a running server with INFO and price it on serverless. `announce(text)` says what it waits for."""
    from costwise.analysis.migrate import from_redis
    from costwise.pricing import load_pricing, normalize_engine
    from costwise.sources.redis_info import RedisSource, parse_duration

    seconds = parse_duration(sample)
    if not 1 <= peak_factor <= 1000:  # typer's min=1 lets inf and nan through
        raise InputError("--peak-factor: a number from 1 to 1,000")
    prices = load_pricing(pricing)
    target = normalize_engine(engine or "valkey")
    prices.rates(region, target)  # a bad region or engine fails before sampling
    source = RedisSource(url, seconds, tls=tls, timeout=min(10.0, timeout))
    if announce is not None:
        announce(f"sampling {source.label} for {seconds:g} s (INFO only)...")
    sample_read = source.read()
    try:
        return from_redis(sample_read, source.label, prices, region, target, peak_factor, sizing_settings(None))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise CostwiseError(f"{source.label}: the INFO reply could not be read (not a Redis or Valkey server?)") from None


def migrate_from_cluster(group_id: str, *, region: str, as_of: str | None, days: int, endpoint_url: str | None,
                         profile: str | None, engine: str | None, pricing: Path | None, timeout: float = 300.0) -> "ClusterMigration":
    from costwise.analysis.migrate import from_cluster
    from costwise.pricing import load_pricing
    from costwise.sources.aws import AwsSession
    from costwise.sources.cluster import ClusterSource
    from costwise.usage import make_window

    prices = load_pricing(pricing)
    window = make_window(parse_as_of(as_of), days)
    usage = ClusterSource(AwsSession(profile=profile, endpoint_url=endpoint_url, timeout=timeout), region, group_id, window).read()
    return from_cluster(usage, prices, region, engine, sizing_settings(None), as_of=window.end)


def pricing_listing(regions: list[str] | None, engines: list[str] | None, nodes: bool, pricing: Path | None) -> "PriceListing":
    from costwise.analysis.pricing import list_prices
    from costwise.pricing import load_pricing

    return list_prices(load_pricing(pricing), regions, engines, nodes)


@dataclass
class PricingUpdate:
    """A Price List refresh: what would change in `target`, and what could not be used."""

    target: Path
    regions: list[str]
    text: str  # the new file
    changes: list["Change"] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    skipped: int = 0


def pricing_update(*, regions: list[str] | None, engines: list[str] | None, output: Path | None, pricing: Path | None,
                   api_region: str, endpoint_url: str | None, profile: str | None, timeout: float = 300.0) -> PricingUpdate:
    """Read the Price List (read-only) and merge it into the pricing file: a dry run; writing is the caller's."""
    from costwise.pricing import ENGINES, load_pricing, normalize_engine, validate_pricing
    from costwise.pricing.update import PRICE_LIST_REGIONS, dump_pricing, fetch_price_list, merge_rates
    from costwise.sources.aws import AwsSession

    if api_region not in PRICE_LIST_REGIONS:
        raise InputError(f"--api-region: the Price List API is only in {', '.join(PRICE_LIST_REGIONS)}")
    target = output or pricing or Path("pricing.yaml")
    base = load_pricing(target if target.exists() else pricing)
    from costwise.atomic import release_input

    release_input(target)  # refreshing the file it read is what --write is for
    chosen_regions = list(dict.fromkeys(regions or base.regions))
    chosen_engines = [normalize_engine(e) for e in engines] if engines else list(ENGINES)
    parsed = fetch_price_list(AwsSession(profile=profile, endpoint_url=endpoint_url, timeout=timeout), chosen_regions, api_region)
    data, changes, notes = merge_rates(base.raw, parsed, chosen_regions, chosen_engines)
    validate_pricing(data, target)  # never write a file costwise itself would refuse
    return PricingUpdate(target, chosen_regions, dump_pricing(data), changes, notes, list(parsed.unreadable), len(parsed.skipped))



@dataclass
class ApplyPlan:
    """`costwise apply`: the ModifyServerlessCache request for one environment, and its effect."""

    env: str
    cache: str
    region: str
    request: dict
    storage_gb: int
    ecpu_per_second: int
    current: dict
    ceiling_before: float | None
    ceiling_after: float | None
    sent: bool = False
    problems: list[str] = field(default_factory=list)  # what AWS would refuse in the request: it is not sent


def apply_limits(opts: SourceOptions, pricing: Path | None = None, send: bool = False, progress=None) -> ApplyPlan:
    """Set one environment's recommended maximums: a dry run unless `send`."""
    from costwise.analysis.estimate import build_report
    from costwise.sources import aws

    if opts.cache is None and len(opts.env or []) != 1:
        raise InputError("apply changes one cache at a time: give exactly one --env (or --cache)")
    usage = read_usage(opts, progress)
    cfg = usage.config
    prices = usage.prices(pricing)
    report = build_report(usage.history, prices, sizing_settings(cfg), usage.pricing_region)
    env = report.environments[0]
    if env.error:
        raise CostwiseError(f"{env.env}: {env.error}")
    if env.history.limits.source != "aws":
        raise CostwiseError(f"{env.env}: the live limits could not be read (DescribeServerlessCaches); not changing a cache blind")
    advice = env.advice
    gb, ecpu = int(advice.storage.recommended), int(advice.ecpu.recommended)
    seen_gb = (env.usage or {}).get("storage_gb", {}).get("max") or 0.0
    seen_ecpu = (env.usage or {}).get("ecpu_per_second", {}).get("max") or 0.0
    if gb < seen_gb or ecpu < seen_ecpu:
        raise InputError(f"{env.env}: refusing: {gb} GB / {ecpu:,} ECPU/s is below the peak seen ({seen_gb:,.2f} GB / {seen_ecpu:,.0f} ECPU/s)")
    limits = env.history.limits
    storage = {"Maximum": gb, "Unit": "GB"}
    throughput = {"Maximum": ecpu}
    if limits.min_storage_gb:
        storage["Minimum"] = int(limits.min_storage_gb)
    if limits.min_ecpu_per_second:
        throughput["Minimum"] = int(limits.min_ecpu_per_second)
    request = {"ServerlessCacheName": env.history.cache, "CacheUsageLimits": {"DataStorage": storage, "ECPUPerSecond": throughput}}
    plan = ApplyPlan(env.env, env.history.cache, env.history.region, request, gb, ecpu,
                     {"max_storage_gb": limits.max_storage_gb, "max_ecpu_per_second": limits.max_ecpu_per_second},
                     advice.ceiling_current.total, advice.ceiling_recommended.total)
    from costwise.limits import usage_limits_problems

    plan.problems = usage_limits_problems(request["CacheUsageLimits"])  # the whole limits, live minimums included
    if send and plan.problems:
        raise InputError(f"{env.env}: not sent: AWS would refuse it: {'; '.join(plan.problems)}")
    if send:
        client = usage.session.client("elasticache", env.history.region)
        try:
            aws.modify_serverless_cache(client, request)
        except Exception as exc:
            raise aws.describe_error(exc, "ModifyServerlessCache") from None
        plan.sent = True
    return plan


def reconcile(opts: SourceOptions, *, month: str | None = None, start: str | None = None, end: str | None = None,
              cur: str | None = None, cost_explorer: bool = False, pricing: Path | None = None, flag_pct: float = 1.0,
              progress=None):
    """`costwise reconcile`: costwise's cost of the period beside what AWS billed (the CUR export or
    Cost Explorer). The bill is read first: a bad export fails before CloudWatch is read."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from costwise.analysis.reconcile import build_reconciliation, parse_period
    from costwise.sources.aws import AwsSession
    from costwise.sources.cur import read_cost_explorer, read_cur
    from costwise.usage import floor_hour

    if (cur is None) == (not cost_explorer):
        raise InputError("give one of --cur PATH (a CUR 2.0 / Data Exports folder or s3://bucket/prefix/) or --cost-explorer")
    now = datetime.now(timezone.utc)
    period = parse_period(month, start, end, now)

    def session() -> AwsSession:
        return AwsSession(profile=opts.profile, endpoint_url=opts.endpoint_url, retry_mode=opts.retry_mode,
                          max_attempts=opts.max_attempts, timeout=opts.timeout)

    ledger = read_cur(cur, period, session) if cur is not None else read_cost_explorer(session(), period, now)
    window_end = min(period.end, floor_hour(now))
    days = max(1, -(-int((window_end - period.start).total_seconds()) // 86_400))
    # cost drivers explain a bill, they are not part of it: not read (GetMetricData costs per metric)
    usage = read_usage(replace(opts, as_of=window_end.strftime("%Y-%m-%dT%H:%M:%SZ"), days=min(days, 455), drivers="none"), progress)
    prices = usage.prices(pricing)
    return build_reconciliation(usage.history, ledger, prices, period, "cur" if cur is not None else "cost-explorer", flag_pct)


def watch(opts: SourceOptions, *, stretch_hours: int | None = None, sustained_hours: int | None = None,
          pricing: Path | None = None, progress=None):
    """`costwise watch`: each cache's newest hours against the band its forecast expected, read
    from the last --days of CloudWatch (or a saved file): no state kept between runs."""
    from dataclasses import replace

    from costwise.analysis.watch import build_watch
    from costwise.model.watch import WatchSettings

    settings = WatchSettings()
    changes = {"stretch_hours": stretch_hours, "sustained_hours": sustained_hours}
    for name, value in changes.items():
        low, high = WatchSettings.RANGES[name]
        if value is not None and not low <= value <= high:
            raise InputError(f"--{name.replace('_', '-')}: {low:g} to {high:g} hours")
    settings = replace(settings, **{k: v for k, v in changes.items() if v is not None})
    if settings.sustained_hours > settings.stretch_hours:
        raise InputError("--sustained-hours: at most --stretch-hours")
    # an hourly job: the cost drivers (each GetMetricData metric is billed) are read for the alarmed
    # caches only, split at the watched hours, so that an alarm can say which command family grew
    usage = read_usage(replace(opts, drivers="all"), progress, read_drivers=False)
    cfg = usage.config
    prices = usage.prices(pricing)
    result = build_watch(usage.history, prices, settings, sizing_settings(cfg))
    if usage.drivers is not None and result.alarms:
        from costwise.model.drivers import what_grew

        split, calls = usage.drivers.read_split({(c.region, c.cache) for c in result.alarms}, settings.stretch_hours)
        usage.history.api_calls += calls
        hours = usage.history.window.hours
        engines = {(env.region, env.cache): env.engine for env in usage.history.environments}
        for watched in result.alarms:
            before, recent, why = split.get((watched.region, watched.cache), (None, None, None))
            watched.finding.grew = what_grew(before, hours - settings.stretch_hours, recent, settings.stretch_hours,
                                             engines.get((watched.region, watched.cache)))
            watched.drivers_error = why  # said in the alarm's line: why no family is named
    return result
