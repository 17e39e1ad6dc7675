"""The one module that talks to AWS. Everything else gets plain dicts and lists from here.

Only read calls: DescribeServerlessCaches, GetMetricData, DescribeReplicationGroups, GetProducts,
Cost Explorer GetCostAndUsage(WithResources) and S3 ListObjectsV2 / GetObject for `reconcile`, and
STS AssumeRole for the accounts in costwise.yaml, Organizations ListAccounts for `organization:`, EC2
DescribeRegions for `--all-regions`.
Retries are botocore's own (standard or adaptive mode); this module never loops on an error by
itself. Every call has a connect and a read timeout, and the whole run a deadline (`--timeout`):
past it no further attempt is sent. A response without the field the call always returns is an
error naming the call, never "no data". Errors are turned into `AwsError` with a message a person
can act on.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from costwise.errors import AwsError, InputError

RETRY_MODES = ("standard", "adaptive")

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "LimitExceededException"}
UNAVAILABLE = {"InvalidAction", "UnknownOperationException", "UnsupportedOperation", "NotImplemented", "InvalidParameterValue", "InvalidParameterCombination"}


class DeadlineExceeded(AwsError):
    """The run's --timeout passed: no further AWS call is attempted."""


class ResponseTooLarge(AwsError):
    """An answer longer than any AWS sends (MAX_RESPONSE_BYTES): no further AWS call is attempted."""


def describe_error(exc: BaseException, action: str) -> AwsError:
    """Turn a botocore failure into one clear line, without the secrets of any URL it repeats."""
    from costwise.fmt import printable
    from costwise.redact import redact_urls

    error = _describe_error(exc, action)
    return AwsError(printable(redact_urls(" ".join(str(error).split())))[:400])


def _describe_error(exc: BaseException, action: str) -> AwsError:
    from botocore import exceptions as bex

    if isinstance(exc, (DeadlineExceeded, ResponseTooLarge)):
        return AwsError(f"{action}: {exc}")
    if isinstance(exc, AwsError):  # already names its call
        return exc
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return AwsError(f"{action}: no AWS credentials found (set AWS_PROFILE or --profile, or run inside a role)")
    if isinstance(exc, bex.ProfileNotFound):
        return AwsError(f"{action}: {exc}")
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError, bex.ConnectionClosedError)):
        return AwsError(f"{action}: cannot reach AWS ({exc})")
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        return AwsError(f"{action}: the response could not be read (truncated or not from AWS)")
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message", "")
        if code in ACCESS_DENIED:
            return AwsError(f"{action}: access denied ({code}); see the IAM policy in the README")
        if code in THROTTLED:
            return AwsError(f"{action}: throttled by AWS even after retries ({code}); try again later or raise the retry limit")
        return AwsError(f"{action}: {code}: {message}".rstrip(": "))
    if isinstance(exc, bex.BotoCoreError):
        return AwsError(f"{action}: {exc}")
    # anything else came from reading a body that is not what AWS sends
    return AwsError(f"{action}: the response could not be read ({type(exc).__name__}; truncated or not from AWS)")


