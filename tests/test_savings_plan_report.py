"""Database Savings Plan advice and existing commitments in estimate/report, checked by hand (issue 14).

Prices: the tests' fixture, us-east-1. Valkey on demand $0.0837/GB-h and $0.00227/M ECPU; the
plan's rates 30% off: $0.05859/GB-h and $0.001589/M ECPU.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from costwise.sources.history_file import save_history
from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame

GIB = 2**30
END = datetime(2026, 11, 20, tzinfo=timezone.utc)


def _flat_history(path):
    """30 days of a flat valkey cache (1 GB, 3.6 M ECPUs an hour) and a flat redis-oss one."""
    window = Window(END - timedelta(days=30), END)
    envs = []
    for name, engine in (("shop", "valkey"), ("legacy", "redis-oss")):
        frame = empty_frame(window)
        frame[["storage_avg_bytes", "storage_max_bytes"]] = GIB
        frame["ecpu_sum"] = 3.6e6
        frame["ecpu_max_minute"] = 6e4
        frame["throttled_sum"] = 0.0
        envs.append(EnvHistory(env=name, cache=f"{name}-cache", engine=engine, region="us-east-1",
                               limits=CurrentLimits(source="file"), frame=frame))
    save_history(History(window, envs, "cloudwatch"), path)


def test_commitment_advice_and_an_existing_plan(cli, tmp_path):
    history, config = tmp_path / "history.csv", tmp_path / "costwise.yaml"
    _flat_history(history)
    # no interval floor: a perfectly flat month has a zero-width range, so the advice is the mean's
    config.write_text("environments:\n  shop: {cache: shop-cache}\n  legacy: {cache: legacy-cache}\n"
                      "sizing: {min_interval_halfwidth: 0}\nsavings_plan: {commitment_per_hour: 0.05}\n")
    result = cli("report", "--metrics-file", str(history), "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plan = data["totals"]["savings_plan"]
    # only the valkey cache is eligible: on demand 1 x 0.0837 + 3.6 x 0.00227 = 0.091872 $/h, 67.06656 a month;
    # at plan rates 0.05859 + 3.6 x 0.001589 = 0.0643104 $/h: a 30% discount
    assert plan["environments"] == ["shop"]
    assert plan["eligible_on_demand_month"] == pytest.approx(0.091872 * 730)
    assert plan["discount"] == pytest.approx(0.30)
    # the commitment: 0.0643104 $/h rounded down to the $0.001 = 0.064; it covers 0.064 / 0.7 = 0.0914286
    # of on-demand usage, saving 0.0914286 - 0.064 = 0.0274286 an hour: 20.0229 a month, whatever the range
    assert plan["recommended_commitment_per_hour"] == pytest.approx(0.064)
    assert plan["savings_month"]["expected"] == pytest.approx(0.0274286 * 730, rel=1e-4)
    assert plan["savings_month"]["low"] == pytest.approx(plan["savings_month"]["expected"])
    assert plan["break_even_utilisation"] == pytest.approx(0.70)
    # the existing 0.05 $/h (costwise.yaml): each hour 0.05 + (0.091872 - 0.05 / 0.7) = 0.0704434: 51.4237 a month
    existing = plan["existing"]
    assert existing["source"] == "costwise.yaml"
    assert existing["net_month"] == pytest.approx(0.0704434 * 730, rel=1e-5)
    assert existing["additional_commitment_per_hour"] == pytest.approx(0.014)
    assert existing["allocation"] == {"shop": pytest.approx(existing["net_month"])}
    assert "allocation" in existing["note"]
    envs = {e["env"]: e for e in data["environments"]}
    assert envs["shop"]["cost"]["projected_month"]["eligible"] is True
    assert envs["legacy"]["cost"]["projected_month"]["eligible"] is False

    markdown = cli("report", "--metrics-file", str(history), "--config", str(config)).stdout
    # Markdown escapes `$` (GitHub would read $...$ as math): the source has \$, GitHub shows $
    assert "commit \\$0.064/hour (30% off; it pays off when at least 70% of it is used)" in markdown
    assert "already committed (costwise.yaml): \\$51.42 a month instead of \\$67.07 on demand" in markdown


def test_no_valkey_no_advice(cli):
    result = cli("report", "--demo", "--format", "json", "--env", "dev")
    assert json.loads(result.stdout)["totals"]["savings_plan"]["environments"] == ["dev"]
    result = cli("whatif", "--engine", "redis-oss", "--storage-gb", "1", "--ecpu-per-second", "10", "--savings-plan", "--format", "json")
    data = json.loads(result.stdout)
    assert "savings_plan" not in data
    assert "--savings-plan: Database Savings Plans cover Valkey only" in data["warnings"]


def test_whatif_savings_plan_price(cli):
    # 0.2 GB and 10 M 1-KB requests a day on valkey: $12.91 on demand; at plan rates
    # 0.2 x 0.05859 x 730 = 8.55414 and 304.1667 M x 0.001589 = 0.483321: 9.03746
    result = cli("whatif", "--storage-gb", "0.2", "--requests-per-day", "10000000", "--savings-plan", "--format", "json")
    plan = json.loads(result.stdout)["savings_plan"]
    assert plan["cost"]["total"] == pytest.approx(0.2 * 0.05859 * 730 + 304.16667 * 0.001589, rel=1e-5)
    assert plan["discount"] == pytest.approx(0.30, abs=1e-6)


def test_existing_plans_are_read_from_every_page(aws_env):
    import boto3
    from botocore.stub import Stubber

    from costwise.sources.aws import database_savings_plan_commitment

    client = boto3.client("savingsplans", region_name="us-east-1")
    stub = Stubber(client)
    expected = {"states": ["active"], "filters": [{"name": "savings-plan-type", "values": ["Database"]}]}
    stub.add_response("describe_savings_plans", {"savingsPlans": [{"savingsPlanId": "a", "commitment": "0.75"}], "nextToken": "2"}, expected)
    stub.add_response("describe_savings_plans", {"savingsPlans": [{"savingsPlanId": "b", "commitment": "0.50"}]}, {**expected, "nextToken": "2"})
    with stub:
        # two active Database plans, one a page: 0.75 + 0.50 = 1.25 $/h
        assert database_savings_plan_commitment(client) == pytest.approx(1.25)
    stub.assert_no_pending_responses()
