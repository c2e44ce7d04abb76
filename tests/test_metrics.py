"""Tests for czar_gbdt.metrics: pandas / scipy parity, summaries, top-k, validation."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from czar_gbdt import metrics
from czar_gbdt._kernels import metrics as kernels

TOL = 1e-10


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def random_panel(seed, n_dates=150, max_assets=25, ties=True, nan_rate=0.1, shuffle=True, date_kind="datetime"):
    """A ragged panel with ties, NaNs, single-asset, empty-valid and constant dates."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, max_assets, size=n_dates)
    sizes[:6] = [1, 2, 0, 3, 1, 2]  # single-asset and tiny dates
    codes = np.repeat(np.arange(n_dates), sizes)
    n = codes.size
    y = rng.normal(size=n)
    p = rng.normal(size=n)
    if ties:
        y = np.round(y, 0)
        p = np.round(p, 1)
    y[rng.random(n) < nan_rate] = np.nan
    p[rng.random(n) < nan_rate] = np.nan
    p[codes == 10] = 0.25  # constant prediction
    y[codes == 11] = -1.0  # constant target
    y[codes == 12] = np.nan  # no valid row
    if date_kind == "datetime":
        dates = pd.bdate_range("2001-01-01", periods=n_dates).values[codes]
    elif date_kind == "int":
        dates = 20000 + codes
    else:
        dates = np.array([f"d{c:05d}" for c in codes], dtype=object)
    if shuffle:
        perm = rng.permutation(n)
        dates, y, p = dates[perm], y[perm], p[perm]
    return dates, y, p


def pandas_reference(dates, y, p, method):
    df = pd.DataFrame({"date": dates, "y": y, "p": p})
    return df.groupby("date")[["y", "p"]].corr(method=method).xs("y", level=1)["p"]


def assert_matches(per_date, ref):
    ref = ref.reindex(per_date.index)
    a = per_date.to_numpy()
    b = ref.to_numpy()
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    assert np.max(np.abs(a[ok] - b[ok]), initial=0.0) <= TOL


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


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
# DateGroups reuse
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [True, False])
def test_date_groups_reuse(shuffle):
    dates, y, p = random_panel(6, shuffle=shuffle)
    groups = metrics.group_dates(dates)
    assert groups.order.shape[0] == (dates.size if shuffle else 0)
    for func in (metrics.rank_ic, metrics.ic):
        a = func(y, p, dates=groups).per_date
        b = func(y, p, dates=dates).per_date
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        assert a.index.equals(b.index)
    codes = groups.codes()
    np.testing.assert_array_equal(groups.dates[codes], pd.Index(dates))
    assert metrics.group_dates(groups) is groups


def test_date_groups_of_other_rows_is_refused():
    groups = metrics.group_dates(np.repeat([1, 2], 5))
    with pytest.raises(ValueError, match="built for 10 rows but y_true has length 6"):
        metrics.rank_ic(np.ones(6), np.ones(6), dates=groups)


def test_kernel_group_order_is_stable():
    codes = np.array([2, 0, 1, 0, 2, 1, 0], dtype=np.int64)
    order, offsets = kernels.group_order(codes, 3)
    np.testing.assert_array_equal(order, [1, 3, 6, 2, 5, 0, 4])
    np.testing.assert_array_equal(offsets, [0, 3, 5, 7])


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


# --------------------------------------------------------------------------
# top-k long-short
# --------------------------------------------------------------------------


def top_k_reference(dates, assets, y, p, k, cost):
    """Plain pandas loop: the definition in the docstring, written out."""
    df = pd.DataFrame({"date": dates, "asset": assets, "y": y, "p": p}).dropna()
    book = {}
    rows = []
    for d in sorted(set(dates)):
        g = df[df.date == d].sort_values("asset", kind="mergesort")
        if len(g) < 2 * k:
            rows.append((d, np.nan, np.nan))
            continue
        g = g.sort_values("p", kind="mergesort")
        short, long_ = g.iloc[:k], g.iloc[-k:]
        spread = long_.y.mean() - short.y.mean()
        new = {a: 1 / k for a in long_.asset} | {a: -1 / k for a in short.asset}
        turnover = sum(abs(new.get(a, 0.0) - book.get(a, 0.0)) for a in set(new) | set(book))
        book = new
        rows.append((d, spread, turnover))
    out = pd.DataFrame(rows, columns=["date", "spread", "turnover"]).set_index("date")
    out["net"] = out.spread - cost * out.turnover
    return out