def is_unavailable(exc: BaseException) -> bool:
    """Denied or not implemented: a reason to fall back to configured limits, not to fail."""
    from botocore import exceptions as bex

    if isinstance(exc, bex.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in ACCESS_DENIED or code in UNAVAILABLE or status in (403, 404, 501)
    return False


DEFAULT_TIMEOUT = 300.0  # seconds for the whole run
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0  # a GetMetricData page of 100,800 points answers in seconds
# The longest answer costwise reads: a GetMetricData page of 100,800 points is about 7 MB as XML,
# a GetProducts page of 100 price lists about 2 MB. botocore holds a body whole (and parses it
# into several times its size), so a longer one is refused while it arrives, not after.
MAX_RESPONSE_BYTES = 32 << 20


class _Guard:
    """What the connections of one session enforce on every byte they read (costwise.sources.guarded):
    the run's deadline and MAX_RESPONSE_BYTES. An answer it cut off for its size is remembered for
    the thread that read it, so that botocore's retry of that call is refused at once, with the
    reason, in `AwsSession._before_send`."""

    def __init__(self, deadline: float):
        import threading

        self._deadline = deadline
        self._stopped = threading.local()
        self._limits = threading.local()  # a thread's own limit while it streams an object to a file

    @property
    def limit(self) -> int:
        return getattr(self._limits, "limit", MAX_RESPONSE_BYTES)

    def deadline(self, sent_at: float) -> float:
        return self._deadline  # the whole run's, however recently a request was sent

    def stop(self, why: str) -> None:
        if why == "size":  # past the deadline, the retry's own check says so, naming the endpoint
            self._stopped.why = ResponseTooLarge(f"the answer is longer than {self.limit >> 20} MiB, more than AWS sends; "
                                                 "not an AWS endpoint?")

    @contextmanager
    def streaming(self, limit: int) -> Iterator[None]:
        """This thread's answers may be up to `limit` bytes: an object copied to a file a megabyte at a
        time (S3 GetObject), never held whole."""
        previous = getattr(self._limits, "limit", None)
        self._limits.limit = limit
        try:
            yield
        finally:
            if previous is None:
                del self._limits.limit
            else:
                self._limits.limit = previous

    def stopped(self, attempt: int) -> AwsError | None:
        """Why this thread's previous attempt was stopped, when this is a retry of it."""
        why, self._stopped.why = getattr(self._stopped, "why", None), None
        return why if attempt > 1 else None


def _guarded_pools(guard: _Guard) -> dict:
    """botocore's connection pools (http, https), their connections' sockets guarded by `guard`."""
    from botocore.awsrequest import AWSHTTPConnection, AWSHTTPConnectionPool, AWSHTTPSConnection, AWSHTTPSConnectionPool

    from costwise.sources.guarded import GuardedSocket

    def guarded(connection_class):
        class Guarded(connection_class):
            def connect(self):
                super().connect()
                self.sock = GuardedSocket(self.sock, guard)

        return Guarded

    return {"http": type("GuardedHTTPPool", (AWSHTTPConnectionPool,), {"ConnectionCls": guarded(AWSHTTPConnection)}),
            "https": type("GuardedHTTPSPool", (AWSHTTPSConnectionPool,), {"ConnectionCls": guarded(AWSHTTPSConnection)})}


@dataclass
class AwsSession:
    """Clients for one profile and endpoint, created lazily per service and region, sharing one deadline."""

    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 8
    timeout: float = DEFAULT_TIMEOUT
    credentials: dict | None = None  # temporary credentials from AssumeRole, else the profile's
    _clients: dict = field(default_factory=dict)
    _deadline: float = 0.0
    _guard: _Guard | None = None

    def __post_init__(self) -> None:
        import time

        if self.endpoint_url is not None:  # bad input, said once, before any client is made
            from costwise.redact import checked_url

            if not checked_url(self.endpoint_url, "--endpoint-url", ("http", "https")).hostname:
                raise InputError("--endpoint-url: names no host")
        if not self._deadline:
            self._deadline = time.monotonic() + self.timeout
        if self._guard is None or self._guard.deadline(0.0) != self._deadline:
            self._guard = _Guard(self._deadline)

    def assume_role(self, role_arn: str, region: str, external_id: str | None = None) -> "AwsSession":
        """A session with the role's temporary credentials (STS AssumeRole, one hour), sharing this
        run's deadline. Raises AwsError naming the role."""
        from dataclasses import replace

        request = {"RoleArn": role_arn, "RoleSessionName": "costwise", "DurationSeconds": 3600}
        if external_id is not None:
            request["ExternalId"] = external_id
        try:
            answer = self.client("sts", region).assume_role(**request)
            granted = answer["Credentials"]  # a KeyError is a garbled answer, described below
            credentials = {"aws_access_key_id": granted["AccessKeyId"], "aws_secret_access_key": granted["SecretAccessKey"],
                           "aws_session_token": granted["SessionToken"]}
        except Exception as exc:
            raise describe_error(exc, f"AssumeRole {role_arn}") from None
        return replace(self, profile=None, credentials=credentials, _clients={}, _deadline=self._deadline, _guard=None)

    def _before_send(self, request=None, **kwargs) -> None:
        import time

        attempt = (getattr(request, "context", None) or {}).get("retries", {}).get("attempt", 1)
        stopped = self._guard.stopped(attempt)
        if stopped is not None:  # botocore retrying an answer the guard stopped: say why instead
            raise stopped
        if time.monotonic() > self._deadline:
            from costwise.redact import redact_urls

            raise DeadlineExceeded(f"no answer within the {self.timeout:g} s deadline (--timeout); gave up waiting for {redact_urls(getattr(request, 'url', 'AWS'))}")

    def __getstate__(self) -> dict:
        # for a worker process: clients hold sockets and stay behind; the deadline is a monotonic
        # time, the same clock in every process of this machine
        state = dict(self.__dict__)
        state["_clients"] = {}
        state["_guard"] = None  # its per-thread record stays behind too
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._guard = _Guard(self._deadline)

    def metrics_client(self, region: str):
        """A CloudWatch client whose responses keep timestamps as the epoch numbers AWS sends (JSON
        and CBOR alike; the query protocol's ISO strings stay strings).

        botocore otherwise builds a timezone-aware datetime per datapoint: about 90% of the time it
        spends parsing a GetMetricData page (bench_fleet.py prints both); the AWS CLI switches it
        off the same way (ResponseParserFactory.set_parser_defaults, awscli's scalarparse).
        """
        return self.client("cloudwatch", region, raw_timestamps=True)

    def client(self, service: str, region: str, raw_timestamps: bool = False):
        key = (service, region, raw_timestamps)
        if key not in self._clients:
            import boto3
            import botocore.session
            from botocore import exceptions as bex
            from botocore.config import Config

            config = Config(
                retries={"mode": self.retry_mode, "max_attempts": self.max_attempts},
                connect_timeout=min(CONNECT_TIMEOUT, self.timeout),
                read_timeout=min(READ_TIMEOUT, self.timeout),
                user_agent_extra="costwise",
            )
            try:
                core = botocore.session.Session()
                if raw_timestamps:
                    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_keep_timestamp)
                session = boto3.session.Session(profile_name=self.profile, region_name=region, botocore_session=core,
                                                **(self.credentials or {}))
                # endpoint_url None lets botocore honour AWS_ENDPOINT_URL(_<SERVICE>) by itself.
                client = session.client(service, region_name=region, endpoint_url=self.endpoint_url, config=config)
            except bex.BotoCoreError as exc:
                raise describe_error(exc, f"{service} client") from None
            except ValueError as exc:  # an endpoint URL botocore cannot use
                from costwise.redact import redact_urls

                raise AwsError(f"{service} client: {redact_urls(exc)}") from None
            # every attempt, retries included, checks the run's deadline first; every byte read, the
            # deadline and the size of the answer (the pools botocore's HTTP session makes connections from)
            client.meta.events.register("before-send", self._before_send)
            # (botocore has no public hook for its connections: its HTTP session keeps the pool classes
            # it makes them from in this dict, shared with its proxy managers; tests/test_hostile_hangs.py
            # fails should a botocore release move it)
            client._endpoint.http_session._pool_classes_by_scheme.update(_guarded_pools(self._guard))
            self._clients[key] = client
        return self._clients[key]


