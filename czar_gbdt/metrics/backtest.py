"""The top-k long-short backtest: per-date spread, turnover, net spread and their Sharpe ratios."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._kernels import metrics as _k
from ._docs import fill_doc
from .grouping import DateGroups, check_same_length, prepare


@dataclass(frozen=True, eq=False)
class TopKResult:
    """Top-k long-short backtest summary.

    Attributes
    ----------
    k : int
        Assets per leg.
    mean_spread : float
        Mean over traded dates of (mean target of the k highest predictions)
        minus (mean target of the k lowest).
    std_spread : float
        Standard deviation of the spread, ``ddof=1``.
    sharpe : float
        ``mean_spread / std_spread * sqrt(periods_per_year)``.
    mean_turnover : float
        Mean of ``sum_a |w_a(t) - w_a(t_prev)|`` over traded dates, in [0, 4]
        (the first traded date counts 2: the book is built from cash).
    cost : float
        Cost per unit of turnover used for the net figures.
    mean_net_spread : float
        Mean of ``spread - cost * turnover``.
    net_sharpe : float
        Annualised Sharpe of the net spread.
    n_dates : int
        Traded dates (at least ``2 * k`` valid rows).
    n_skipped : int
        Dates with fewer than ``2 * k`` valid rows (NaN in ``per_date``).
    periods_per_year : float
        Annualisation factor used.
    per_date : pandas.DataFrame of shape (n_dates + n_skipped, 4)
        Columns ``spread``, ``turnover``, ``net_spread``, ``n_assets`` (valid
        rows that date), indexed by date.
    """

    k: int
    mean_spread: float
    std_spread: float
    sharpe: float
    mean_turnover: float
    cost: float
    mean_net_spread: float
    net_sharpe: float
    n_dates: int
    n_skipped: int
    periods_per_year: float
    per_date: pd.DataFrame

    def __repr__(self) -> str:
        """Show the summary fields (not the per-date table)."""
        return (
            f"TopKResult(k={self.k}, mean_spread={self.mean_spread:.6g}, sharpe={self.sharpe:.6g}, "
            f"mean_turnover={self.mean_turnover:.6g}, cost={self.cost:.6g}, "
            f"mean_net_spread={self.mean_net_spread:.6g}, net_sharpe={self.net_sharpe:.6g}, "
            f"n_dates={self.n_dates}, n_skipped={self.n_skipped})"
        )


def _sharpe(x: np.ndarray, periods_per_year: float) -> tuple[float, float, float]:
    n = x.shape[0]
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n >= 2 else math.nan
    sharpe = mean / std * math.sqrt(periods_per_year) if std > 0 else math.nan
    return mean, std, sharpe


@fill_doc
def top_k_long_short(
    y_true: Any,
    y_pred: Any,
    *,
    dates: Any,
    assets: Any,
    k: int = 5,
    cost: float = 0.0,
    periods_per_year: float = 252,
) -> TopKResult:
    """Top-k long-short portfolio: long the k highest predictions, short the k lowest.

    Each date with at least ``2 * k`` valid rows (finite target and
    prediction) is traded: weight ``+1/k`` on the k assets with the highest
    prediction, ``-1/k`` on the k lowest, held for one period, so the date's
    return is the spread ``mean(y_true[long]) - mean(y_true[short])``. Ties in
    the prediction are broken by asset label (sorted): among equal
    predictions the short leg takes the lowest labels, the long leg the
    highest. Other dates are skipped and counted.

    Turnover on a traded date is ``sum_a |w_a(t) - w_a(t_prev)|`` over all
    assets, where ``t_prev`` is the previous traded date (the book is held
    through skipped dates) and the book before the first traded date is empty,
    so that date counts 2. It lies in [0, 4]: 0 when the book is unchanged,
    4 when both legs are replaced by the opposite legs. The net spread is
    ``spread - cost * turnover``.

    Parameters
    ----------
    {y}
    dates : array-like of shape (n_samples,) or DateGroups
        Date of each row.
    assets : array-like of shape (n_samples,)
        Asset label of each row; a (date, asset) pair may appear only once.
    k : int, default=5
        Assets per leg, >= 1.
    cost : float, default=0.0
        Cost per unit of turnover, in target units (0.001 = 10 bp per unit of
        weight traded), >= 0.
    periods_per_year : float, default=252
        Annualisation factor for the Sharpe ratios (252 for daily rebalancing).
        With an h-period target and daily dates the periods overlap; use the
        rebalancing frequency that matches the target.

    Returns
    -------
    TopKResult
        Mean spread, annualised Sharpe, mean turnover, net spread and Sharpe,
        dates traded and skipped, and the per-date table.

    Raises
    ------
    ValueError
        If the inputs are not aligned, ``k``, ``cost`` or ``periods_per_year``
        are out of range, or a (date, asset) pair is duplicated.
    """
    k = _check_book(k, cost, periods_per_year)
    if dates is None:
        raise ValueError("dates is required for top_k_long_short (one portfolio per date); got None.")
    yt, yp, groups = prepare(y_true, y_pred, dates)
    if assets is None:
        raise ValueError("assets is required for top_k_long_short (turnover follows each asset); got None.")
    check_same_length(yt.shape[0], assets, "assets")
    asset_codes, n_assets, order = _asset_order(assets, groups)
    spread, n_valid, long_a, short_a = _k.top_k_select(yt, yp, asset_codes, order, groups.offsets, k)
    used = ~np.isnan(spread)
    turnover = _k.top_k_turnover(long_a, short_a, used, max(n_assets, 1))
    if not used.any():
        warnings.warn(
            f"top_k_long_short: no date has 2*k = {2 * k} rows with finite y_true and y_pred; all figures are NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    per_date = pd.DataFrame(
        {"spread": spread, "turnover": turnover, "net_spread": spread - cost * turnover, "n_assets": n_valid},
        index=groups.dates,
    )
    return _summary(per_date, used, k, cost, periods_per_year)


def _check_book(k: Any, cost: Any, periods_per_year: Any) -> int:
    """``k`` as an int after the range checks of the book's three parameters."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}.")
    if not (isinstance(cost, (int, float, np.floating, np.integer)) and np.isfinite(cost) and cost >= 0):
        raise ValueError(f"cost must be a finite number >= 0; got {cost!r}.")
    if not (
        isinstance(periods_per_year, (int, float, np.floating, np.integer))
        and np.isfinite(periods_per_year)
        and periods_per_year > 0
    ):
        raise ValueError(f"periods_per_year must be a finite number > 0; got {periods_per_year!r}.")
    return int(k)


