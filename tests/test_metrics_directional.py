"""Tests for czar_gbdt.metrics.directional: directional accuracy."""

import math

import numpy as np
import pytest

from czar_gbdt import metrics

# --------------------------------------------------------------------------
# directional accuracy
# --------------------------------------------------------------------------


def test_directional_accuracy_reference():
    y = np.array([0.5, -0.2, 0.0, 0.3, -0.1, np.nan, 0.2])
    p = np.array([0.1, -0.3, 0.4, -0.2, 0.0, 0.1, np.nan])
    # eligible rows: 0 (hit), 1 (hit), 3 (miss), 4 (pred 0: miss)
    assert metrics.directional_accuracy(y, p) == pytest.approx(0.5)
    w = np.array([1.0, 3.0, 9.0, 1.0, 1.0, 9.0, 9.0])
    assert metrics.directional_accuracy(y, p, sample_weight=w) == pytest.approx(4 / 6)


def test_directional_accuracy_matches_numpy():
    rng = np.random.default_rng(0)
    y = np.round(rng.normal(size=1000), 1)
    p = rng.normal(size=1000)
    keep = y != 0
    expected = np.mean(np.sign(y[keep]) == np.sign(p[keep]))
    assert metrics.directional_accuracy(y, p) == pytest.approx(expected, abs=1e-15)


def test_directional_accuracy_errors():
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0; 1 rows are not, the first at row 1"):
        metrics.directional_accuracy([1.0, 2.0], [1.0, 2.0], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="sample_weight has length 1"):
        metrics.directional_accuracy([1.0, 2.0], [1.0, 2.0], sample_weight=[1.0])
    with pytest.warns(RuntimeWarning, match="returning NaN"):
        assert math.isnan(metrics.directional_accuracy([0.0, 0.0], [1.0, 2.0]))
