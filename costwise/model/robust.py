"""Small robust statistics on numpy arrays (Theil-Sen slope, MAD) used by the forecast."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def mad_sigma(values: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x median absolute deviation."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Median of pairwise slopes and the matching intercept: one outlier day cannot tilt it."""
    n = x.size
    if n < 2:
        return 0.0, float(np.median(y)) if n else 0.0
    i, j = _pairs(n)
    dx = x[j] - x[i]
    keep = dx != 0
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep])) if keep.any() else 0.0
    intercept = float(np.median(y - slope * x))
    return slope, intercept


def slope_stderr(x: np.ndarray, residuals: np.ndarray) -> float:
    """Standard error of a fitted slope, from robust residual spread."""
    n = x.size
    if n < 3:
        return 0.0
    spread = np.sum((x - x.mean()) ** 2)
    if spread == 0:
        return 0.0
    sigma = mad_sigma(residuals)
    return float(sigma / np.sqrt(spread))
