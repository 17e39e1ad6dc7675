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