def _keep_timestamp(value):
    return value


def describe_serverless_caches(client) -> dict[str, dict[str, Any]]:
    """All serverless caches in the client's region, by name (paged with MaxResults/NextToken)."""
    caches: dict[str, dict[str, Any]] = {}
    paginator = client.get_paginator("describe_serverless_caches")
    for page in paginator.paginate(PaginationConfig={"PageSize": 50}):
        for cache in field_of(page, "ServerlessCaches", "DescribeServerlessCaches"):
            caches[cache["ServerlessCacheName"]] = cache
    return caches


def enabled_regions(client) -> list[str]:
    """The regions enabled for the account (EC2 DescribeRegions), sorted."""
    return sorted(str(r["RegionName"]) for r in field_of(client.describe_regions(AllRegions=False), "Regions", "DescribeRegions"))


def organization_accounts(client) -> list[dict[str, Any]]:
    """The Organization's member accounts (Id, Name, Status), paged."""
    accounts: list[dict[str, Any]] = []
    for page in client.get_paginator("list_accounts").paginate():
        accounts.extend(field_of(page, "Accounts", "ListAccounts"))
    return accounts


def field_of(response: dict, name: str, action: str):
    """A field every successful response carries; its absence means a garbled or truncated body."""
    if not isinstance(response, dict) or not isinstance(response.get(name), list):
        raise AwsError(f"{action}: the response could not be read (no {name}; truncated or not from AWS)")
    return response[name]


