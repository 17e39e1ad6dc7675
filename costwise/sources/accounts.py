"""Every serverless cache in other AWS accounts, read through a role assumed in each (`accounts:` in
costwise.yaml).

Per account: STS AssumeRole, then per region DescribeServerlessCaches lists the caches and
`collect_history` reads them with the same minimal GetMetricData plan as configured environments.
Account-regions are read concurrently by a small pool (each has its own clients; botocore's retries,
standard or adaptive, keep each within GetMetricData's per-account-region quota). An account whose
role cannot be assumed, or a region that cannot be listed, becomes one environment carrying that
error; the rest complete.

Environments are named ACCOUNT/REGION/CACHE, so the same cache name in two accounts stays two rows.

`organization:` lists the member accounts (Organizations ListAccounts, from the management or a
delegated administrator account) and reads each active one through the same-named role.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from costwise.config import AccountConfig, EnvConfig, OrganizationConfig
from costwise.errors import AwsError
from costwise.sources import aws, in_shard
from costwise.sources.cloudwatch import DriverReader, FetchPool, collect_history
from costwise.usage import EnvHistory, History, Window

WORKERS = 4  # account-regions read at once: 2 cores, and each read mostly waits on the network


def _failed(name: str, region: str, error: str, account: str | None = None) -> EnvHistory:
    return EnvHistory(env=name, cache="", engine=None, region=region, error=error, account=account)


def _read_account_region(account: AccountConfig, region: str, session: aws.AwsSession, window: Window,
                         on_page: Callable[[int], None] | None, known: frozenset, pool: FetchPool | None,
                         shard: tuple[int, int] | None = None, drivers: DriverReader | None = None) -> tuple[list[EnvHistory], int]:
    prefix = f"{account.name}/" if account.name else ""
    try:
        described = aws.describe_serverless_caches(session.client("elasticache", region))
    except Exception as exc:
        failed = _failed(f"{prefix}{region}", region, str(aws.describe_error(exc, f"DescribeServerlessCaches in {region}")), account.name or None)
        return ([failed] if in_shard(failed.env, shard) else []), 0
    envs = [EnvConfig(name=f"{prefix}{region}/{cache}", cache=cache, region=region, account=account.name or None) for cache in sorted(described)
            if (account.name or (region, cache) not in known) and in_shard(f"{prefix}{region}/{cache}", shard)]
    if not envs:
        return [], 0
    history = collect_history(envs, region, window, session, on_page, described_by_region={region: described}, pool=pool, drivers=drivers)
    return history.environments, history.api_calls


ORGANIZATIONS_REGION = "us-east-1"  # Organizations' one endpoint (aws partition)


def member_accounts(organization: OrganizationConfig, session: aws.AwsSession) -> tuple[AccountConfig, ...]:
    """The active member accounts as AccountConfigs, named by account name (the id where two share a
    name). Raises AwsError when the accounts cannot be listed."""
    try:
        listed = aws.organization_accounts(session.client("organizations", ORGANIZATIONS_REGION))
        active = [(str(a["Id"]), str(a.get("Name") or a["Id"])) for a in listed if a.get("Status", "ACTIVE") == "ACTIVE"]
    except Exception as exc:  # an AwsError from field_of passes through describe_error unchanged
        raise aws.describe_error(exc, "Organizations ListAccounts") from None
    names = [name for _, name in active]
    return tuple(AccountConfig(name=name if names.count(name) == 1 else account_id,
                               role_arn=f"arn:aws:iam::{account_id}:role/{organization.role_name}",
                               regions=organization.regions, external_id=organization.external_id)
                 for account_id, name in active)


def collect_accounts(accounts: tuple[AccountConfig, ...], window: Window, session: aws.AwsSession,
                     on_page: Callable[[int], None] | None = None, all_regions: bool = False,
                     known: frozenset = frozenset(), pool: FetchPool | None = None, shard: tuple[int, int] | None = None,
                     drivers: DriverReader | None = None) -> History:
    """All caches of all accounts' regions (with `all_regions`, every region enabled for each
    account), in account then region order. `known`: (region, cache) already configured as
    environments, not repeated for the account costwise runs in. `shard` (K, N): only the caches
    whose names fall in shard K, so that one big account splits evenly too; an error row goes to
    the shard its name falls in, so N jobs report it once."""
    planned: list[tuple[AccountConfig, list[str] | EnvHistory, aws.AwsSession | None]] = []
    for account in accounts:
        label = f"account {account.name}" if account.name else "this account"
        try:
            assumed = session if account.role_arn is None else session.assume_role(account.role_arn, account.regions[0], account.external_id)
            if all_regions:
                try:
                    regions = aws.enabled_regions(assumed.client("ec2", account.regions[0]))
                except Exception as exc:
                    raise aws.describe_error(exc, "DescribeRegions") from None
            else:
                regions = list(account.regions)
        except AwsError as exc:
            failed = _failed(account.name or "regions", account.regions[0], f"{label}: {exc}", account.name or None)
            if in_shard(failed.env, shard):  # reported by one shard only
                planned.append((account, failed, None))
            continue
        planned.append((account, regions, assumed))
    work = [(account, region, assumed) for account, regions, assumed in planned if isinstance(regions, list) for region in regions]
    threads = ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(work))))
    try:
        futures = [threads.submit(_read_account_region, account, region, assumed, window, on_page, known, pool, shard, drivers) for account, region, assumed in work]
        results = iter([future.result() for future in futures])
    except BaseException:  # Ctrl-C: the worker processes stop first, so the threads waiting on them end
        if pool is not None:
            pool.close(wait=False)
        threads.shutdown(wait=True, cancel_futures=True)
        raise
    threads.shutdown()
    environments: list[EnvHistory] = []
    calls = 0
    for _account, regions, _assumed in planned:
        if isinstance(regions, EnvHistory):
            environments.append(regions)
            continue
        for _region in regions:
            envs, region_calls = next(results)
            environments.extend(envs)
            calls += region_calls
    return History(window=window, environments=environments, source="cloudwatch", api_calls=calls)


@dataclass
class AccountsSource:
    """The caches of the accounts (and the Organization's members) in costwise.yaml, read live."""

    accounts: tuple[AccountConfig, ...]
    window: Window
    session: aws.AwsSession
    organization: OrganizationConfig | None = None
    on_page: Callable[[int], None] | None = None
    shard: tuple[int, int] | None = None  # (K, N): only the caches of shard K (`fetch --shard`)
    all_regions: bool = False  # every enabled region of each account, instead of its configured ones
    known: frozenset = frozenset()  # (region, cache) of configured environments (this account)
    pool: FetchPool | None = None  # worker processes for large plans, shared with CloudWatchSource
    label: str = "cloudwatch"
    drivers: DriverReader | None = None  # collects the caches read, for the drivers of the costliest

    def read(self) -> History:
        accounts = self.accounts
        listing_failed = None
        if self.organization is not None:
            try:
                named = {a.role_arn.split(":")[4] for a in accounts if a.role_arn}
                accounts += tuple(a for a in member_accounts(self.organization, self.session) if a.role_arn.split(":")[4] not in named)
            except AwsError as exc:
                listing_failed = _failed("organization", ORGANIZATIONS_REGION, f"organization: {exc}")
        history = collect_accounts(accounts, self.window, self.session, self.on_page, self.all_regions, self.known, self.pool, self.shard, self.drivers)
        if listing_failed is not None and in_shard(listing_failed.env, self.shard):
            history.environments.insert(0, listing_failed)
        return history
