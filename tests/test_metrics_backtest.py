"""Tests for czar_gbdt.metrics.backtest: the top-k long-short book against a pandas loop."""

import math

import numpy as np
import pandas as pd
import pytest
from metrics_helpers import TOL

from czar_gbdt import metrics

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
