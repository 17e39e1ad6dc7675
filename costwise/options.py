"""Options shared by the commands that read usage (estimate, report, fetch), declared once.

`SourceOptions` is what they mean; `with_source_options` adds them to a typer command, which then
receives one `source: SourceOptions` argument instead of fifteen.
"""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import List, Optional

import typer


@dataclass(frozen=True)
class SourceOptions:
    config: Optional[Path] = None
    env: Optional[List[str]] = None
    all_envs: bool = False
    cache: Optional[str] = None
    region: Optional[str] = None
    engine: Optional[str] = None
    as_of: Optional[str] = None
    days: int = 30
    endpoint_url: Optional[str] = None
    profile: Optional[str] = None
    metrics_file: Optional[Path] = None
    demo: bool = False
    quiet: bool = False
    retry_mode: str = "standard"
    max_attempts: int = 8
    timeout: float = 300.0
    read_savings_plans: bool = False
    all_regions: bool = False
    jobs: Optional[int] = None
    drivers: str = "top:20"


AS_OF_HELP = "End of the window, ISO 8601 UTC (e.g. 2026-11-20T00:00:00Z); default now, floored to the hour."
DAYS_HELP = "Days of hourly history to read (1..455)."
ENDPOINT_HELP = "AWS endpoint (e.g. a local moto server). AWS_ENDPOINT_URL is honoured too."
PRICING_HELP = "pricing.yaml to use instead of the bundled one (or set COSTWISE_PRICING)."
TIMEOUT_HELP = "Deadline in seconds for everything read from AWS in this run (each call also times out: 5 s to connect, 30 s to answer)."


def timeout_option():
    return typer.Option(300.0, "--timeout", min=1.0, max=86_400.0, help=TIMEOUT_HELP)

# typer declarations, one per SourceOptions field
_DECLARATIONS = {
    "config": typer.Option(None, "--config", help="costwise.yaml to read (default: ./costwise.yaml).", metavar="PATH"),
    "env": typer.Option(None, "--env", help="Environment from the config; repeat for several.", metavar="ENV"),
    "all_envs": typer.Option(False, "--all", help="Every environment in the config (the default when no --env is given)."),
    "cache": typer.Option(None, "--cache", help="One serverless cache by name, without a config file.", metavar="NAME"),
    "region": typer.Option(None, "--region", help="AWS region (default: the config's, else us-east-1)."),
    "engine": typer.Option(None, "--engine", help="With --cache: the engine, when DescribeServerlessCaches is not allowed."),
    "as_of": typer.Option(None, "--as-of", help=AS_OF_HELP),
    "days": typer.Option(30, "--days", min=1, max=455, help=DAYS_HELP),
    "endpoint_url": typer.Option(None, "--endpoint-url", help=ENDPOINT_HELP),
    "profile": typer.Option(None, "--profile", help="AWS profile to use."),
    "metrics_file": typer.Option(None, "--metrics-file", help="Analyse a file saved by `costwise fetch` (or a folder of them) instead of reading AWS.", metavar="PATH"),
    "demo": typer.Option(False, "--demo", help="Use the bundled 30-day demo history (dev, staging, prod); no AWS account needed."),
    "quiet": typer.Option(False, "--quiet", "-q", help="No progress bar."),
    "retry_mode": typer.Option("standard", "--retry-mode", help="botocore retry mode: standard or adaptive."),
    "max_attempts": typer.Option(8, "--max-attempts", min=1, max=30, help="botocore attempts per call, retries included."),
    "timeout": timeout_option(),
    "read_savings_plans": typer.Option(False, "--read-savings-plans", help="Read the account's active Database Savings Plans (savingsplans:DescribeSavingsPlans) to show net cost; or set savings_plan.commitment_per_hour in costwise.yaml."),
    "all_regions": typer.Option(False, "--all-regions", help="Also every serverless cache in every region enabled for this account (and for each account in costwise.yaml): DescribeRegions, then DescribeServerlessCaches in each."),
    "drivers": typer.Option("top:20", "--drivers", metavar="top:N|all|none", help="Whose cost drivers (command-level metrics, one total per metric for the window) to read: the N costliest caches (default top:20), all, or none."),
    "jobs": typer.Option(None, "--jobs", min=1, max=64, help="Processes that fetch and parse GetMetricData pages at once, for fetches of 16 calls or more (default: one per core; 1: none)."),
}
assert set(_DECLARATIONS) == {f.name for f in fields(SourceOptions)}


def with_source_options(*, exclude: tuple[str, ...] = ()):
    """Give a typer command the shared source options; it receives them as `source: SourceOptions`.

    The command's own parameters keep their place; the shared ones follow, in the order above.
    """
    hints = typing.get_type_hints(SourceOptions)

    def decorate(func):
        own_hints = typing.get_type_hints(func)
        own = [p.replace(annotation=own_hints.get(p.name, p.annotation))
               for p in inspect.signature(func).parameters.values() if p.name != "source"]
        shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hints[name])
                  for name, option in _DECLARATIONS.items() if name not in exclude]

        @functools.wraps(func)
        def command(**kwargs):
            values = {name: kwargs.pop(name) for name in list(kwargs) if name in _DECLARATIONS}
            return func(source=SourceOptions(**values), **kwargs)

        del command.__wrapped__  # typer must read the new signature, not the wrapped one
        command.__signature__ = inspect.Signature(own + shared)
        command.__annotations__ = {p.name: p.annotation for p in own + shared}
        return command

    return decorate
