"""Every command x every format it offers, on the bundled demo and on moto-served caches: each output
parses as what it claims to be. Formats come from the renderer registry, so a format offered by
--help but broken fails here (as `estimate --format markdown` once did)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import boto3
import pytest

from costwise.render import formats_for
from tests.awsfakes import patch_describe, put_hourly, put_node_hourly, serverless_cache

END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=3)
GIB = 2**30
MOTO_WINDOW = ("--as-of", "2026-11-20T00:00:00Z", "--days", "3")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.seen: set[str] = set()

    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "path", "use", "rect", "circle", "line", "polyline", "stop"}

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.add(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


def check(fmt: str, text: str, expect: str) -> None:
    """The output is well-formed in its format and mentions `expect` (a name from the input)."""
    assert text.strip(), "empty output"
    assert "Traceback" not in text
    if fmt == "json":
        data = json.loads(text)
        assert expect in json.dumps(data)
    elif fmt == "html":
        parser = _Tags()
        parser.feed(text)
        parser.close()
        assert not parser.open, f"unclosed: {parser.open}"
        assert {"html", "table", "svg"} <= parser.seen
        assert expect in text
    elif fmt == "markdown":
        lines = text.splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("|"))
        assert set(lines[header + 1].replace("|", "").replace(":", "").strip()) == {"-"}  # |---|---:|
        assert expect in text
    else:
        assert expect in text


def _run_format(run, command: list[str], fmt: str, tmp_path) -> str:
    if command[0] == "report":
        out = tmp_path / f"report.{fmt}"
        code, _, err = run(*command, "--format", fmt, "--output", str(out))
        text = out.read_text()
    else:
        code, text, err = run(*command, "--format", fmt)
    assert code in (0, 3), err  # 3: the demo's dev is over budget, which report only prints
    assert "internal error" not in err
    return text


DEMO_COMMANDS = {
    "estimate": (["estimate", "--demo"], "storefront-prod-valkey"),
    "report": (["report", "--demo"], "storefront-prod-valkey"),
    "whatif": (["whatif", "--storage-gb", "2", "--ecpu-per-second", "3000", "--compare-engine", "redis-oss"], "redis-oss"),
    "pricing": (["pricing", "show", "--nodes"], "us-east-1"),
}


@pytest.mark.parametrize("command, fmt", [(c, f) for c in DEMO_COMMANDS for f in formats_for(c)])
def test_offline_commands_in_every_format(run, command, fmt, tmp_path):
    args, expect = DEMO_COMMANDS[command]
    check(fmt, _run_format(run, args, fmt, tmp_path), expect)


@pytest.fixture
def moto_caches(moto, monkeypatch, tmp_path):
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    row = {"storage_avg": 1.5 * GIB, "storage_max": 1.6 * GIB, "ecpu_sum": 2e6, "ecpu_max_minute": 5e4, "throttled": 0.0}
    put_hourly(cw, "shop-valkey", START, [row] * 72)
    patch_describe(monkeypatch, [serverless_cache("shop-valkey", max_storage=5, max_ecpu=5000)])
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n  shop:\n    cache: shop-valkey\n")
    return config


@pytest.mark.parametrize("command, fmt", [(c, f) for c in ("estimate", "report") for f in formats_for(c)])
def test_commands_on_a_moto_served_cache(run, moto, moto_caches, command, fmt, tmp_path):
    args = [command, "--config", str(moto_caches), "--endpoint-url", moto, *MOTO_WINDOW]
    check(fmt, _run_format(run, args, fmt, tmp_path), "shop-valkey")


@pytest.mark.parametrize("fmt", formats_for("migrate"))
def test_migrate_from_a_moto_cluster(run, moto, fmt, tmp_path):
    ec = boto3.client("elasticache", region_name="us-east-1", endpoint_url=moto)
    ec.create_replication_group(ReplicationGroupId="legacy", ReplicationGroupDescription="d", Engine="redis",
                                CacheNodeType="cache.r7g.large", NumNodeGroups=1, ReplicasPerNodeGroup=1)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    put_node_hourly(cw, "legacy-001", START, 72, bytes=GIB, get=1e6, set=2e5, net_in=1e8, net_out=3e8)
    args = ["migrate", "--from-cluster", "legacy", "--endpoint-url", moto, *MOTO_WINDOW]
    check(fmt, _run_format(run, args, fmt, tmp_path), "legacy")


def test_help_offers_exactly_the_registered_formats(run):
    for command, args in (("estimate", ["estimate"]), ("report", ["report"]), ("whatif", ["whatif"]),
                          ("migrate", ["migrate"]), ("pricing", ["pricing", "show"])):
        code, out, _ = run(*args, "--help")
        assert code == 0
        offered = re.search(r"--format\s+<([a-z|]+)>", out).group(1)  # the option's <a|b|c> choices
        assert offered.split("|") == list(formats_for(command)), command
    # and what is not offered is refused as bad input, in one line
    code, _, err = run("report", "--demo", "--format", "table")
    assert code == 2 and "table" in err