@dataclass
class MetricResults:
    """GetMetricData results merged across pages: id -> (timestamps, values)."""

    series: dict[str, tuple[list[datetime], list[float]]] = field(default_factory=dict)
    calls: int = 0
    messages: list[str] = field(default_factory=list)


def get_metric_data(
    client,
    batches: Iterable[list[dict]],
    start: datetime,
    end: datetime,
    on_page: Callable[[int], None] | None = None,
    on_results: Callable[[list[dict]], None] | None = None,
) -> MetricResults:
    """Run each batch of queries, following NextToken; one page is one call.

    With `on_results`, each page's MetricDataResults go to it as they arrive and nothing is kept
    (`series` stays empty): memory holds one page at a time. Without, a query's points are merged
    across pages in order.
    """
    results = MetricResults()
    for batch in batches:
        token = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": batch,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            response = client.get_metric_data(**kwargs)
            results.calls += 1
            items = field_of(response, "MetricDataResults", "GetMetricData")
            if on_results is not None:
                on_results(items)
                items = []
            for item in items:
                timestamps, values = results.series.setdefault(item["Id"], ([], []))
                timestamps.extend(item.get("Timestamps", []))
                values.extend(item.get("Values", []))
            results.messages.extend(m.get("Value", "") for m in response.get("Messages", []) if m.get("Value"))
            if on_page is not None:
                on_page(1)
            token = response.get("NextToken")
            if not token:
                break
    return results


def database_savings_plan_commitment(client) -> float:
    """The hourly commitment of the account's active Database Savings Plans (savingsplans:DescribeSavingsPlans)."""
    total = 0.0
    token = None
    while True:
        kwargs: dict[str, Any] = {"states": ["active"], "filters": [{"name": "savings-plan-type", "values": ["Database"]}]}
        if token:
            kwargs["nextToken"] = token
        response = client.describe_savings_plans(**kwargs)
        for plan in field_of(response, "savingsPlans", "DescribeSavingsPlans"):
            total += float(plan.get("commitment") or 0.0)
        token = response.get("nextToken")
        if not token:
            return total


def modify_serverless_cache(client, request: dict[str, Any]) -> dict[str, Any]:
    """The one write costwise makes, and only from `costwise apply --yes`: ModifyServerlessCache."""
    return client.modify_serverless_cache(**request)


def get_products(client, service_code: str, filters: list[dict[str, str]]) -> list[str]:
    """Every PriceList entry (a JSON string each) matching the filters, across pages."""
    items: list[str] = []
    paginator = client.get_paginator("get_products")
    for page in paginator.paginate(ServiceCode=service_code, Filters=filters, FormatVersion="aws_v1",
                                   PaginationConfig={"PageSize": 100}):
        items.extend(field_of(page, "PriceList", "GetProducts"))
    return items


def get_cost_and_usage(client, request: dict[str, Any], with_resources: bool = False) -> list[dict[str, Any]]:
    """Cost Explorer's ResultsByTime for `request`, across pages (NextPageToken). `with_resources`:
    GetCostAndUsageWithResources (resource-level data: the last 14 days, when enabled)."""
    call = client.get_cost_and_usage_with_resources if with_resources else client.get_cost_and_usage
    name = "GetCostAndUsageWithResources" if with_resources else "GetCostAndUsage"
    results: list[dict[str, Any]] = []
    token = None
    while True:
        response = call(**request, **({"NextPageToken": token} if token else {}))
        results.extend(field_of(response, "ResultsByTime", name))
        token = response.get("NextPageToken")
        if not token:
            return results


def list_objects(client, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
    """(key, size) of each object under the prefix as the pages of ListObjectsV2 come: the caller
    bounds how many it takes (a listing can be endless)."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield str(item["Key"]), int(item.get("Size", 0))


def download_object(session: "AwsSession", client, bucket: str, key: str, target, most: int) -> None:
    """Copy one object of at most `most` bytes into the open binary file `target`, a megabyte at a
    time (memory stays flat); a longer answer is cut off as it arrives, whatever it was listed at."""
    with session._guard.streaming(most + (1 << 20)):  # and its headers
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        copied = 0
        for chunk in body.iter_chunks(chunk_size=1 << 20):
            copied += len(chunk)
            if copied > most:
                raise ResponseTooLarge(f"the object is longer than {most:,} bytes")
            target.write(chunk)
