"""The significance of a per-date series: ICIR, t-stat and the Newey-West t-stat, written once.

The walk-forward results, the tuner's objective and ``compare`` all use these functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _finite(values: Any) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def icir(values: Any) -> float:
    """Information ratio of a per-date series: mean / standard deviation (``ddof=1``), not annualised.

    Parameters
    ----------
    values : array-like of shape (n_dates,)
        Per-date scores such as ``ICResult.per_date``; non-finite values (skipped dates) are dropped.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no spread.
    """
    x = _finite(values)
    sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    return float(x.mean()) / sd if sd > 0 else math.nan


def t_stat(values: Any) -> float:
    """t-statistic of the mean of a per-date series: ``icir(values) * sqrt(n)``, ``n`` its finite values.

    It treats the dates as independent; with overlapping multi-period labels use
    :func:`newey_west_t`.

    Parameters
    ----------
    values : array-like of shape (n_dates,)
        Per-date scores; non-finite values are dropped.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no spread.
    """
    x = _finite(values)
    return icir(x) * math.sqrt(len(x))


def newey_west_t(values: Any, lags: int) -> float:
    """t-statistic of the mean of a series with Newey-West (Bartlett) standard errors.

    Per-date rank ICs of an h-day label are autocorrelated (consecutive dates share h-1
    of their return days), so :func:`t_stat` overstates the evidence; ``lags = h - 1``
    accounts for the overlap. ``lags = 0`` gives the plain t-stat (with the population
    variance).

    Parameters
    ----------
    values : array-like of shape (n,)
        The series (non-finite values are dropped).
    lags : int
        Autocovariance lags, >= 0.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no variance.
    """
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 0:
        raise ValueError(f"lags must be an integer >= 0; got {lags!r}.")
    x = _finite(values)
    n = len(x)
    if n < 2:
        return math.nan
    u = x - x.mean()
    var = u @ u / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - lag / (lags + 1.0)) * (u[lag:] @ u[:-lag]) / n
    return float(x.mean() / math.sqrt(var / n)) if var > 0 else math.nan
