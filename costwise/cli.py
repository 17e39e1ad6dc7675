"""Command line: parse options, make one call (costwise.app), render (costwise.render), pick the exit code.

Exit codes: 0 fine; 1 an environment, account or region could not be read (the others are still
reported); 2 bad input; 3 over budget with --fail-on-budget (reconcile: a difference above --fail-over); 4 watch found a
runaway; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from costwise import __version__
from costwise.errors import InputError
from costwise.options import AS_OF_HELP, DAYS_HELP, ENDPOINT_HELP, PRICING_HELP, SourceOptions, timeout_option, with_source_options
from costwise.output import emit
from costwise.render import format_enum

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

# Each command offers exactly the formats the renderer registry can produce for it.
EstimateFormat = format_enum("estimate")
ReportFormat = format_enum("report")
WhatifFormat = format_enum("whatif")
MigrateFormat = format_enum("migrate")
PricingFormat = format_enum("pricing")
SuggestFormat = format_enum("suggest")
ReconcileFormat = format_enum("reconcile")
WatchFormat = format_enum("watch")

PricingOption = typer.Option(None, "--pricing", help=PRICING_HELP, metavar="PATH")
FORMAT_BY_SUFFIX = {".html": "html", ".htm": "html", ".md": "markdown", ".json": "json"}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"costwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
) -> None:
    pass


def _choices(enum) -> str:
    return ", ".join(member.value for member in enum)


def _say(message: str) -> None:
    """One line on stderr; text from outside never brings its control characters to the terminal."""
    from costwise.fmt import printable

    typer.echo(printable(message), err=True)


def _report_failures(result) -> None:
    for failed in result.failed:
        _say(f"costwise: {failed.env}: {failed.error}")


def _progress(opts: SourceOptions, machine_output: bool):
    from costwise.progress import Progress

    return Progress(enabled=not opts.quiet and not machine_output and sys.stderr.isatty())


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
    savings_plan: bool = typer.Option(False, "--savings-plan", help="Also price it at Database Savings Plan rates (Valkey), as if a commitment covered it fully."),
    output_format: WhatifFormat = typer.Option("table", "--format", help=f"One of: {_choices(WhatifFormat)}."),
    pricing: Optional[Path] = PricingOption,
) -> None:
    """Price a steady workload: storage and traffic in, monthly bill out. No AWS account needed.

    Examples:

    * `costwise whatif --storage-gb 0.2 --requests-per-day 10000000 --kb-per-request 1`

    * `costwise whatif --engine redis-oss --storage-gb 5 --ecpu-per-second 2000 --compare-engine valkey`

    * `costwise whatif --storage-gb 5 --ecpu-per-second 2000 --max-storage-gb 10 --max-ecpu-per-second 5000 --format json`
    """
    from costwise import app as run
    from costwise.render import render

    result = run.whatif(engine=engine, region=region, storage_gb=storage_gb, ecpu_per_second=ecpu_per_second,
                        requests_per_day=requests_per_day, kb_per_request=kb_per_request, ecpu_per_request=ecpu_per_request,
                        max_storage_gb=max_storage_gb, max_ecpu_per_second=max_ecpu_per_second, compare_engine=compare_engine,
                        compare_nodes=compare_nodes, replicas=replicas, pricing=pricing, savings_plan=savings_plan)
    emit(render("whatif", result, output_format))
    if output_format.value == "table":
        for warning in dict.fromkeys(w for r in result.results for w in r.warnings):
            _say(f"warning: {warning}")


@app.command()
@with_source_options()
def estimate(
    output_format: EstimateFormat = typer.Option("table", "--format", help=f"One of: {_choices(EstimateFormat)}."),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """What each cache cost over the window, what the next hours will cost (sizing: horizon_hours, 730 by default), and whether its limits are right.

    Reads BytesUsedForCache, ElastiCacheProcessingUnits and ThrottledCmds from CloudWatch (hourly) and the
    current limits from DescribeServerlessCaches. Exit code 1 when an environment could not be read (the
    others are still reported), 2 for bad input.

    Examples:

    * `costwise estimate --env prod`

    * `costwise estimate --cache storefront-prod-valkey --region eu-west-1 --days 14 --format json`

    * `costwise estimate --metrics-file history.csv` (offline, from `costwise fetch`)
    """
    from costwise import app as run
    from costwise.render import render

    result = run.estimate(source, pricing, progress=_progress(source, output_format.value == "json"))
    emit(render("estimate", result, output_format))
    _report_failures(result)
    if result.failed:
        raise typer.Exit(1)


@app.command()
@with_source_options(exclude=("metrics_file", "demo"))
def fetch(
    output: str = typer.Option(..., "--output", "-o", help="File to write: .csv, or .parquet (needs pyarrow); - writes CSV to stdout; FOLDER/ (with the slash) writes a Parquet dataset partitioned account=/region=.", metavar="FILE"),
    shard: Optional[str] = typer.Option(None, "--shard", help="Only shard K of N of the environments and discovered caches (e.g. 2/4): N jobs write N files into one folder, which --metrics-file reads whole.", metavar="K/N"),
    source: SourceOptions = SourceOptions(),
) -> None:
    """Save hourly history and current limits to a file, so analysis can run offline (`--metrics-file`).

    Fetching needs AWS credentials; analysing the file does not. The file is written atomically.
    """
    from costwise import app as run

    history = run.fetch(source, Path(output), progress=_progress(source, False), shard=shard, shown=output)
    good = [e for e in history.environments if e.error is None]
    _say(f"wrote {output}: {len(good)} of {len(history.environments)} environments, "
         f"{history.window.hours} hours each, {history.api_calls} GetMetricData calls")
    for failed in history.environments:
        if failed.error:
            _say(f"costwise: {failed.env}: {failed.error}")
    if len(good) < len(history.environments):
        raise typer.Exit(1)


@app.command()
@with_source_options()
def report(
    output_format: Optional[ReportFormat] = typer.Option(None, "--format", help=f"One of: {_choices(ReportFormat)} (default: from --output's suffix, else markdown)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (atomically; - is stdout) instead of stdout.", metavar="FILE"),
    budget: Optional[float] = typer.Option(None, "--budget", min=0, help="Monthly budget in USD for the total."),
    iac: Optional[Path] = typer.Option(None, "--iac", help="Also show the advice as changes to this infrastructure code (file or folder: CDK, Terraform, CloudFormation).", metavar="PATH"),
    fail_on_budget: bool = typer.Option(False, "--fail-on-budget", help="Exit with code 3 when a projection exceeds its budget (per-environment `budget:` or --budget)."),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """The monthly cost report for people and CI: Markdown (job summary, PR comment), HTML with charts, or JSON.

    Exit codes: 0 fine; 3 over budget (with --fail-on-budget); 1 an environment could not be read
    (the others are still in the report); 2 bad input.

    Examples:

    * `costwise report --demo --output report.html` (no AWS account needed)

    * `costwise report --all --format markdown >> "$GITHUB_STEP_SUMMARY"`

    * `costwise report --env prod --budget 500 --fail-on-budget --output report.md`
    """
    from costwise import app as run
    from costwise.render import render

    to_stdout = output is None or str(output) == "-"
    fmt = output_format.value if output_format else FORMAT_BY_SUFFIX.get(output.suffix.lower() if output else "", "markdown")
    if output is not None and output.is_dir():
        raise InputError(f"{output}: is a folder; give a file name")
    result = run.estimate(source, pricing, budget=budget, progress=_progress(source, fmt == "json" and to_stdout), iac=iac)
    emit(render("report", result, fmt), output)
    if not to_stdout:
        _say(f"wrote {fmt} report to {output}")
    _report_failures(result)
    over = result.over_budget
    if over:
        _say(f"costwise: over budget: {', '.join(over)}")
        if fail_on_budget:
            raise typer.Exit(3)
    if result.failed:
        raise typer.Exit(1)


@app.command()
@with_source_options()
def suggest(
    iac: Path = typer.Option(..., "--iac", help="Infrastructure code: a file or a folder (CDK Python dict, Terraform, CloudFormation JSON/YAML).", metavar="PATH"),
    output_format: SuggestFormat = typer.Option("diff", "--format", help=f"One of: {_choices(SuggestFormat)}."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the patch here (atomically) instead of stdout.", metavar="FILE"),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """The recommended limits as a patch to your infrastructure code: `git apply` takes it.

    Only the limit numbers change; formatting and comments stay. Environments match by name (CDK
    keys) or cache name (Terraform `name`, CloudFormation `ServerlessCacheName`); drift between the
    code and the live cache is said, and alarms at 75% of each limit come as a snippet.

    Examples:

    * `costwise suggest --iac infra/ --env prod > limits.patch && git apply limits.patch`

    * `costwise suggest --iac stack.py --demo --format json`
    """
    from costwise import app as run
    from costwise.render import render
    from costwise.render.table import suggest_notes

    result = run.suggest(source, iac, pricing, progress=_progress(source, output_format.value == "json"))
    emit(render("suggest", result, output_format), output)
    for line in suggest_notes(result, with_alarms=output_format.value == "diff"):
        _say(line)
    if result.failed:
        raise typer.Exit(1)


@app.command()
@with_source_options(exclude=("metrics_file", "demo"))
def apply(
    yes: bool = typer.Option(False, "--yes", help="Send the change. Without it this is a dry run that shows the request."),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """Set one environment's recommended limits on the live cache (ModifyServerlessCache).

    A dry run by default: shows the request and the worst-case bill before and after. `--yes` sends
    it. Refuses a maximum below the peak it has seen. Needs elasticache:ModifyServerlessCache (not in
    the read-only policy). Give exactly one --env (or --cache).
    """
    from costwise import app as run
    from costwise.render.table import apply_plan

    plan = run.apply_limits(source, pricing, send=yes, progress=_progress(source, False))
    emit(apply_plan(plan))
    if plan.problems:  # a dry run shows what --yes would refuse to send
        _say(f"costwise: error: {plan.env}: AWS would refuse this request: {'; '.join(plan.problems)}")
        raise typer.Exit(2)
    if plan.sent:
        _say(f"sent: {plan.cache} now has {plan.storage_gb} GB and {plan.ecpu_per_second:,} ECPU/s as its maximums")
    else:
        _say("dry run: nothing changed; add --yes to send it")


@app.command()
def migrate(
    from_redis: Optional[str] = typer.Option(None, "--from-redis", help="A running Redis or Valkey: redis://[:PASSWORD@]HOST:PORT (rediss:// for TLS).", metavar="URL"),
    from_cluster: Optional[str] = typer.Option(None, "--from-cluster", help="A node-based ElastiCache replication group id.", metavar="ID"),
    tls: bool = typer.Option(False, "--tls", help="With --from-redis: connect with TLS."),
    sample: str = typer.Option("60s", "--sample", help="With --from-redis: how long to sample (60s, 5m, 1h)."),
    peak_factor: float = typer.Option(2.0, "--peak-factor", min=1.0, help="With --from-redis: busiest traffic over the sampled rate, for the starting ECPU limit."),
    engine: Optional[str] = typer.Option(None, "--engine", help="Serverless engine to price (default: valkey for --from-redis, the cluster's engine for --from-cluster)."),
    region: str = typer.Option("us-east-1", "--region", help="Region: prices, and where the cluster is."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
    days: int = typer.Option(30, "--days", min=1, max=455, help=DAYS_HELP),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="AWS profile to use."),
    output_format: MigrateFormat = typer.Option("table", "--format", help=f"One of: {_choices(MigrateFormat)}."),
    pricing: Optional[Path] = PricingOption,
    timeout: float = timeout_option(),
) -> None:
    """What a cache that is not serverless yet would cost on ElastiCache Serverless.

    `--from-redis` samples a running server with INFO only (read-only) at the start and end of the
    sample; `--from-cluster` reads a node-based cluster's per-node CloudWatch metrics for the window
    (needs elasticache:DescribeReplicationGroups and cloudwatch:GetMetricData).

    Examples:

    * `costwise migrate --from-redis redis://localhost:6379 --sample 5m --peak-factor 3`

    * `costwise migrate --from-cluster shop-cache --region eu-west-1 --days 14 --format json`
    """
    from costwise import app as run
    from costwise.render import render

    if (from_redis is None) == (from_cluster is None):
        raise InputError("give one of --from-redis URL or --from-cluster ID")
    if from_redis is not None:
        result = run.migrate_from_redis(from_redis, sample, tls=tls, peak_factor=peak_factor, engine=engine, region=region,
                                        pricing=pricing, announce=None if output_format.value == "json" else _say, timeout=timeout)
    else:
        result = run.migrate_from_cluster(from_cluster, region=region, as_of=as_of, days=days, endpoint_url=endpoint_url,
                                          profile=profile, engine=engine, pricing=pricing, timeout=timeout)
    emit(render("migrate", result, output_format))


@app.command()
@with_source_options(exclude=("drivers",))
def reconcile(
    month: Optional[str] = typer.Option(None, "--month", help="The month to reconcile, e.g. 2026-10 (default: the last whole month).", metavar="YYYY-MM"),
    start: Optional[str] = typer.Option(None, "--from", help="Or from this date or hour (UTC, e.g. 2026-10-01)...", metavar="DATE"),
    end: Optional[str] = typer.Option(None, "--to", help="...to this one, not included (default: now).", metavar="DATE"),
    cur: Optional[str] = typer.Option(None, "--cur", help="The CUR 2.0 / Data Exports Parquet export: a folder, or s3://bucket/prefix/ (s3:ListBucket, s3:GetObject).", metavar="PATH"),
    cost_explorer: bool = typer.Option(False, "--cost-explorer", help="Read the bill from Cost Explorer instead (ce:GetCostAndUsage)."),
    fail_over: Optional[float] = typer.Option(None, "--fail-over", min=0, help="Exit 3 when a cache's unexplained difference is above PCT percent.", metavar="PCT"),
    output_format: ReconcileFormat = typer.Option("table", "--format", help=f"One of: {_choices(ReconcileFormat)}."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (atomically) instead of stdout.", metavar="FILE"),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """costwise's own cost of a month beside what AWS billed, per cache and in total.

    Differences above 1% that the bill does not explain (a Savings Plan, credits, a rate that
    changed, hours costwise has no data for, a cache not in the config) are flagged. Exit codes: 0
    fine; 3 an unexplained difference above --fail-over; 1 the bill or an environment could not be
    read; 2 bad input.

    Examples:

    * `costwise reconcile --month 2026-10 --cur s3://billing/exports/costwise/`

    * `costwise reconcile --month 2026-10 --cost-explorer --format markdown`
    """
    from costwise import app as run
    from costwise.render import render

    if output is not None and output_format.value == "table":
        raise InputError("--output: the table is for the terminal; give --format markdown, html or json with it")
    if fail_over is not None and not 0 <= fail_over <= 10_000:  # inf or 1e308 would never fail, NaN never compare
        raise InputError(f"--fail-over: a percentage from 0 to 10,000, not {fail_over:g}")
    result = run.reconcile(source, month=month, start=start, end=end, cur=cur, cost_explorer=cost_explorer, pricing=pricing,
                           flag_pct=min(1.0, fail_over) if fail_over is not None else 1.0,
                           progress=_progress(source, output_format.value == "json"))
    emit(render("reconcile", result, output_format), output)
    for row in result.failed:
        _say(f"costwise: {row.env}: {row.error}")
    if output_format.value != "table":
        for note in result.notes:
            _say(f"note: {note}")
    if fail_over is not None and result.unexplained_over(fail_over):
        _say(f"costwise: unexplained difference above {fail_over:g}%: {', '.join(r.cache for r in result.unexplained_over(fail_over))}")
        raise typer.Exit(3)
    if result.failed:
        raise typer.Exit(1)


@app.command()
@with_source_options(exclude=("drivers",))
def watch(
    stretch_hours: Optional[int] = typer.Option(None, "--stretch-hours", help="The newest hours watched (default 6); the forecast is fitted on the --days before them.", metavar="N"),
    sustained_hours: Optional[int] = typer.Option(None, "--sustained-hours", help="Alarm when this many newest hours in a row are above the band (default 2).", metavar="N"),
    output_format: WatchFormat = typer.Option("table", "--format", help=f"One of: {_choices(WatchFormat)} (markdown: one chat message)."),
    pricing: Optional[Path] = PricingOption,
    source: SourceOptions = SourceOptions(),
) -> None:
    """Catch a runaway between reports: each cache's newest hours against the 99% band its forecast expected.

    For a job that runs every hour (cron, EventBridge Scheduler, a GitHub Actions schedule): silent
    and exit 0 when every cache is within its band; one line per cache out of band, with what it
    costs a day if it continues, and exit 4. Each run stands alone on the last --days of CloudWatch.

    Examples:

    * `costwise watch --env prod`

    * `costwise watch --all --format markdown > alert.md || [ $? -eq 4 ] && post alert.md`
    """
    from costwise import app as run
    from costwise.render import render

    result = run.watch(source, stretch_hours=stretch_hours, sustained_hours=sustained_hours, pricing=pricing,
                       progress=_progress(source, output_format.value == "json"))
    rendered = render("watch", result, output_format)
    if rendered:
        emit(rendered)
    for failed in result.failed:
        _say(f"costwise: {failed.env}: {failed.error}")
    if result.alarms:
        raise typer.Exit(4)
    if result.failed:
        raise typer.Exit(1)


pricing_app = typer.Typer(help="Show the prices in use, or refresh them from the AWS Price List API.", no_args_is_help=True)
app.add_typer(pricing_app, name="pricing")


@pricing_app.command("show")
def pricing_show(
    region: Optional[List[str]] = typer.Option(None, "--region", help="Only this region; repeat for several."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Only this engine; repeat for several."),
    nodes: bool = typer.Option(False, "--nodes", help="Also list node-based prices."),
    output_format: PricingFormat = typer.Option("table", "--format", help=f"One of: {_choices(PricingFormat)}."),
    pricing: Optional[Path] = PricingOption,
) -> None:
    """The rates costwise uses, and where and when each came from."""
    from costwise import app as run
    from costwise.render import render

    emit(render("pricing", run.pricing_listing(region, engine, nodes, pricing), output_format))


@pricing_app.command("update")
def pricing_update(
    region: Optional[List[str]] = typer.Option(None, "--region", help="Region to refresh; repeat for several (default: those in the file)."),
    engine: Optional[List[str]] = typer.Option(None, "--engine", help="Engine to refresh; repeat (default: all three)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="pricing.yaml to update (default: --pricing, else ./pricing.yaml).", metavar="PATH"),
    write: bool = typer.Option(False, "--write", help="Write the file. Without it this is a dry run that shows the diff."),
    pricing: Optional[Path] = PricingOption,
    api_region: str = typer.Option("us-east-1", "--api-region", help="Where to call the Price List API: us-east-1, eu-central-1 or ap-south-1."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    profile: Optional[str] = typer.Option(None, "--profile", help="AWS profile to use."),
    timeout: float = timeout_option(),
) -> None:
    """Refresh rates from the AWS Price List API (read-only; needs pricing:GetProducts).

    Keeps entries it did not touch, records the SKU and date for each rate it sets, reports any SKU
    it cannot interpret instead of guessing, and shows what changed. Dry run unless --write.
    """
    from costwise import app as run
    from costwise.render.table import pricing_changes, update_notes

    update = run.pricing_update(regions=region, engines=engine, output=output, pricing=pricing, api_region=api_region,
                                endpoint_url=endpoint_url, profile=profile, timeout=timeout)
    for line in update_notes(update):
        _say(line)
    if update.changes:
        emit(pricing_changes(update))
    else:
        _say(f"no rate changes for {', '.join(update.regions)}")
    if write:
        emit(update.text, update.target)
        _say(f"wrote {update.target}")
    elif update.changes:
        _say(f"dry run: nothing written; add --write to save {update.target}")
