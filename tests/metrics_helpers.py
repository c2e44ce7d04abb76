"""Shared data and oracles of the czar_gbdt.metrics tests: a ragged random panel, pandas' per-date correlation."""

import warnings

import numpy as np
import pandas as pd

TOL = 1e-10


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