def _asset_order(assets: Any, groups: DateGroups) -> tuple[np.ndarray, int, np.ndarray]:
    """``(asset_codes, n_assets, order)``: codes in sorted label order, rows by (date, asset), pairs unique."""
    asset_codes, asset_labels = pd.factorize(assets if isinstance(assets, pd.Index) else np.asarray(assets), sort=True)
    if asset_codes.size and asset_codes.min() < 0:
        bad = np.flatnonzero(asset_codes < 0)
        raise ValueError(f"assets has {bad.size} missing values; the first at row {bad[0]}.")
    asset_codes = asset_codes.astype(np.int64, copy=False)
    date_codes = groups.codes()
    order = np.lexsort((asset_codes, date_codes)).astype(np.int64, copy=False)
    dc = date_codes[order]
    ac = asset_codes[order]
    dup = (dc[1:] == dc[:-1]) & (ac[1:] == ac[:-1])
    if dup.any():
        pos = np.flatnonzero(dup)
        shown = ", ".join(f"({groups.dates[dc[p]]}, {asset_labels[ac[p]]})" for p in pos[:5])
        raise ValueError(f"(date, asset) pairs must be unique; {pos.size} duplicated rows, e.g. {shown}.")
    return asset_codes, len(asset_labels), order


def _summary(per_date: pd.DataFrame, used: np.ndarray, k: int, cost: float, periods_per_year: float) -> TopKResult:
    """The :class:`TopKResult` of the per-date table, over the traded dates ``used``."""
    mean_s, std_s, sharpe = _sharpe(per_date["spread"].to_numpy()[used], periods_per_year)
    mean_n, _, net_sharpe = _sharpe(per_date["net_spread"].to_numpy()[used], periods_per_year)
    n_used = int(used.sum())
    return TopKResult(
        k=k,
        mean_spread=mean_s,
        std_spread=std_s,
        sharpe=sharpe,
        mean_turnover=float(per_date["turnover"].to_numpy()[used].mean()) if n_used else math.nan,
        cost=float(cost),
        mean_net_spread=mean_n,
        net_sharpe=net_sharpe,
        n_dates=n_used,
        n_skipped=len(per_date) - n_used,
        periods_per_year=float(periods_per_year),
        per_date=per_date,
    )
