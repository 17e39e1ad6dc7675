"""Database Savings Plan commitments, checked by hand (issue 14)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from costwise.model.commitment import hourly_savings, net_cost, recommend_commitment

HOURS = 730


def test_flat_usage_commits_its_discounted_cost():
    # $1.00 of eligible usage every hour, a 30% plan: C = 0.70 covers 0.70 / 0.7 = $1.00 of usage.
    # Each hour saves 1.00 - 0.70 = 0.30: 0.30 x 730 = $219 a month.
    advice = recommend_commitment(np.full(HOURS, 1.0), 0.30)
    assert advice.commitment_per_hour == pytest.approx(0.70)
    assert advice.savings_expected == pytest.approx(219.0)
    assert advice.break_even_utilisation == pytest.approx(0.70)
    assert advice.utilisation_expected == pytest.approx(1.0)
    # more commitment wastes: at 0.80, usage covers 0.70 of it, each hour saves 1.00 - 0.80 = 0.20
    assert hourly_savings(np.full(HOURS, 1.0), 0.80, 0.30).sum() == pytest.approx(0.20 * HOURS)
    # less saves less: at 0.35, 0.35 / 0.7 = 0.50 covered, saving 0.50 - 0.35 = 0.15 an hour
    assert hourly_savings(np.full(HOURS, 1.0), 0.35, 0.30).sum() == pytest.approx(0.15 * HOURS)


def test_alternating_usage_commits_nothing():
    # $2/h and $0/h hour by hour: mean $1/h. A committed dollar covers 1 / 0.7 = 1.4286 of usage:
    # in a busy hour it saves 1.4286 - 1 = 0.43, in an idle one it loses 1. Half and half:
    # (0.43 - 1) / 2 = -0.29 per committed dollar-hour, at any C up to 1.40 (beyond, busier hours
    # are fully covered and every extra dollar loses in both). So no commitment.
    usage = np.tile([2.0, 0.0], HOURS // 2)
    per_dollar = (1 / 0.7 - 1 - 1) / 2
    assert per_dollar == pytest.approx(-0.2857, abs=1e-4)
    assert hourly_savings(usage, 1.0, 0.30).mean() == pytest.approx(per_dollar * 1.0)
    advice = recommend_commitment(usage, 0.30)
    assert advice.commitment_per_hour == 0 and advice.savings_expected == 0


def test_the_range_lowers_the_commitment_below_the_mean():
    # flat $1/h, but the projection's range is wide (log-sigma 0.3): sized for the mean (0.70) the
    # low scenarios waste. The expected-savings optimum is lower, and its low end loses less.
    advice = recommend_commitment(np.full(HOURS, 1.0), 0.30, log_sigma=0.3)
    at_mean = recommend_commitment(np.full(HOURS, 1.0), 0.30)
    assert 0 < advice.commitment_per_hour < at_mean.commitment_per_hour
    low = np.full(HOURS, np.exp(NormalDist().inv_cdf(0.1) * 0.3))  # the 10th percentile scenario: $0.681/h
    assert advice.savings_low == pytest.approx(hourly_savings(low, advice.commitment_per_hour, 0.30).sum())
    assert advice.savings_low > hourly_savings(low, 0.70, 0.30).sum()


def test_net_cost_is_the_commitment_plus_what_it_does_not_cover():
    # C = 0.70 at 30%: covers $1.00; an hour of $1.50 costs 0.70 + 0.50 = 1.20, an idle one 0.70
    assert list(net_cost(np.array([1.5, 0.0, 1.0]), 0.70, 0.30)) == pytest.approx([1.20, 0.70, 0.70])
