"""Tests for czar_gbdt.metrics.correlation (rank IC, IC): pandas / scipy parity, summaries, validation, kernels."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from metrics_helpers import TOL, assert_matches, pandas_reference, quiet, random_panel

from czar_gbdt import metrics
from czar_gbdt._kernels import metrics as kernels

# --------------------------------------------------------------------------
# parity with pandas groupby / scipy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("date_kind", ["datetime", "int", "str"])
@pytest.mark.parametrize("shuffle", [True, False], ids=["unsorted", "sorted"])
@pytest.mark.parametrize(("func", "method"), [(metrics.rank_ic, "spearman"), (metrics.ic, "pearson")])
def test_equals_pandas_groupby_corr(seed, date_kind, shuffle, func, method):
    dates, y, p = random_panel(seed, date_kind=date_kind, shuffle=shuffle)
    res = func(y, p, dates=dates)
    assert_matches(res.per_date, pandas_reference(dates, y, p, method))
    assert res.method == method
    assert len(res.per_date) == len(np.unique(dates))
    assert res.per_date.index.is_monotonic_increasing


@pytest.mark.parametrize("seed", range(3))
def test_rank_ic_without_ties_or_nans(seed):
    dates, y, p = random_panel(seed, ties=False, nan_rate=0.0)
    assert_matches(metrics.rank_ic(y, p, dates=dates).per_date, pandas_reference(dates, y, p, "spearman"))


def test_skipped_dates_are_counted():
    dates, y, p = random_panel(0)
    res = metrics.rank_ic(y, p, dates=dates)
    ref = pandas_reference(dates, y, p, "spearman")
    assert res.n_skipped == int(ref.isna().sum())
    assert res.n_dates == int(ref.notna().sum())
    # the planted single-asset, constant and all-NaN dates are all skipped
    skipped = res.per_date.isna()
    for c in (0, 2, 4, 10, 11, 12):
        day = pd.bdate_range("2001-01-01", periods=150)[c]
        if day in res.per_date.index:
            assert skipped[day]


def test_summary_formulas():
    dates, y, p = random_panel(1)
    res = metrics.rank_ic(y, p, dates=dates)
    vals = res.per_date.dropna().to_numpy()
    assert res.mean == pytest.approx(vals.mean(), abs=1e-15)
    assert res.std == pytest.approx(vals.std(ddof=1), abs=1e-15)
    assert res.icir == pytest.approx(vals.mean() / vals.std(ddof=1))
    assert res.t_stat == pytest.approx(res.icir * math.sqrt(len(vals)))


def test_fast_and_direct_spearman_kernels_agree(monkeypatch):
    dates, y, p = random_panel(2)
    fast = metrics.rank_ic(y, p, dates=dates).per_date
    monkeypatch.setattr(metrics.correlation, "_MIN_VALUE_BITS", 65)  # force the per-date argsort kernel
    direct = metrics.rank_ic(y, p, dates=dates).per_date
    np.testing.assert_array_equal(fast.to_numpy(), direct.to_numpy())


def test_rank_ic_exact_on_nearly_equal_values_and_signed_zeros():
    # values that agree in their leading bits (the packed key drops the low
    # bits), exact ties, -0.0 vs +0.0, huge and tiny magnitudes
    rng = np.random.default_rng(5)
    n_dates, n_assets = 40, 30
    dates = np.repeat(np.arange(n_dates), n_assets)
    base = 1.0 + rng.integers(0, 6, size=dates.size) * np.finfo(float).eps
    y = base.copy()
    y[::7] = -0.0
    y[1::7] = 0.0
    y[2::11] = 1e300
    y[3::13] = -1e-300
    p = 1e8 + rng.integers(0, 50, size=dates.size) * 2e-8
    res = metrics.rank_ic(y, p, dates=dates)
    assert_matches(res.per_date, pandas_reference(dates, y, p, "spearman"))
    assert res.n_dates == n_dates


@pytest.mark.parametrize("n", [2, 3, 50, 5000])
def test_single_series_matches_scipy(n):
    rng = np.random.default_rng(n)
    y = np.round(rng.normal(size=n), 1)
    p = rng.normal(size=n) + 0.3 * y
    r = metrics.rank_ic(y, p)
    assert r.mean == pytest.approx(scipy.stats.spearmanr(y, p).statistic, abs=TOL)
    assert metrics.ic(y, p).mean == pytest.approx(scipy.stats.pearsonr(y, p).statistic, abs=TOL)
    assert r.n_dates == 1 and r.n_skipped == 0
    assert r.per_date.index.tolist() == ["all"]
    assert math.isnan(r.std) and math.isnan(r.icir) and math.isnan(r.t_stat)


def test_single_series_drops_nan_pairwise():
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 3.0])
    p = np.array([1.0, np.nan, 3.0, 2.0, 5.0, 4.0])
    ok = ~np.isnan(y) & ~np.isnan(p)
    expected = scipy.stats.spearmanr(y[ok], p[ok]).statistic
    assert metrics.rank_ic(y, p).mean == pytest.approx(expected, abs=TOL)


def test_infinite_values_are_dropped_like_nan():
    y = np.array([1.0, 2.0, 3.0, 4.0, np.inf])
    p = np.array([1.0, 3.0, 2.0, 4.0, 0.0])
    assert metrics.rank_ic(y, p).mean == pytest.approx(metrics.rank_ic(y[:4], p[:4]).mean)


def test_pandas_inputs_and_column_vectors():
    dates, y, p = random_panel(3)
    ref = metrics.rank_ic(y, p, dates=dates)
    res = metrics.rank_ic(pd.Series(y), p.reshape(-1, 1), dates=pd.Series(dates))
    np.testing.assert_array_equal(res.per_date.to_numpy(), ref.per_date.to_numpy())
    res = metrics.rank_ic(y, p, dates=pd.DatetimeIndex(dates))
    np.testing.assert_array_equal(res.per_date.to_numpy(), ref.per_date.to_numpy())


def test_tz_aware_dates():
    dates, y, p = random_panel(4, shuffle=False)
    tz = pd.DatetimeIndex(dates).tz_localize("UTC")
    res = metrics.rank_ic(y, p, dates=tz)
    assert str(res.per_date.index.tz) == "UTC"
    np.testing.assert_array_equal(res.per_date.to_numpy(), metrics.rank_ic(y, p, dates=dates).per_date.to_numpy())


# --------------------------------------------------------------------------
# hypothesis properties
# --------------------------------------------------------------------------

values = st.floats(min_value=-5, max_value=5, allow_nan=False).map(lambda v: round(v, 1))


@st.composite
def panels(draw):
    n = draw(st.integers(min_value=1, max_value=60))
    dates = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(values | st.just(float("nan")), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(values | st.just(float("nan")), min_size=n, max_size=n)))
    return dates, y, p


@given(panels())
def test_property_rank_ic_equals_pandas(panel):
    dates, y, p = panel
    res = quiet(metrics.rank_ic, y, p, dates=dates)
    assert_matches(res.per_date, pandas_reference(dates, y, p, "spearman"))
    assert np.all(np.abs(res.per_date.dropna()) <= 1.0)
    assert res.n_dates + res.n_skipped == len(np.unique(dates))


@given(panels(), st.randoms(use_true_random=False))
def test_property_invariant_to_monotone_transform_and_row_order(panel, rnd):
    dates, y, p = panel
    base = quiet(metrics.rank_ic, y, p, dates=dates).per_date
    perm = np.array(rnd.sample(range(len(y)), len(y)), dtype=np.int64)
    transformed = quiet(metrics.rank_ic, y[perm], np.exp(p[perm]) * 3 - 1, dates=dates[perm]).per_date
    np.testing.assert_allclose(transformed.to_numpy(), base.to_numpy(), atol=1e-12)


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


def test_validation_errors():
    y = np.arange(5.0)
    with pytest.raises(ValueError, match="y_pred has length 4 but y_true has length 5"):
        metrics.rank_ic(y, y[:4])
    with pytest.raises(ValueError, match="dates has length 3 but y_true has length 5"):
        metrics.ic(y, y, dates=[1, 2, 3])
    with pytest.raises(ValueError, match=r"y_true must be 1-dimensional; got shape \(5, 2\)"):
        metrics.rank_ic(np.ones((5, 2)), y)
    with pytest.raises(ValueError, match="y_pred must be numeric"):
        metrics.rank_ic(y, ["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="dates has 1 missing values"):
        metrics.rank_ic(y, y, dates=np.array(["2020-01-01", "NaT", "2020-01-02", "2020-01-02", "2020-01-03"], "M8[ns]"))
    with pytest.raises(ValueError, match="dates has 1 missing values.*row 0"):
        metrics.rank_ic(y, y, dates=np.array(["NaT", "2020-01-01", "2020-01-02", "2020-01-02", "2020-01-03"], "M8[ns]"))
    with pytest.raises(ValueError, match="missing values"):
        metrics.rank_ic(y, y, dates=[1.0, np.nan, 2.0, 2.0, 3.0])


def test_all_dates_skipped_warns():
    with pytest.warns(RuntimeWarning, match="mean is NaN"):
        res = metrics.rank_ic([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], dates=[0, 0, 0])
    assert math.isnan(res.mean) and res.n_dates == 0 and res.n_skipped == 1


def test_empty_input():
    with pytest.warns(RuntimeWarning):
        res = metrics.rank_ic([], [], dates=[])
    assert res.n_dates == 0 and res.n_skipped == 0


# --------------------------------------------------------------------------
# large-input code paths (packed keys sorted per date)
# --------------------------------------------------------------------------


def test_large_panel_fast_path_equals_direct_kernel():
    rng = np.random.default_rng(9)
    n_dates = 1500
    sizes = rng.integers(50, 300, size=n_dates)
    codes = np.repeat(np.arange(n_dates), sizes)
    n = codes.size
    y = rng.normal(size=n)
    p = np.round(rng.normal(size=n), 2)
    y[rng.random(n) < 0.02] = np.nan
    perm = rng.permutation(n)
    codes, y, p = codes[perm], y[perm], p[perm]
    res = metrics.rank_ic(y, p, dates=codes)
    groups = metrics.group_dates(codes)
    direct, n_valid = kernels.grouped_spearman_direct(y, p, groups.order, groups.offsets)
    np.testing.assert_allclose(res.per_date.to_numpy(), direct, rtol=0, atol=1e-13)
    # and a sample of dates against pandas
    pick = np.isin(codes, [0, 7, 777, 1499])
    assert_matches(res.per_date.loc[[0, 7, 777, 1499]], pandas_reference(codes[pick], y[pick], p[pick], "spearman"))


@pytest.mark.parametrize("seed", [0, 1])
def test_radix_kernel_equals_direct_kernel_on_ties_extremes_and_date_sizes(seed):
    # dates of 1 to 4,096 rows (the radix kernel's limit: 8 to 12 position bits), heavy
    # ties, signed zeros, values spanning 600 binades next to values 1 ulp apart
    rng = np.random.default_rng(seed)
    sizes = np.array([1, 2, 3, 17, 255, 256, 257, 1000, 4096])
    codes = np.repeat(np.arange(sizes.size), sizes)
    n = codes.size
    y = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, size=n)
    y[rng.random(n) < 0.2] = 0.0
    y[rng.random(n) < 0.1] = -0.0
    y[rng.random(n) < 0.05] = np.inf
    p = 1.0 + rng.integers(0, 40, size=n) * np.finfo(float).eps
    p[rng.random(n) < 0.05] = np.nan
    groups = metrics.group_dates(codes)
    assert groups.max_group_size == 1 << kernels.RADIX_POS_BITS
    radix = kernels.grouped_spearman_radix(y, p, groups.offsets, 4)
    direct, _ = kernels.grouped_spearman_direct(y, p, groups.order, groups.offsets)
    np.testing.assert_allclose(radix, direct, rtol=0, atol=1e-13)
    assert np.isnan(radix[0]) and np.isfinite(radix[-1])
    assert_matches(
        metrics.rank_ic(y, p, dates=codes).per_date,
        pandas_reference(codes, np.where(np.isinf(y), np.nan, y), p, "spearman"),
    )
