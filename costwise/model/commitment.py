"""Database Savings Plans: how much to commit, and what a commitment saves. Pure.

A plan is a commitment of C dollars an hour (at the plan's, post-discount, rates) for a year. Each
hour it covers eligible usage worth up to C / (1 - d) on demand (d: the plan's discount); usage
above that bills on demand; what the hour leaves unused is lost. So an hour with on-demand usage u
costs

    C + max(0, u - C / (1 - d))        and saves        min(u, C / (1 - d)) - C

A committed dollar saves d / (1 - d) (0.43 at 30%) in an hour busy enough to use it, and loses 1 in
an idle one: a commitment pays off when at least 1 - d of it is used (the break-even utilisation).
The recommended C maximises the expected saving over the projection's range (scenarios spread over
its interval), not over its mean alone: a commitment sized for the mean loses when usage comes in low.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# the projection's range as equally likely scenarios: its 10th, 30th, 50th, 70th and 90th percentiles
SCENARIO_QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)


def hourly_savings(usage: np.ndarray, commitment: float, discount: float) -> np.ndarray:
    """Each hour's saving (negative: a loss) of `commitment` $/h on hours of on-demand `usage` $."""
    covered = commitment / (1 - discount)
    return np.minimum(np.asarray(usage, dtype=float), covered) - commitment


def net_cost(usage: np.ndarray, commitment: float, discount: float) -> np.ndarray:
    """Each hour's bill with the commitment: the commitment, plus on demand what it does not cover."""
    covered = commitment / (1 - discount)
    return commitment + np.maximum(np.asarray(usage, dtype=float) - covered, 0.0)


@dataclass(frozen=True)
class CommitmentAdvice:
    discount: float  # the plan's discount on this usage, 0..1
    eligible_on_demand: float  # the projected eligible on-demand cost over the horizon
    commitment_per_hour: float  # recommended, $ an hour at plan rates (0: do not commit)
    savings_expected: float  # over the horizon, averaged over the scenarios
    savings_low: float  # if usage comes in at the range's low end (may be negative: a loss)
    savings_high: float  # at the range's high end
    break_even_utilisation: float  # 1 - discount
    utilisation_expected: float  # share of the commitment the expected usage uses

    def scaled(self, factor: float) -> "CommitmentAdvice":
        """The money figures times `factor` (the horizon to a month)."""
        return CommitmentAdvice(self.discount, self.eligible_on_demand * factor, self.commitment_per_hour,
                                self.savings_expected * factor, self.savings_low * factor, self.savings_high * factor,
                                self.break_even_utilisation, self.utilisation_expected)


def scenarios(usage: np.ndarray, log_sigma: float) -> list[np.ndarray]:
    """The hourly usage scaled to each scenario quantile of a lognormal range of log-sigma `log_sigma`."""
    normal = NormalDist()
    return [usage * float(np.exp(normal.inv_cdf(q) * log_sigma)) for q in SCENARIO_QUANTILES]


def recommend_commitment(usage: np.ndarray, discount: float, log_sigma: float = 0.0, step: float = 0.001) -> CommitmentAdvice:
    """The hourly commitment (rounded down to `step` dollars) that maximises the expected saving.

    usage: the projected on-demand cost of eligible usage, hour by hour; log_sigma: the
    projection's uncertainty (log scale) that spreads the scenarios.
    """
    usage = np.nan_to_num(np.asarray(usage, dtype=float), nan=0.0)
    if not 0 < discount < 1 or usage.size == 0 or usage.max() <= 0:
        return CommitmentAdvice(max(discount, 0.0), float(usage.sum()), 0.0, 0.0, 0.0, 0.0, 1 - discount, 0.0)
    cases = scenarios(usage, log_sigma)
    # The expected saving is concave and piecewise linear in C, with its kinks where C / (1 - d)
    # equals an hour's usage: the best C is one of those (or 0).
    levels = np.unique(np.concatenate(cases))
    if levels.size > 2000:  # the optimum's neighbourhood matters; quantiles keep it to 2,000 candidates
        levels = np.unique(np.quantile(levels, np.linspace(0, 1, 2000)))
    candidates = np.concatenate([[0.0], np.floor(levels * (1 - discount) / step + 1e-9) * step])
    covered = candidates[:, None] / (1 - discount)
    expected = np.mean([np.sum(np.minimum(case[None, :], covered), axis=1) for case in cases], axis=0) - candidates * usage.size
    best = float(candidates[int(np.argmax(expected))])
    if expected.max() <= 0:
        best = 0.0
    saved = [float(hourly_savings(case, best, discount).sum()) for case in cases]
    used = float(np.minimum(usage, best / (1 - discount)).sum() * (1 - discount))
    return CommitmentAdvice(
        discount=discount,
        eligible_on_demand=float(usage.sum()),
        commitment_per_hour=best,
        savings_expected=float(np.mean(saved)),
        savings_low=saved[0],
        savings_high=saved[-1],
        break_even_utilisation=1 - discount,
        utilisation_expected=used / (best * usage.size) if best > 0 else 0.0,
    )
