"""Tests for czar_gbdt.metrics.timeseries: the time-series rank IC of one series."""

import math

import numpy as np
import pytest
import scipy.stats

from czar_gbdt import metrics

TOL = 1e-12


def test_ts_rank_ic_is_spearman_over_the_window():
    rng = np.random.default_rng(2)
    y = np.round(rng.normal(size=60), 1)  # ties
    p = y + rng.normal(size=60)
    y[[3, 17]] = np.nan
    p[40] = np.inf
    keep = np.isfinite(y) & np.isfinite(p)
    expected = scipy.stats.spearmanr(y[keep], p[keep]).statistic
    assert metrics.ts_rank_ic(y, p) == pytest.approx(expected, abs=TOL)
    assert metrics.ts_rank_ic(y, p, dates=np.arange(60)) == pytest.approx(expected, abs=TOL)
    assert metrics.ts_rank_ic(y, p, sample_weight=np.ones(60)) == pytest.approx(expected, abs=TOL)
    with pytest.raises(ValueError, match="ts_rank_ic scores one series, one row per date; date 4 has 2 rows"):
        metrics.ts_rank_ic(y, p, dates=np.r_[np.arange(5), np.arange(4, 59)])
    with pytest.raises(ValueError, match="ts_rank_ic is unweighted"):
        metrics.ts_rank_ic(y, p, sample_weight=np.arange(1, 61))
    with pytest.warns(RuntimeWarning, match="ts_rank_ic: fewer than 2 rows"):
        assert math.isnan(metrics.ts_rank_ic(y, np.ones(60)))
