"""Recommendations as code (issue 15): limits read from CDK, Terraform and CloudFormation, patched in
place, applied with a dry run first."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from costwise.iac import read_iac
from tests.awsfakes import STEADY_HOUR, put_hourly, steady_cache_config
from tests.helpers import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "iac"
GIB = 2**30


def _sites(path):
    return {(s.match, s.field): (s.value, s.line) for f in read_iac(path).files for s in f.sites}


def test_all_three_shapes_are_read_without_running_anything(tmp_path):
    sites = _sites(FIXTURES)
    # CDK: the seed's keys, by environment name; 5_000 read as 5,000; the dict's other keys ignored
    assert sites[("staging", "max_ecpu_per_second")] == (5000.0, 11)
    assert sites[("prod", "max_storage_gb")] == (5.0, 13)
    # Terraform: by cache name, comments and odd spacing around the numbers
    assert sites[("storefront-prod-valkey", "max_ecpu_per_second")][0] == 10000.0  # JSON's "10000" and the .tf's agree
    assert sites[("storefront-staging-valkey", "max_ecpu_per_second")] == (5000.0, 24)
    # CloudFormation YAML (with !Ref tags) and JSON (a quoted number)
    assert sites[("storefront-dev-valkey", "max_storage_gb")] == (1.0, 12)
    unmatched = [u for f in read_iac(FIXTURES).files for u in f.unmatched]
    assert any("computed" in u and "no literal `name`" in u for u in unmatched)
    assert any("OtherCache" in u and "not a literal name" in u for u in unmatched)


def _repo_with_fixtures(tmp_path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES, repo / "infra")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_the_diff_applies_and_the_code_then_says_what_costwise_recommends(cli, tmp_path):
    repo = _repo_with_fixtures(tmp_path)
    before = {p.name: p.read_text() for p in (repo / "infra").iterdir()}
    result = cli("suggest", "--iac", "infra", "--demo", cwd=repo, env={"PYTHONPATH": str(REPO)})  # this checkout's costwise
    assert result.returncode == 0, result.stderr
    patch = tmp_path / "limits.patch"
    patch.write_text(result.stdout)
    applied = subprocess.run(["git", "apply", "--verbose", str(patch)], cwd=repo, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    report = json.loads(cli("report", "--demo", "--format", "json").stdout)
    recommended = {e["env"]: e["limits"]["recommended"] for e in report["environments"]}
    caches = {e["cache"]: recommended[e["env"]] for e in report["environments"]}
    for (match, field), (value, _) in _sites(repo / "infra").items():
        wanted = recommended.get(match) or caches.get(match)
        assert value == wanted[field], (match, field)
    # only the numbers changed: every other character of every file is as it was
    for path in (repo / "infra").iterdir():
        old, new = before[path.name], path.read_text()
        assert len(old.splitlines()) == len(new.splitlines())
        changed = [(a, b) for a, b in zip(old.splitlines(), new.splitlines()) if a != b]
        for a, b in changed:
            assert [c for c in a if not c.isdigit() and c != "_"] == [c for c in b if not c.isdigit() and c != "_"]
    assert "# GB, raised in March" in (repo / "infra" / "main.tf").read_text()
    # the alarms come as snippets in each language found
    assert 'resource "aws_cloudwatch_metric_alarm"' in result.stderr and "AWS::CloudWatch::Alarm" in result.stderr


def test_json_lists_each_change(cli, tmp_path):
    result = cli("suggest", "--iac", str(FIXTURES / "stack.py"), "--demo", "--format", "json")
    data = json.loads(result.stdout)
    change = next(c for c in data["changes"] if c["env"] == "prod" and c["field"] == "max_storage_gb")
    assert (change["line"], change["current"]) == (13, 5.0)
    assert change["recommended"] > 5 and "raise the limit" in change["reason"]
    assert set(change) >= {"file", "line", "env", "field", "current", "recommended", "reason"}


def test_report_carries_github_suggestions(cli):
    result = cli("report", "--demo", "--iac", str(FIXTURES / "stack.py"))
    # prod's one-line dict, with the recommended limits in place and the rest of the line as it was
    recommended = next(e["limits"]["recommended"] for e in json.loads(cli("estimate", "--demo", "--format", "json").stdout)["environments"]
                       if e["env"] == "prod")
    line = (f'    "prod": {{"redis_max_storage_gb": {recommended["max_storage_gb"]}, '
            f'"redis_max_ecpu": {recommended["max_ecpu_per_second"]}, "other": "x"}},')
    assert f"```suggestion\n{line}\n```" in result.stdout
    html = cli("report", "--demo", "--iac", str(FIXTURES / "stack.py"), "--format", "html").stdout
    assert "Suggested changes to the infrastructure code" in html and "<pre>" in html


def test_hostile_iac(cli, tmp_path):
    marker = tmp_path / "ran"
    code = tmp_path / "stack.py"
    code.write_text(f"open({str(marker)!r}, 'w').write('x')\nenv_config = {{'prod\\x1b[2J': {{'redis_max_storage_gb': 5}}}}\n")
    result = cli("suggest", "--iac", str(code), "--demo")
    assert not marker.exists()  # parsed, never run
    assert "\x1b" not in result.stderr and "prod\\x1b[2J" in result.stderr  # the odd name, escaped
    huge = tmp_path / "big.tf"
    huge.write_bytes(b"# " + b"x" * (3 << 20) + b"\n")
    result = cli("suggest", "--iac", str(huge), "--demo")
    assert result.returncode == 2 and "larger than" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_elasticache_serverless_cache" "x" {\n  name = \n')
    result = cli("suggest", "--iac", str(broken), "--demo")
    assert result.returncode == 2 and "not Terraform" in result.stderr and "Traceback" not in result.stderr


# ---- drift and apply, against moto's CloudWatch and a stubbed ElastiCache ----------------------

END = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def prod_cache(moto, tmp_path):
    return steady_cache_config(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), tmp_path, END)


def _stub_elasticache(monkeypatch, live_storage: int, expect_modify: dict | None):
    """ElastiCache through a Stubber (moto has no serverless caches); CloudWatch stays on moto."""
    from costwise.sources.aws import AwsSession

    client = boto3.client("elasticache", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("describe_serverless_caches", {"ServerlessCaches": [{
        "ServerlessCacheName": "prod-cache", "Engine": "valkey", "Status": "available",
        "CacheUsageLimits": {"DataStorage": {"Maximum": live_storage, "Unit": "GB"}, "ECPUPerSecond": {"Maximum": 10000}}}]})
    if expect_modify is not None:
        stub.add_response("modify_serverless_cache", {"ServerlessCache": {"ServerlessCacheName": "prod-cache"}}, expect_modify)
    stub.activate()
    original = AwsSession.client
    monkeypatch.setattr(AwsSession, "client", lambda self, service, region, **kw: client if service == "elasticache" else original(self, service, region, **kw))
    return stub


def test_drift_between_the_code_and_the_cache_is_said(run, moto, prod_cache, monkeypatch):
    _stub_elasticache(monkeypatch, live_storage=8, expect_modify=None)
    code, out, err = run("suggest", "--iac", str(FIXTURES / "stack.py"), "--config", str(prod_cache), "--endpoint-url", moto,
                         "--as-of", "2026-11-20T00:00:00Z", "--days", "3")
    assert code == 0, err
    assert "drift: prod: " in err and "says 5 GB, the cache has 8 GB: changed outside the code?" in err


def test_apply_is_a_dry_run_until_yes(run, moto, prod_cache, monkeypatch):
    window = ("--config", str(prod_cache), "--endpoint-url", moto, "--as-of", "2026-11-20T00:00:00Z", "--days", "3")
    _stub_elasticache(monkeypatch, live_storage=5, expect_modify=None)
    code, out, err = run("estimate", *window, "--format", "json")
    recommended = json.loads(out)["environments"][0]["limits"]["recommended"]
    # what apply must send: exactly the recommended maximums (no minimum was set, so none is sent)
    request = {"ServerlessCacheName": "prod-cache",
               "CacheUsageLimits": {"DataStorage": {"Maximum": recommended["max_storage_gb"], "Unit": "GB"},
                                    "ECPUPerSecond": {"Maximum": recommended["max_ecpu_per_second"]}}}
    stub = _stub_elasticache(monkeypatch, live_storage=5, expect_modify=None)
    code, out, err = run("apply", "--env", "prod", *window)
    assert code == 0, err
    assert "dry run: nothing changed" in err
    assert json.loads(out[out.index("{"):]) == request
    stub.assert_no_pending_responses()  # a dry run calls no ModifyServerlessCache (the stub would fail an unplanned call)

    stub = _stub_elasticache(monkeypatch, live_storage=5, expect_modify=request)
    code, out, err = run("apply", "--env", "prod", *window, "--yes")
    assert code == 0, err
    stub.assert_no_pending_responses()  # the modify was sent, with exactly that request
    assert f"sent: prod-cache now has {recommended['max_storage_gb']} GB" in err


def test_apply_sets_a_maximum_that_covers_a_one_off_burst(run, moto, tmp_path, monkeypatch):
    # one burst minute at 20,000 ECPU/s, once in three days: the typical days' model does not size for
    # a one-off, but a limit never sits below a peak the cache reached: 20,000 x 1.2 x 1.25 = 30,000,
    # and three days have not seen 4/7 of the week: x (1 + 0.75 x 4/7) = 42,857 -> 43,000
    # (three days are too few for the burst model, which needs a week)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    row = STEADY_HOUR
    put_hourly(cw, "prod-cache", END - timedelta(days=3), [row] * 30 + [{**row, "ecpu_max_minute": 1.2e6}] + [row] * 41)
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n  prod: {cache: prod-cache}\n")
    window = ("--config", str(config), "--endpoint-url", moto, "--as-of", "2026-11-20T00:00:00Z", "--days", "3")
    _stub_elasticache(monkeypatch, live_storage=5, expect_modify=None)
    code, out, err = run("estimate", *window, "--format", "json")
    recommended = json.loads(out)["environments"][0]["limits"]["recommended"]
    assert recommended["max_ecpu_per_second"] == 43_000
    request = {"ServerlessCacheName": "prod-cache",
               "CacheUsageLimits": {"DataStorage": {"Maximum": recommended["max_storage_gb"], "Unit": "GB"},
                                    "ECPUPerSecond": {"Maximum": 43_000}}}
    stub = _stub_elasticache(monkeypatch, live_storage=5, expect_modify=request)
    code, out, err = run("apply", "--env", "prod", *window, "--yes")
    assert code == 0, err
    stub.assert_no_pending_responses()


def test_apply_needs_one_environment(run, moto, prod_cache):
    code, out, err = run("apply", "--config", str(prod_cache), "--endpoint-url", moto)
    assert code == 2 and "exactly one --env" in err
