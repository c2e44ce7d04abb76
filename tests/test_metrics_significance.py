"""Tests for czar_gbdt.metrics.significance: ICIR, t-stat and the Newey-West t-stat."""

import math

import numpy as np
import pytest

from czar_gbdt import metrics


def test_newey_west_t():
    x = np.array([0.3, -0.1, 0.4, 0.2, 0.0, 0.5])
    plain = x.mean() / (x.std(ddof=0) / np.sqrt(len(x)))
    assert metrics.newey_west_t(x, 0) == pytest.approx(plain, rel=1e-12)
    u = x - x.mean()
    var = (u @ u + 2 * 0.5 * (u[1:] @ u[:-1])) / len(x)
    assert metrics.newey_west_t(x, 1) == pytest.approx(x.mean() / np.sqrt(var / len(x)), rel=1e-12)
    # overlapping sums of white noise: the plain t-stat overstates, Newey-West corrects most of it
    rng = np.random.default_rng(0)
    ts = []
    for _ in range(200):
        e = rng.standard_normal(505)
        ts.append(
            (
                metrics.newey_west_t(np.convolve(e, np.ones(5), "valid"), 0),
                metrics.newey_west_t(np.convolve(e, np.ones(5), "valid"), 4),
            )
        )
    ts = np.array(ts)
    assert ts[:, 0].std() > 2.0 and 0.9 < ts[:, 1].std() < 1.4
    with pytest.raises(ValueError, match="lags must be an integer >= 0; got -1"):
        metrics.newey_west_t(x, -1)


def test_icir_and_t_stat_of_a_series_are_those_of_ic_result():
    """One definition of the significance of a per-date series: ICResult, the walk-forward
    results, the tuner's objective and compare all use metrics.icir / metrics.t_stat."""
    rng = np.random.default_rng(3)
    y, p = rng.standard_normal(400), rng.standard_normal(400)
    res = metrics.rank_ic(y, p, dates=np.repeat(np.arange(40), 10))
    assert metrics.icir(res.per_date) == res.icir and metrics.t_stat(res.per_date) == res.t_stat
    x = np.array([0.3, -0.1, np.nan, 0.4, np.inf])  # non-finite values are dropped
    finite = np.array([0.3, -0.1, 0.4])
    assert metrics.icir(x) == pytest.approx(finite.mean() / finite.std(ddof=1), rel=1e-15)
    assert metrics.t_stat(x) == pytest.approx(metrics.icir(x) * np.sqrt(3), rel=1e-15)
    for degenerate in ([0.2], [0.1, 0.1, np.nan], []):  # fewer than 2 values, or no spread
        assert math.isnan(metrics.icir(degenerate)) and math.isnan(metrics.t_stat(degenerate))
