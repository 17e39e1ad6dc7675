"""Fleets across accounts (issue 13): `accounts:` in costwise.yaml, each read through a role it
assumes (moto's STS and CloudWatch behind the fault server, which lists the serverless caches and
denies one role)."""

from __future__ import annotations

import json

import boto3

from tests.awsfakes import put_hourly
from tests.faultserver import FaultServer
from tests.helpers import AS_OF, GIB, START, costwise

SHOP = "arn:aws:iam::123456789012:role/costwise-read"
BOOKS = "arn:aws:iam::222222222222:role/costwise-read"
PAYMENTS = "arn:aws:iam::333333333333:role/costwise-read"


def _row(gib: float) -> dict:
    return {"storage_avg": gib * GIB, "storage_max": gib * GIB, "ecpu_sum": 3.6e6, "ecpu_max_minute": 6e4, "throttled": 0.0}


def test_each_account_is_read_through_its_role_and_a_denied_one_fails_alone(moto, tmp_path):
    # the shop account's metrics under the default credentials (moto's account 123456789012); the
    # books account's under credentials from its own role, so only that role can read them
    put_hourly(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), "web-cache", START, [_row(1)] * 48)
    granted = boto3.client("sts", region_name="us-east-1", endpoint_url=moto).assume_role(RoleArn=BOOKS, RoleSessionName="test")["Credentials"]
    books = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto, aws_access_key_id=granted["AccessKeyId"],
                         aws_secret_access_key=granted["SecretAccessKey"], aws_session_token=granted["SessionToken"])
    put_hourly(books, "web-cache", START, [_row(3)] * 48)
    config = tmp_path / "costwise.yaml"
    config.write_text(f"accounts:\n  shop: {{role_arn: '{SHOP}'}}\n  books: {{role_arn: '{BOOKS}', external_id: ext-1234}}\n"
                      f"  payments: {{role_arn: '{PAYMENTS}', regions: [us-east-1]}}\n")
    with FaultServer(moto, caches=[{"name": "web-cache"}], denied_roles=(PAYMENTS,)) as fault:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert result.code == 1, result.err  # one account failed; the others are complete
    envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
    assert list(envs) == ["shop/us-east-1/web-cache", "books/us-east-1/web-cache", "payments"]
    shop, book = envs["shop/us-east-1/web-cache"], envs["books/us-east-1/web-cache"]
    assert shop["error"] is None and book["error"] is None
    # 3 GB all window in books vs 1 GB in shop; ECPU identical: the storage costs are 3:1
    assert abs(book["cost"]["window"]["storage"] / shop["cost"]["window"]["storage"] - 3) < 1e-6
    assert "AssumeRole" in envs["payments"]["error"] and "access denied" in envs["payments"]["error"]
    assert any(line.startswith("costwise: payments: account payments: AssumeRole") for line in result.lines()), result.err
    # each region listed once (not again by the metric read), one role assumed per account
    assert fault.seen.count("AssumeRole") == 3 and fault.seen.count("DescribeServerlessCaches") == 2


def test_account_entries_are_checked(tmp_path):
    config = tmp_path / "costwise.yaml"
    for body, needle in [("accounts:\n  a: {role_arn: 'arn:aws:iam::12:role/x'}\n", "accounts.a.role_arn: not an IAM role ARN"),
                         ("accounts:\n  a: {role_arn: 'arn:aws:iam::123456789012:role/x', regions: [mars-1]}\n", "'mars-1' is not a region"),
                         ("accounts:\n  a: {role: x}\n", "accounts.a.role: unknown key"),
                         ("organization: {role_name: 'read only'}\n", "organization.role_name: not an IAM role name"),
                         ("organization: {regions: [us-east-1]}\n", "organization.role_name: missing")]:
        config.write_text(body)
        result = costwise("estimate", "--config", str(config))
        assert result.code == 2 and len(result.lines()) == 1 and needle in result.err and str(config) in result.err, result.err


