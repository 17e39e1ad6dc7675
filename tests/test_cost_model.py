"""The bill, checked by hand from DOMAIN.md's rules (us-east-1 rates from pricing.yaml)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costwise.model.cost import ceiling_cost, cost_of_hours, ecpus_from_requests, steady_month_cost

GIB = 2**30


def test_sanity_check_from_domain(valkey):
    # 10e6 requests/day x 730/24 days = 304,166,666.7 ECPUs; x $0.00227 / 1e6 = $0.6905
    # 0.2 GB x $0.0837 x 730 h = $12.2202
    per_second = ecpus_from_requests(10_000_000, 1.0) / 86_400
    cost = steady_month_cost(0.2, per_second, valkey)
    assert cost.ecpu == pytest.approx(304_166_666.67 * 0.00227 / 1e6, abs=1e-4)
    assert round(cost.ecpu, 2) == 0.69
    assert cost.storage == pytest.approx(0.2 * 0.0837 * 730)
    assert round(cost.total, 2) == 12.91


def test_storage_minimum_applies(valkey, redis):
    # valkey bills 0.05 GB as 0.1 GB: 0.1 x 0.0837 x 730 = 6.1101
    assert steady_month_cost(0.05, 0, valkey).storage == pytest.approx(6.1101)
    # redis-oss bills 0.5 GB as 1 GB: 1 x 0.125 x 730 = 91.25
    assert steady_month_cost(0.5, 0, redis).storage == pytest.approx(91.25)


def test_ecpus_from_requests_rule():
    # up to 1 KB costs 1 ECPU; 3.2 KB costs 3.2 ECPUs; an explicit per-request figure wins
    assert ecpus_from_requests(100, 0.5) == 100
    assert ecpus_from_requests(100, 3.2) == pytest.approx(320)
    assert ecpus_from_requests(100, 3.2, ecpu_per_request=5) == 500


def test_cost_of_hours_applies_minimum_per_hour(valkey):
    # Three hours: 30 MiB (billed 0.1 GB), 1 GiB, 2 GiB; one hour with no data is not billed.
    # storage GB-hours = 0.1 + 1 + 2 = 3.1 -> 3.1 x 0.0837 = 0.25947
    # ECPUs = 1e6 + 2e6 + 0 (gap) + 1e6 = 4e6 -> 4 x 0.00227 = 0.00908
    storage = [30 * 2**20, GIB, 2 * GIB, float("nan")]
    ecpus = [1e6, 2e6, float("nan"), 1e6]
    cost = cost_of_hours(storage, ecpus, valkey)
    assert cost.storage == pytest.approx(0.25947)
    assert cost.ecpu == pytest.approx(0.00908)
    # the mean (0.775 GB) priced once would differ: the per-hour minimum matters
    assert cost.storage != pytest.approx(3 * max(sum([30 / 1024, 1, 2]) / 3, 0.1) * 0.0837)


def test_ceiling(valkey):
    # 5 GB x 0.0837 x 730 = 305.505; 10,000 ECPU/s x 3600 x 730 / 1e6 x 0.00227 = 59.6556
    ceiling = ceiling_cost(5, 10_000, valkey)
    assert ceiling.storage == pytest.approx(305.505)
    assert ceiling.ecpu == pytest.approx(59.6556)
    assert ceiling.total == pytest.approx(365.1606)
    assert ceiling_cost(None, 10_000, valkey).total is None


def test_aws_scaling_guide_figure(redis):
    # AWS: 100,000 ECPU/s on Redis OSS costs $1.224 an hour: 1e5 x 3600 / 1e6 x 0.0034
    assert steady_month_cost(0, 100_000, redis, hours=1).ecpu == pytest.approx(1.224)


storage_gb = st.floats(min_value=0, max_value=5000, allow_nan=False)
ecpu_rate = st.floats(min_value=0, max_value=15_000_000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(s1=storage_gb, s2=storage_gb, e1=ecpu_rate, e2=ecpu_rate)
def test_cost_is_monotone_in_usage(valkey, s1, s2, e1, e2):
    lo = steady_month_cost(min(s1, s2), min(e1, e2), valkey)
    hi = steady_month_cost(max(s1, s2), max(e1, e2), valkey)
    assert lo.total <= hi.total + 1e-9


@settings(max_examples=200, deadline=None)
@given(s=st.floats(min_value=0.1, max_value=2500, allow_nan=False), k=st.floats(min_value=1, max_value=2), e=ecpu_rate)
def test_cost_is_linear_above_the_floor(valkey, s, k, e):
    # Above the minimum, scaling usage by k scales each dimension's cost by k.
    base = steady_month_cost(s, e, valkey)
    scaled = steady_month_cost(s * k, e * k, valkey)
    assert math.isclose(scaled.storage, base.storage * k, rel_tol=1e-9)
    assert math.isclose(scaled.ecpu, base.ecpu * k, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(hours=st.lists(st.floats(min_value=0, max_value=10 * GIB, allow_nan=False), min_size=1, max_size=48))
def test_cost_never_below_the_floor(redis, hours):
    # Every billed hour costs at least the minimum: 1 GB x $0.125 on redis-oss.
    cost = cost_of_hours(hours, [0.0] * len(hours), redis)
    assert cost.storage >= len(hours) * 1.0 * 0.125 - 1e-9