@pytest.mark.parametrize("k", [1, 3])
def test_top_k_matches_reference(k):
    rng = np.random.default_rng(k)
    n_dates, n_assets = 60, 12
    dates = np.repeat(np.arange(n_dates), n_assets)
    assets = np.tile(np.array([f"a{i:02d}" for i in range(n_assets)]), n_dates)
    y = rng.normal(size=dates.size)
    p = np.round(rng.normal(size=dates.size), 1)  # ties
    p[rng.random(dates.size) < 0.3] = np.nan  # some dates fall below 2k
    perm = rng.permutation(dates.size)
    dates, assets, y, p = dates[perm], assets[perm], y[perm], p[perm]
    cost = 0.001
    res = metrics.top_k_long_short(y, p, dates=dates, assets=assets, k=k, cost=cost, periods_per_year=12)
    ref = top_k_reference(dates, assets, y, p, k, cost)
    np.testing.assert_allclose(res.per_date["spread"].to_numpy(), ref.spread.to_numpy(), atol=TOL)
    np.testing.assert_allclose(res.per_date["turnover"].to_numpy(), ref.turnover.to_numpy(), atol=TOL)
    np.testing.assert_allclose(res.per_date["net_spread"].to_numpy(), ref.net.to_numpy(), atol=TOL)
    used = ref.spread.dropna()
    assert res.n_dates == len(used) and res.n_skipped == n_dates - len(used)
    assert res.mean_spread == pytest.approx(used.mean())
    assert res.sharpe == pytest.approx(used.mean() / used.std(ddof=1) * math.sqrt(12))
    assert res.mean_turnover == pytest.approx(ref.turnover.mean())
    assert res.mean_net_spread == pytest.approx(ref.net.mean())
    assert 0 <= res.per_date["turnover"].max() <= 4 + 1e-12


def test_top_k_turnover_by_hand():
    # date 0: long a, short d; date 1: same book; date 2: flipped book
    dates = np.repeat([0, 1, 2], 4)
    assets = np.tile(["a", "b", "c", "d"], 3)
    p = np.array([4, 3, 2, 1, 4, 2, 3, 1, 1, 2, 3, 4], dtype=float)
    y = np.array([0.1, 0, 0, -0.1, 0.2, 0, 0, 0.0, 0.0, 0, 0, 0.3])
    res = metrics.top_k_long_short(y, p, dates=dates, assets=assets, k=1, cost=0.01)
    np.testing.assert_allclose(res.per_date["turnover"], [2.0, 0.0, 4.0])
    np.testing.assert_allclose(res.per_date["spread"], [0.2, 0.2, 0.3])
    np.testing.assert_allclose(res.per_date["net_spread"], [0.18, 0.2, 0.26])
    assert res.mean_turnover == pytest.approx(2.0)


def test_top_k_ties_broken_by_asset_label():
    dates = np.zeros(4, dtype=int)
    assets = np.array(["d", "b", "a", "c"])
    y = np.array([4.0, 2.0, 1.0, 3.0])  # y equals the label order
    res = metrics.top_k_long_short(y, np.zeros(4), dates=dates, assets=assets, k=1)
    assert res.mean_spread == pytest.approx(4.0 - 1.0)  # long "d", short "a"


def test_top_k_errors():
    y = np.arange(4.0)
    d = np.zeros(4)
    a = np.array(["x", "y", "x", "z"])
    with pytest.raises(ValueError, match=r"\(date, asset\) pairs must be unique; 1 duplicated rows"):
        metrics.top_k_long_short(y, y, dates=d, assets=a, k=1)
    with pytest.raises(ValueError, match="k must be an integer >= 1; got 0"):
        metrics.top_k_long_short(y, y, dates=d, assets=list("abcd"), k=0)
    with pytest.raises(ValueError, match="cost must be a finite number >= 0; got -1"):
        metrics.top_k_long_short(y, y, dates=d, assets=list("abcd"), cost=-1)
    with pytest.raises(ValueError, match="periods_per_year must be a finite number > 0"):
        metrics.top_k_long_short(y, y, dates=d, assets=list("abcd"), periods_per_year=0)
    with pytest.raises(ValueError, match="assets has length 3"):
        metrics.top_k_long_short(y, y, dates=d, assets=list("abc"), k=1)
    with pytest.warns(RuntimeWarning, match="no date has 2\\*k = 10"):
        res = metrics.top_k_long_short(y, y, dates=d, assets=list("abcd"), k=5)
    assert res.n_skipped == 1 and math.isnan(res.mean_spread)


# --------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------


def test_registry():
    dates, y, p = random_panel(7)
    for name, m in metrics.METRICS.items():
        assert m.name == name and m.higher_is_better
        value = m.func(y, p, dates=dates) if m.needs_dates else m.func(y, p)
        assert isinstance(value, float)
    assert metrics.METRICS["rank_ic"].func(y, p, dates=dates) == metrics.rank_ic(y, p, dates=dates).mean


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
        ts.append((metrics.newey_west_t(np.convolve(e, np.ones(5), "valid"), 0),
                   metrics.newey_west_t(np.convolve(e, np.ones(5), "valid"), 4)))
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
    assert_matches(metrics.rank_ic(y, p, dates=codes).per_date, pandas_reference(codes, np.where(np.isinf(y), np.nan, y), p,
                                                                                  "spearman"))