def test_an_organization_is_read_member_by_member(moto, tmp_path):
    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=moto)
    org.create_organization(FeatureSet="ALL")
    finance = org.create_account(Email="finance@example.com", AccountName="finance")["CreateAccountStatus"]["AccountId"]
    legacy = org.create_account(Email="legacy@example.com", AccountName="legacy")["CreateAccountStatus"]["AccountId"]
    accounts = {a["Id"]: a["Name"] for a in org.list_accounts()["Accounts"]}
    assert len(accounts) == 3  # the management account (moto's 123456789012) and two members
    put_hourly(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), "web-cache", START, [_row(1)] * 48)
    granted = boto3.client("sts", region_name="us-east-1", endpoint_url=moto).assume_role(
        RoleArn=f"arn:aws:iam::{finance}:role/costwise-read", RoleSessionName="test")["Credentials"]
    put_hourly(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto, aws_access_key_id=granted["AccessKeyId"],
                            aws_secret_access_key=granted["SecretAccessKey"], aws_session_token=granted["SessionToken"]),
               "web-cache", START, [_row(2)] * 48)
    config = tmp_path / "costwise.yaml"
    config.write_text("organization: {role_name: costwise-read, regions: [us-east-1]}\n")
    with FaultServer(moto, caches=[{"name": "web-cache"}], denied_roles=(f"arn:aws:iam::{legacy}:role/costwise-read",)) as fault:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert result.code == 1, result.err
    envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
    management = envs[f"{accounts['123456789012']}/us-east-1/web-cache"]
    member = envs["finance/us-east-1/web-cache"]
    # 2 GB in finance vs 1 GB in the management account: storage costs 2:1, each read with its own role
    assert abs(member["cost"]["window"]["storage"] / management["cost"]["window"]["storage"] - 2) < 1e-6
    assert "access denied" in envs["legacy"]["error"] and f"{legacy}:role/costwise-read" in envs["legacy"]["error"]
    assert fault.seen.count("ListAccounts") == 1 and fault.seen.count("AssumeRole") == 3


def test_an_organization_that_cannot_be_listed_fails_alone(moto, tmp_path):
    # ListAccounts answers garbage: no member is read; the configured environment still is
    put_hourly(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), "web-cache", START, [_row(1)] * 48)
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n  web: {cache: web-cache}\norganization: {role_name: costwise-read}\n")
    with FaultServer(moto, caches=[{"name": "web-cache"}], faults={"ListAccounts": "garbage"}) as fault:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert result.code == 1, result.err
    envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
    assert list(envs) == ["web", "organization"] and envs["web"]["error"] is None and envs["web"]["cost"]["window"]["total"] > 0
    assert envs["organization"]["error"].startswith("organization: Organizations ListAccounts")


REGIONS_XML = ('<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fault-4</requestId><regionInfo>'
               + "".join(f"<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint>"
                         "<optInStatus>opt-in-not-required</optInStatus></item>" for r in ("us-east-1", "eu-west-1"))
               + "</regionInfo></DescribeRegionsResponse>").encode()


def test_all_regions_discovers_every_cache_without_a_config(moto, tmp_path):
    for region, gib in (("us-east-1", 1), ("eu-west-1", 4)):
        put_hourly(boto3.client("cloudwatch", region_name=region, endpoint_url=moto), "web-cache", START, [_row(gib)] * 48)
    with FaultServer(moto, caches=[{"name": "web-cache"}], canned={"DescribeRegions": REGIONS_XML}) as fault:
        result = costwise("estimate", "--all-regions", "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json",
                          cwd=tmp_path)  # no costwise.yaml here
        assert result.code == 0, result.err
        envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
        assert list(envs) == ["eu-west-1/web-cache", "us-east-1/web-cache"]
        # 4 GB in eu-west-1 vs 1 GB in us-east-1, each at its own region's rate (fixture: $0.0921 vs
        # $0.0837 per GB-hour): 4 x 0.0921 / 0.0837 = 4.4014
        ratio = envs["eu-west-1/web-cache"]["cost"]["window"]["storage"] / envs["us-east-1/web-cache"]["cost"]["window"]["storage"]
        assert abs(ratio - 4 * 0.0921 / 0.0837) < 1e-6
        # a cache already configured as an environment is not listed twice
        (tmp_path / "costwise.yaml").write_text("environments:\n  web: {cache: web-cache}\n")
        again = costwise("estimate", "--all-regions", "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json", cwd=tmp_path)
    assert [e["env"] for e in json.loads(again.out)["environments"]] == ["web", "eu-west-1/web-cache"]
    assert fault.seen.count("DescribeRegions") == 2


def test_shards_report_a_denied_account_once(moto, tmp_path):
    put_hourly(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), "web-cache", START, [_row(1)] * 48)
    config = tmp_path / "costwise.yaml"
    config.write_text(f"accounts:\n  shop: {{role_arn: '{SHOP}'}}\n  payments: {{role_arn: '{PAYMENTS}'}}\n")
    rows = []
    with FaultServer(moto, caches=[{"name": "web-cache"}], denied_roles=(PAYMENTS,)) as fault:
        for k in (1, 2):
            out = tmp_path / f"part-{k}-of-2.csv"
            costwise("fetch", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2",
                     "--shard", f"{k}/2", "--output", str(out))
            rows += json.loads(out.read_text().splitlines()[0][2:])["environments"]
    # every job assumes both roles (caches are split by name, not by account), but the denied
    # account's one error row, like the shop's one cache, is in exactly one shard's file
    assert sorted(e["env"] for e in rows) == ["payments", "shop/us-east-1/web-cache"]
    assert "access denied" in next(e for e in rows if e["env"] == "payments")["error"]
    assert fault.seen.count("AssumeRole") == 4
