"""GetMetricData planning against a fake that enforces CloudWatch's real limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costwise.sources import aws
from costwise.sources.plan import (
    MAX_QUERIES_PER_CALL,
    build_queries,
    calls_with_batch_size,
    choose_batch_size,
    minimum_calls,
    plan_batches,
    planned_calls,
)
from tests.awsfakes import FakeCloudWatch

START = datetime(2026, 10, 21, tzinfo=timezone.utc)


def test_300_caches_30_days_uses_the_minimum_number_of_calls():
    hours = 30 * 24
    queries = build_queries([f"cache-{i}" for i in range(300)])
    # 300 caches x 5 queries = 1,500 queries x 720 points = 1,080,000 points
    # minimum: max(ceil(1,080,000 / 100,800), ceil(1,500 / 500)) = max(11, 3) = 11
    assert minimum_calls(len(queries), hours) == 11
    batches = plan_batches(queries, hours)
    assert all(len(b) <= MAX_QUERIES_PER_CALL for b in batches)
    fake = FakeCloudWatch()
    results = aws.get_metric_data(fake, [[q.payload() for q in b] for b in batches], START, START + timedelta(hours=hours))
    assert fake.calls == results.calls == 11
    # every query came back whole, in order, across page boundaries
    assert len(results.series) == 1500
    assert all(len(ts) == hours for ts, _ in results.series.values())
    ts, values = results.series[queries[0].id]
    assert ts[0] == START and ts[-1] == START + timedelta(hours=hours - 1)


def test_the_fake_rejects_too_many_queries():
    fake = FakeCloudWatch()
    queries = [q.payload() for q in build_queries([f"c{i}" for i in range(101)])]  # 505 queries
    with pytest.raises(ValueError):
        fake.get_metric_data(queries, START, START + timedelta(hours=1))


def test_the_fake_pages_at_100800_points():
    fake = FakeCloudWatch()
    # 500 queries x 720 hours = 360,000 points: 4 pages of at most 100,800
    queries = [q.payload() for q in build_queries([f"c{i}" for i in range(100)])]
    got = aws.get_metric_data(fake, [queries], START, START + timedelta(hours=720))
    assert got.calls == 4
    assert sum(len(v) for _, v in got.series.values()) == 360_000


@settings(max_examples=60, deadline=None)
@given(caches=st.integers(min_value=1, max_value=400), days=st.integers(min_value=1, max_value=455))
def test_plan_is_the_best_single_batch_size(caches, days):
    hours = days * 24
    queries = build_queries([f"c{i}" for i in range(caches)])
    batches = plan_batches(queries, hours)
    assert sum(len(b) for b in batches) == len(queries)
    assert max(len(b) for b in batches) <= MAX_QUERIES_PER_CALL
    # never worse than the best single batch size, and at least the lower bound
    best = min(calls_with_batch_size(len(queries), b, hours) for b in range(1, min(500, len(queries)) + 1))
    assert planned_calls(batches, hours) == best >= minimum_calls(len(queries), hours)


@settings(max_examples=25, deadline=None)
@given(caches=st.integers(min_value=1, max_value=120), days=st.integers(min_value=1, max_value=90))
def test_plan_matches_what_the_fake_counts(caches, days):
    # The fake enforces 500 queries a call and 100,800 points a page and counts every page as a
    # call: what the planner promised must be what CloudWatch would bill, and every point arrives.
    hours = days * 24
    queries = build_queries([f"c{i}" for i in range(caches)])
    batches = plan_batches(queries, hours)
    fake = FakeCloudWatch()
    got = aws.get_metric_data(fake, [[q.payload() for q in b] for b in batches], START, START + timedelta(hours=hours))
    assert fake.calls == got.calls == planned_calls(batches, hours)
    assert sorted(got.series) == sorted(q.id for q in queries)
    assert all(len(values) == hours for _, values in got.series.values())


def test_batch_size_avoids_wasted_pages():
    # 721 points a query: 500-query batches need 4 pages for 360,500 points (3.58 pages);
    # 419 queries = 302,099 points fit 3 pages, so 1,391 queries take 10 calls, not 11
    assert choose_batch_size(1391, 721) == 419
    assert calls_with_batch_size(1391, 419, 721) == 10 == minimum_calls(1391, 721)
